"""OCPP 2.0.1 part 6 §2.12, K SmartCharging, with a Charging Station under test: setting,
reporting, replacing and clearing charging profiles (K01, K09, K10). Not applicable to a
station without SmartChargingCtrlr (its device model)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.expect import Mismatch
from conformance.v201.states import Cs, charging, next_id

#: <Configured chargingRateUnit>, <Configured duration>, <Configured numberPhases>
UNIT, DURATION, PHASES = "A", 300, 3


def profile(cs: Cs, profile_id: int, purpose: str = "TxDefaultProfile", limit: float = 6.0,
            stack: int = 0, **extra: Any) -> dict:
    """A ChargingProfileType of one schedule with one period from 0 s."""
    kind = "Absolute" if purpose == "ChargingStationMaxProfile" else "Relative"
    schedule: dict[str, Any] = {
        "id": profile_id, "duration": DURATION, "chargingRateUnit": UNIT,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit,
                                    "numberPhases": PHASES}]}
    if kind == "Absolute":
        schedule["startSchedule"] = cs.time()
    return {"id": profile_id, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind, "chargingSchedule": [schedule], **extra}


async def _set(cs: Cs, evse_id: int, body: dict, status: str = "Accepted") -> None:
    await cs.ask("SetChargingProfile", {"evseId": evse_id, "chargingProfile": body},
                 {"status": status})


async def _reported(cs: Cs, body: dict, evse_id: int) -> None:
    """GetChargingProfiles by id: Accepted, then ReportChargingProfilesRequests of that
    requestId (until tbc false) holding the profile as it was set (K09.FR.?)."""
    request_id = next_id()
    await cs.ask("GetChargingProfiles", {"requestId": request_id, "chargingProfile": {
        "chargingProfileId": [body["id"]]}}, {"status": "Accepted"})
    found: list[tuple[int, dict]] = []
    while True:
        report = await cs.expect("ReportChargingProfiles", {"requestId": request_id})
        found.extend((report["evseId"], p) for p in report["chargingProfile"])
        if not report.get("tbc", False):
            break
    match = [(evse, p) for evse, p in found if p["id"] == body["id"]]
    if not match:
        raise Mismatch(f"profile {body['id']} not reported (received {found})",
                       f"ReportChargingProfilesRequest with profile {body['id']}")
    evse, got = match[0]
    period = got["chargingSchedule"][0]["chargingSchedulePeriod"][0]
    sent = body["chargingSchedule"][0]["chargingSchedulePeriod"][0]
    if (evse != evse_id or got["chargingProfilePurpose"] != body["chargingProfilePurpose"]
            or got["stackLevel"] != body["stackLevel"]
            or abs(float(period["limit"]) - sent["limit"]) > 1e-6
            or got["chargingSchedule"][0]["chargingRateUnit"] != UNIT):
        raise Mismatch(f"reported on EVSE {evse}: {got}; set on EVSE {evse_id}: {body}",
                       "the same profile as set")


@pytest.mark.octt("TC_K_01_CS")
async def test_tx_default_on_evse(cs: Cs):
    """TC_K_01_CS: a TxDefaultProfile on the EVSE: Accepted, reported as set (K01.FR.?)."""
    body = profile(cs, next_id())
    await _set(cs, cs.evse_id, body)
    await _reported(cs, body, cs.evse_id)


@pytest.mark.octt("TC_K_10_CS")
async def test_tx_default_on_all_evses(cs: Cs):
    """TC_K_10_CS: a TxDefaultProfile on evseId 0 (every EVSE): Accepted, reported on 0."""
    body = profile(cs, next_id())
    await _set(cs, 0, body)
    await _reported(cs, body, 0)


@pytest.mark.octt("TC_K_03_CS")
async def test_station_max_profile(cs: Cs):
    """TC_K_03_CS: a ChargingStationMaxProfile (Absolute) on evseId 0: Accepted, reported."""
    body = profile(cs, next_id(), "ChargingStationMaxProfile")
    await _set(cs, 0, body)
    await _reported(cs, body, 0)


@pytest.mark.octt("TC_K_02_CS")
async def test_tx_profile_without_transaction(cs: Cs):
    """TC_K_02_CS: a TxProfile for a transaction that does not run: Rejected (K01.FR.09)."""
    await _set(cs, cs.evse_id, profile(cs, next_id(), "TxProfile",
                                       transactionId="UNKNOWN-TRANSACTION-ID"), "Rejected")


@pytest.mark.octt("TC_K_04_CS")
async def test_replace_profile(cs: Cs):
    """TC_K_04_CS: the same chargingProfileId set again with another limit replaces it
    (K01.FR.05): the new one is reported."""
    profile_id = next_id()
    await _set(cs, cs.evse_id, profile(cs, profile_id, limit=6.0))
    body = profile(cs, profile_id, limit=10.0)
    await _set(cs, cs.evse_id, body)
    await _reported(cs, body, cs.evse_id)


@pytest.mark.octt("TC_K_05_CS")
async def test_clear_by_id(cs: Cs):
    """TC_K_05_CS: ClearChargingProfile by id: Accepted; GetChargingProfiles then NoProfiles
    (K10.FR.?)."""
    body = profile(cs, next_id())
    await _set(cs, cs.evse_id, body)
    await cs.ask("ClearChargingProfile", {"chargingProfileId": body["id"]},
                 {"status": "Accepted"})
    await cs.ask("GetChargingProfiles", {"requestId": next_id(), "chargingProfile": {
        "chargingProfileId": [body["id"]]}}, {"status": "NoProfiles"})


@pytest.mark.octt("TC_K_06_CS")
async def test_clear_by_purpose_and_stack_level(cs: Cs):
    """TC_K_06_CS: during a transaction, ClearChargingProfile by purpose and stackLevel:
    Accepted; none of them left (NoProfiles)."""
    await _set(cs, cs.evse_id, profile(cs, next_id(), stack=1))
    await charging(cs)
    criteria = {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}
    await cs.ask("ClearChargingProfile", {"chargingProfileCriteria": criteria},
                 {"status": "Accepted"})
    await cs.ask("GetChargingProfiles", {"requestId": next_id(), "chargingProfile": criteria},
                 {"status": "NoProfiles"})


@pytest.mark.octt("TC_K_07_CS")
async def test_clear_unknown_criteria(cs: Cs):
    """TC_K_07_CS: criteria matching no profile: Unknown (K10.FR.?)."""
    await _set(cs, cs.evse_id, profile(cs, next_id(), stack=1))
    await cs.ask("ClearChargingProfile", {"chargingProfileCriteria": {
        "chargingProfilePurpose": "ChargingStationMaxProfile", "stackLevel": 0}},
        {"status": "Unknown"})


@pytest.mark.octt("TC_K_08_CS")
async def test_clear_without_profiles(cs: Cs):
    """TC_K_08_CS: ClearChargingProfile of an id the station does not have: Unknown."""
    await cs.ask("ClearChargingProfile", {"chargingProfileId": next_id()},
                 {"status": "Unknown"})


@pytest.mark.octt("TC_K_14_CS")
async def test_unknown_evse(cs: Cs):
    """TC_K_14_CS: a profile for an EVSE the station does not have: Rejected."""
    evses = len({key for key in cs.central.station.status} or {(cs.evse_id, 1)})
    await _set(cs, evses + 1, profile(cs, next_id()), "Rejected")
