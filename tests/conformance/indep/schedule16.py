"""Charging profiles of the independent charge point (OCPP 1.6 §3.13, §5.7, §5.16): which profile
limits a connector at an instant, and the composite schedule GetCompositeSchedule reports.

Profiles arrive in the snake_case form the `ocpp` package hands its handlers. Sans-I/O: every
function takes the instant it is about.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

#: 1.6 §3.13.1: a limit in A converts to W at 230 V per phase; 3 phases unless the period says
VOLTS, PHASES = 230.0, 3
#: the hardware's own limit, reported where no profile limits (A)
HARDWARE_AMPS = 32.0
RECURRENCE = {"Daily": 86400, "Weekly": 7 * 86400}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _start(profile: dict, at: datetime, tx_start: datetime | None) -> datetime | None:
    """When the schedule of `profile` began, as seen at `at` (§3.13.1 kinds)."""
    schedule = profile["charging_schedule"]
    kind = profile["charging_profile_kind"]
    if kind == "Relative":  # from the start of the transaction (or now without one)
        return tx_start or at
    start = parse(schedule["start_schedule"]) if schedule.get("start_schedule") else None
    if kind == "Recurring" and start is not None:
        period = RECURRENCE[profile.get("recurrency_kind", "Daily")]
        cycles = (at - start).total_seconds() // period
        return start + timedelta(seconds=max(cycles, 0) * period)
    return start


def _in_validity(profile: dict, at: datetime) -> bool:
    valid_from, valid_to = profile.get("valid_from"), profile.get("valid_to")
    return (valid_from is None or parse(valid_from) <= at) and (
        valid_to is None or at < parse(valid_to))


def limit_at(profile: dict, at: datetime, tx_start: datetime | None, unit: str) -> float | None:
    """The limit `profile` sets at `at` in `unit` ("A" or "W"), or None when it sets none."""
    if not _in_validity(profile, at):
        return None
    start = _start(profile, at, tx_start)
    if start is None:
        return None
    schedule = profile["charging_schedule"]
    elapsed = (at - start).total_seconds()
    if elapsed < 0 or (schedule.get("duration") is not None and elapsed >= schedule["duration"]):
        return None
    current = None
    for period in schedule["charging_schedule_period"]:
        if period["start_period"] <= elapsed:
            current = period
    if current is None:
        return None
    factor = VOLTS * current.get("number_phases", PHASES)
    limit = float(current["limit"])
    if schedule["charging_rate_unit"] == unit:
        return limit
    return limit * factor if unit == "W" else limit / factor


def _pick(candidates: list[dict], at: datetime, tx_start: datetime | None,
          unit: str) -> float | None:  # fmt: skip
    """§3.13.2 stacking: the highest stackLevel that is in effect wins."""
    for profile in sorted(candidates, key=lambda p: p["stack_level"], reverse=True):
        limit = limit_at(profile, at, tx_start, unit)
        if limit is not None:
            return limit
    return None


def connector_limit(profiles: list[tuple[int, dict]], connector: int, at: datetime,
                    tx: Any, unit: str) -> float:  # fmt: skip
    """The limit on `connector` at `at`: TxProfile over TxDefaultProfile (a connector's own
    before connector 0's), capped by ChargePointMaxProfile (§3.13.2)."""
    tx_start = tx.started if tx is not None else None

    def of(purpose: str, where: int) -> list[dict]:
        return [p for c, p in profiles if c == where and p["charging_profile_purpose"] == purpose]

    own = None
    if tx is not None:
        own = _pick(of("TxProfile", connector), at, tx_start, unit)
    if own is None:
        own = _pick(of("TxDefaultProfile", connector), at, tx_start, unit)
    if own is None:
        own = _pick(of("TxDefaultProfile", 0), at, tx_start, unit)
    cap = _pick(of("ChargePointMaxProfile", 0), at, tx_start, unit)
    hardware = HARDWARE_AMPS if unit == "A" else HARDWARE_AMPS * VOLTS * PHASES
    return min(x for x in (own, cap, hardware) if x is not None)


def composite(profiles: list[tuple[int, dict]], connector: int, now: datetime, duration: int,
              tx: Any, unit: str) -> list[dict]:  # fmt: skip
    """§5.7 GetCompositeSchedule: the periods (snake_case) from `now` for `duration` seconds,
    evaluated per second and merged where the limit does not change."""
    periods: list[dict] = []
    for second in range(max(duration, 1)):
        limit = connector_limit(profiles, connector, now + timedelta(seconds=second), tx, unit)
        if not periods or periods[-1]["limit"] != limit:
            periods.append({"start_period": second, "limit": round(limit, 1)})
    return periods
