"""sim.ev and sim.hardware: the meter is consistent with physics and follows limits."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from ocpp.v16.enums import ChargePointStatus, ReadingContext

from sim.config import KEYS, parse_measurand
from sim.ev import EV, MIN_AC_CURRENT_A, SUPPORTED_MEASURANDS, Meter
from sim.hardware import Cable, CurrentType, Hardware, HardwareError

S = ChargePointStatus


def charging(hardware: Hardware | None = None, **ev: object) -> tuple[Meter, EV]:
    meter = Meter(hardware or Hardware())
    car = EV(**ev)  # type: ignore[arg-type]
    meter.plug_in(car)
    meter.close_contactor()
    return meter, car


def values(rows: list[dict], measurand: str) -> dict[str | None, float]:
    return {r.get("phase"): float(r["value"]) for r in rows if r["measurand"] == measurand}


class TestEnergy:
    def test_energy_is_the_integral_of_power(self) -> None:
        """Over a whole session (constant current, taper, full) energy = ∫P dt within 1 %."""
        meter, car = charging(soc=60.0, battery_kwh=40.0)
        integral_wh, step = 0.0, 10.0
        while meter.charging_status() == S.charging:
            integral_wh += meter.power_w * step / 3600.0
            meter.advance(step)
        assert car.full
        assert meter.energy_wh == pytest.approx(integral_wh, rel=0.01)
        # and the battery got what the grid gave, less the losses
        assert (car.soc - 60.0) / 100 * 40_000 == pytest.approx(meter.energy_wh * 0.92, rel=1e-6)

    def test_constant_power_is_exact(self) -> None:
        """At constant power the register grows by exactly P × t."""
        meter, _ = charging(soc=20.0)
        power, start = meter.power_w, meter.energy_wh
        meter.advance(900)
        assert meter.energy_wh - start == pytest.approx(power * 900 / 3600, rel=1e-12)
        assert meter.meter_wh == math.floor(meter.energy_wh)

    def test_no_energy_without_contactor_or_ev(self) -> None:
        """Nothing flows until the contactor closes, nor after the EV leaves."""
        meter = Meter(energy_wh=1234.0)
        car = EV()
        meter.plug_in(car)
        meter.advance(600)
        assert (meter.energy_wh, meter.charging_status()) == (1234.0, None)
        meter.close_contactor()
        meter.advance(60)
        assert meter.energy_wh > 1234.0
        meter.unplug()
        before = meter.energy_wh
        meter.advance(600)
        assert meter.energy_wh == before


class TestCurve:
    def test_tapers_near_full_then_suspended_ev(self) -> None:
        """Constant power up to 80 %, less above, then SuspendedEV when full."""
        meter, car = charging(soc=50.0, battery_kwh=30.0)
        cc_power = meter.power_w
        while car.soc < 79.0:
            meter.advance(60)
        assert meter.power_w == pytest.approx(cc_power)
        while car.soc < 90.0:
            meter.advance(60)
        assert meter.power_w < 0.6 * cc_power
        meter.advance(6 * 3600)
        assert car.full and meter.is_full
        assert (meter.power_w, meter.charging_status()) == (0.0, S.suspended_ev)

    def test_ev_pause_is_suspended_ev(self) -> None:
        """An EV that opens S2 draws nothing: SuspendedEV (1.6 §4.9 C4)."""
        meter, car = charging()
        car.paused = True
        assert (meter.power_w, meter.charging_status()) == (0.0, S.suspended_ev)


class TestLimits:
    def test_current_limit_followed(self) -> None:
        """A current limit caps the current per phase, and Current.Offered reports it."""
        meter, _ = charging()
        meter.set_limit(amps=10)
        assert meter.current_a == pytest.approx(10.0)
        assert values(meter.sample(["Current.Offered"]), "Current.Offered") == {None: 10.0}

    def test_power_limit_followed(self) -> None:
        """A power limit caps the active power (just under it: line sag)."""
        meter, _ = charging()
        meter.set_limit(watts=7000)
        assert 0.98 * 7000 <= meter.power_w <= 7000
        meter.advance(3600)
        assert meter.energy_wh <= 7000

    def test_limit_below_minimum_is_suspended_evse(self) -> None:
        """Below 6 A the EVSE cannot charge: SuspendedEVSE, even over a full EV (precedence)."""
        meter, car = charging(soc=100.0)
        assert meter.charging_status() == S.suspended_ev
        meter.set_limit(amps=MIN_AC_CURRENT_A - 0.5)
        assert (meter.power_w, meter.charging_status()) == (0.0, S.suspended_evse)
        car.soc = 50.0
        meter.set_limit()
        assert meter.charging_status() == S.charging

    def test_phase_limit_and_single_phase_ev(self) -> None:
        """A 1-phase EV on 3-phase hardware draws on L1 only; L2/L3 read 0 A."""
        meter, _ = charging(ac_phases=1)
        rows = meter.sample(["Current.Import", "Power.Active.Import", "Voltage"])
        current = values(rows, "Current.Import")
        assert current["L1"] > 0 and current["L2"] == current["L3"] == 0
        volts = values(rows, "Voltage")["L1-N"]
        power = values(rows, "Power.Active.Import")[None]
        assert power == pytest.approx(volts * current["L1"] * 0.99, rel=0.002)


class TestSamples:
    def test_three_phase_values_consistent(self) -> None:
        """3-phase AC: per-phase V and I, and P ≈ 3·V·I·pf from the sampled strings."""
        meter, _ = charging()
        rows = meter.sample(
            [
                "Energy.Active.Import.Register",
                "Power.Active.Import",
                "Current.Import",
                "Voltage",
                "Power.Factor",
                "Frequency",
            ]
        )
        current, volts = values(rows, "Current.Import"), values(rows, "Voltage")
        assert set(current) == {"L1", "L2", "L3"} and set(volts) == {"L1-N", "L2-N", "L3-N"}
        pf = values(rows, "Power.Factor")[None]
        power = values(rows, "Power.Active.Import")[None]
        assert power == pytest.approx(3 * volts["L1-N"] * current["L1"] * pf, rel=0.002)
        assert 21_000 < power < 22_080
        assert values(rows, "Frequency") == {None: 50.0}

    def test_sampled_value_fields(self) -> None:
        """Entries carry value as string, unit, location, context and format (1.6 §7.43)."""
        meter, _ = charging(soc=42.0)
        rows = meter.sample(
            [
                "Energy.Active.Import.Register",
                "SoC",
                "Temperature",
                "Voltage.L1-L2",
                "Power.Offered",
            ],
            context=ReadingContext.trigger,
        )
        by = {r["measurand"]: r for r in rows}
        assert by["Energy.Active.Import.Register"] == {
            "value": "0.0",
            "context": "Trigger",
            "format": "Raw",
            "measurand": "Energy.Active.Import.Register",
            "location": "Outlet",
            "unit": "Wh",
        }
        assert (by["SoC"]["value"], by["SoC"]["unit"], by["SoC"]["location"]) == (
            "42.0",
            "Percent",
            "EV",
        )
        assert (by["Temperature"]["unit"], by["Temperature"]["location"]) == ("Celsius", "Body")
        assert by["Voltage"]["phase"] == "L1-L2"
        assert float(by["Voltage"]["value"]) == pytest.approx(
            meter.voltage_v * math.sqrt(3), abs=0.1
        )
        assert by["Power.Offered"]["unit"] == "W"

    def test_covers_libocpp_supported_measurands(self) -> None:
        """The meter delivers every measurand of libocpp's default SupportedMeasurands."""
        default = KEYS["SupportedMeasurands"].default.split(",")
        assert {parse_measurand(m)[0] for m in default} <= SUPPORTED_MEASURANDS
        meter, _ = charging()
        assert {r["measurand"] for r in meter.sample(default)} == set(default)

    def test_unavailable_and_unknown_measurands(self) -> None:
        """SoC without EV is left out; a name that is not a measurand raises."""
        assert Meter().sample(["SoC"]) == []
        with pytest.raises(ValueError, match="unknown measurand"):
            Meter().sample(["Energy.Bogus"])

    def test_temperature_follows_power(self) -> None:
        """The charge point warms up while charging and cools down after."""
        meter, _ = charging()
        meter.advance(1800)
        hot = meter.temperature_c
        assert hot > 45
        meter.open_contactor()
        meter.advance(3600)
        assert 25 < meter.temperature_c < hot - 10


class TestDC:
    def test_dc_power_is_v_times_i(self) -> None:
        """DC: no phases, P = V × I, battery voltage rising with SoC, no AC measurands."""
        meter, car = charging(Hardware(current_type="DC", max_current_a=200), soc=20.0)
        rows = meter.sample(["Voltage", "Current.Import", "Power.Active.Import", "Frequency"])
        volts, amps = values(rows, "Voltage"), values(rows, "Current.Import")
        assert set(volts) == {None} and set(amps) == {None}
        assert values(rows, "Power.Active.Import")[None] == pytest.approx(
            volts[None] * amps[None], rel=0.002
        )
        assert values(rows, "Frequency") == {}
        low = meter.voltage_v
        meter.advance(600)
        assert meter.voltage_v > low and car.soc > 20

    def test_dc_power_limit(self) -> None:
        """A DC power limit is met exactly."""
        meter, _ = charging(Hardware(current_type="DC"))
        meter.set_limit(watts=30_000)
        assert meter.power_w == pytest.approx(30_000)


class TestHardware:
    def test_defaults(self) -> None:
        """AC defaults to 3 × 230 V × 32 A; DC to 500 V × 125 A; max power derived."""
        ac, dc = Hardware(), Hardware.from_dict({"current_type": "dc"})
        assert (ac.phases, ac.nominal_voltage_v, ac.max_current_a, ac.max_power_w) == (
            3,
            230.0,
            32.0,
            22080.0,
        )
        assert (dc.current_type, dc.phases, dc.max_power_w) == (CurrentType.DC, 1, 62500.0)
        assert ac.cable is Cable.SOCKET

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"phases": 2}, "phases"),
            ({"current_type": "DC", "phases": 3}, "phases"),
            ({"connectors": 0}, "connectors"),
            ({"max_current_a": -1}, "max_current_a"),
            ({"max_power_w": 50_000}, "max_power_w"),  # above 3 × 230 × 32
            ({"power_factor": 1.2}, "power_factor"),
            ({"cable": "coiled"}, "cable"),
            ({"current_type": "AC/DC"}, "current_type"),
            ({"meter_serial": "x" * 26}, "meter_serial"),
            ({"voltage": 230}, "voltage"),
        ],
    )
    def test_errors_name_the_field(self, data: dict, field: str) -> None:
        """Each invalid field raises HardwareError naming it."""
        with pytest.raises(HardwareError) as info:
            Hardware.from_dict(data)
        assert info.value.field == field
        assert str(info.value).startswith(f"hardware.{field}:")

    def test_from_yaml(self, tmp_path: Path) -> None:
        """YAML text or file builds the same hardware, and to_dict round-trips."""
        text = "connectors: 2\nphases: 1\nmax_current_a: 16\ncable: fixed\nmeter_serial: M-1\n"
        hw = Hardware.from_yaml(text)
        path = tmp_path / "hw.yaml"
        path.write_text(text, "utf-8")
        assert Hardware.from_yaml(path) == hw
        assert (hw.connectors, hw.max_power_w, hw.cable) == (2, 3680.0, Cable.FIXED)
        assert Hardware.from_dict(hw.to_dict()) == hw
