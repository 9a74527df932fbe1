"""The CSMS's charging schedule for an ISO 15118 EV's needs (K15/K17), sans-I/O.

A NotifyEVChargingNeeds tells what the EV can take (AC: current per phase; DC: power or
current x voltage) and, optionally, when it leaves. The plan is the simplest one a reference
CSMS can stand behind: charge at the EV's maximum from now, as one TxProfile with one schedule
(K15.FR.18) of one period (within any maxScheduleTuples, K15.FR.07), ending at the departure
time when the EV gave one. Load balancing across a site is not this CSMS's business; the
station still applies its own limits (K15.FR.09).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chargebench.clock import iso, parse_iso

__all__ = ["plan", "within"]


def _limit(needs: Mapping[str, Any]) -> tuple[str, float]:
    """(chargingRateUnit, limit) at the EV's maximum."""
    if "acChargingParameters" in needs:
        return "A", float(needs["acChargingParameters"]["evMaxCurrent"])
    dc = needs["dcChargingParameters"]
    if "evMaxPower" in dc:
        return "W", float(dc["evMaxPower"])
    return "W", float(dc["evMaxCurrent"]) * float(dc["evMaxVoltage"])


def plan(needs: Mapping[str, Any], *, transaction_id: str, profile_id: int,
         now: datetime) -> dict[str, Any]:  # fmt: skip
    """The chargingProfile of the SetChargingProfileRequest that answers `needs` (K15.FR.07:
    TxProfile with the transactionId; K01.FR.40: an Absolute profile's schedule starts)."""
    unit, limit = _limit(needs)
    schedule: dict[str, Any] = {
        "id": 1, "chargingRateUnit": unit, "startSchedule": iso(now),
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }  # fmt: skip
    if "acChargingParameters" in needs:
        schedule["chargingSchedulePeriod"][0]["numberPhases"] = 3  # K01.FR.49: AC default
    departure = needs.get("departureTime")
    if departure is not None:
        seconds = int((parse_iso(departure) - now).total_seconds())
        if seconds > 0:
            schedule["duration"] = seconds
    return {"id": profile_id, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute", "transactionId": transaction_id,
            "chargingSchedule": [schedule]}  # fmt: skip


def within(ev_schedule: Mapping[str, Any], profile: Mapping[str, Any]) -> bool | None:
    """K15.FR.11/12: whether the EV's chosen schedule stays within the CSMS's planned profile
    (every period's limit at most the plan's); None when they are in different units (A and
    W cannot be compared without the line voltage and phases the EV uses)."""
    [planned] = profile["chargingSchedule"][:1]
    if planned["chargingRateUnit"] != ev_schedule["chargingRateUnit"]:
        return None
    ceiling = max(period["limit"] for period in planned["chargingSchedulePeriod"])
    return all(period["limit"] <= ceiling for period in ev_schedule["chargingSchedulePeriod"])
