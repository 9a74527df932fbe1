"""The 2.0.1 station messages beyond the first slice (issue 18 point 2), over real websockets on
127.0.0.1 against the real CentralSystem, sent by the independent `ocpp.v201` peer
(`tests.csms.peer201`), which holds every answer to the `ocpp` package's response schema: legal
variants (optional fields left out) and illegal payloads (sent past the peer's own validation)
answered with the OCPP-J 2.0.1 §4.3 CALLERROR. Also the Pending gate's exemption for what a
TriggerMessage asked for (B01.FR.10, B02.FR.09)."""

from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.exceptions import (
    OccurrenceConstraintViolationError,
    PropertyConstraintViolationError,
    SecurityError,
)
from ocpp.routing import after, on
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as dt
from ocpp.v201.enums import TransactionEventEnumType as Event
from ocpp.v201.enums import TriggerReasonEnumType as Trigger

from chargebench.ocppj import Role, boot_gate
from chargebench.ocppj.versions import OCPP201
from csms import commands
from csms.api.chargers_api import FOLLOW_UPS
from csms.central import CentralSystem
from csms.v201.commands import TRIGGERED
from tests.csms.peer201 import Station, now, station

CS = "CS201"
FUTURE = "2030-01-01T00:00:00Z"


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             call_timeout=3) as central:  # fmt: skip
        yield central


async def illegal(cs: Station, request: object) -> None:
    """Send `request` past the peer's own schema check (the CSMS must catch it)."""
    await cs.call(request, suppress=False, skip_schema_validation=True)


def test_multi_message_results_are_one_table():
    """The API's joined result lists (FOLLOW_UPS) and the 2.0.1 bookkeeping agree on which
    command is followed by which station message; every triggerable message is an action a
    2.0.1 station sends."""
    table = commands.bookkeeping_for(OCPP201)
    followed = {action: keeper.follow_up for action, keeper in table.items() if keeper.follow_up}
    assert followed == {action: message for action, (message, _) in FOLLOW_UPS.items()}
    assert set(TRIGGERED.values()) <= OCPP201.cp_initiated


def test_the_gate_lets_through_only_what_was_asked_while_pending():
    """B02.FR.09: while Pending, an asked-for action passes, another is SecurityError; while
    Rejected or before any boot nothing but BootNotification passes (B03.FR.07)."""
    gate = boot_gate(OCPP201, Role.CENTRAL_SYSTEM)
    assert not gate.refuses("Heartbeat", "Pending", {"Heartbeat"})
    assert gate.refuses("StatusNotification", "Pending", {"Heartbeat"})
    assert gate.refuses("Heartbeat", "Rejected", {"Heartbeat"})
    assert gate.refuses("Heartbeat", None, {"Heartbeat"})


async def test_monitoring_report_is_collected_and_stored(csms):
    """N02: GetMonitoringReport Accepted, then two NotifyMonitoringReport parts (the first
    without monitors) joined into one result; each monitor kept beside its variable in the
    station's reported configuration. An unsolicited minimal report is answered; one without
    seqNo is OccurrenceConstraintViolation."""
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        result = await commands.execute(csms, CS, "GetMonitoringReport", {"requestId": 9})
        assert result.reply == {"status": "Accepted"}
        joined = result.followed.as_dict("monitor")
        assert (joined["complete"], joined["parts"], joined["missingSeqNo"]) == (True, 2, [])
        [monitor] = joined["monitor"]
        assert monitor["variableMonitoring"][0]["id"] == 3
        reply = await cs.call(call201.NotifyMonitoringReport(request_id=77, seq_no=0,
                                                             generated_at=now()),
                              suppress=False)  # fmt: skip
        assert reply == result201.NotifyMonitoringReport()
        with pytest.raises(OccurrenceConstraintViolationError):
            await illegal(cs, call201.NotifyMonitoringReport(request_id=78, seq_no=None,
                                                             generated_at=now()))
    stored = csms.store.get_reported_config(CS)["EVSE/Power@1#monitor[3]"]
    assert json.loads(stored["value"]) == {"type": "Delta", "value": 5, "severity": 8,
                                           "transaction": False}  # fmt: skip


class DisplayStation(Station):
    """A station with one display message: GetDisplayMessages Accepted, then the message."""

    @on("GetDisplayMessages")
    async def on_get_display_messages(self, request_id: int, **_: object) -> object:
        return result201.GetDisplayMessages(status="Accepted")

    @after("GetDisplayMessages")
    async def send_messages(self, request_id: int, **_: object) -> None:
        info = dt.MessageInfoType(id=1, priority="NormalCycle", message=dt.MessageContentType(
            format="UTF8", content="Welcome"))  # fmt: skip
        await self.call(call201.NotifyDisplayMessages(request_id=request_id, message_info=[info]),
                        suppress=False)  # fmt: skip


async def test_display_messages_are_collected(csms):
    """O04: the NotifyDisplayMessages that follows an accepted GetDisplayMessages is the
    command's result; one with only its requestId (messageInfo, tbc left out) is answered;
    messageInfo with no item is OccurrenceConstraintViolation (minItems 1)."""
    async with station(csms.url(CS), CS, cls=DisplayStation) as cs:
        await cs.boot()
        result = await commands.execute(csms, CS, "GetDisplayMessages", {"requestId": 4})
        joined = result.followed.as_dict("messageInfo")
        assert joined["complete"] is True
        assert [m["message"]["content"] for m in joined["messageInfo"]] == ["Welcome"]
        reply = await cs.call(call201.NotifyDisplayMessages(request_id=5), suppress=False)
        assert reply == result201.NotifyDisplayMessages()
        with pytest.raises(OccurrenceConstraintViolationError):
            await illegal(cs, call201.NotifyDisplayMessages(request_id=6, message_info=[]))


async def test_reservation_status_update_ends_the_reservation(csms):
    """H04.FR.01 Expired, H01.FR.16/17 Removed (cancelled by the station): the store's open
    reservation of this station ends; another station's, an ended one or an unknown id is left
    as it is (empty answer, nothing to refuse with); an unknown status is
    PropertyConstraintViolation."""
    store = csms.store
    for cp in (CS, "OTHER"):
        store.upsert_charger(cp, registration_status="Accepted")
    for rid, cp in ((11, CS), (12, CS), (13, "OTHER"), (14, CS)):
        store.create_reservation(cp, 1, "TAG", FUTURE, reservation_id=rid)
        store.set_reservation_status(rid, "Accepted")
    store.set_reservation_status(14, "Used")
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        for rid, status in ((11, "Expired"), (12, "Removed"), (13, "Expired"), (14, "Expired"),
                            (99, "Removed")):  # fmt: skip
            reply = await cs.call(call201.ReservationStatusUpdate(
                reservation_id=rid, reservation_update_status=status), suppress=False)
            assert reply == result201.ReservationStatusUpdate()
        with pytest.raises(PropertyConstraintViolationError):
            await illegal(cs, call201.ReservationStatusUpdate(
                reservation_id=11, reservation_update_status="Cancelled"))  # fmt: skip
    assert [store.get_reservation(rid)["status"] for rid in (11, 12, 13, 14)] == [
        "Expired", "Cancelled", "Accepted", "Used"]


async def test_ev_charging_needs_and_schedule(csms):
    """K15/K17: with no transaction on the EVSE there is nothing to schedule: Rejected TxNotFound
    (K15.FR.04); needs without AC or DC parameters: Rejected MissingParam (K15.FR.06). With one
    running: Accepted (K15.FR.03) and a SetChargingProfile follows (K15.FR.07): TxProfile with
    the station's transactionId, one schedule of one period at the EV's maximum (32 A, K15.FR.18)
    within maxScheduleTuples, ending at departure. The EV's schedule within it is Accepted
    (K15.FR.11), above it Rejected (K15.FR.12). No evseId: OccurrenceConstraint."""
    ac = dt.ACChargingParametersType(energy_amount=20000, ev_min_current=6, ev_max_current=32,
                                     ev_max_voltage=400)  # fmt: skip
    needs = call201.NotifyEVChargingNeeds(
        evse_id=1, max_schedule_tuples=3, charging_needs=dt.ChargingNeedsType(
            requested_energy_transfer="AC_three_phase", ac_charging_parameters=ac,
            departure_time=FUTURE))  # fmt: skip

    def ev_schedule(limit: float) -> object:
        return call201.NotifyEVChargingSchedule(time_base=now(), evse_id=1, charging_schedule=
            dt.ChargingScheduleType(id=1, charging_rate_unit="A", charging_schedule_period=[
                dt.ChargingSchedulePeriodType(start_period=0, limit=limit)]))  # fmt: skip

    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        idle = await cs.call(needs, suppress=False)
        assert (idle.status, idle.status_info["reason_code"]) == ("Rejected", "TxNotFound")
        bare = await cs.call(call201.NotifyEVChargingNeeds(evse_id=1, charging_needs=
                             dt.ChargingNeedsType(requested_energy_transfer="DC")),
                             suppress=False)  # fmt: skip
        assert (bare.status, bare.status_info["reason_code"]) == ("Rejected", "MissingParam")
        unplanned = await cs.call(ev_schedule(16), suppress=False)
        assert (unplanned.status, unplanned.status_info) == ("Accepted", None)
        await cs.event(Event.started, "tx-15118", 0, Trigger.authorized, token="TAG-OK")
        accepted = await cs.call(needs, suppress=False)
        assert (accepted.status, accepted.status_info) == ("Accepted", None)
        for _ in range(250):  # the SetChargingProfile follows the response
            if cs.commands:
                break
            await asyncio.sleep(0.02)
        [(action, sent)] = cs.commands
        profile = sent["charging_profile"]
        assert (action, sent["evse_id"]) == ("SetChargingProfile", 1)
        assert (profile["charging_profile_purpose"], profile["transaction_id"]) == (
            "TxProfile", "tx-15118")
        [schedule] = profile["charging_schedule"]
        assert (schedule["charging_rate_unit"], schedule["charging_schedule_period"]) == (
            "A", [{"start_period": 0, "limit": 32.0, "number_phases": 3}])
        assert schedule["duration"] > 0
        for _ in range(250):
            if csms.store.list_charging_profiles(CS):
                break
            await asyncio.sleep(0.02)
        assert (await cs.call(ev_schedule(16), suppress=False)).status == "Accepted"
        above = await cs.call(ev_schedule(40), suppress=False)
        assert (above.status, above.status_info["reason_code"]) == ("Rejected",
                                                                    "InvalidSchedule")
        with pytest.raises(OccurrenceConstraintViolationError):
            await illegal(cs, call201.NotifyEVChargingNeeds(
                evse_id=None, charging_needs=dt.ChargingNeedsType(
                    requested_energy_transfer="DC")))  # fmt: skip


async def test_charging_limits(csms):
    """K12.FR.02, K13.FR.02: an external limit and its clearing are acknowledged, with and
    without the optional evseId, isGridCritical and schedule; an unknown limit source is
    PropertyConstraintViolation."""
    schedule = dt.ChargingScheduleType(id=2, charging_rate_unit="W", charging_schedule_period=[
        dt.ChargingSchedulePeriodType(start_period=0, limit=11000)])  # fmt: skip
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        for request in (
            call201.NotifyChargingLimit(charging_limit=dt.ChargingLimitType("EMS")),
            call201.NotifyChargingLimit(charging_limit=dt.ChargingLimitType("SO", True),
                                        evse_id=1, charging_schedule=[schedule]),
        ):  # fmt: skip
            assert await cs.call(request, suppress=False) == result201.NotifyChargingLimit()
        for evse in (None, 1):
            reply = await cs.call(call201.ClearedChargingLimit(charging_limit_source="EMS",
                                                               evse_id=evse), suppress=False)
            assert reply == result201.ClearedChargingLimit()
        with pytest.raises(PropertyConstraintViolationError):
            await illegal(cs, call201.NotifyChargingLimit(
                charging_limit=dt.ChargingLimitType("Grid")))  # fmt: skip


async def test_iso15118_certificate_messages_fail_with_a_reason(csms):
    """M01/M02: no contract certificate back end: Failed with an empty exiResponse and a
    reason; M06.FR.04: no OCSP responder: Failed, no ocspResult. C07: Authorize with hash data
    has a certificateStatus; an unreadable certificate is CertChainError. An unknown
    certificate action is PropertyConstraintViolation, never a handler failure."""
    ocsp = dt.OCSPRequestDataType(hash_algorithm="SHA256", issuer_name_hash="a" * 64,
                                  issuer_key_hash="b" * 64, serial_number="01",
                                  responder_url="http://ocsp.example")  # fmt: skip
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        ev = await cs.call(call201.Get15118EVCertificate(
            iso15118_schema_version="urn:iso:15118:2:2013:MsgDef", action="Install",
            exi_request="AA=="), suppress=False)  # fmt: skip
        assert (ev.status, ev.exi_response, ev.status_info["reason_code"]) == (
            "Failed", "", "UnsupportedRequest")
        status = await cs.call(call201.GetCertificateStatus(ocsp_request_data=ocsp),
                               suppress=False)  # fmt: skip
        assert (status.status, status.ocsp_result) == ("Failed", None)
        hashed = await cs.call(call201.Authorize(
            id_token=dt.IdTokenType("EMAID1", "eMAID"),
            iso15118_certificate_hash_data=[dt.OCSPRequestDataType(
                hash_algorithm="SHA256", issuer_name_hash="a" * 64, issuer_key_hash="b" * 64,
                serial_number="01", responder_url="http://ocsp.example")]),
            suppress=False)  # fmt: skip
        assert (hashed.id_token_info["status"], hashed.certificate_status) == ("Unknown",
                                                                             "Accepted")
        garbled = await cs.call(call201.Authorize(id_token=dt.IdTokenType("EMAID1", "eMAID"),
                                                  certificate="not a PEM"), suppress=False)
        assert garbled.certificate_status == "CertChainError"
        with pytest.raises(PropertyConstraintViolationError):
            await illegal(cs, call201.Get15118EVCertificate(
                iso15118_schema_version="x", action="Renew", exi_request="AA=="))


async def test_publish_firmware_status(csms):
    """L03.FR.01: every status is acknowledged, with or without requestId and locations; an
    unknown status is PropertyConstraintViolation."""
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        for request in (
            call201.PublishFirmwareStatusNotification(status="Downloading"),
            call201.PublishFirmwareStatusNotification(
                status="Published", location=["https://lc.local/fw.bin"], request_id=3),
        ):  # fmt: skip
            reply = await cs.call(request, suppress=False)
            assert reply == result201.PublishFirmwareStatusNotification()
        with pytest.raises(PropertyConstraintViolationError):
            await illegal(cs, call201.PublishFirmwareStatusNotification(status="Done"))


async def test_a_pending_station_may_send_what_a_trigger_message_asked_for(tmp_path):
    """B01.FR.10, B02.FR.09: while Pending, a Heartbeat is SecurityError until the CSMS asks
    for one with TriggerMessage; then it is answered, while a message not asked for is still
    SecurityError; the next BootNotification (Pending again) closes the exemption."""
    async with (
        CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                      unknown_chargers="pending") as csms,
        station(csms.url("CS-P"), "CS-P") as cs,
    ):  # fmt: skip
        assert (await cs.boot()).status == "Pending"
        with pytest.raises(SecurityError):
            await cs.call(call201.Heartbeat(), suppress=False)
        reply = await csms.execute("CS-P", "TriggerMessage", {"requestedMessage": "Heartbeat"})
        assert reply == {"status": "Accepted"}
        assert (await cs.call(call201.Heartbeat(), suppress=False)).current_time
        with pytest.raises(SecurityError):
            await cs.status(1, 1, "Available")
        assert (await cs.boot()).status == "Pending"
        with pytest.raises(SecurityError):
            await cs.call(call201.Heartbeat(), suppress=False)
