"""The 2.0.1 station against the built-in CSMS (`csms.central.CentralSystem`), over real
websockets on 127.0.0.1: the exact message sequences of boot (B01), status (G01), a transaction
from plug-in to unplug (E02, E03, E06, E07) and remote start/stop (F01-F03), with the
requirement ids each step checks, and what the CSMS stored of them."""

from __future__ import annotations

from csms import commands
from sim.v201.device_model import DeviceModel
from tests.sim.v201.conftest import LIBOCPP_201, until

TOKEN = {"idToken": "TAG-OK", "type": "ISO14443"}
OCCUPIED = ("StatusNotification", "Occupied")


def steps(frames, *skip: str) -> list[tuple]:
    """The station's CALLs, shortened to what a sequence check reads: a status, or a
    TransactionEvent's (eventType, triggerReason, seqNo)."""
    out: list[tuple] = []
    for action, p in frames.calls("Heartbeat", "SecurityEventNotification", *skip):
        if action == "StatusNotification":
            out.append((action, p["connectorStatus"]))
        elif action == "TransactionEvent":
            out.append((p["eventType"], p["triggerReason"], p["seqNo"]))
        else:
            out.append((action,))
    return out


async def test_boot_then_a_status_per_connector_then_heartbeats(csms, make_station):
    """B01.FR.01/09: BootNotification with reason PowerUp first; B01.FR.05: after Accepted a
    StatusNotification Available for each connector; B01.FR.04, G02: Heartbeat every interval
    of the response (60 s, simulated)."""
    station, frames = await make_station(csms.url(""), "ST-BOOT")
    await station.wait_booted(5)
    await until(lambda: len([a for a, _ in frames.calls() if a == "Heartbeat"]) >= 2)
    calls = frames.calls("SecurityEventNotification")
    # A04.FR.01: the start-up is a critical security event (part 2 appendix 1)
    assert ("SecurityEventNotification", "StartupOfTheDevice") in [
        (a, p["type"]) for a, p in frames.calls() if a == "SecurityEventNotification"]
    assert calls[0] == ("BootNotification", {
        "reason": "PowerUp", "chargingStation": {"vendorName": "ChargeBench", "model": "sim-201"}})
    assert calls[1][0] == "StatusNotification"
    assert {k: calls[1][1][k] for k in ("connectorStatus", "evseId", "connectorId")} == {
        "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
    assert {a for a, _ in calls[2:]} == {"Heartbeat"}
    assert station.settings.int("HeartbeatInterval") == 60
    assert csms.store.get_charger("ST-BOOT")["vendor"] == "ChargeBench"


async def test_cable_first_transaction_with_the_libocpp_points(csms, make_station):
    """TxStartPoint PowerPathClosed, TxStopPoint EVConnected,Authorized (libocpp's TxCtrlr):
    plug in -> Occupied (E02.FR.05), no transaction yet; Authorize accepted -> Started with
    triggerReason Authorized, seqNo 0, the idToken (E02.FR.01), evse and the Transaction.Begin
    reading (E01.FR.09/16); the power path closes -> Updated ChargingStateChanged Charging
    (E01.FR.18); the EV is full -> SuspendedEV (E01.FR.19); the same token again -> Ended
    StopAuthorized, stoppedReason Local, with that token (E07.FR.02/05) and the
    Transaction.End reading (E06.FR.11); unplug -> Available (G01.FR.04). The CSMS bills the
    energy between the two register readings."""
    station, frames = await make_station(csms.url(""), "ST-E02", TxUpdatedInterval=0)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await station.clock.sleep(60)  # a simulated minute of charging
    await station.ev_full(1)
    assert await station.present_id_tag("TAG-OK")
    await station.plug_out(1)
    assert steps(frames) == [
        ("BootNotification",), ("StatusNotification", "Available"), OCCUPIED, ("Authorize",),
        ("Started", "Authorized", 0), ("Updated", "ChargingStateChanged", 1),
        ("Updated", "ChargingStateChanged", 2), ("Ended", "StopAuthorized", 3),
        ("StatusNotification", "Available"),
    ]
    started, charging, full, ended = frames.events()
    tx_id = started["transactionInfo"]["transactionId"]
    assert {e["transactionInfo"]["transactionId"] for e in frames.events()} == {tx_id}
    assert (started["idToken"], started["evse"]) == (TOKEN, {"id": 1, "connectorId": 1})
    assert started["transactionInfo"]["chargingState"] == "EVConnected"
    assert started["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.Begin"
    assert charging["transactionInfo"]["chargingState"] == "Charging"
    assert "idToken" not in charging and "evse" not in charging
    assert full["transactionInfo"]["chargingState"] == "SuspendedEV"
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["idToken"] == TOKEN
    begin, end = ended["meterValue"]  # TxEndedInterval 0: the start and the end only
    assert begin["sampledValue"][0]["context"] == "Transaction.Begin"
    [end_reading] = end["sampledValue"]
    assert end_reading["context"] == "Transaction.End"
    assert end_reading["measurand"] == "Energy.Active.Import.Register"
    assert end_reading["value"] > started["meterValue"][0]["sampledValue"][0]["value"]
    tx = csms.store.get_transaction(csms.store.station_transaction("ST-E02", tx_id))
    assert (tx["status"], tx["id_tag"], tx["stop_reason"]) == ("Completed", "TAG-OK", "Local")
    assert tx["energy_wh"] == int(end_reading["value"]) - int(
        started["meterValue"][0]["sampledValue"][0]["value"])
    events = csms.store.list_transaction_events("ST-E02", tx_id)
    assert [e["seq_no"] for e in events] == [0, 1, 2, 3]


async def test_ev_connected_start_point_and_unplug_ends_it(csms, make_station):
    """TxStartPoint EVConnected (E01.FR.02, E02.FR.06): Started with triggerReason
    CablePluggedIn and no idToken; then Updated Authorized with the idToken (E02.FR.01/20);
    the energy flows (ChargingStateChanged); periodic readings every TxUpdatedInterval
    (MeterValuePeriodic, context Sample.Periodic, E02.FR.10); unplugged with TxStopPoint
    EVConnected -> Ended EVCommunicationLost, stoppedReason EVDisconnected (E06.FR.02/08),
    then Available."""
    station, frames = await make_station(
        csms.url(""), "ST-E01", TxStartPoint="EVConnected", TxStopPoint="EVConnected",
        TxUpdatedInterval=60,
        TxUpdatedMeasurands="Energy.Active.Import.Register,Power.Active.Import")
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: any(e["triggerReason"] == "MeterValuePeriodic" for e in frames.events()))
    await station.plug_out(1)
    seq = steps(frames)
    assert seq[:7] == [
        ("BootNotification",), ("StatusNotification", "Available"), OCCUPIED,
        ("Started", "CablePluggedIn", 0), ("Authorize",), ("Updated", "Authorized", 1),
        ("Updated", "ChargingStateChanged", 2)]
    assert seq[-2:] == [("Ended", "EVCommunicationLost", len(frames.events()) - 1),
                        ("StatusNotification", "Available")]
    assert {s[1] for s in seq[7:-2]} == {"MeterValuePeriodic"}
    events = frames.events()
    assert [e["seqNo"] for e in events] == list(range(len(events)))  # part 2 E: 0, 1, 2...
    assert "idToken" not in events[0] and events[1]["idToken"] == TOKEN
    periodic = events[3]
    assert {v["measurand"] for v in periodic["meterValue"][0]["sampledValue"]} == {
        "Energy.Active.Import.Register", "Power.Active.Import"}
    assert {v["context"] for v in periodic["meterValue"][0]["sampledValue"]} == {
        "Sample.Periodic"}
    assert events[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"


async def test_remote_start_then_remote_stop(csms, make_station):
    """F01 (cable first): RequestStartTransaction with evseId is Accepted; with
    AuthorizeRemoteStart false no Authorize is sent (F01.FR.02) and the next event is Started
    with triggerReason RemoteStart, the remoteStartId and the idToken (F01.FR.19/25); the CSMS
    links it to its remote start. RequestStopTransaction of that transactionId is Accepted
    (F03.FR.07) and ends it: Ended RemoteStop, stoppedReason Remote (F03.FR.03); an unknown
    transactionId is Rejected (F03.FR.08)."""
    station, frames = await make_station(csms.url(""), "ST-F01", TxUpdatedInterval=0)
    await station.wait_booted(5)
    await station.plug_in(1)
    result = await commands.execute(csms, "ST-F01", "RequestStartTransaction", {
        "idToken": TOKEN, "remoteStartId": 0, "evseId": 1})
    assert result.reply["status"] == "Accepted"
    [request] = [r.payload for r in frames if r.action == "RequestStartTransaction"
                 and r.type.value == "CALL"]
    remote_id = request["remoteStartId"]  # the CSMS's own record id (csms.v201.commands)
    started = await until(lambda: next(iter(frames.events()), None))
    await until(lambda: len(frames.events()) >= 2)
    assert (started["eventType"], started["triggerReason"]) == ("Started", "RemoteStart")
    assert started["transactionInfo"]["remoteStartId"] == remote_id
    assert started["idToken"] == TOKEN
    tx_id = started["transactionInfo"]["transactionId"]
    assert (await commands.execute(csms, "ST-F01", "RequestStopTransaction",
                                   {"transactionId": "no-such-tx"})).reply == {"status": "Rejected"}
    stop = await commands.execute(csms, "ST-F01", "RequestStopTransaction",
                                  {"transactionId": tx_id})
    assert stop.reply == {"status": "Accepted"}
    ended = await until(lambda: next((e for e in frames.events() if e["eventType"] == "Ended"),
                                     None))
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
        "RemoteStop", "Remote")
    assert steps(frames) == [
        ("BootNotification",), ("StatusNotification", "Available"), OCCUPIED,
        ("Started", "RemoteStart", 0), ("Updated", "ChargingStateChanged", 1),
        ("Ended", "RemoteStop", 2)]
    tx_row = csms.store.station_transaction("ST-F01", tx_id)
    await until(lambda: csms.store.get_transaction(tx_row)["status"] == "Completed")
    assert csms.store.get_remote_start(remote_id)["status"] == "Started"


async def test_events_while_offline_are_queued_and_sent_in_order(csms, make_station):
    """E04: the connection drops during a transaction; the EV leaves: the Ended event is queued
    (E04.FR.01) with offline true (E04.FR.03) and nothing is sent; after the reconnect (no new
    BootNotification: not a reboot) the connector's changed status is reported (G01) and the
    queue delivered in order (E04.FR.02); the CSMS closes the transaction from it."""
    station, frames = await make_station(csms.url(""), "ST-E04", TxUpdatedInterval=0)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: len(frames.events()) == 2)
    await station.go_offline()
    before = len(frames)
    await station.plug_out(1)
    assert len(frames) == before and len(station.queue) == 1
    await station.go_online()
    await until(lambda: len(frames.events()) == 3 and not station.queue)
    assert steps(frames)[-2:] == [("StatusNotification", "Available"),
                                  ("Ended", "EVCommunicationLost", 2)]
    assert steps(frames).count(("BootNotification",)) == 1
    started, _, ended = frames.events()
    assert ended["offline"] is True and "offline" not in started
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    tx_row = csms.store.station_transaction("ST-E04", ended["transactionInfo"]["transactionId"])
    await until(lambda: csms.store.get_transaction(tx_row)["status"] == "Completed")


async def test_change_availability_now_and_scheduled(csms, make_station):
    """G04: the whole station Inoperative -> Accepted, then StatusNotification Unavailable
    (G04.FR.05, G04.FR.07); asked again -> Accepted, nothing sent (G04.FR.04); Operative ->
    back to Available (G04.FR.08). G03: an EVSE with a transaction -> Scheduled (G03.FR.05), it
    stays Occupied until the transaction ended, then Unavailable; an EVSE it does not have ->
    Rejected."""
    station, frames = await make_station(csms.url(""), "ST-G04", TxUpdatedInterval=0)
    await station.wait_booted(5)

    async def change(status: str, evse: dict | None = None) -> str:
        payload: dict = {"operationalStatus": status}
        if evse is not None:
            payload["evse"] = evse
        return (await commands.execute(csms, "ST-G04", "ChangeAvailability", payload)
                ).reply["status"]

    def statuses() -> list[str]:
        return [p["connectorStatus"] for a, p in frames.calls() if a == "StatusNotification"]

    assert await change("Inoperative") == "Accepted"
    await until(lambda: statuses()[-1] == "Unavailable")
    assert await change("Inoperative") == "Accepted"
    assert not await station.present_id_tag("TAG-OK")  # an inoperative EVSE starts nothing
    assert await change("Operative") == "Accepted"
    await until(lambda: statuses()[-1] == "Available")
    assert await change("Inoperative", {"id": 7}) == "Rejected"
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    assert await change("Inoperative", {"id": 1}) == "Scheduled"
    assert station.evse(1).connector.status == "Occupied"
    assert await station.present_id_tag("TAG-OK")  # the driver stops
    await until(lambda: statuses()[-1] == "Unavailable")
    await station.plug_out(1)
    assert statuses() == ["Available", "Unavailable", "Available", "Occupied", "Unavailable"]


async def _remote_start_deauthorized(csms, make_station, station_id: str, token: str):
    station, frames = await make_station(csms.url(""), station_id, TxStartPoint="Authorized",
                                         TxStopPoint="Authorized", TxUpdatedInterval=0)
    await station.wait_booted(5)
    result = await commands.execute(csms, station_id, "RequestStartTransaction", {
        "idToken": {"idToken": token, "type": "ISO14443"}, "remoteStartId": 0, "evseId": 1})
    assert result.reply["status"] == "Accepted"
    await until(lambda: any(e["eventType"] == "Ended" for e in frames.events()), timeout=3)
    assert steps(frames, "StatusNotification") == [
        ("BootNotification",), ("Started", "RemoteStart", 0), ("Ended", "Deauthorized", 1)]
    assert frames.events()[1]["transactionInfo"]["stoppedReason"] == "DeAuthorized"


async def test_a_blocked_token_is_deauthorized(csms, make_station):
    """E05: a remote start for a token the CSMS holds Blocked (AuthorizeRemoteStart false: no
    Authorize first) starts the transaction (TxStartPoint Authorized); the CSMS answers the
    Started with idTokenInfo Blocked (E05.FR.01) and, StopTxOnInvalidId being true and
    Authorized a stop point, the station ends it: Ended, triggerReason Deauthorized,
    stoppedReason DeAuthorized (E05.FR.10, E06.FR.04)."""
    csms.store.upsert_id_tag("TAG-BLOCKED", status="Blocked")
    await _remote_start_deauthorized(csms, make_station, "ST-E05B", "TAG-BLOCKED")


async def test_a_token_the_csms_does_not_know_is_deauthorized(csms, make_station):
    """E05 as above with a token the CSMS has no record of (idTokenInfo Unknown)."""
    await _remote_start_deauthorized(csms, make_station, "ST-E05U", "NOBODY")


async def test_no_cable_within_the_connection_timeout_ends_the_transaction(csms, make_station):
    """E03.FR.05: authorized first (TxStartPoint Authorized: Started at once), no cable within
    EVConnectionTimeOut (30 s simulated) -> Ended, triggerReason EVConnectTimeout,
    stoppedReason Timeout; the connector was never Occupied."""
    station, frames = await make_station(csms.url(""), "ST-E03", TxStartPoint="Authorized",
                                         EVConnectionTimeOut=30, TxUpdatedInterval=0)
    await station.wait_booted(5)
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: any(e["eventType"] == "Ended" for e in frames.events()))
    assert steps(frames) == [
        ("BootNotification",), ("StatusNotification", "Available"), ("Authorize",),
        ("Started", "Authorized", 0), ("Ended", "EVConnectTimeout", 1)]
    assert frames.events()[1]["transactionInfo"]["stoppedReason"] == "Timeout"
    await until(lambda: station.evse(1).tx is None)
    assert not station.evse(1).authorized


async def test_reset_immediate_ends_the_transaction_then_boots_remote_reset(csms, make_station):
    """B12.FR.02/04: Reset Immediate during a transaction is Accepted, the transaction ends
    (ResetCommand, stoppedReason ImmediateReset), then a cold boot (B11.FR.03/04) with reason
    RemoteReset (B01.FR.09) and a status per connector (B01.FR.05, Occupied: the cable is
    still in); OnIdle on an idle station is Accepted too; with an evseId: Rejected
    (B11.FR.09)."""
    station, frames = await make_station(csms.url(""), "ST-B12", TxUpdatedInterval=0)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    reset = await commands.execute(csms, "ST-B12", "Reset", {"type": "Immediate", "evseId": 1})
    assert reset.reply["status"] == "Rejected"
    reset = await commands.execute(csms, "ST-B12", "Reset", {"type": "Immediate"})
    assert reset.reply["status"] == "Accepted"
    await until(lambda: steps(frames).count(("BootNotification",)) == 2
                and steps(frames)[-1] == ("StatusNotification", "Occupied"))
    assert steps(frames)[-4:] == [
        ("Updated", "ChargingStateChanged", 1), ("Ended", "ResetCommand", 2),
        ("BootNotification",), ("StatusNotification", "Occupied")]
    assert frames.events()[-1]["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    boots = [p["reason"] for a, p in frames.calls() if a == "BootNotification"]
    assert boots == ["PowerUp", "RemoteReset"]
    await station.wait_booted(5)
    assert (await commands.execute(csms, "ST-B12", "Reset", {"type": "OnIdle"})
            ).reply["status"] == "Accepted"


async def test_a_fault_ends_the_transaction_and_power_loss_queues_the_end(csms, make_station):
    """E06.FR.16: a fault during a transaction: Faulted (§3.23), then Ended AbnormalCondition;
    cleared: Occupied again (the cable is in). A power loss during the next transaction:
    its Ended (stoppedReason PowerLoss) is queued, sent after the new boot was Accepted
    (B01.FR.08), which says PowerUp."""
    station, frames = await make_station(csms.url(""), "ST-E06", TxUpdatedInterval=0)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await station.fault(1)
    assert steps(frames)[-2:] == [("StatusNotification", "Faulted"),
                                  ("Ended", "AbnormalCondition", 2)]
    await station.clear_fault(1)
    assert steps(frames)[-1] == ("StatusNotification", "Occupied")
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: len(frames.events()) == 5)
    await station.power_loss()
    await until(lambda: len(frames.events()) == 6 and not station.queue)
    assert steps(frames)[-4:] == [
        ("Updated", "ChargingStateChanged", 1), ("BootNotification",),
        ("StatusNotification", "Occupied"), ("Ended", "AbnormalCondition", 2)]
    ended = frames.events()[-1]
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss" and ended["offline"]
    assert [p["reason"] for a, p in frames.calls() if a == "BootNotification"] == [
        "PowerUp", "PowerUp"]


async def test_clock_aligned_readings_idle_and_in_a_transaction(csms, make_station):
    """J01 with AlignedDataCtrlr.Interval 60 s: idle, MeterValues for EVSE 1 (J01.FR.02/14)
    at context Sample.Clock, stamped on a multiple of the interval from midnight; during a
    transaction, TransactionEvent Updated with triggerReason MeterValueClock (J01.FR.22). The
    CSMS stores both."""
    station, frames = await make_station(
        csms.url(""), "ST-J01", TxUpdatedInterval=0, AlignedDataInterval=60,
        AlignedDataMeasurands="Energy.Active.Import.Register,Voltage")
    await station.wait_booted(5)
    idle = await until(lambda: next((p for a, p in frames.calls() if a == "MeterValues"), None))
    assert idle["evseId"] == 1
    [value] = idle["meterValue"]
    assert {v["context"] for v in value["sampledValue"]} == {"Sample.Clock"}
    assert value["timestamp"][17:19] == "00"  # a whole minute (60 s from midnight)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    clock = await until(lambda: next((e for e in frames.events()
                                      if e["triggerReason"] == "MeterValueClock"), None))
    assert clock["eventType"] == "Updated"
    assert {v["measurand"] for v in clock["meterValue"][0]["sampledValue"]} >= {
        "Energy.Active.Import.Register", "Voltage"}
    await until(lambda: csms.store.list_meter_values(charger_id="ST-J01", measurand="Voltage"))


async def test_the_queue_survives_a_restart(csms, make_station, tmp_path):
    """E04 with a state directory: an Ended queued while offline is on disk when the station
    stops; the same station started again boots and delivers it (offline true) after the
    Accepted boot (B01.FR.08), and the CSMS completes the transaction."""
    first, frames = await make_station(csms.url(""), "ST-DISK", state_dir=tmp_path / "st",
                                       TxUpdatedInterval=0)
    await first.wait_booted(5)
    await first.plug_in(1)
    assert await first.present_id_tag("TAG-OK")
    await until(lambda: len(frames.events()) == 2)
    await first.go_offline()
    await first.plug_out(1)
    tx_id = frames.events()[0]["transactionInfo"]["transactionId"]
    await first.stop()
    second, again = await make_station(csms.url(""), "ST-DISK", state_dir=tmp_path / "st")
    await second.wait_booted(5)
    await until(lambda: any(a == "TransactionEvent" for a, _ in again.calls()))
    assert [a for a, _ in again.calls("Heartbeat", "SecurityEventNotification")] == [
        "BootNotification", "StatusNotification", "TransactionEvent"]
    [ended] = again.events()
    assert (ended["eventType"], ended["seqNo"], ended["offline"]) == ("Ended", 2, True)
    assert ended["transactionInfo"]["transactionId"] == tx_id
    tx_row = csms.store.station_transaction("ST-DISK", tx_id)
    await until(lambda: csms.store.get_transaction(tx_row)["status"] == "Completed")


async def test_statuses_after_a_reconnect_depend_on_the_offline_threshold(csms, make_station):
    """B04.FR.02: back within OfflineThreshold (60 s) with nothing changed: no
    StatusNotification; B04.FR.01: back after longer: every connector's status again. Neither
    reconnect is a boot."""
    station, frames = await make_station(csms.url(""), "ST-B04", OfflineThreshold=60)
    await station.wait_booted(5)

    def statuses() -> int:
        return sum(1 for a, _ in frames.calls() if a == "StatusNotification")

    async def reconnect(after_s: float) -> None:
        await station.go_offline()
        await station.clock.sleep(after_s)
        connects = station.link.connects
        await station.go_online()
        # the heartbeat ticker starts once the statuses are out (`sim.v201.online`)
        await until(lambda: station.link.connects > connects and station.link.ticker)

    await reconnect(5)
    assert statuses() == 1
    await reconnect(120)
    assert statuses() == 2
    assert steps(frames).count(("BootNotification",)) == 1


async def test_trigger_message(csms, make_station):
    """F06: Heartbeat, StatusNotification (for the connector named) and MeterValues (the
    AlignedDataCtrlr measurands, context Trigger: F06.FR.06) are Accepted and sent after the
    response (F06.FR.04); TransactionEvent during a transaction: Updated, triggerReason
    Trigger, with its chargingState (F06.FR.07), without one: Rejected; BootNotification once
    Accepted: Rejected (F06.FR.17); a message it does not send: NotImplemented (F06.FR.08)."""
    station, frames = await make_station(csms.url(""), "ST-F06", TxUpdatedInterval=0)
    await station.wait_booted(5)

    async def trigger(message: str, evse: dict | None = None) -> str:
        payload: dict = {"requestedMessage": message}
        if evse is not None:
            payload["evse"] = evse
        return (await commands.execute(csms, "ST-F06", "TriggerMessage", payload)
                ).reply["status"]

    def last(action: str) -> dict | None:
        return next((p for a, p in reversed(frames.calls()) if a == action), None)

    assert await trigger("Heartbeat") == "Accepted"
    await until(lambda: last("Heartbeat") is not None)
    assert await trigger("StatusNotification", {"id": 1, "connectorId": 1}) == "Accepted"
    await until(lambda: steps(frames).count(("StatusNotification", "Available")) == 2)
    assert await trigger("MeterValues") == "Accepted"
    reading = await until(lambda: last("MeterValues"))
    assert {v["context"] for v in reading["meterValue"][0]["sampledValue"]} == {"Trigger"}
    assert await trigger("TransactionEvent") == "Rejected"
    assert await trigger("BootNotification") == "Rejected"
    assert await trigger("PublishFirmwareStatusNotification") == "NotImplemented"  # no LC
    assert await trigger("SignV2GCertificate") == "Rejected"  # no OrganizationName (A02)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: len(frames.events()) == 2)
    assert await trigger("TransactionEvent", {"id": 1}) == "Accepted"
    event = await until(lambda: next((e for e in frames.events()
                                      if e["triggerReason"] == "Trigger"), None))
    assert (event["eventType"], event["seqNo"]) == ("Updated", 2)
    assert event["transactionInfo"]["chargingState"] == "Charging"


async def test_a_reservation_is_held_then_used_by_its_token(csms, make_station):
    """H01: ReserveNow for EVSE 1 is Accepted and its connector Reserved (H01.FR.23); another
    token cannot use it (H03), a second reservation of it is Occupied (H01.FR.11); the EV
    plugged in leaves it Reserved (G03.FR.09); the reserved token used: Occupied (H03.FR.10)
    and the Started names the reservation (H01.FR.15, E01.FR.13)."""
    csms.store.upsert_id_tag("TAG-OTHER")
    station, frames = await make_station(csms.url(""), "ST-H01", TxUpdatedInterval=0)
    await station.wait_booted(5)
    reserve = {"id": 0, "expiryDateTime": "2099-01-01T00:00:00Z", "evseId": 1,
               "idToken": {"idToken": "TAG-OK", "type": "ISO14443"}}
    result = await commands.execute(csms, "ST-H01", "ReserveNow", reserve)
    assert result.reply["status"] == "Accepted"
    [request] = [r.payload for r in frames if r.action == "ReserveNow" and r.type.value == "CALL"]
    await until(lambda: steps(frames)[-1] == ("StatusNotification", "Reserved"))
    assert not await station.present_id_tag("TAG-OTHER")
    again = await commands.execute(csms, "ST-H01", "ReserveNow", {**reserve, "id": 5})
    assert again.reply["status"] == "Occupied"
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: len(frames.events()) == 2)
    assert steps(frames) == [
        ("BootNotification",), ("StatusNotification", "Available"),
        ("StatusNotification", "Reserved"), ("Authorize",), ("StatusNotification", "Occupied"),
        ("Started", "Authorized", 0), ("Updated", "ChargingStateChanged", 1)]
    started = frames.events()[0]
    assert started["reservationId"] == request["id"]
    assert "reservationId" not in frames.events()[1]


async def test_the_ended_event_carries_the_tx_ended_readings(csms, make_station):
    """J02 / E06.FR.11: with SampledDataCtrlr.TxEndedInterval 60 s the Ended event carries the
    TxEndedMeasurands from the start (Transaction.Begin), every 60 s (Sample.Periodic) and at
    the end (Transaction.End), registers never decreasing (J02.FR.16)."""
    station, frames = await make_station(csms.url(""), "ST-J02", TxUpdatedInterval=0,
                                         TxEndedInterval=60)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await station.clock.sleep(150)
    await station.plug_out(1)
    ended = frames.events()[-1]
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
    assert set(contexts[1:-1]) == {"Sample.Periodic"} and len(contexts) >= 3
    registers = [mv["sampledValue"][0]["value"] for mv in ended["meterValue"]]
    assert registers == sorted(registers) and registers[-1] > registers[0]


async def test_a_whole_transaction_offline_is_delivered_after_the_reconnect(csms, make_station):
    """C13.FR.02/04, E04: offline a token is refused unless OfflineTxForUnknownIdEnabled; with
    it a whole transaction runs offline, every event queued with offline true (E04.FR.03) and
    delivered in order, seqNo 0.. (E04.FR.02), after the reconnect; the CSMS then judges the
    token (E05) and bills the transaction."""
    station, frames = await make_station(csms.url(""), "ST-OFF", TxUpdatedInterval=0)
    await station.wait_booted(5)
    await station.go_offline()
    await station.plug_in(1)
    assert not await station.present_id_tag("TAG-OK")  # C13.FR.02
    station.settings.overrides["OfflineTxForUnknownIdEnabled"] = "true"
    assert await station.present_id_tag("TAG-OK")  # C13.FR.04
    await station.clock.sleep(60)
    assert await station.present_id_tag("TAG-OK")
    await station.plug_out(1)
    assert len(station.queue) == 3
    await station.go_online()
    await until(lambda: len(frames.events()) == 3 and not station.queue)
    events = frames.events()
    assert [(e["eventType"], e["triggerReason"], e["seqNo"], e["offline"]) for e in events] == [
        ("Started", "Authorized", 0, True), ("Updated", "ChargingStateChanged", 1, True),
        ("Ended", "StopAuthorized", 2, True)]
    tx_row = csms.store.station_transaction("ST-OFF", events[0]["transactionInfo"]
                                            ["transactionId"])
    await until(lambda: csms.store.get_transaction(tx_row)["status"] == "Completed")


async def test_a_tx_start_point_that_is_no_point_falls_back_and_is_logged(csms, make_station,
                                                                         caplog):
    """Bad input stops nothing: TxStartPoint "Plugged" (no TxStartPointValue) is logged and
    the default PowerPathClosed applies: the transaction starts at authorization."""
    station, frames = await make_station(csms.url(""), "ST-BADTX", TxStartPoint="Plugged",
                                         TxUpdatedInterval=0)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: frames.events())
    assert frames.events()[0]["triggerReason"] == "Authorized"
    assert any("TxStartPoint" in r.getMessage() for r in caplog.records)


async def test_the_device_model_read_and_reported_to_the_builtin_csms(csms, make_station):
    """B06 GetVariables and B05 SetVariables from the built-in CSMS on libocpp's
    component_config; B07 GetBaseReport FullInventory: Accepted, then NotifyReport parts the
    CSMS joins complete, with no seqNo missing (B07.FR.04/10), carrying the value just set."""
    dm = DeviceModel.load(LIBOCPP_201 / "component_config")
    station, _ = await make_station(csms.url(""), "ST-B07", dm=dm)
    await station.wait_booted(5)
    tx_ctrlr, start = {"name": "TxCtrlr"}, {"name": "TxStartPoint"}
    got = await commands.execute(csms, "ST-B07", "GetVariables", {"getVariableData": [
        {"component": tx_ctrlr, "variable": start}]})
    assert got.reply["getVariableResult"][0]["attributeValue"] == "PowerPathClosed"
    done = await commands.execute(csms, "ST-B07", "SetVariables", {"setVariableData": [
        {"component": tx_ctrlr, "variable": start, "attributeValue": "EVConnected"}]})
    assert done.reply["setVariableResult"][0]["attributeStatus"] == "Accepted"
    report = await commands.execute(csms, "ST-B07", "GetBaseReport",
                                    {"requestId": 0, "reportBase": "FullInventory"})
    assert report.reply["status"] == "Accepted"
    joined = report.followed.as_dict("reportData")
    assert (joined["complete"], joined["missingSeqNo"]) == (True, [])
    values = {(item["component"]["name"], item["variable"]["name"]):
              item["variableAttribute"][0].get("value") for item in joined["reportData"]}
    assert values[("TxCtrlr", "TxStartPoint")] == "EVConnected"
    assert len(values) > 50
