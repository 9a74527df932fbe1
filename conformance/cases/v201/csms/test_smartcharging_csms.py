"""OCPP 2.0.1 part 6 §3.12, K Smart Charging, with a CSMS under test: the charging profiles
the CSMS sets (K01), clears (K10), reads back (K09), the composite schedule it asks (K08), a
remote start with a profile (K05) and the external limits it is told of (K12-K14)."""

from __future__ import annotations

from typing import Any

import pytest

from chargebench.matching import AnyOf
from chargebench.ocppj.errors import OcppCallError
from conformance.chargepoint import Command, at, params
from conformance.expect import number
from conformance.v201.station import EVSE_ID, Station, absent

#: <Configured stackLevel>, <Configured chargingRateUnit>, <Configured duration>
STACK, UNIT, DURATION = 0, "A", 300
#: one id per profile slot (purpose, stackLevel, EVSE): a CSMS keeps the profiles a station
#: accepted and refuses a second id in a slot (K01.FR.06), so every case replaces its own
TX_DEFAULT_ID, TX_DEFAULT_STATION_ID, MAX_ID, RECURRING_ID, SECOND_ID, TX_ID = (
    201, 202, 203, 204, 205, 206)


def schedule(limit: float, *, start: bool = True, **fields: Any) -> dict:
    """A ChargingScheduleType in the configured unit, one period from 0 at `limit`."""
    found: dict[str, Any] = {"id": 1, "chargingRateUnit": UNIT, "duration": DURATION,
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                             **fields}  # fmt: skip
    if start:  # K01.FR.40/41: Absolute and Recurring have a startSchedule, Relative none
        found["startSchedule"] = at()
    return found


def profile(profile_id: int, purpose: str, kind: str = "Absolute", limit: float = 6.0, *,
            stack: int = STACK, **fields: Any) -> dict:  # fmt: skip
    """A ChargingProfileType as the operator asks for it; validity now .. now + duration."""
    found = {"id": profile_id, "stackLevel": stack, "chargingProfilePurpose": purpose,
             "chargingProfileKind": kind,
             "chargingSchedule": [schedule(limit, start=kind != "Relative")], **fields}
    if kind == "Absolute":
        found |= {"validFrom": at(), "validTo": at(DURATION)}
    return found


def _limit(value: float) -> dict:
    """"limit 6.0 or 6000.0": the value in A or in W."""

    return {"chargingSchedulePeriod": [{"startPeriod": 0,
                                        "limit": AnyOf([number(value), number(value * 1000)])}]}


def _set(evse: int, chosen: dict) -> dict:
    return {"evseId": evse, "chargingProfile": chosen}


def _set_expect(evse: int, chosen: dict, limit: float, **schedule_fields: Any) -> dict:
    """The tool validations: the EVSE, id, stackLevel, purpose, kind, and the schedule's
    unit, first period and limit (and what else the case names)."""
    fields = {key: chosen[key] for key in ("id", "stackLevel", "chargingProfilePurpose",
                                            "chargingProfileKind")}
    return {"evseId": evse, "chargingProfile": {**fields, "chargingSchedule": [
        {"chargingRateUnit": UNIT, **_limit(limit), **schedule_fields}]}}


def _setting(evse: int, chosen: dict, limit: float, reply: Any = None,
             **schedule_fields: Any) -> dict[str, Any]:
    """The Command fields of a SetChargingProfile case (K01)."""
    return {"action": "SetChargingProfile", "request": _set(evse, chosen),
            "reply": reply or {"status": "Accepted"},
            "expect": _set_expect(evse, chosen, limit, **schedule_fields)}


def _not_supported(_: dict) -> dict:
    raise OcppCallError("NotSupported", "smart charging is not supported")  # K_15


async def _report(cs: Station, command: dict) -> None:
    """ReportChargingProfiles of the request with the station's TxDefaultProfile (K09.FR.03)."""
    await cs.ask("ReportChargingProfiles", {
        "requestId": command["requestId"], "chargingLimitSource": "CSO", "evseId": EVSE_ID,
        "tbc": False, "chargingProfile": [profile(TX_DEFAULT_ID, "TxDefaultProfile")]})


def _get(criterion: dict, evse: int | None = EVSE_ID) -> dict:
    request: dict[str, Any] = {"requestId": 1, "chargingProfile": criterion}
    if evse is not None:
        request["evseId"] = evse
    return request


def _get_expect(criterion: dict, evse: int | None = EVSE_ID) -> dict:
    return {"evseId": absent if evse is None else evse, "chargingProfile": criterion}


def _getting(criterion: dict, evse: int | None = EVSE_ID) -> dict[str, Any]:
    """The Command fields of a GetChargingProfiles case (K09)."""
    return {"action": "GetChargingProfiles", "request": _get(criterion, evse),
            "reply": {"status": "Accepted"}, "expect": _get_expect(criterion, evse),
            "after": _report}


def _composite(evse: int) -> dict[str, Any]:
    """The Command fields of a GetCompositeSchedule case (K08) for `evse`."""
    def answer(payload: dict) -> dict:
        return {"status": "Accepted", "schedule": {
            "evseId": payload["evseId"], "duration": DURATION, "scheduleStart": at(),
            "chargingRateUnit": payload.get("chargingRateUnit", UNIT),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]}}

    return {"action": "GetCompositeSchedule", "reply": answer,
            "request": {"evseId": evse, "duration": DURATION, "chargingRateUnit": UNIT}}


TX_DEFAULT = profile(TX_DEFAULT_ID, "TxDefaultProfile")
COMMANDS = [
    Command("TC_K_01_CSMS", **_setting(EVSE_ID, TX_DEFAULT, 6.0, duration=DURATION)),
    Command("TC_K_02_CSMS", **_setting(
        EVSE_ID, profile(TX_ID, "TxProfile", "Relative", 7.0, transactionId="CB-NO-SUCH-TX"),
        7.0, {"status": "Rejected"})),
    Command("TC_K_03_CSMS", **_setting(
        0, profile(MAX_ID, "ChargingStationMaxProfile", limit=8.0), 8.0)),
    Command("TC_K_10_CSMS", **_setting(
        0, profile(TX_DEFAULT_STATION_ID, "TxDefaultProfile"), 6.0)),
    Command("TC_K_15_CSMS", **_setting(EVSE_ID, TX_DEFAULT, 6.0, _not_supported)),
    Command("TC_K_19_CSMS", "SetChargingProfile",
            _set(EVSE_ID, profile(RECURRING_ID, "TxDefaultProfile", "Recurring", stack=1,
                                  recurrencyKind="Daily")),
            {"status": "Accepted"},
            {"evseId": EVSE_ID, "chargingProfile": {
                "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
                "chargingSchedule": [{"chargingSchedulePeriod": [{"startPeriod": 0}]}]}}),
    # K10 Clear Charging Profile
    Command("TC_K_05_CSMS", "ClearChargingProfile", {"chargingProfileId": TX_DEFAULT_ID},
            {"status": "Accepted"},
            {"chargingProfileId": TX_DEFAULT_ID, "chargingProfileCriteria": absent}),
    Command("TC_K_06_CSMS", "ClearChargingProfile", {"chargingProfileCriteria": {
        "evseId": EVSE_ID, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": STACK}},
            {"status": "Accepted"}),
    Command("TC_K_08_CSMS", "ClearChargingProfile", {"chargingProfileCriteria": {
        "evseId": EVSE_ID, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": STACK}},
            {"status": "Unknown"}),
    # K09 Get Charging Profiles
    Command("TC_K_30_CSMS", **_getting({})),
    Command("TC_K_31_CSMS", **_getting({}, None)),
    Command("TC_K_32_CSMS", **_getting({"chargingProfileId": [TX_DEFAULT_ID]}, None)),
    Command("TC_K_33_CSMS", **_getting({"stackLevel": STACK})),
    Command("TC_K_34_CSMS", **_getting({"chargingLimitSource": ["CSO"]})),
    Command("TC_K_35_CSMS", **_getting({"chargingProfilePurpose": "TxDefaultProfile"})),
    Command("TC_K_36_CSMS", **_getting({"chargingProfilePurpose": "TxDefaultProfile",
                                        "stackLevel": STACK})),
    # K08 Get Composite Schedule
    Command("TC_K_43_CSMS", **_composite(EVSE_ID)),
    Command("TC_K_44_CSMS", **_composite(0)),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cs: Station, command: Command):
    """TC_K_01-19, TC_K_30-36, TC_K_43/44_CSMS: the CSMS sends the smart charging request as
    asked (part 6's tool validations) and takes the station's answer and report."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol


@pytest.mark.octt("TC_K_04_CSMS")
async def test_replace_profile(cs: Station):
    """TC_K_04_CSMS: a TxDefaultProfile at 8 A, then one with the same id at 6 A replaces it
    (K01.FR.05)."""
    await cs.boot()
    for limit in (8.0, 6.0):
        chosen = profile(TX_DEFAULT_ID, "TxDefaultProfile", limit=limit)
        await cs.command("SetChargingProfile", _set(EVSE_ID, chosen), {"status": "Accepted"},
                         _set_expect(EVSE_ID, chosen, limit))


@pytest.mark.octt("TC_K_70_CSMS")
async def test_multiple_profiles(cs: Station):
    """TC_K_70_CSMS: two TxDefaultProfiles on stack levels of their own, different ids."""
    await cs.boot()
    ids = []
    for profile_id, stack in ((TX_DEFAULT_ID, STACK), (SECOND_ID, STACK + 2)):
        chosen = profile(profile_id, "TxDefaultProfile", stack=stack)
        sent = await cs.command("SetChargingProfile", _set(EVSE_ID, chosen),
                                {"status": "Accepted"}, {"chargingProfile": {"stackLevel": stack}})
        ids.append(sent["chargingProfile"]["id"])
    assert ids[0] != ids[1], f"expected a different id for each profile, got {ids}"


@pytest.mark.octt("TC_K_29_CSMS")
async def test_get_profiles_station(cs: Station):
    """TC_K_29_CSMS: while charging, GetChargingProfiles for EVSE 0 of the configured
    purpose; Accepted, then the report."""
    await cs.boot()
    await cs.energy_transfer_started()
    criterion = {"chargingProfilePurpose": "ChargingStationMaxProfile"}
    command = await cs.command("GetChargingProfiles", _get(criterion, 0), {"status": "Accepted"},
                               _get_expect(criterion, 0))
    await _report(cs, command)


@pytest.mark.octt("TC_K_60_CSMS")
async def test_tx_profile(cs: Station):
    """TC_K_60_CSMS: while charging, a TxProfile for EVSE 1 naming the running transaction."""
    await cs.boot()
    await cs.energy_transfer_started()
    assert cs.tx is not None
    chosen = profile(TX_ID, "TxProfile", "Relative", transactionId=cs.tx.id)
    await cs.command("SetChargingProfile", _set(EVSE_ID, chosen), {"status": "Accepted"},
                     {"evseId": EVSE_ID, "chargingProfile": {
                         "chargingProfilePurpose": "TxProfile", "transactionId": cs.tx.id}})


@pytest.mark.octt("TC_K_37_CSMS")
async def test_remote_start_with_profile(cs: Station):
    """TC_K_37_CSMS: RequestStartTransaction with the valid token for EVSE 1 and a Relative
    TxProfile without transactionId (K05, F01.FR.10); Accepted; Started by RemoteStart with
    the CSMS's remoteStartId."""
    await cs.boot()
    chosen = profile(TX_ID, "TxProfile", "Relative")
    request = {"idToken": cs.valid_token, "remoteStartId": 1, "evseId": EVSE_ID,
               "chargingProfile": chosen}
    sent = await cs.command("RequestStartTransaction", request, {"status": "Accepted"}, {
        "idToken": cs.valid_token, "evseId": EVSE_ID, "chargingProfile": {
            "chargingProfilePurpose": "TxProfile", "transactionId": absent,
            "chargingProfileKind": "Relative"}})
    await cs.event("Started", "RemoteStart", remote_start_id=sent["remoteStartId"])


# K12-K14 External charging limits (Tables 599-602)


def _limit_notice() -> dict:
    return {"chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False},
            "evseId": EVSE_ID, "chargingSchedule": [schedule(16.0)]}


@pytest.mark.octt("TC_K_48_CSMS")
async def test_external_limit(cs: Station):
    """TC_K_48_CSMS: NotifyChargingLimit from an EMS is answered."""
    await cs.boot()
    await cs.ask("NotifyChargingLimit", _limit_notice())


@pytest.mark.parametrize("charging", [
    pytest.param(False, id="TC_K_50_CSMS", marks=pytest.mark.octt("TC_K_50_CSMS")),
    pytest.param(True, id="TC_K_51_CSMS", marks=pytest.mark.octt("TC_K_51_CSMS")),
])
async def test_external_limit_released(cs: Station, charging: bool):
    """TC_K_50/51_CSMS: ClearedChargingLimit of the EMS is answered; while charging the
    transaction's ChargingRateChanged follows."""
    await cs.boot()
    if charging:
        await cs.energy_transfer_started()
    await cs.ask("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": EVSE_ID})
    if charging:
        await cs.event("Updated", "ChargingRateChanged")


@pytest.mark.octt("TC_K_52_CSMS")
async def test_external_constraints_reported(cs: Station):
    """TC_K_52_CSMS: an external limit set, then GetChargingProfiles; the report holds a
    ChargingStationExternalConstraints profile, which the CSMS takes."""
    await cs.boot()
    await cs.ask("NotifyChargingLimit", _limit_notice())
    command = await cs.command("GetChargingProfiles", _get({}), {"status": "Accepted"}, {})
    await cs.ask("ReportChargingProfiles", {
        "requestId": command["requestId"], "chargingLimitSource": "EMS", "evseId": EVSE_ID,
        "tbc": False, "chargingProfile": [profile(TX_DEFAULT_ID + 50,
                                                  "ChargingStationExternalConstraints")]})


# K15-K17 ISO 15118 charging with load leveling and renegotiation (Tables 603-607)


async def _iso15118_session(cs: Station) -> dict:
    """Authorized, EVConnectedPreSession, ISO15118SmartCharging; the CSMS's TxProfile."""
    await cs.boot()
    await cs.authorized()
    await cs.ev_connected_pre_session()
    return await cs.iso15118_smart_charging()


@pytest.mark.octt("TC_K_53_CSMS")
async def test_iso15118_load_leveling(cs: Station):
    """TC_K_53_CSMS: Reusable State ISO15118SmartCharging after Authorized and
    EVConnectedPreSession: the CSMS answers the EV's needs, sets a TxProfile for the
    transaction and accepts the EV's schedule within it (K15)."""
    await _iso15118_session(cs)


@pytest.mark.octt("TC_K_57_CSMS")
async def test_iso15118_renegotiation_by_ev(cs: Station):
    """TC_K_57_CSMS: the EV renegotiates: new needs (Accepted or Processing), the CSMS sets a
    new TxProfile for the transaction, the EV's schedule within it is Accepted (K16)."""
    await _iso15118_session(cs)
    needs = await cs.ev_charging_needs()
    await cs.event("Updated", "ChargingRateChanged")
    profile = await cs.tx_profile_set(needs)
    await cs.ev_charging_schedule(profile)
    await cs.event("Updated", "ChargingRateChanged")


def _renegotiated(cs: Station, planned: dict) -> dict:
    """The operator's new TxProfile for the running transaction: the CSMS's own profile (its
    id and stackLevel: a replacement, K01.FR.05) at a lower limit."""
    chosen = dict(planned["chargingProfile"])
    schedule = dict(chosen["chargingSchedule"][0])
    schedule["chargingSchedulePeriod"] = [{**period, "limit": period["limit"] / 2}
                                          for period in schedule["chargingSchedulePeriod"]]
    chosen["chargingSchedule"] = [schedule]
    return {"evseId": planned["evseId"], "chargingProfile": chosen}


@pytest.mark.parametrize("needs_again", [
    pytest.param(False, id="TC_K_58_CSMS", marks=pytest.mark.octt("TC_K_58_CSMS")),
    pytest.param(True, id="TC_K_59_CSMS", marks=pytest.mark.octt("TC_K_59_CSMS")),
])
async def test_iso15118_renegotiation_by_csms(cs: Station, needs_again: bool):
    """TC_K_58/59_CSMS: the CSMS renegotiates: a new TxProfile for the transaction (K17);
    the EV's schedule within it is Accepted; in K_59 the EV sends its needs again first and
    the CSMS answers with another TxProfile for the transaction."""
    planned = await _iso15118_session(cs)
    assert cs.tx is not None
    request = _renegotiated(cs, planned)
    profile = await cs.command("SetChargingProfile", request, {"status": "Accepted"}, {
        "evseId": EVSE_ID, "chargingProfile": {"chargingProfilePurpose": "TxProfile",
                                               "transactionId": cs.tx.id}})
    if needs_again:
        needs = await cs.ev_charging_needs()
        profile = await cs.tx_profile_set(needs)
    await cs.ev_charging_schedule(profile)
    await cs.event("Updated", "ChargingRateChanged")
