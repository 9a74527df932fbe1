"""The 2.0.1 station against an independent CSMS (`tests.sim.v201.csms201_peer`, the `ocpp`
package's `ocpp.v201.ChargePoint` used server side), over real websockets on 127.0.0.1: legal
variants (Pending before Accepted, responses without their optional fields,
RequestStartTransaction with and without evseId and idToken's optional fields) and illegal
ones (a malformed response is logged, the station neither crashes nor stops)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from ocpp.exceptions import (
    NotSupportedError,
    OccurrenceConstraintViolationError,
    SecurityError,
)
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt

from sim.v201.device_model import DeviceModel
from tests.sim.v201.conftest import LIBOCPP_201, until
from tests.sim.v201.csms201_peer import (
    Csms,
    MalformedBoot,
    MalformedTransactionEvent,
    Script,
    csms201,
)


async def test_pending_then_accepted_boot(make_station):
    """B02: Pending with interval 30 -> the station sends nothing else (B02.FR.02) and keeps
    the connection (B02.FR.06) until it boots again after the interval (B02.FR.08); Pending
    with interval 0 -> its own wait (B02.FR.07); then Accepted -> a status per connector
    (B01.FR.05). Every BootNotification says why: PowerUp (B01.FR.09)."""
    script = Script(boots=[("Pending", 30), ("Pending", 0)])
    async with csms201(script=script) as server:
        station, _ = await make_station(server.url, "ST-PEND")
        await station.wait_booted(5)
        peer = await server.peer("ST-PEND")
        await until(lambda: "StatusNotification" in peer.actions())
        assert peer.actions("Heartbeat") == [
            "BootNotification", "BootNotification", "BootNotification", "StatusNotification"]
        assert server.connections == 1
        assert {p["reason"] for a, p in peer.received if a == "BootNotification"} == {"PowerUp"}
        status = peer.received[3][1]
        assert (status["connector_status"], status["evse_id"], status["connector_id"]) == (
            "Available", 1, 1)


async def test_remote_start_variants_and_minimal_responses(make_station):
    """F02 (token first): RequestStartTransaction without evseId picks a free EVSE (F02.FR.22)
    and is Accepted; with TxStartPoint Authorized the next event is Started, RemoteStart, with
    the remoteStartId and the idToken as sent, its optional fields too (F02.FR.01/21). The
    CSMS's responses leave out every optional field (TransactionEvent {}). A second one for the
    same EVSE is Rejected (F02.FR.26); one for an EVSE that does not exist too."""
    async with csms201(script=Script(token_info=False)) as server:
        station, _ = await make_station(server.url, "ST-F02", TxStartPoint="Authorized",
                                        TxStopPoint="Authorized", TxUpdatedInterval=0)
        await station.wait_booted(5)
        peer = await server.peer("ST-F02")
        token = dt.IdTokenType(id_token="APP-1", type="Central",
                               additional_info=[dt.AdditionalInfoType(
                                   additional_id_token="x-1", type="custom")])
        reply = await peer.call(call201.RequestStartTransaction(id_token=token,
                                                                remote_start_id=42),
                                suppress=False)  # fmt: skip
        assert reply.status == "Accepted"
        started = await until(lambda: next((p for a, p in peer.received
                                            if a == "TransactionEvent"), None))
        assert (started["event_type"], started["trigger_reason"], started["seq_no"]) == (
            "Started", "RemoteStart", 0)
        assert started["transaction_info"]["remote_start_id"] == 42
        assert started["id_token"] == {"id_token": "APP-1", "type": "Central",
                                       "additional_info": [{"additional_id_token": "x-1",
                                                            "type": "custom"}]}
        again = await peer.call(call201.RequestStartTransaction(
            id_token=dt.IdTokenType(id_token="APP-2", type="Central"), remote_start_id=43,
            evse_id=1), suppress=False)  # fmt: skip
        assert again.status == "Rejected"
        nowhere = await peer.call(call201.RequestStartTransaction(
            id_token=dt.IdTokenType(id_token="APP-3", type="Central"), remote_start_id=44,
            evse_id=9), suppress=False)  # fmt: skip
        assert nowhere.status == "Rejected"
        # the EV arrives: Updated CablePluggedIn, then the power path closes
        await station.plug_in(1)
        await until(lambda: len(peer.actions()) and peer.actions()[-1] == "TransactionEvent"
                    and peer.received[-1][1]["trigger_reason"] == "ChargingStateChanged")
        tx_id = started["transaction_info"]["transaction_id"]
        stop = await peer.call(call201.RequestStopTransaction(transaction_id=tx_id),
                               suppress=False)
        assert stop.status == "Accepted"
        await until(lambda: any(p["event_type"] == "Ended" for a, p in peer.received
                                if a == "TransactionEvent"))
        events = [p for a, p in peer.received if a == "TransactionEvent"]
        assert [(e["event_type"], e["trigger_reason"], e["seq_no"]) for e in events] == [
            ("Started", "RemoteStart", 0), ("Updated", "CablePluggedIn", 1),
            ("Updated", "ChargingStateChanged", 2), ("Ended", "RemoteStop", 3)]
        assert events[1]["evse"] == {"id": 1, "connector_id": 1}  # E01.FR.16
        assert events[3]["transaction_info"]["stopped_reason"] == "Remote"


async def test_remote_start_on_a_given_evse_while_pending_is_rejected(make_station):
    """B02.FR.05: while Pending, RequestStartTransaction is answered Rejected (a CALLRESULT);
    once Accepted, the same request with evseId and a minimal idToken is Accepted and, the EV
    being plugged in first, F01: Started RemoteStart with the remoteStartId."""
    async with csms201(script=Script(boots=[("Pending", 1)])) as server:
        station, _ = await make_station(server.url, "ST-F01", speed=5.0, TxUpdatedInterval=0)
        peer = await server.peer("ST-F01")
        await until(lambda: station.registration == "Pending")
        request = call201.RequestStartTransaction(
            id_token=dt.IdTokenType(id_token="T1", type="ISO14443"), remote_start_id=7,
            evse_id=1)
        assert (await peer.call(request, suppress=False)).status == "Rejected"
        await station.wait_booted(5)
        await station.plug_in(1)
        assert (await peer.call(request, suppress=False)).status == "Accepted"
        started = await until(lambda: next((p for a, p in peer.received
                                            if a == "TransactionEvent"), None))
        assert (started["trigger_reason"], started["transaction_info"]["remote_start_id"]) == (
            "RemoteStart", 7)
        assert started["id_token"] == {"id_token": "T1", "type": "ISO14443"}
        assert "Authorize" not in peer.actions()  # F01.FR.02: AuthorizeRemoteStart false


async def test_device_model_behind_get_set_variables_and_base_report(make_station):
    """B06/B05: GetVariables and SetVariables answered from the libocpp component_config as
    loaded; B07: GetBaseReport Accepted, then NotifyReport parts for the same requestId with
    seqNo 0, 1, ... and tbc on all but the last (B07.FR.04/10)."""
    dm = DeviceModel.load(LIBOCPP_201 / "component_config")
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-DM", dm=dm)
        await station.wait_booted(5)
        peer = await server.peer("ST-DM")
        tx_ctrlr = dt.ComponentType(name="TxCtrlr")
        got = await peer.call(call201.GetVariables(get_variable_data=[
            dt.GetVariableDataType(component=tx_ctrlr,
                                   variable=dt.VariableType(name="TxStopPoint")),
            dt.GetVariableDataType(component=dt.ComponentType(name="NoSuchCtrlr"),
                                   variable=dt.VariableType(name="X"))]), suppress=False)
        assert [(r["attribute_status"], r.get("attribute_value")) for r in got.get_variable_result
                ] == [("Accepted", "EVConnected,Authorized"), ("UnknownComponent", None)]
        done = await peer.call(call201.SetVariables(set_variable_data=[dt.SetVariableDataType(
            attribute_value="EVConnected", component=tx_ctrlr,
            variable=dt.VariableType(name="TxStartPoint"))]), suppress=False)
        assert done.set_variable_result[0]["attribute_status"] == "Accepted"
        assert station.settings.list("TxStartPoint") == ["EVConnected"]  # in force at once
        report = await peer.call(call201.GetBaseReport(request_id=5,
                                                       report_base="ConfigurationInventory"),
                                 suppress=False)  # fmt: skip
        assert report.status == "Accepted"
        parts = await until(lambda: (lambda p: p if p and not p[-1]["tbc"] else None)(
            [p for a, p in peer.received if a == "NotifyReport"]))
        assert [p["seq_no"] for p in parts] == list(range(len(parts)))
        assert {p["request_id"] for p in parts} == {5}
        assert [p["tbc"] for p in parts] == [True] * (len(parts) - 1) + [False]
        assert sum(len(p.get("report_data", [])) for p in parts) > 0


async def test_a_malformed_boot_response_is_logged_and_the_station_boots_again(
        make_station, caplog):
    """A BootNotificationResponse that breaks its schema (status "Maybe", no interval) is no
    registration: the station logs it, does not crash, closes the connection and boots again on
    the next one, where the CSMS answers properly."""
    caplog.set_level(logging.DEBUG, logger="sim.v201")
    async with csms201(factory=MalformedBoot) as server:
        station, _ = await make_station(server.url, "ST-BAD")
        await station.wait_booted(5)
        assert server.connections == 2
        assert station.registration == "Accepted"
        assert any("BootNotification" in r.getMessage() for r in caplog.records)
        assert not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_malformed_transaction_event_response_is_retried_then_dropped(make_station):
    """E04 with OCPPCommCtrlr MessageAttempts 2: a TransactionEventResponse that breaks its
    schema counts as a failure to process: the same event (same seqNo) is sent again, then
    given up; the station keeps running and the next event goes out in order."""
    script = Script()
    async with csms201(factory=MalformedTransactionEvent, script=script) as server:
        station, _ = await make_station(server.url, "ST-BADTX", TxStartPoint="EVConnected",
                                        TxUpdatedInterval=0, MessageAttempts=2,
                                        MessageAttemptInterval=1)
        await station.wait_booted(5)
        peer = await server.peer("ST-BADTX")
        await station.plug_in(1)
        await station.plug_out(1)
        await until(lambda: len([a for a in peer.actions() if a == "TransactionEvent"]) == 4)
        events = [p for a, p in peer.received if a == "TransactionEvent"]
        assert [(e["event_type"], e["seq_no"]) for e in events] == [
            ("Started", 0), ("Started", 0), ("Ended", 1), ("Ended", 1)]
        assert station.online
        statuses = [p["connector_status"] for a, p in peer.received if a == "StatusNotification"]
        assert statuses == ["Available", "Occupied", "Available"]


async def test_request_stop_of_an_unknown_transaction_is_rejected(make_station):
    """F03.FR.08: a transactionId that runs nowhere here is Rejected; a CSMS CALL of 2.0.1
    this station has no handler for is NotSupported (OCPP-J 2.0.1 §4.3), and it goes on."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-STOP")
        await station.wait_booted(5)
        peer = await server.peer("ST-STOP")
        reply = await peer.call(call201.RequestStopTransaction(transaction_id="nope"),
                                suppress=False)
        assert reply.status == "Rejected"
        with pytest.raises(NotSupportedError):
            await peer.call(call201.UnpublishFirmware(checksum="0" * 32), suppress=False)
        assert isinstance(peer, Csms) and station.online


async def test_rejected_boot_sends_nothing_and_answers_security_error(make_station):
    """B03: Rejected with interval 20 -> the station sends nothing until the interval expired
    (B03.FR.02, B03.FR.06) and answers a CSMS CALL meanwhile with CALLERROR SecurityError
    (B03.FR.08, unlike 1.6 §4.2's silence); its next BootNotification is Accepted."""
    async with csms201(script=Script(boots=[("Rejected", 20)])) as server:
        station, _ = await make_station(server.url, "ST-REJ", speed=20.0)
        peer = await server.peer("ST-REJ")
        await until(lambda: station.registration == "Rejected")
        with pytest.raises(SecurityError):
            await peer.call(call201.GetVariables(get_variable_data=[dt.GetVariableDataType(
                component=dt.ComponentType(name="OCPPCommCtrlr"),
                variable=dt.VariableType(name="HeartbeatInterval"))]), suppress=False)
        assert peer.actions() == ["BootNotification"]
        await station.wait_booted(5)
        assert peer.actions()[:3] == ["BootNotification", "BootNotification",
                                      "StatusNotification"]


async def test_remote_start_with_authorize_remote_start_authorizes_first(make_station):
    """F01.FR.01: AuthorizeRemoteStart true -> the station behaves as for a local token: C01
    Authorize first (the peer's minimal IdTokenInfo: status only), then Started RemoteStart."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-ARS", AuthorizeRemoteStart="true",
                                        TxStartPoint="Authorized", TxUpdatedInterval=0)
        await station.wait_booted(5)
        peer = await server.peer("ST-ARS")
        reply = await peer.call(call201.RequestStartTransaction(
            id_token=dt.IdTokenType(id_token="T9", type="ISO14443"), remote_start_id=3),
            suppress=False)  # fmt: skip
        assert reply.status == "Accepted"
        await until(lambda: "TransactionEvent" in peer.actions())
        assert peer.actions("Heartbeat")[-2:] == ["Authorize", "TransactionEvent"]
        assert peer.received[-1][1]["trigger_reason"] == "RemoteStart"


async def test_remote_start_on_a_transaction_not_yet_authorized_names_it(make_station):
    """F01.FR.13: TxStartPoint EVConnected, the cable in: a transaction runs, not authorized;
    RequestStartTransaction for that EVSE is Accepted with its transactionId, and the next
    event is Updated RemoteStart with the remoteStartId (F01.FR.19/25) and the idToken."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-F13", TxStartPoint="EVConnected",
                                        TxUpdatedInterval=0)
        await station.wait_booted(5)
        peer = await server.peer("ST-F13")
        await station.plug_in(1)
        started = await until(lambda: next((p for a, p in peer.received
                                            if a == "TransactionEvent"), None))
        reply = await peer.call(call201.RequestStartTransaction(
            id_token=dt.IdTokenType(id_token="APP-7", type="Central"), remote_start_id=13,
            evse_id=1), suppress=False)  # fmt: skip
        assert (reply.status, reply.transaction_id) == (
            "Accepted", started["transaction_info"]["transaction_id"])
        await until(lambda: len([a for a in peer.actions() if a == "TransactionEvent"]) >= 2)
        update = [p for a, p in peer.received if a == "TransactionEvent"][1]
        assert (update["event_type"], update["trigger_reason"], update["seq_no"]) == (
            "Updated", "RemoteStart", 1)
        assert update["transaction_info"]["remote_start_id"] == 13
        assert update["id_token"] == {"id_token": "APP-7", "type": "Central"}


async def test_a_malformed_csms_call_gets_the_ocpp_j_callerror(make_station):
    """OCPP-J 2.0.1 §4.3: a RequestStartTransaction without its required idToken (sent past the
    peer's own schema check) is answered OccurrenceConstraintViolation by the station's
    session core, no handler runs, and the station goes on answering."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-BADCALL")
        await station.wait_booted(5)
        peer = await server.peer("ST-BADCALL")
        with pytest.raises(OccurrenceConstraintViolationError):
            await peer.call(call201.RequestStartTransaction(
                id_token=None, remote_start_id=1),  # type: ignore[arg-type]
                suppress=False, skip_schema_validation=True)  # fmt: skip
        assert station.evse(1).tx is None and not station.evse(1).authorized
        reply = await peer.call(call201.RequestStopTransaction(transaction_id="x"),
                                suppress=False)
        assert reply.status == "Rejected" and station.online


async def test_a_triggered_boot_cuts_the_pending_wait_short(make_station):
    """B02.FR.04 / F06: Pending with an hour to wait; TriggerMessage BootNotification is
    Accepted and the BootNotification follows at once (then Accepted)."""
    async with csms201(script=Script(boots=[("Pending", 3600)])) as server:
        station, _ = await make_station(server.url, "ST-TRIG")
        peer = await server.peer("ST-TRIG")
        await until(lambda: station.registration == "Pending")
        reply = await peer.call(call201.TriggerMessage(requested_message="BootNotification"),
                                suppress=False)
        assert reply.status == "Accepted"
        await station.wait_booted(5)
        assert peer.actions()[:2] == ["BootNotification", "BootNotification"]


async def test_unlock_connector(make_station):
    """F05: Unlocked without a transaction, cable or not (F05.FR.04/06); an unknown connector:
    UnknownConnector (F05.FR.03); during an authorized transaction: OngoingAuthorized
    Transaction and the transaction goes on (F05.FR.02)."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-F05", TxUpdatedInterval=0)
        await station.wait_booted(5)
        peer = await server.peer("ST-F05")

        async def unlock(evse_id: int, connector_id: int = 1) -> str:
            reply = await peer.call(call201.UnlockConnector(evse_id=evse_id,
                                                            connector_id=connector_id),
                                    suppress=False)  # fmt: skip
            return reply.status

        assert await unlock(1) == "Unlocked"
        station.jam_lock(1)
        assert await unlock(1) == "UnlockFailed"  # F05.FR.05
        station.jam_lock(1, False)
        assert await unlock(2) == "UnknownConnector"
        assert await unlock(1, 2) == "UnknownConnector"
        await station.plug_in(1)
        assert await station.present_id_tag("TAG")
        await until(lambda: station.evse(1).tx is not None)
        assert await unlock(1) == "OngoingAuthorizedTransaction"
        assert station.evse(1).tx is not None and station.evse(1).authorized


async def test_reservations_expire_are_cancelled_and_removed_by_a_fault(make_station):
    """H04.FR.01/03: a reservation that expires sends ReservationStatusUpdate Expired and its
    connector is Available again; H02: CancelReservation of an unknown id is Rejected
    (H02.FR.01), of a held one Accepted and the connector Available (H02.FR.02); H01.FR.16: a
    fault removes a reservation (ReservationStatusUpdate Removed); without evseId: Rejected
    unless NonEvseSpecific (H01.FR.19)."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-H04", speed=20.0)
        await station.wait_booted(5)
        peer = await server.peer("ST-H04")

        async def reserve(rid: int, seconds: float, evse_id: int | None = 1) -> str:
            expiry = (station.clock.now() + timedelta(seconds=seconds)).isoformat()
            reply = await peer.call(call201.ReserveNow(
                id=rid, expiry_date_time=expiry, evse_id=evse_id,
                id_token=dt.IdTokenType(id_token="R1", type="ISO14443")), suppress=False)
            return reply.status

        def statuses() -> list[str]:
            return [p["connector_status"] for a, p in peer.received if a == "StatusNotification"]

        def updates() -> list[tuple[int, str]]:
            return [(p["reservation_id"], p["reservation_update_status"])
                    for a, p in peer.received if a == "ReservationStatusUpdate"]

        assert await reserve(1, 10) == "Accepted"
        await until(lambda: updates() == [(1, "Expired")])
        await until(lambda: statuses()[-1] == "Available")
        assert statuses() == ["Available", "Reserved", "Available"]
        cancel = await peer.call(call201.CancelReservation(reservation_id=99), suppress=False)
        assert cancel.status == "Rejected"
        assert await reserve(2, 3600) == "Accepted"
        cancel = await peer.call(call201.CancelReservation(reservation_id=2), suppress=False)
        assert cancel.status == "Accepted"
        await until(lambda: len(statuses()) == 5)
        assert await reserve(3, 3600) == "Accepted"
        await until(lambda: statuses()[-1] == "Reserved")
        await station.fault(1)
        await until(lambda: (3, "Removed") in updates())
        assert statuses()[-1] == "Faulted" and station.evse(1).reservation is None
        await station.clear_fault(1)
        assert await reserve(4, 3600, evse_id=None) == "Rejected"
        assert statuses() == ["Available", "Reserved", "Available", "Reserved", "Available",
                              "Reserved", "Faulted", "Available"]


async def test_the_authorization_cache(make_station):
    """C10/C12: with LocalPreAuthorize a token the CSMS accepted once is authorized again from
    the cache, no Authorize (C12.FR.02), and named in the event (the CSMS judges it there);
    ClearCache empties it (C11.FR.01/03) and the next use asks again; offline a cached
    Accepted token is taken (LocalAuthorizeOffline, C13); with the cache disabled ClearCache
    is Rejected (C11.FR.04)."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-C10", LocalPreAuthorize="true",
                                        TxUpdatedInterval=0)
        await station.wait_booted(5)
        peer = await server.peer("ST-C10")

        def authorizes() -> int:
            return peer.actions().count("Authorize")

        await station.plug_in(1)
        for _ in range(2):  # authorize (to start), present again (to stop)
            assert await station.present_id_tag("C1")
        assert authorizes() == 1
        assert await station.present_id_tag("C1")  # from the cache: no Authorize
        assert authorizes() == 1
        await until(lambda: [p["id_token"]["id_token"] for a, p in peer.received
                             if a == "TransactionEvent" and p.get("id_token")][-1:] == ["C1"])
        assert await station.present_id_tag("C1")  # stop
        cleared = await peer.call(call201.ClearCache(), suppress=False)
        assert cleared.status == "Accepted"
        assert await station.present_id_tag("C1")
        assert authorizes() == 2
        assert await station.present_id_tag("C1")  # stop
        await station.go_offline()
        assert await station.present_id_tag("C1")  # C13: cached Accepted, offline
        station.settings.overrides["AuthCacheEnabled"] = "false"
        await station.go_online()
        await until(lambda: server.connections == 2 and station.online)
        again = server.peers["ST-C10"]
        assert (await again.call(call201.ClearCache(), suppress=False)).status == "Rejected"


async def test_reset_on_idle_waits_for_the_transaction_and_availability(make_station):
    """B12.FR.01/03: Reset OnIdle during a transaction is Scheduled; the transaction ends
    normally (the driver), then the station reboots and boots with reason RemoteReset
    (B11.FR.03/04). G04: ChangeAvailability of the whole station (no evse) Inoperative is
    Accepted and the connector reported Unavailable (G04.FR.05/07)."""
    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-B12", TxUpdatedInterval=0)
        await station.wait_booted(5)
        peer = await server.peer("ST-B12")
        await station.plug_in(1)
        assert await station.present_id_tag("T1")
        reset = await peer.call(call201.Reset(type="OnIdle"), suppress=False)
        assert reset.status == "Scheduled"
        assert server.connections == 1
        assert await station.present_id_tag("T1")  # the driver ends it
        await until(lambda: server.connections == 2 and station.online)
        again = server.peers["ST-B12"]
        await until(lambda: "StatusNotification" in again.actions())
        assert again.received[0][1]["reason"] == "RemoteReset"
        events = [p for a, p in peer.received if a == "TransactionEvent"]
        assert events[-1]["event_type"] == "Ended"
        assert events[-1]["trigger_reason"] == "StopAuthorized"
        change = await again.call(call201.ChangeAvailability(operational_status="Inoperative"),
                                  suppress=False)
        assert change.status == "Accepted"
        await until(lambda: [p["connector_status"] for a, p in again.received
                             if a == "StatusNotification"][-1] == "Unavailable")


async def test_the_local_authorization_list(make_station, tmp_path):
    """D01/D02: GetLocalListVersion 0 before any update (D02.FR.02); SendLocalList Full v1
    Accepted (D01.FR.15), version 1 (D02.FR.01); a Differential not above it: VersionMismatch
    (D01.FR.19); a Differential v2 removes an entry sent without idTokenInfo (D01.FR.17).
    Listed Accepted: authorized without Authorize (LocalPreAuthorize) and offline
    (LocalAuthorizeOffline, C13); not listed, offline: refused (C13.FR.02). The list survives
    a restart (D01.FR.10)."""
    def entry(token: str, status: str | None) -> dt.AuthorizationData:
        info = None if status is None else dt.IdTokenInfoType(status=status)
        return dt.AuthorizationData(id_token=dt.IdTokenType(id_token=token, type="ISO14443"),
                                    id_token_info=info)

    async with csms201() as server:
        station, _ = await make_station(server.url, "ST-D01", state_dir=tmp_path / "st",
                                        LocalPreAuthorize="true", TxUpdatedInterval=0)
        await station.wait_booted(5)
        peer = await server.peer("ST-D01")

        async def version() -> int:
            return (await peer.call(call201.GetLocalListVersion(), suppress=False)
                    ).version_number

        async def send(number: int, kind: str, items: list) -> str:
            return (await peer.call(call201.SendLocalList(
                version_number=number, update_type=kind, local_authorization_list=items),
                suppress=False)).status  # fmt: skip

        assert await version() == 0
        assert await send(1, "Full", [entry("L1", "Accepted"), entry("L2", "Blocked")]) == \
            "Accepted"
        assert await version() == 1
        assert await send(1, "Differential", [entry("L3", "Accepted")]) == "VersionMismatch"
        assert await send(2, "Differential", [entry("L2", None)]) == "Accepted"
        assert station.local_list.status({"idToken": "L2", "type": "ISO14443"}) is None
        await station.plug_in(1)
        assert await station.present_id_tag("L1")
        assert "Authorize" not in peer.actions()
        assert await station.present_id_tag("L1")  # stop
        await station.go_offline()
        assert await station.present_id_tag("L1")  # listed Accepted, offline
        assert await station.present_id_tag("L1")  # stop
        assert not await station.present_id_tag("L3")
        await station.stop()
    async with csms201() as server:
        again, _ = await make_station(server.url, "ST-D01", state_dir=tmp_path / "st")
        await again.wait_booted(5)
        peer = await server.peer("ST-D01")
        assert await version() == 2
