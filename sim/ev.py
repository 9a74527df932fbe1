"""An EV and the connector's meter, consistent with physics, driven by simulated time only.

Plug an `EV` into a `Meter`, close the contactor when the transaction starts, call
`advance(seconds)` as simulated time passes and `sample(measurands)` for MeterValues.
The energy register is the exact integral of the power drawn; smart charging drives the meter
through `set_limit()`; `charging_status()` says Charging, SuspendedEV (EV full or paused) or
SuspendedEVSE (limit too low), with SuspendedEVSE first as 1.6 §4.9 requires.

Physics: AC active power P = phases × V × I × pf (V line-to-neutral, I per phase); DC P = V × I
with the battery voltage rising with SoC; constant current up to `taper_soc`, then a linear
taper; charge point temperature relaxes towards ambient + rise × (P / rated)² (heat ~ I²).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from sim.config import parse_measurand
from sim.connector import ConnectorStatus
from sim.hardware import Hardware
from sim.measures import Location, Measurand, Phase, ReadingContext, UnitOfMeasure, ValueFormat

__all__ = ["EV", "MIN_AC_CURRENT_A", "SUPPORTED_MEASURANDS", "Limit", "Meter"]

#: IEC 61851-1: a PWM duty cycle offering less than 6 A does not allow charging.
MIN_AC_CURRENT_A = 6.0

_M, _U = Measurand, UnitOfMeasure
#: measurand -> (unit, decimals, location); unit None where OCPP 1.6 has none (§7.31 Frequency).
_FORMAT: dict[Measurand, tuple[UnitOfMeasure | None, int, Location]] = {
    _M.energy_active_import_register: (_U.wh, 1, Location.outlet),
    _M.energy_active_export_register: (_U.wh, 1, Location.outlet),
    _M.energy_reactive_import_register: (_U.varh, 1, Location.outlet),
    _M.energy_reactive_export_register: (_U.varh, 1, Location.outlet),
    _M.power_active_import: (_U.w, 1, Location.outlet),
    _M.power_active_export: (_U.w, 1, Location.outlet),
    _M.power_reactive_import: (_U.var, 1, Location.outlet),
    _M.power_reactive_export: (_U.var, 1, Location.outlet),
    _M.power_offered: (_U.w, 1, Location.outlet),
    _M.power_factor: (None, 3, Location.outlet),
    _M.current_import: (_U.a, 2, Location.outlet),
    _M.current_export: (_U.a, 2, Location.outlet),
    _M.current_offered: (_U.a, 2, Location.outlet),
    _M.voltage: (_U.v, 1, Location.outlet),
    _M.frequency: (None, 2, Location.outlet),
    _M.soc: (_U.percent, 1, Location.ev),
    _M.temperature: (_U.celsius, 1, Location.body),
}
#: Energy registers: cumulative counters, reported truncated.
_REGISTERS = frozenset({_M.energy_active_import_register, _M.energy_active_export_register,
                        _M.energy_reactive_import_register, _M.energy_reactive_export_register})
#: What `Meter.sample()` can report; the default for the SupportedMeasurands key.
SUPPORTED_MEASURANDS = frozenset(_FORMAT)
#: Reported once per phase on 3-phase AC when the config names no phase (1.6 §3.16.3).
_PER_PHASE = frozenset({_M.current_import, _M.current_export, _M.voltage})
_AC_ONLY = frozenset({_M.frequency, _M.power_factor})
_LINES = (Phase.l1, Phase.l2, Phase.l3)
_LINE_OF = {
    Phase.l1: 1,
    Phase.l2: 2,
    Phase.l3: 3,
    Phase.l1_n: 1,
    Phase.l2_n: 2,
    Phase.l3_n: 3,
}
_LINE_TO_LINE = frozenset({Phase.l1_l2, Phase.l2_l3, Phase.l3_l1})
_NEUTRAL_OF = {Phase.l1: Phase.l1_n, Phase.l2: Phase.l2_n, Phase.l3: Phase.l3_n}


@dataclass(kw_only=True)
class EV:
    """A vehicle: battery, on-board charger limits and charging curve."""

    battery_kwh: float = 60.0
    soc: float = 20.0  # percent
    target_soc: float = 100.0  # the EV stops here (SuspendedEV)
    taper_soc: float = 80.0  # constant current below, linear taper above
    taper_floor: float = 0.05  # fraction of full current kept near the end, so charging ends
    efficiency: float = 0.92  # grid to battery
    # AC: on-board charger
    ac_phases: int = 3
    max_ac_current_a: float = 32.0
    # DC: battery voltage follows SoC linearly between these
    max_dc_power_w: float = 150_000.0
    max_dc_current_a: float = 400.0
    battery_voltage_empty_v: float = 330.0
    battery_voltage_full_v: float = 400.0
    paused: bool = False  # EV opened S2 (1.6 §4.9 C4): SuspendedEV
    #: the EV speaks ISO 15118 (a 2.0.1 station then sends its charging needs, K15)
    iso15118: bool = False
    #: ISO 15118 departure time, seconds after plug-in (None: the EV gives none)
    departure_s: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("paused", "soc", "iso15118") or (f.name == "departure_s"
                                                            and value is None):
                continue
            if isinstance(value, bool) or value <= 0:
                raise ValueError(f"ev.{f.name} must be > 0, not {value!r}")
        if not 0 <= self.soc <= 100 or not 0 < self.target_soc <= 100:
            raise ValueError("ev.soc and ev.target_soc are percentages")
        if not self.taper_soc < 100:
            raise ValueError("ev.taper_soc must be below 100")
        if self.taper_floor > 1 or self.efficiency > 1:
            raise ValueError("ev.taper_floor and ev.efficiency are fractions (<= 1)")
        if self.ac_phases not in (1, 3):
            raise ValueError("ev.ac_phases must be 1 or 3")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> EV:
        """Build from a mapping (e.g. a fleet template); unknown fields raise ValueError."""
        data = dict(data or {})
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"ev.{sorted(unknown)[0]}: unknown field")
        return cls(**data)

    @property
    def full(self) -> bool:
        return self.soc >= self.target_soc - 1e-9

    @property
    def acceptance(self) -> float:
        """Share of its maximum the battery accepts now: 1 until taper_soc, then tapering."""
        if self.soc <= self.taper_soc:
            return 1.0
        return max(self.taper_floor, (100.0 - self.soc) / (100.0 - self.taper_soc))

    @property
    def battery_voltage_v(self) -> float:
        span = self.battery_voltage_full_v - self.battery_voltage_empty_v
        return self.battery_voltage_empty_v + span * self.soc / 100.0


@dataclass(frozen=True)
class Limit:
    """A charging limit in force (smart charging, 1.6 §3.13): None = no limit in that unit."""

    amps: float | None = None  # per phase on AC (1.6 §7.12 "A")
    watts: float | None = None  # total (1.6 §7.12 "W")
    phases: int | None = None  # numberPhases of the schedule period


@dataclass(frozen=True)
class _Operating:
    """The electrical operating point; constant between two state changes."""

    phases: int
    voltage_v: float  # AC line-to-neutral, DC output voltage
    current_a: float  # per phase on AC
    power_w: float
    offered_current_a: float
    offered_power_w: float
    status: ConnectorStatus | None


class Meter:
    """The meter and power electronics of one connector, with the EV plugged into it."""

    def __init__(
        self,
        hardware: Hardware | None = None,
        *,
        energy_wh: float = 0.0,
        ambient_c: float = 25.0,
        temperature_rise_c: float = 30.0,
        thermal_time_constant_s: float = 600.0,
        line_resistance_ohm: float = 0.05,
        soc_resolution: float = 0.02,
    ) -> None:
        """`energy_wh` is the register's start value (it is cumulative over sessions)."""
        self.hardware = hardware or Hardware()
        self.ev: EV | None = None
        self.limit = Limit()
        self.contactor_closed = False
        self.energy_wh = float(energy_wh)
        self.reactive_energy_varh = 0.0
        self.temperature_c = ambient_c
        self.ambient_c = ambient_c
        self.temperature_rise_c = temperature_rise_c
        self.thermal_time_constant_s = thermal_time_constant_s
        self.line_resistance_ohm = line_resistance_ohm
        self.soc_resolution = soc_resolution  # SoC percent per step where the curve moves
        self.elapsed_s = 0.0

    # Driving -----------------------------------------------------------------------------------

    def plug_in(self, ev: EV) -> None:
        """Connect an EV (the connector then typically goes Preparing)."""
        self.ev = ev

    def unplug(self) -> EV | None:
        """Disconnect the EV; no current can flow any more."""
        ev, self.ev = self.ev, None
        self.contactor_closed = False
        return ev

    def close_contactor(self) -> None:
        """Energize the outlet (transaction started and authorized)."""
        self.contactor_closed = True

    def open_contactor(self) -> None:
        """De-energize the outlet (transaction stopped)."""
        self.contactor_closed = False

    def set_limit(
        self, amps: float | None = None, watts: float | None = None, phases: int | None = None
    ) -> None:
        """Put a limit in force (the composite schedule's current period); no args: none."""
        for name, value in (("amps", amps), ("watts", watts)):
            if value is not None and value < 0:
                raise ValueError(f"{name} limit {value} < 0")
        if phases is not None and phases not in (1, 2, 3):
            raise ValueError(f"phases {phases} not 1, 2 or 3")
        self.limit = Limit(amps, watts, phases)

    def advance(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass: energy, SoC and temperature move on.

        Power is constant within each internal step, so the register grows by exactly
        power × step; steps end where the curve changes (taper start, EV full) and are at most
        `soc_resolution` percent of SoC long where it moves continuously (taper, DC voltage).
        """
        if seconds < 0:
            raise ValueError("time does not run backwards")
        remaining = float(seconds)
        while remaining > 1e-12:
            op = self._operating_point()
            step = self._step(op, remaining)
            self._integrate(op, step)
            remaining -= step
        self.elapsed_s += seconds

    # Reading -----------------------------------------------------------------------------------

    @property
    def power_w(self) -> float:
        """Active power drawn now (W)."""
        return self._operating_point().power_w

    @property
    def current_a(self) -> float:
        """Current now: per phase on AC, output current on DC (A)."""
        return self._operating_point().current_a

    @property
    def voltage_v(self) -> float:
        """Voltage now: line-to-neutral on AC, output (battery) voltage on DC (V)."""
        return self._operating_point().voltage_v

    @property
    def phases_in_use(self) -> int:
        return self._operating_point().phases

    @property
    def meter_wh(self) -> int:
        """The register as StartTransaction meterStart / StopTransaction meterStop (1.6 §6.45)."""
        return math.floor(self.energy_wh)

    @property
    def is_full(self) -> bool:
        return self.ev is not None and self.ev.full

    def charging_status(self) -> ConnectorStatus | None:
        """Charging, SuspendedEVSE or SuspendedEV while energized with an EV; else None."""
        return self._operating_point().status

    def sample(
        self,
        measurands: Iterable[str],
        *,
        context: ReadingContext = ReadingContext.sample_periodic,
    ) -> list[dict[str, Any]]:
        """sampledValue entries (1.6 §7.43) for MeterValuesSampledData-style items.

        Items may carry a phase ("Voltage.L1", 1.6 §9.1.17). Without one, 3-phase AC reports
        Current.Import/Export and Voltage once per phase (§3.16.3); everything else is an overall
        value. Measurands this meter cannot deliver now (SoC without EV, Frequency on DC,
        interval registers) are left out; names that are not measurands raise ValueError.
        """
        op = self._operating_point()
        out: list[dict[str, Any]] = []
        for item in measurands:
            measurand, phase = parse_measurand(item)
            if measurand not in _FORMAT:
                continue
            if measurand is _M.soc and self.ev is None:
                continue
            if measurand in _AC_ONLY and not self.hardware.is_ac:
                continue
            if phase is None and measurand in _PER_PHASE and self._three_phase_ac:
                phases: list[Phase | None] = [
                    _NEUTRAL_OF[p] if measurand is _M.voltage else p for p in _LINES
                ]
            else:
                phases = [phase]
            for ph in phases:
                value = self._value(op, measurand, ph)
                out.append(_sampled_value(measurand, ph, value, context))
        return out

    # Model -------------------------------------------------------------------------------------

    @property
    def _three_phase_ac(self) -> bool:
        return self.hardware.is_ac and self.hardware.phases == 3

    def _operating_point(self) -> _Operating:
        hw, ev, lim = self.hardware, self.ev, self.limit
        assert hw.max_current_a and hw.max_power_w and hw.nominal_voltage_v and hw.phases
        if hw.is_ac:
            phases = min(hw.phases, lim.phases or 3, ev.ac_phases if ev else 3)
            per_amp = phases * hw.nominal_voltage_v * hw.power_factor  # W per A, nominal voltage
            voltage = hw.nominal_voltage_v
        else:
            phases = 1
            voltage = ev.battery_voltage_v if ev else hw.nominal_voltage_v
            voltage = min(voltage, hw.nominal_voltage_v)
            per_amp = voltage
        offered = hw.max_current_a
        if lim.amps is not None:
            offered = min(offered, lim.amps)
        offered = min(offered, hw.max_power_w / per_amp)
        if lim.watts is not None:
            offered = min(offered, lim.watts / per_amp)
        offered_power = offered * per_amp
        status: ConnectorStatus | None = None
        current = 0.0
        if ev is not None and self.contactor_closed:
            too_low = offered < (MIN_AC_CURRENT_A if hw.is_ac else 1e-6)
            if too_low:  # 1.6 §4.9: SuspendedEVSE takes precedence over SuspendedEV
                status = ConnectorStatus.suspended_evse
            elif ev.full or ev.paused:
                status = ConnectorStatus.suspended_ev
            else:
                status = ConnectorStatus.charging
                ev_max = (
                    ev.max_ac_current_a
                    if hw.is_ac
                    else min(ev.max_dc_current_a, ev.max_dc_power_w / voltage)
                )
                current = min(offered, ev_max * ev.acceptance)
        if hw.is_ac:
            voltage -= self.line_resistance_ohm * current  # sag under load, same on all phases
            power = phases * voltage * current * hw.power_factor
        else:
            power = voltage * current
        return _Operating(phases, voltage, current, power, offered, offered_power, status)

    def _step(self, op: _Operating, remaining: float) -> float:
        """Longest step over which the operating point stays (nearly) as it is."""
        ev = self.ev
        if op.power_w <= 0 or ev is None:
            return remaining
        wh_per_soc = ev.battery_kwh * 10.0  # Wh per SoC percent
        soc_rate = op.power_w * ev.efficiency / 3600.0 / wh_per_soc  # percent per second
        to_full = (ev.target_soc - ev.soc) / soc_rate
        step = min(remaining, to_full)
        if self.hardware.is_ac and ev.soc < ev.taper_soc:
            step = min(step, (ev.taper_soc - ev.soc) / soc_rate)  # constant until the taper
        else:
            step = min(step, self.soc_resolution / soc_rate)  # taper or DC voltage moving
        return max(step, min(remaining, 1e-6))

    def _integrate(self, op: _Operating, dt: float) -> None:
        self.energy_wh += op.power_w * dt / 3600.0
        pf = self.hardware.power_factor if self.hardware.is_ac else 1.0
        self.reactive_energy_varh += op.power_w * math.tan(math.acos(pf)) * dt / 3600.0
        if self.ev is not None and op.power_w > 0:
            ev = self.ev
            ev.soc += op.power_w * dt / 3600.0 * ev.efficiency / (ev.battery_kwh * 10.0)
            if ev.soc >= ev.target_soc - 1e-9:
                ev.soc = ev.target_soc
        assert self.hardware.max_power_w
        load = op.power_w / self.hardware.max_power_w
        steady = self.ambient_c + self.temperature_rise_c * load * load
        decay = math.exp(-dt / self.thermal_time_constant_s)
        self.temperature_c = steady + (self.temperature_c - steady) * decay

    def _value(self, op: _Operating, measurand: Measurand, phase: Phase | None) -> float:
        """One reading; a phase of a balanced load carries 1/phases of power and energy."""
        line = _LINE_OF.get(phase) if phase is not None else None
        active = line is None or line <= op.phases  # L2/L3 idle when charging on one phase
        share = 1.0 if line is None else (1.0 / op.phases if active else 0.0)
        if phase in _LINE_TO_LINE:
            share = 0.0
        pf = self.hardware.power_factor if self.hardware.is_ac else 1.0
        match measurand:
            case _M.energy_active_import_register:
                return self.energy_wh * share
            case _M.energy_reactive_import_register:
                return self.reactive_energy_varh * share
            case _M.power_active_import:
                return op.power_w * share
            case _M.power_reactive_import:
                return op.power_w * math.tan(math.acos(pf)) * share
            case _M.power_offered:
                return op.offered_power_w
            case _M.power_factor:
                return pf
            case _M.current_import:
                return op.current_a if active and phase not in _LINE_TO_LINE else 0.0
            case _M.current_offered:
                return op.offered_current_a
            case _M.voltage:
                return op.voltage_v * (math.sqrt(3) if phase in _LINE_TO_LINE else 1.0)
            case _M.frequency:
                return self.hardware.frequency_hz
            case _M.soc:
                assert self.ev is not None
                return self.ev.soc
            case _M.temperature:
                return self.temperature_c
        return 0.0  # export measurands: this EV does not feed back


def _sampled_value(
    measurand: Measurand, phase: Phase | None, value: float, context: ReadingContext
) -> dict[str, Any]:
    unit, decimals, location = _FORMAT[measurand]
    if measurand in _REGISTERS:
        # a register shows what has been counted: truncate like `meter_wh`, so the
        # Transaction.End reading never exceeds StopTransaction.meterStop (1.6 §6.45)
        scale = 10**decimals
        value = math.floor(value * scale) / scale
    entry: dict[str, Any] = {
        "value": f"{value + 0.0:.{decimals}f}",
        "context": context,
        "format": ValueFormat.raw,
        "measurand": measurand,
    }
    if phase is not None:
        entry["phase"] = phase
    entry["location"] = location
    if unit is not None:
        entry["unit"] = unit
    return entry
