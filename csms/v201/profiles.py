"""What the CSMS may send in an OCPP 2.0.1 SetChargingProfile, sans-I/O.

The schema admits profiles that part 2 forbids a CSMS to send ("the CSMS SHALL NOT ..."); a
reference CSMS that sent one would teach its users a wrong profile and blame the station for
rejecting it. `problems()` names each broken rule with its requirement id and the field, for
the actions API to refuse the request before anything is sent (409, as a payload of the other
version is: the rule is the station's version's). The station's own rules (K01.FR.09 no
transaction, K01.FR.28 unknown EVSE, K01.FR.26 rate unit) stay the station's: the CSMS cannot
know them, so it sends and records the answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

__all__ = ["Problem", "clear_problems", "problems", "same_slot"]

_TX = "TxProfile"
_MAX = "ChargingStationMaxProfile"
_EXTERNAL = "ChargingStationExternalConstraints"


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: the requirement id, the field (dotted, as the API names fields), why."""

    requirement: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason} ({self.requirement})"


def problems(request: Mapping[str, Any], active: Iterable[Mapping[str, Any]] = ()) -> list[Problem]:
    """The rules `request` (a SetChargingProfileRequest) breaks; `active` are the station's
    profiles the CSMS knows as accepted and not cleared (store rows: `connector_id` is the EVSE,
    `profile_id`, `profile`), for the duplicate rules K01.FR.06 and K01.FR.39."""
    evse = request["evseId"]
    profile = request["chargingProfile"]
    purpose = profile["chargingProfilePurpose"]
    kind = profile["chargingProfileKind"]
    found: list[Problem] = []
    where = "chargingProfile"
    if purpose == _EXTERNAL:
        found.append(Problem("K01.FR.22", f"{where}.chargingProfilePurpose",
                             f"a CSMS does not set {_EXTERNAL}"))  # fmt: skip
    if purpose == _TX and "transactionId" not in profile:
        found.append(Problem("K01.FR.03", f"{where}.transactionId",
                             "a TxProfile names the transaction it limits"))  # fmt: skip
    if purpose == _TX and evse <= 0:
        found.append(Problem("K01.FR.16", "evseId", "a TxProfile is set on an EVSE > 0"))
    if purpose == _MAX and evse != 0:
        found.append(Problem("K04.FR.03", "evseId", f"a {_MAX} is set on EVSE 0"))
    if purpose == _MAX and kind == "Relative":
        found.append(Problem("K01.FR.38", f"{where}.chargingProfileKind",
                             f"a {_MAX} is not Relative"))  # fmt: skip
    for n, schedule in enumerate(profile["chargingSchedule"]):
        found.extend(_schedule_problems(f"{where}.chargingSchedule[{n}]", kind, schedule))
    for row in active:
        if row["profile_id"] != profile["id"] and same_slot(evse, profile, row):
            rule = "K01.FR.39" if purpose == _TX else "K01.FR.06"
            found.append(Problem(rule, f"{where}.stackLevel",
                                 f"profile {row['profile_id']} already holds stackLevel "
                                 f"{profile['stackLevel']} for {purpose} here; replace it by "
                                 "its id (K01.FR.05) or choose another stackLevel"))  # fmt: skip
    return found


def clear_problems(request: Mapping[str, Any]) -> list[Problem]:
    """The rules a ClearChargingProfileRequest breaks (K10)."""
    criteria = request.get("chargingProfileCriteria") or {}
    found: list[Problem] = []
    if "chargingProfileId" not in request and not criteria:
        found.append(Problem("K10.FR.02", "chargingProfileCriteria",
                             "name a chargingProfileId or at least one of evseId, "
                             "chargingProfilePurpose, stackLevel"))  # fmt: skip
    if criteria.get("chargingProfilePurpose") == _EXTERNAL:
        found.append(Problem("K10.FR.06", "chargingProfileCriteria.chargingProfilePurpose",
                             f"a CSMS does not clear {_EXTERNAL}"))  # fmt: skip
    return found


def _schedule_problems(where: str, kind: str, schedule: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    has_start = "startSchedule" in schedule
    if kind in ("Absolute", "Recurring") and not has_start:
        found.append(Problem("K01.FR.40", f"{where}.startSchedule",
                             f"an {kind} profile's schedule has a startSchedule"))  # fmt: skip
    if kind == "Relative" and has_start:
        found.append(Problem("K01.FR.41", f"{where}.startSchedule",
                             "a Relative profile's schedule has no startSchedule"))  # fmt: skip
    periods = schedule["chargingSchedulePeriod"]
    if periods and periods[0]["startPeriod"] != 0:
        found.append(Problem("K01.FR.31", f"{where}.chargingSchedulePeriod[0].startPeriod",
                             "the first period starts at 0"))  # fmt: skip
    starts = [period["startPeriod"] for period in periods]
    if any(later <= earlier for earlier, later in pairwise(starts)):
        found.append(Problem("K01.FR.35", f"{where}.chargingSchedulePeriod",
                             "periods are ordered by increasing startPeriod"))  # fmt: skip
    for n, period in enumerate(periods):
        if "phaseToUse" in period and period.get("numberPhases") != 1:
            found.append(Problem("K01.FR.19", f"{where}.chargingSchedulePeriod[{n}].phaseToUse",
                                 "phaseToUse only with numberPhases 1"))  # fmt: skip
    return found


def same_slot(evse: int, profile: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    """Whether `row` (an active profile) holds the place `profile` would take: the same
    stackLevel and purpose on the same EVSE with an overlapping validity (K01.FR.06), or for a
    TxProfile the same stackLevel and transaction (K01.FR.39)."""
    held = row["profile"]
    if (held["chargingProfilePurpose"], held["stackLevel"]) != (
        profile["chargingProfilePurpose"], profile["stackLevel"]
    ):  # fmt: skip
        return False
    if profile["chargingProfilePurpose"] == _TX:
        return bool(held.get("transactionId") == profile.get("transactionId"))
    return row["connector_id"] == evse and _overlap(held, profile)


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # K01.FR.10, .36, .37: no validFrom/validTo is valid from always / until replaced
    start = max(
        _instant(a.get("validFrom"), datetime.min), _instant(b.get("validFrom"), datetime.min)
    )
    end = min(_instant(a.get("validTo"), datetime.max), _instant(b.get("validTo"), datetime.max))
    return start < end


def _instant(text: str | None, unset: datetime) -> datetime:
    """`text` as naive UTC (comparable with datetime.min/max); an offset-less time is UTC."""
    if text is None:
        return unset
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
