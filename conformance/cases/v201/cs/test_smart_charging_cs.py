"""OCPP 2.0.1 part 6 §2.12, K SmartCharging, with a Charging Station under test: setting,
reporting, replacing and clearing charging profiles (K01, K09, K10), composite schedules (K08),
a profile with RequestStartTransaction (K05). Not applicable to a station without
SmartChargingCtrlr (its device model). The ISO 15118 cases (K53-K58), external limits (K52),
units a station lacks (K12, K42) and the ignored profile of a station without smart charging
(TC_K_38) are not implemented."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.expect import Mismatch
from conformance.v201.states import (
    Cs,
    absent,
    booted,
    charging,
    energy_transfer_started,
    ev_connected_pre_session,
    next_id,
    transaction_event,
)
from conformance.v201.states_akmj import absolute_profile, composite, expect_limits

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


async def _reports(cs: Cs, request: dict) -> list[tuple[int, dict]]:
    """GetChargingProfilesRequest `request` (a fresh requestId added): Accepted, then every
    ReportChargingProfilesRequest of that requestId until tbc is false (K09.FR.01); the
    (evseId, profile) pairs reported."""
    request_id = next_id()
    await cs.ask("GetChargingProfiles", {"requestId": request_id, **request},
                 {"status": "Accepted"})
    found: list[tuple[int, dict]] = []
    while True:
        report = await cs.expect("ReportChargingProfiles", {"requestId": request_id})
        found.extend((report["evseId"], p) for p in report["chargingProfile"])
        if not report.get("tbc", False):
            return found


def _has(found: list[tuple[int, dict]], profile_id: int, evse_id: int | None = None) -> None:
    if not any(p["id"] == profile_id and (evse_id is None or evse == evse_id)
               for evse, p in found):
        where = "" if evse_id is None else f" on EVSE {evse_id}"
        raise Mismatch(f"profile {profile_id} not reported{where}; reported "
                       f"{[(evse, p['id']) for evse, p in found]}",
                       f"ReportChargingProfilesRequest with profile {profile_id}{where}")


def _lacks(found: list[tuple[int, dict]], profile_id: int) -> None:
    if any(p["id"] == profile_id for _, p in found):
        raise Mismatch(f"profile {profile_id} reported, which the criteria exclude",
                       f"no profile {profile_id}")


async def _max_and_default(cs: Cs, max_stack: int = 0, default_stack: int = 0
                           ) -> tuple[dict, dict]:
    """Memory State of TC_K_29-36: a ChargingStationMaxProfile on the station (Id1), a
    TxDefaultProfile on <Configured evseId> (Id2)."""
    station_max = profile(cs, next_id(), "ChargingStationMaxProfile", limit=32.0,
                          stack=max_stack)
    default = profile(cs, next_id(), stack=default_stack)
    await _set(cs, 0, station_max)
    await _set(cs, cs.evse_id, default)
    return station_max, default


def _evse_count(cs: Cs) -> int:
    """The EVSEs the station reported (its connectors' statuses), at least the configured."""
    return len({evse for evse, _ in cs.central.station.status if evse > 0} or {cs.evse_id})


@pytest.mark.octt("TC_K_09_CS")
async def test_clear_tx_default_during_transaction(cs: Cs):
    """TC_K_09_CS: a TxDefaultProfile of 6 A in force during a transaction (composite limit
    6 from its start); ClearChargingProfile by purpose TxDefaultProfile: Accepted; the
    composite schedule then holds no 6 A period of that profile any more, unless 6 A is the
    station's own local limit."""
    body = absolute_profile(cs, next_id(), "TxDefaultProfile", [(0, 6.0)], duration=400)
    await _set(cs, cs.evse_id, body)
    await charging(cs)
    since = body["chargingSchedule"][0]["startSchedule"]
    expect_limits(await composite(cs, cs.evse_id, 300), since, [(0, 300, 6.0)])
    await cs.ask("ClearChargingProfile", {"chargingProfileCriteria": {
        "chargingProfilePurpose": "TxDefaultProfile"}}, {"status": "Accepted"})
    after = await composite(cs, cs.evse_id, 300)
    if after["chargingSchedulePeriod"] and float(
            after["chargingSchedulePeriod"][0]["limit"]) == 6.0:
        raise Mismatch("the composite schedule still starts with 6 A after the clear",
                       "the local limit of the station")


@pytest.mark.octt("TC_K_11_CS")
async def test_tx_profile_on_all_evses(cs: Cs):
    """TC_K_11_CS: a TxProfile on evseId 0: Rejected (K01.FR.16)."""
    await _set(cs, 0, profile(cs, next_id(), "TxProfile"), "Rejected")


@pytest.mark.octt("TC_K_16_CS")
async def test_tx_profile_unknown_transaction(cs: Cs):
    """TC_K_16_CS: during a transaction, a TxProfile for an unknown transactionId: Rejected
    (K01.FR.09)."""
    await charging(cs)
    await _set(cs, cs.evse_id, profile(cs, next_id(), "TxProfile",
                                       transactionId="UNKNOWN-TRANSACTION-ID"), "Rejected")


@pytest.mark.octt("TC_K_19_CS")
async def test_recurring_profile(cs: Cs):
    """TC_K_19_CS: a Recurring (Daily) profile: Accepted."""
    body = absolute_profile(cs, next_id(), "TxDefaultProfile", [(0, 6.0)], duration=3600)
    body.update(chargingProfileKind="Recurring", recurrencyKind="Daily")
    await _set(cs, cs.evse_id, body)


@pytest.mark.octt("TC_K_21_CS")
async def test_valid_from(cs: Cs):
    """TC_K_21_CS: a Relative TxDefaultProfile validFrom now + 300 s: Accepted; the composite
    schedule of 400 s has 6 A from 300 - x s on (K01.FR.?, validFrom)."""
    since = cs.time()
    body = profile(cs, next_id(), validFrom=cs.time(300))
    body["chargingSchedule"][0].pop("duration", None)
    await _set(cs, cs.evse_id, body)
    expect_limits(await composite(cs, cs.evse_id, 400), since, [(300, 400, 6.0)])


@pytest.mark.octt("TC_K_22_CS")
async def test_valid_to(cs: Cs):
    """TC_K_22_CS: an Absolute TxDefaultProfile on evseId 0 valid until now + 300 s:
    Accepted; every EVSE's composite schedule holds 6 A until 300 - x s."""
    body = absolute_profile(cs, next_id(), "TxDefaultProfile", [(0, 6.0)],
                            validFrom=cs.time(-1), validTo=cs.time(300))
    await _set(cs, 0, body)
    since = body["chargingSchedule"][0]["startSchedule"]
    for evse in range(1, _evse_count(cs) + 1):
        expect_limits(await composite(cs, evse, 400), since, [(0, 300, 6.0)])


@pytest.mark.octt("TC_K_23_CS")
async def test_start_schedule(cs: Cs):
    """TC_K_23_CS: an Absolute TxDefaultProfile whose schedule starts at now + 60 s: Accepted;
    the composite schedule has 6 A from 60 - x s on."""
    since = cs.time()
    body = absolute_profile(cs, next_id(), "TxDefaultProfile", [(0, 6.0)], start=60,
                            validFrom=cs.time(50), validTo=cs.time(400))
    await _set(cs, cs.evse_id, body)
    expect_limits(await composite(cs, cs.evse_id, 300), since, [(60, 300, 6.0)])


@pytest.mark.octt("TC_K_24_CS")
async def test_clear_on_several_evses(cs: Cs):
    """TC_K_24_CS: the same purpose and stackLevel on EVSE 1 and 2; one ClearChargingProfile
    by those criteria: Accepted; GetChargingProfiles then NoProfiles. Needs 2 EVSEs."""
    if _evse_count(cs) < 2:
        pytest.skip("not applicable: the station reported one EVSE (the case needs two)")
    for evse in (1, 2):
        await _set(cs, evse, profile(cs, next_id(), stack=2))
    criteria = {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2}
    await cs.ask("ClearChargingProfile", {"chargingProfileCriteria": criteria},
                 {"status": "Accepted"})
    await cs.ask("GetChargingProfiles", {"requestId": next_id(), "chargingProfile": criteria},
                 {"status": "NoProfiles"})


@pytest.mark.octt("TC_K_28_CS")
async def test_tx_default_during_transaction(cs: Cs):
    """TC_K_28_CS: during a transaction, an Absolute TxDefaultProfile of 6 A: Accepted; the
    composite schedule starts at 6 A."""
    await charging(cs)
    body = absolute_profile(cs, next_id(), "TxDefaultProfile", [(0, 6.0)], duration=300,
                            validFrom=cs.time(-1), validTo=cs.time(300))
    await _set(cs, cs.evse_id, body)
    since = body["chargingSchedule"][0]["startSchedule"]
    expect_limits(await composite(cs, cs.evse_id, 300), since, [(0, 300, 6.0)])


@pytest.mark.octt("TC_K_29_CS")
async def test_get_profiles_evse_0(cs: Cs):
    """TC_K_29_CS: GetChargingProfiles evseId 0: the ChargingStationMaxProfile reported, the
    EVSE's TxDefaultProfile not (K09.FR.?: evseId 0 is the station's own)."""
    station_max, default = await _max_and_default(cs)
    found = await _reports(cs, {"evseId": 0, "chargingProfile": {}})
    _has(found, station_max["id"], 0)
    _lacks(found, default["id"])


@pytest.mark.octt("TC_K_30_CS")
async def test_get_profiles_evse(cs: Cs):
    """TC_K_30_CS: GetChargingProfiles of <Configured evseId>: its TxDefaultProfile."""
    station_max, default = await _max_and_default(cs)
    found = await _reports(cs, {"evseId": cs.evse_id, "chargingProfile": {}})
    _has(found, default["id"], cs.evse_id)
    _lacks(found, station_max["id"])


@pytest.mark.octt("TC_K_31_CS")
async def test_get_profiles_no_evse(cs: Cs):
    """TC_K_31_CS: GetChargingProfiles without evseId: both profiles, each on its EVSE."""
    station_max, default = await _max_and_default(cs)
    found = await _reports(cs, {"chargingProfile": {}})
    _has(found, station_max["id"], 0)
    _has(found, default["id"], cs.evse_id)


@pytest.mark.octt("TC_K_32_CS")
async def test_get_profiles_by_id(cs: Cs):
    """TC_K_32_CS: GetChargingProfiles by chargingProfileId Id1: that profile only."""
    station_max, default = await _max_and_default(cs)
    found = await _reports(cs, {"chargingProfile": {"chargingProfileId": [station_max["id"]]}})
    _has(found, station_max["id"], 0)
    _lacks(found, default["id"])


@pytest.mark.octt("TC_K_33_CS")
async def test_get_profiles_evse_and_stack_level(cs: Cs):
    """TC_K_33_CS: evseId and stackLevel: the EVSE's profile of that stackLevel."""
    _, default = await _max_and_default(cs, max_stack=1, default_stack=2)
    found = await _reports(cs, {"evseId": cs.evse_id, "chargingProfile": {"stackLevel": 2}})
    _has(found, default["id"], cs.evse_id)


@pytest.mark.octt("TC_K_34_CS")
async def test_get_profiles_by_limit_source(cs: Cs):
    """TC_K_34_CS: a TxDefaultProfile the CSMS set (source CSO): reported for
    chargingLimitSource CSO; NoProfiles for EMS (no profile of that source)."""
    body = profile(cs, next_id(), stack=1)
    await _set(cs, cs.evse_id, body)
    found = await _reports(cs, {"evseId": cs.evse_id,
                                "chargingProfile": {"chargingLimitSource": ["CSO"]}})
    _has(found, body["id"], cs.evse_id)
    await cs.ask("GetChargingProfiles", {"requestId": next_id(), "evseId": cs.evse_id,
                                         "chargingProfile": {"chargingLimitSource": ["EMS"]}},
                 {"status": "NoProfiles"})


@pytest.mark.octt("TC_K_35_CS")
async def test_get_profiles_evse_and_purpose(cs: Cs):
    """TC_K_35_CS: evseId and chargingProfilePurpose TxDefaultProfile: that profile."""
    station_max, default = await _max_and_default(cs)
    found = await _reports(cs, {"evseId": cs.evse_id, "chargingProfile": {
        "chargingProfilePurpose": "TxDefaultProfile"}})
    _has(found, default["id"], cs.evse_id)
    _lacks(found, station_max["id"])


@pytest.mark.octt("TC_K_36_CS")
async def test_get_profiles_evse_purpose_and_stack_level(cs: Cs):
    """TC_K_36_CS: evseId, purpose and stackLevel: the EVSE's TxDefaultProfile."""
    station_max, default = await _max_and_default(cs, 1, 1)
    found = await _reports(cs, {"evseId": cs.evse_id, "chargingProfile": {
        "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}})
    _has(found, default["id"], cs.evse_id)
    _lacks(found, station_max["id"])


@pytest.mark.octt("TC_K_60_CS")
async def test_tx_profile_on_transaction(cs: Cs):
    """TC_K_60_CS: during a transaction, a TxProfile for its transactionId: Accepted, and
    reported by GetChargingProfiles by id (K01.FR.03)."""
    await charging(cs)
    if cs.tx_id is None:
        raise Mismatch("no transactionId seen", "a running transaction")
    body = profile(cs, next_id(), "TxProfile", transactionId=cs.tx_id)
    await _set(cs, cs.evse_id, body)
    _has(await _reports(cs, {"chargingProfile": {"chargingProfileId": [body["id"]]}}),
         body["id"], cs.evse_id)


@pytest.mark.octt("TC_K_37_CS")
async def test_remote_start_with_profile(cs: Cs):
    """TC_K_37_CS: EVConnectedPreSession; RequestStartTransaction with a TxProfile (no
    transactionId): Accepted; the transaction runs with that profile, reported by id with
    the transaction's id (K05.FR.02)."""
    await ev_connected_pre_session(cs)
    had_tx = cs.tx_id is not None
    body = profile(cs, next_id(), "TxProfile")
    remote_start_id = next_id()
    await cs.ask("RequestStartTransaction", {
        "idToken": cs.valid, "evseId": cs.evse_id, "remoteStartId": remote_start_id,
        "chargingProfile": body}, {"status": "Accepted"})
    cs.authorized = True
    if cs.flag("AuthCtrlr", "AuthorizeRemoteStart"):
        await cs.expect("Authorize", {"idToken": cs.valid})
    if "Authorized" in cs.points("TxStartPoint") or had_tx:
        await cs.expect("TransactionEvent", transaction_event(
            eventType="Updated" if had_tx else "Started", triggerReason="RemoteStart",
            idToken=cs.valid, remoteStartId=remote_start_id))
    await energy_transfer_started(cs)
    found = await _reports(cs, {"chargingProfile": {"chargingProfileId": [body["id"]]}})
    _has(found, body["id"], cs.evse_id)
    reported = next(p for _, p in found if p["id"] == body["id"])
    if cs.tx_id is not None and reported.get("transactionId") != cs.tx_id:
        raise Mismatch(f"transactionId {reported.get('transactionId')!r} in the reported "
                       f"profile, the transaction is {cs.tx_id!r}",
                       "the profile bound to the started transaction (K05.FR.02)")


@pytest.mark.octt("TC_K_39_CS")
async def test_composite_without_profiles(cs: Cs):
    """TC_K_39_CS: no profile installed: GetCompositeSchedule evseId 0 Accepted, evseId 0,
    duration 300, the first period from 0."""
    schedule = await composite(cs, 0, 300)
    periods = schedule.get("chargingSchedulePeriod") or []
    if not periods or periods[0]["startPeriod"] != 0:
        raise Mismatch(f"chargingSchedulePeriod {periods}", "a first period at startPeriod 0")


@pytest.mark.octt("TC_K_40_CS")
async def test_composite_stacking(cs: Cs):
    """TC_K_40_CS: two TxDefaultProfiles, stackLevel 0 (6, 8, 10 A from 0, 100, 200 s) and 1
    (7, 9 A from 0, 100 s, for 150 s): the composite schedule of 350 s is 7, 9, 8, 10 A from
    0, 100 - x, 150 - x, 200 - x (the higher stackLevel wins while it runs, K08)."""
    low = absolute_profile(cs, next_id(), "TxDefaultProfile", [(0, 6.0), (100, 8.0),
                                                               (200, 10.0)],
                           duration=400, validFrom=cs.time(-1), validTo=cs.time(401))
    high = absolute_profile(cs, next_id(), "TxDefaultProfile", [(0, 7.0), (100, 9.0)],
                            duration=150, stack=1, validFrom=cs.time(-1),
                            validTo=cs.time(401))
    high["chargingSchedule"][0]["startSchedule"] = low["chargingSchedule"][0]["startSchedule"]
    await _set(cs, cs.evse_id, low)
    await _set(cs, cs.evse_id, high)
    since = low["chargingSchedule"][0]["startSchedule"]
    expect_limits(await composite(cs, cs.evse_id, 350), since,
                  [(0, 100, 7.0), (100, 150, 9.0), (150, 200, 8.0), (200, 350, 10.0)])


@pytest.mark.octt("TC_K_41_CS")
async def test_composite_combining_purposes(cs: Cs):
    """TC_K_41_CS: a ChargingStationMaxProfile of 10 A, a TxDefaultProfile and (on the running
    transaction: a TxProfile needs one, K01.FR.09) a TxProfile of 260 s: the composite
    schedule is the TxProfile capped by the station maximum, 8, 10, 6, 10 A from 0, 50 - x,
    200 - x, 240 - x (K08; part 6 validates it up to the TxProfile's end)."""
    await charging(cs)
    if cs.tx_id is None:
        raise Mismatch("no transactionId seen", "a running transaction")
    station_max = absolute_profile(cs, next_id(), "ChargingStationMaxProfile", [(0, 10.0)],
                                   duration=86400)
    since = station_max["chargingSchedule"][0]["startSchedule"]
    default = absolute_profile(cs, next_id(), "TxDefaultProfile",
                               [(0, 6.0), (60, 10.0), (120, 8.0), (180, 15.0), (260, 8.0)],
                               duration=300, validFrom=cs.time(-1), validTo=cs.time(401))
    tx = absolute_profile(cs, next_id(), "TxProfile",
                          [(0, 8.0), (50, 11.0), (140, 16.0), (200, 6.0), (240, 12.0)],
                          duration=260, transactionId=cs.tx_id, validFrom=cs.time(-1),
                          validTo=cs.time(401))
    for body in (default, tx):
        body["chargingSchedule"][0]["startSchedule"] = since
    await _set(cs, 0, station_max)
    await _set(cs, cs.evse_id, default)
    await _set(cs, cs.evse_id, tx)
    expect_limits(await composite(cs, cs.evse_id, 400), since,
                  [(0, 50, 8.0), (50, 200, 10.0), (200, 240, 6.0), (240, 260, 10.0)])


@pytest.mark.octt("TC_K_47_CS")
async def test_composite_unknown_evse(cs: Cs):
    """TC_K_47_CS: GetCompositeSchedule of an EVSE the station does not have: Rejected, the
    schedule omitted (K08.FR.05)."""
    await cs.ask("GetCompositeSchedule", {"evseId": _evse_count(cs) + 1, "duration": 300,
                                          "chargingRateUnit": UNIT},
                 {"status": "Rejected", "schedule": absent()})


@pytest.mark.octt("TC_K_13_CS")
async def test_profile_survives_reboot(cs: Cs):
    """TC_K_13_CS: a TxDefaultProfile set, the station reset (Reusable State Booted): the
    profile is still reported as set (K01.FR.27)."""
    body = profile(cs, next_id())
    await _set(cs, cs.evse_id, body)
    await booted(cs)
    await _reported(cs, body, cs.evse_id)
