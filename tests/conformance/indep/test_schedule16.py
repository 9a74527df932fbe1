"""The independent charge point's composite schedule (1.6 §3.13 stacking, §5.7), worked
examples: what a GetCompositeSchedule verdict against it rests on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from tests.conformance.indep.schedule16 import composite, connector_limit

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _profile(pid: int, purpose: str, limit: float, *, level: int = 0, kind: str = "Absolute",
             unit: str = "A", start: datetime | None = NOW - timedelta(minutes=1),
             periods: list | None = None, duration: int | None = None) -> dict:  # fmt: skip
    schedule = {"charging_rate_unit": unit,
                "charging_schedule_period": periods or [{"start_period": 0, "limit": limit}]}
    if start is not None and kind != "Relative":
        schedule["start_schedule"] = start.isoformat()
    if duration is not None:
        schedule["duration"] = duration
    return {"charging_profile_id": pid, "stack_level": level,
            "charging_profile_purpose": purpose, "charging_profile_kind": kind,
            "charging_schedule": schedule}


def test_higher_stack_level_wins():
    """§3.13.2: of two TxDefaultProfiles in effect, the higher stackLevel sets the limit."""
    profiles = [(1, _profile(1, "TxDefaultProfile", 16)),
                (1, _profile(2, "TxDefaultProfile", 11, level=1))]
    assert connector_limit(profiles, 1, NOW, None, "A") == 11


def test_tx_profile_over_default_and_capped_by_charge_point_max():
    """TxProfile replaces TxDefaultProfile during a transaction; ChargePointMaxProfile caps."""
    tx = SimpleNamespace(started=NOW)
    profiles = [(1, _profile(1, "TxDefaultProfile", 16)), (1, _profile(2, "TxProfile", 20)),
                (0, _profile(3, "ChargePointMaxProfile", 18))]
    assert connector_limit(profiles, 1, NOW, tx, "A") == 18
    assert connector_limit(profiles[:2], 1, NOW, tx, "A") == 20
    assert connector_limit(profiles[:2], 1, NOW, None, "A") == 16


def test_relative_schedule_runs_from_the_transaction_start():
    """A Relative profile's periods count from the start of the transaction."""
    tx = SimpleNamespace(started=NOW - timedelta(seconds=100))
    periods = [{"start_period": 0, "limit": 6}, {"start_period": 120, "limit": 10}]
    profiles = [(1, _profile(1, "TxProfile", 0, kind="Relative", periods=periods))]
    assert composite(profiles, 1, NOW, 60, tx, "A") == [
        {"start_period": 0, "limit": 6}, {"start_period": 20, "limit": 10}]


def test_units_convert_and_expired_schedule_falls_back_to_hardware():
    """A limit in W reads in A at 230 V x 3 phases; past its duration a schedule limits
    nothing and the hardware's 32 A applies."""
    profiles = [(1, _profile(1, "TxDefaultProfile", 6900, unit="W", duration=90))]
    assert connector_limit(profiles, 1, NOW, None, "A") == 10
    assert connector_limit(profiles, 1, NOW + timedelta(seconds=31), None, "A") == 32
