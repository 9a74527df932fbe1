"""Smart charging: SetChargingProfile answers, ClearChargingProfile filters, composite schedules.

Every expected composite schedule below is computed by hand in the comments: hardware 32 A per
phase, 3 phases, 230 V (22080 W), so W = A x 690 for three phases and A x 230 for one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargebench.clock import FrozenClock, iso
from chargebench.ocppj.errors import OcppCallError
from sim.v16.smart_charging import SmartCharging, amps_to_watts, watts_to_amps
from tests.sim.features.helpers import T0, make_config, valid_reply, valid_request

SC = {"ChargingScheduleAllowedChargingRateUnit": "Current,Power", "ChargeProfileMaxStackLevel": 5,
      "ChargingScheduleMaxPeriods": 6, "MaxChargingProfilesInstalled": 6}


def make_sc(clock: FrozenClock, *, connectors: int = 2, state_dir=None, **overrides
            ) -> SmartCharging:
    sc_keys = {**SC, **overrides.pop("SmartCharging", {})}
    config = make_config(SmartCharging=sc_keys, **overrides)
    return SmartCharging(config, connectors=connectors, now=clock.now, state_dir=state_dir)


def profile(pid: int, purpose: str = "TxDefaultProfile", *, stack: int = 0,
            kind: str = "Absolute", unit: str = "A", periods=((0, 16.0),), start=T0,
            duration: int | None = None, **extra) -> dict:
    """A ChargingProfile (1.6 §7.8); periods are (startPeriod, limit[, numberPhases])."""
    schedule: dict = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
        for p in periods
    ]}
    if start is not None:
        schedule["startSchedule"] = iso(start)
    if duration is not None:
        schedule["duration"] = duration
    return {"chargingProfileId": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind, "chargingSchedule": schedule, **extra}


def set_profile(sc: SmartCharging, connector: int, prof: dict) -> str:
    request = valid_request("SetChargingProfile", {"connectorId": connector,
                                                   "csChargingProfiles": prof})
    return valid_reply("SetChargingProfile", sc.on_set_charging_profile(request))["status"]


def composite(sc: SmartCharging, connector: int, duration: int, unit: str | None = None) -> list:
    request = {"connectorId": connector, "duration": duration}
    if unit:
        request["chargingRateUnit"] = unit
    reply = valid_reply("GetCompositeSchedule", sc.on_get_composite_schedule(request))
    assert reply["status"] == "Accepted"
    assert "startSchedule" not in reply["chargingSchedule"]  # errata 3.57
    periods = reply["chargingSchedule"]["chargingSchedulePeriod"]
    return [(p["startPeriod"], p["limit"]) for p in periods]


class TestConversion:
    def test_amps_watts_round_trip(self):
        """7.12: W = A x 230 V x phases, and back."""
        assert amps_to_watts(16, 230, 3) == 11040
        assert watts_to_amps(11040, 230, 3) == 16
        assert watts_to_amps(2300, 230, 1) == 10


class TestSetChargingProfile:
    def test_accepted_tx_default(self, clock):
        """A well-formed TxDefaultProfile on connector 0 is Accepted and installed."""
        sc = make_sc(clock)
        assert set_profile(sc, 0, profile(1)) == "Accepted"
        assert [p.id for p in sc.profiles] == [1]

    @pytest.mark.parametrize(
        ("connector", "prof", "why"),
        [
            (1, profile(1, "ChargePointMaxProfile"), "ChargePointMax not on connector 0"),
            (1, profile(1, "TxProfile"), "TxProfile without transaction"),
            (0, profile(1, "TxProfile"), "TxProfile on connector 0"),
            (0, profile(1, stack=6), "stackLevel above ChargeProfileMaxStackLevel 5"),
            (0, profile(1, periods=((10, 16.0),)), "first startPeriod not 0"),
            (0, profile(1, periods=((0, 16.0), (600, 8.0), (600, 6.0))), "periods not increasing"),
            (0, profile(1, periods=tuple((i * 60, 10.0) for i in range(7))), "7 > MaxPeriods 6"),
            (0, profile(1, kind="Recurring"), "Recurring without recurrencyKind"),
            (0, profile(1, recurrencyKind="Daily"), "recurrencyKind on an Absolute profile"),
            (0, profile(1, start=None), "Absolute without startSchedule"),
            (0, profile(1, transactionId=5), "transactionId on a TxDefaultProfile"),
            (0, profile(1, validTo=iso(T0 - timedelta(hours=1))), "validTo in the past"),
        ],
    )
    def test_rejected(self, clock, connector, prof, why):
        """Each invalid profile is Rejected (1.6 §3.13.1, §5.16, 7.8, 9.4, errata)."""
        sc = make_sc(clock)
        assert set_profile(sc, connector, prof) == "Rejected", why
        assert sc.profiles == []

    def test_rejected_unit_not_allowed(self, clock):
        """A W schedule is Rejected when ChargingScheduleAllowedChargingRateUnit is Current."""
        sc = make_sc(clock, SmartCharging={"ChargingScheduleAllowedChargingRateUnit": "Current"})
        assert set_profile(sc, 0, profile(1, unit="W", periods=((0, 11000.0),))) == "Rejected"

    def test_rejected_when_store_full(self, clock):
        """MaxChargingProfilesInstalled reached: a new profile is Rejected, a replacement is not."""
        sc = make_sc(clock, SmartCharging={"MaxChargingProfilesInstalled": 2})
        assert set_profile(sc, 0, profile(1, stack=0)) == "Accepted"
        assert set_profile(sc, 0, profile(2, stack=1)) == "Accepted"
        assert set_profile(sc, 0, profile(3, stack=2)) == "Rejected"
        assert set_profile(sc, 0, profile(2, stack=3)) == "Accepted"  # same id: replaces

    def test_not_supported_purpose(self, clock):
        """A purpose outside SupportedChargingProfilePurposeTypes answers NotSupported."""
        sc = make_sc(clock, Internal={"SupportedChargingProfilePurposeTypes": ["TxDefaultProfile"]})
        assert set_profile(sc, 0, profile(1, "ChargePointMaxProfile")) == "NotSupported"

    def test_callerror_without_smart_charging(self, clock):
        """errata 3.39: no SmartCharging feature profile -> CALLERROR NotSupported."""
        sc = make_sc(clock, Core={"SupportedFeatureProfiles": "Core,Reservation"})
        with pytest.raises(OcppCallError) as err:
            sc.on_set_charging_profile({"connectorId": 0, "csChargingProfiles": profile(1)})
        assert err.value.code == "NotSupported"

    def test_callerror_unknown_connector(self, clock):
        """errata 3.39: an invalid connectorId -> CALLERROR PropertyConstraintViolation."""
        sc = make_sc(clock, connectors=2)
        with pytest.raises(OcppCallError) as err:
            sc.on_set_charging_profile({"connectorId": 3, "csChargingProfiles": profile(1)})
        assert err.value.code == "PropertyConstraintViolation"

    def test_same_stack_and_purpose_replaces(self, clock):
        """§3.13.2: a profile with an existing stackLevel and purpose replaces the old one."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, stack=1, periods=((0, 16.0),)))
        set_profile(sc, 0, profile(2, stack=1, periods=((0, 8.0),)))
        assert [p.id for p in sc.profiles] == [2]
        assert composite(sc, 1, 60) == [(0, 8.0)]

    def test_connector_tx_default_does_not_replace_connector_zero(self, clock):
        """§3.13.1: connector 1's TxDefaultProfile replaces connector 0's for connector 1 only."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, periods=((0, 16.0),)))
        set_profile(sc, 1, profile(2, periods=((0, 10.0),)))
        assert composite(sc, 1, 60) == [(0, 10.0)]
        assert composite(sc, 2, 60) == [(0, 16.0)]

    def test_tx_profile_needs_matching_transaction(self, clock):
        """A TxProfile is Accepted during the connector's transaction, Rejected for another id."""
        sc = make_sc(clock)
        sc.transaction_started(1, 42)
        assert set_profile(sc, 1, profile(1, "TxProfile", transactionId=7)) == "Rejected"
        assert set_profile(sc, 1, profile(2, "TxProfile", transactionId=42)) == "Accepted"

    def test_profiles_persist(self, clock, tmp_path):
        """errata 3.37: installed profiles survive a reboot (a new instance on the same dir)."""
        sc = make_sc(clock, state_dir=tmp_path)
        set_profile(sc, 0, profile(1, periods=((0, 12.0),)))
        again = make_sc(clock, state_dir=tmp_path)
        assert [p.id for p in again.profiles] == [1]
        assert composite(again, 1, 60) == [(0, 12.0)]

    def test_remote_start_profile(self, clock):
        """§5.16.2: RemoteStart's TxProfile without transactionId applies to the new transaction."""
        sc = make_sc(clock)
        sc.transaction_expected(1)
        assert sc.install_remote_start_profile(1, profile(9, "TxProfile", periods=((0, 6.0),)))
        assert not sc.install_remote_start_profile(1, profile(8, "TxDefaultProfile"))
        assert sc.limit_at(1) == (6.0, 6.0 * 690)

    def test_remote_start_relative_profile_counts_from_the_transaction(self, clock):
        """7.13: a Relative TxProfile sent with RemoteStart starts when the transaction does,
        not when the RemoteStart arrived (here the EV is plugged in 300 s later)."""
        sc = make_sc(clock)
        sc.transaction_expected(1)
        assert sc.install_remote_start_profile(1, profile(
            9, "TxProfile", kind="Relative", start=None, periods=((0, 6.0), (600, 16.0))))
        clock.advance(300)
        sc.transaction_started(1, None, clock.now())
        sc.transaction_started(1, 55)  # StartTransaction.conf: the start time stays
        assert composite(sc, 1, 1200) == [(0, 6.0), (600, 16.0)]
        clock.advance(600)
        assert composite(sc, 1, 600) == [(0, 16.0)]


class TestClearChargingProfile:
    def _loaded(self, clock) -> SmartCharging:
        sc = make_sc(clock)
        sc.transaction_started(1, 1)
        set_profile(sc, 0, profile(1, "ChargePointMaxProfile", stack=0))
        set_profile(sc, 0, profile(2, "TxDefaultProfile", stack=0))
        set_profile(sc, 1, profile(3, "TxDefaultProfile", stack=1))
        set_profile(sc, 1, profile(4, "TxProfile", stack=1))
        return sc

    @pytest.mark.parametrize(
        ("request_", "left"),
        [
            ({}, []),
            ({"id": 3}, [1, 2, 4]),
            ({"connectorId": 0}, [3, 4]),
            ({"chargingProfilePurpose": "TxDefaultProfile"}, [1, 4]),
            ({"stackLevel": 1}, [1, 2]),
            ({"connectorId": 1, "stackLevel": 1, "chargingProfilePurpose": "TxProfile"}, [1, 2, 3]),
        ],
    )
    def test_filters(self, clock, request_, left):
        """errata 3.25: the given fields match with logical AND; none given clears all."""
        sc = self._loaded(clock)
        reply = valid_reply("ClearChargingProfile", sc.on_clear_charging_profile(request_))
        assert reply == {"status": "Accepted"}
        assert sorted(p.id for p in sc.profiles) == left

    def test_unknown_when_nothing_matches(self, clock):
        """No matching profile answers Unknown and removes nothing."""
        sc = self._loaded(clock)
        reply = sc.on_clear_charging_profile({"id": 99})
        assert reply == {"status": "Unknown"}
        assert len(sc.profiles) == 4


class TestCompositeSchedule:
    def test_no_profiles_gives_hardware_limit(self, clock):
        """Without profiles the composite is the local hardware limit: 32 A, or 22080 W."""
        sc = make_sc(clock)
        assert composite(sc, 1, 3600) == [(0, 32.0)]
        assert composite(sc, 1, 3600, "W") == [(0, 22080.0)]

    def test_absolute_with_duration_then_hardware(self, clock):
        """Absolute 16 A then 10 A from 3600 s, duration 7200: after it ends, 32 A applies."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, periods=((0, 16.0), (3600, 10.0)), duration=7200))
        # 0-3600: 16 | 3600-7200: 10 | 7200-10800: none -> hardware 32
        assert composite(sc, 1, 10800) == [(0, 16.0), (3600, 10.0), (7200, 32.0)]

    def test_higher_stack_level_wins_then_falls_back(self, clock):
        """§3.13.2/§5.16.4: stack 1 (8 A, 1800-3600 s) overrides stack 0 (20 A), then falls back."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, stack=0, periods=((0, 20.0),)))
        set_profile(sc, 0, profile(2, stack=1, periods=((0, 8.0),),
                                   start=T0 + timedelta(seconds=1800), duration=1800))
        # 0-1800: stack 1 not started -> 20 | 1800-3600: 8 | 3600-: stack 1 over -> 20
        assert composite(sc, 1, 5400) == [(0, 20.0), (1800, 8.0), (3600, 20.0)]

    def test_higher_stack_level_wins_even_if_higher_limit(self, clock):
        """Within a purpose the stack level decides, not the smaller value: 24 A over 10 A."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, stack=0, periods=((0, 10.0),)))
        set_profile(sc, 0, profile(2, stack=3, periods=((0, 24.0),), duration=600))
        assert composite(sc, 1, 1200) == [(0, 24.0), (600, 10.0)]

    def test_charge_point_max_and_tx_default_take_the_minimum(self, clock):
        """§3.13.3: ChargePointMax 12 A and TxDefault 16 A then 10 A give 12 A then 10 A."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, "ChargePointMaxProfile", periods=((0, 12.0),)))
        set_profile(sc, 0, profile(2, periods=((0, 16.0), (3600, 10.0))))
        # min(12, 16) = 12 for 0-3600; min(12, 10) = 10 after
        assert composite(sc, 1, 7200) == [(0, 12.0), (3600, 10.0)]
        # Connector 0 reports the grid: ChargePointMax 12 vs connector-0 TxDefault
        assert composite(sc, 0, 7200) == [(0, 12.0), (3600, 10.0)]

    def test_valid_from_and_valid_to(self, clock):
        """7.8: a stack-1 profile valid 600-1200 s only applies in that window."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, stack=0, periods=((0, 16.0),)))
        set_profile(sc, 0, profile(2, stack=1, periods=((0, 6.0),),
                                   validFrom=iso(T0 + timedelta(seconds=600)),
                                   validTo=iso(T0 + timedelta(seconds=1200))))
        assert composite(sc, 1, 1800) == [(0, 16.0), (600, 6.0), (1200, 16.0)]

    def test_recurring_daily_spec_example_in_watts(self, clock):
        """§3.13.7's daily profile (11 kW, 6 kW 08:00-20:00) asked at 06:00 for 24 h, in W."""
        sc = make_sc(clock)
        daily = profile(100, kind="Recurring", unit="W", recurrencyKind="Daily", duration=86400,
                        start=T0.replace(year=2013),
                        periods=((0, 11000.0, 3), (28800, 6000.0, 3), (72000, 11000.0, 3)))
        assert set_profile(sc, 0, daily) == "Accepted"
        clock.advance(6 * 3600)  # 06:00
        # 06:00 11000 | 08:00 (+7200) 6000 | 20:00 (+50400) 11000 | 00:00 restarts at 11000
        assert composite(sc, 1, 86400, "W") == [(0, 11000.0), (7200, 6000.0), (50400, 11000.0)]
        # In A: 11000 / 690 = 15.94 -> 15.9 ; 6000 / 690 = 8.70 -> 8.7
        assert composite(sc, 1, 86400, "A") == [(0, 15.9), (7200, 8.7), (50400, 15.9)]

    def test_recurring_shorter_than_cycle_falls_back(self, clock):
        """errata 3.43: a daily 22:00-23:00 6 A profile (stack 1) over 16 A (stack 0)."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, stack=0, periods=((0, 16.0),)))
        set_profile(sc, 0, profile(2, stack=1, kind="Recurring", recurrencyKind="Daily",
                                   start=T0 - timedelta(hours=2), duration=3600,
                                   periods=((0, 6.0),)))
        clock.advance(21 * 3600)  # 21:00
        # 21:00 16 | 22:00 (+3600) 6 | 23:00 (+7200) 16 | next 22:00 is outside 4 h
        assert composite(sc, 1, 4 * 3600) == [(0, 16.0), (3600, 6.0), (7200, 16.0)]

    def test_recurring_weekly(self, clock):
        """A weekly profile from Thu 2026-01-01 00:00: 10 A the first day, 20 A after."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, kind="Recurring", recurrencyKind="Weekly",
                                   periods=((0, 10.0), (86400, 20.0))))
        clock.advance(6 * 86400)  # Wed 2026-01-07 00:00
        # Wed 20 A | Thu 00:00 (+86400) back to 10 A | Fri 00:00 (+172800) 20 A
        assert composite(sc, 1, 3 * 86400) == [(0, 20.0), (86400, 10.0), (172800, 20.0)]

    def test_tx_profile_relative_overrides_default_until_transaction_ends(self, clock):
        """A Relative TxProfile counts from the transaction start and overrules TxDefault."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, periods=((0, 16.0),)))
        sc.transaction_started(1, 77, T0 - timedelta(seconds=600))
        set_profile(sc, 1, profile(2, "TxProfile", kind="Relative", start=None,
                                   periods=((0, 10.0), (1200, 20.0))))
        # started 600 s ago: 10 A until tx+1200 = now+600, then 20 A (TxProfile beats TxDefault)
        assert composite(sc, 1, 1800) == [(0, 10.0), (600, 20.0)]
        assert composite(sc, 2, 1800) == [(0, 16.0)]  # other connector: its TxDefault only
        sc.transaction_stopped(1)
        assert [p.id for p in sc.profiles] == [1]
        assert composite(sc, 1, 1800) == [(0, 16.0)]

    def test_units_and_number_phases(self, clock):
        """ChargePointMax 6900 W on 1 phase (= 30 A) vs TxDefault 16 A on 3 phases (= 11040 W)."""
        sc = make_sc(clock)
        set_profile(sc, 0, profile(1, "ChargePointMaxProfile", unit="W", periods=((0, 6900.0, 1),)))
        set_profile(sc, 0, profile(2, periods=((0, 16.0, 3),)))
        assert composite(sc, 1, 60, "A") == [(0, 16.0)]  # min(30, 16, 32)
        assert composite(sc, 1, 60, "W") == [(0, 6900.0)]  # min(6900, 11040, 22080)

    def test_unknown_connector_rejected(self, clock):
        """§5.7: a connectorId the charge point does not have answers Rejected."""
        sc = make_sc(clock, connectors=1)
        reply = valid_reply("GetCompositeSchedule",
                            sc.on_get_composite_schedule({"connectorId": 2, "duration": 60}))
        assert reply == {"status": "Rejected"}


class TestLimitsForTheEv:
    def test_limit_at_and_next_change(self, clock):
        """limit_at gives (A, W) of the prevailing period; next_change when it ends."""
        sc = make_sc(clock)
        assert sc.limit_at(1) == (None, None)
        set_profile(sc, 0, profile(1, periods=((0, 16.0), (3600, 10.0)), duration=7200))
        assert sc.limit_at(1) == (16.0, 11040.0)
        assert sc.phases_at(1) == 3
        assert sc.next_change(1) == T0 + timedelta(seconds=3600)
        clock.advance(3600)
        assert sc.limit_at(1) == (10.0, 6900.0)
        assert sc.next_change(1) == T0 + timedelta(seconds=7200)
        clock.advance(3600)
        assert sc.limit_at(1) == (None, None)
        assert sc.next_change(1) is None

    def test_watt_limit_on_single_phase_hardware(self, clock):
        """A 7360 W limit (3 phases assumed) on 1-phase hardware is 32 A on that phase."""
        config = make_config(SmartCharging=SC)
        sc = SmartCharging(config, connectors=1, now=clock.now, phases=1)
        sc.set_profile(0, profile(1, unit="W", periods=((0, 7360.0),)))
        assert sc.limit_at(1) == (32.0, 7360.0)
