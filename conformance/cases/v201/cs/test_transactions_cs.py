"""OCPP 2.0.1 part 6 §2.6, E Transactions, with a Charging Station under test.

The start and stop options (TC_E_01.. TC_E_37) are run with the station's TxStartPoint /
TxStopPoint set to the option when it is ReadWrite (Configuration State); a station that keeps
another value (ReadOnly) makes the case not applicable, as part 6's prerequisite says.
"""

from __future__ import annotations

import pytest

from conformance.expect import Mismatch, one_of, present
from conformance.v201.states import (
    Cs,
    authorized,
    charging,
    energy_transfer_started,
    ev_connected_pre_session,
    ev_disconnected,
    next_id,
    stop_authorized,
    transaction_event,
)
from conformance.v201.states_bceh import (
    PRESENT,
    QueuedEvents,
    go_offline,
    go_online,
    offline_authorization,
    station_sleep,
    transaction_events_in_queue_ended,
)


async def _point(cs: Cs, name: str, point: str) -> None:
    """Configuration State "TxStartPoint contains `point`": as it is, or set to it."""
    if point in cs.points(name):
        return
    if not await cs.configure("TxCtrlr", name, point):
        pytest.skip(f"not applicable: TxCtrlr.{name} is {cs.var('TxCtrlr', name)!r} and "
                    f"the station does not take {point!r}")


@pytest.mark.octt("TC_E_01_CS")
async def test_start_power_path_closed(cs: Cs):
    """TC_E_01_CS: TxStartPoint PowerPathClosed: Authorized, then the EV connected starts the
    transaction (E01.FR.?)."""
    await _point(cs, "TxStartPoint", "PowerPathClosed")
    await authorized(cs)
    await ev_connected_pre_session(cs)
    if cs.tx_id is None:
        raise Mismatch("no transaction started once the power path closed")
    cs.check_sequence()


@pytest.mark.octt("TC_E_02_CS")
async def test_start_energy_transfer(cs: Cs):
    """TC_E_02_CS: TxStartPoint EnergyTransfer: Started with chargingState Charging, the
    idToken, evse and connectorId."""
    await _point(cs, "TxStartPoint", "EnergyTransfer")
    await authorized(cs)
    await cs.act("plug_in", connector=cs.connector_id)
    await cs.expect_status("Occupied")
    await cs.expect("TransactionEvent", transaction_event(
        eventType="Started", triggerReason=one_of("ChargingStateChanged", "Authorized",
                                                  "CablePluggedIn"),
        idToken=cs.valid, evse={"id": cs.evse_id, "connectorId": cs.connector_id},
        chargingState="Charging"))


@pytest.mark.octt("TC_E_09_CS")
async def test_start_ev_connected(cs: Cs):
    """TC_E_09_CS: TxStartPoint EVConnected: Occupied, then Started with CablePluggedIn or
    ChargingStateChanged, evse with connectorId, chargingState EVConnected."""
    await _point(cs, "TxStartPoint", "EVConnected")
    await cs.act("plug_in", connector=cs.connector_id)
    await cs.expect_status("Occupied")
    await cs.expect("TransactionEvent", transaction_event(
        eventType="Started", triggerReason=one_of("CablePluggedIn", "ChargingStateChanged"),
        evse={"id": cs.evse_id, "connectorId": present}, chargingState="EVConnected"))


@pytest.mark.octt("TC_E_10_CS")
async def test_start_authorized_local(cs: Cs):
    """TC_E_10_CS: TxStartPoint Authorized: AuthorizeRequest, then Started with triggerReason
    Authorized and the idToken."""
    await _point(cs, "TxStartPoint", "Authorized")
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": cs.valid})
    await cs.expect("TransactionEvent", transaction_event(
        eventType="Started", triggerReason="Authorized", idToken=cs.valid))


@pytest.mark.octt("TC_E_13_CS")
async def test_start_authorized_remote(cs: Cs):
    """TC_E_13_CS: TxStartPoint Authorized, RequestStartTransaction: Started with
    triggerReason RemoteStart, the idToken and the remoteStartId."""
    await _point(cs, "TxStartPoint", "Authorized")
    await authorized(cs, remote=True)
    events = cs.events()
    if not events or events[0].get("eventType") != "Started":
        raise Mismatch(f"expected a Started event, received {events}")


@pytest.mark.octt("TC_E_03_CS")
async def test_local_start_cable_first(cs: Cs):
    """TC_E_03_CS: EVConnectedPreSession, Authorized (local), EnergyTransferStarted."""
    await ev_connected_pre_session(cs)
    await authorized(cs)
    await energy_transfer_started(cs)
    cs.check_sequence()


@pytest.mark.octt("TC_E_04_CS")
async def test_local_start_authorization_first(cs: Cs):
    """TC_E_04_CS: Authorized (local), then EnergyTransferStarted (the EV connected)."""
    await authorized(cs)
    await energy_transfer_started(cs)
    cs.check_sequence()


@pytest.mark.octt("TC_E_05_CS")
@pytest.mark.cb_requires("TxCtrlr", "EVConnectionTimeOut")
async def test_local_start_cable_timeout(cs: Cs):
    """TC_E_05_CS: Authorized (local) and no EV within EVConnectionTimeOut: a started
    transaction reports EVConnectTimeout (Ended with stoppedReason Timeout when TxStopPoint
    contains Authorized, else Updated: E03.FR.05); the EVSE then starts another session."""
    await cs.configure("TxCtrlr", "EVConnectionTimeOut", "20")
    await cs.configure("AuthCacheCtrlr", "Enabled", "false")
    await authorized(cs)
    if cs.tx_id is not None:
        ended = "Authorized" in cs.points("TxStopPoint")
        subset = transaction_event(triggerReason="EVConnectTimeout",
                                   eventType="Ended" if ended else "Updated")
        if ended:
            subset["transactionInfo"] = {"stoppedReason": "Timeout"}
        await cs.expect("TransactionEvent", subset, timeout=cs.settings.timeout + 5)
    else:
        await cs.expect_nothing("TransactionEvent", during=2.0)
    cs.tx_id, cs.authorized = None, False
    await authorized(cs)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_E_06_CS")
async def test_local_stop(cs: Cs):
    """TC_E_06_CS: EnergyTransferStarted, StopAuthorized (local), EVConnectedPostSession,
    EVDisconnected: the transaction ends (E06/E07)."""
    await charging(cs)
    await stop_authorized(cs)
    await ev_disconnected(cs)
    if not cs.ended():
        raise Mismatch("the transaction never reported eventType Ended")
    cs.check_sequence()


@pytest.mark.octt("TC_E_07_CS")
async def test_stop_power_path_closed_local(cs: Cs):
    """TC_E_07_CS: TxStopPoint PowerPathClosed: StopAuthorized (local) ends it."""
    await _point(cs, "TxStopPoint", "PowerPathClosed")
    await charging(cs)
    await stop_authorized(cs)
    if not cs.ended():
        raise Mismatch("StopAuthorized did not end the transaction (TxStopPoint "
                       "PowerPathClosed)")
    cs.check_sequence()


@pytest.mark.octt("TC_E_35_CS")
async def test_stop_power_path_closed_remote(cs: Cs):
    """TC_E_35_CS: TxStopPoint PowerPathClosed: RequestStopTransaction Accepted, Ended with
    RemoteStop and stoppedReason Remote."""
    await _point(cs, "TxStopPoint", "PowerPathClosed")
    await charging(cs)
    await cs.ask("RequestStopTransaction", {"transactionId": cs.tx_id}, {"status": "Accepted"})
    await cs.expect("TransactionEvent", transaction_event(
        triggerReason="RemoteStop", stoppedReason="Remote", eventType="Ended"))


@pytest.mark.octt("TC_E_08_CS")
async def test_stop_energy_transfer(cs: Cs):
    """TC_E_08_CS: TxStopPoint EnergyTransfer: StopAuthorized ends the transaction."""
    await _point(cs, "TxStopPoint", "EnergyTransfer")
    await charging(cs)
    await stop_authorized(cs)
    if not cs.ended():
        raise Mismatch("StopAuthorized did not end the transaction (TxStopPoint "
                       "EnergyTransfer)")


@pytest.mark.octt("TC_E_14_CS")
async def test_stop_ev_disconnected(cs: Cs):
    """TC_E_14_CS: TxStopPoint EVConnected, EVConnectedPostSession, the EV disconnected:
    Available, Ended with EVCommunicationLost, chargingState Idle, stoppedReason Local,
    EVDisconnected or omitted."""
    await _point(cs, "TxStopPoint", "EVConnected")
    await charging(cs)
    await stop_authorized(cs)
    await cs.act("plug_out", connector=cs.connector_id)
    await cs.expect_status("Available")
    if cs.ended():
        return  # the stop point set also contains Authorized: it ended at StopAuthorized
    event = await cs.expect("TransactionEvent", transaction_event(
        triggerReason="EVCommunicationLost", chargingState="Idle", eventType="Ended"))
    reason = event["transactionInfo"].get("stoppedReason", "Local")
    if reason not in ("Local", "EVDisconnected"):
        raise Mismatch(f"stoppedReason {reason!r}: Local, EVDisconnected or omitted expected")


@pytest.mark.octt("TC_E_15_CS")
async def test_stop_authorized_local(cs: Cs):
    """TC_E_15_CS: TxStopPoint Authorized: the idToken presented again: Ended, StopAuthorized,
    stoppedReason Local."""
    await _point(cs, "TxStopPoint", "Authorized")
    await charging(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.expect("TransactionEvent", transaction_event(
        triggerReason="StopAuthorized", stoppedReason="Local", eventType="Ended"))


@pytest.mark.octt("TC_E_21_CS")
async def test_stop_authorized_remote(cs: Cs):
    """TC_E_21_CS: TxStopPoint Authorized: RequestStopTransaction: Ended, RemoteStop,
    stoppedReason Remote."""
    await _point(cs, "TxStopPoint", "Authorized")
    await charging(cs)
    await cs.ask("RequestStopTransaction", {"transactionId": cs.tx_id}, {"status": "Accepted"})
    await cs.expect("TransactionEvent", transaction_event(
        triggerReason="RemoteStop", stoppedReason="Remote", eventType="Ended"))


async def _ev_side_disconnect(cs: Cs, reasons: tuple[str, ...]) -> None:
    await charging(cs)
    await cs.act("ev_full", connector=cs.connector_id)
    await cs.expect("TransactionEvent", transaction_event(
        chargingState=one_of("SuspendedEV", "EVConnected")))
    await cs.act("plug_out", connector=cs.connector_id)
    event = await cs.expect("TransactionEvent", transaction_event(
        triggerReason="EVCommunicationLost", chargingState="Idle", eventType="Ended"))
    if event["transactionInfo"].get("stoppedReason") not in reasons:
        raise Mismatch(f"stoppedReason {event['transactionInfo'].get('stoppedReason')!r}: "
                       f"{' or '.join(reasons)} expected")


@pytest.mark.octt("TC_E_20_CS")
async def test_stop_ev_side_disconnect(cs: Cs):
    """TC_E_20_CS: TxStopPoint EVConnected, EnergyTransferSuspended, the cable pulled at the EV:
    Ended, EVCommunicationLost, Idle, stoppedReason EVDisconnected."""
    await _point(cs, "TxStopPoint", "EVConnected")
    await _ev_side_disconnect(cs, ("EVDisconnected",))


@pytest.mark.octt("TC_E_37_CS")
async def test_stop_power_path_ev_side_disconnect(cs: Cs):
    """TC_E_37_CS: TxStopPoint PowerPathClosed, the cable pulled at the EV: Ended,
    EVCommunicationLost, Idle, stoppedReason EVDisconnected or StoppedByEV."""
    await _point(cs, "TxStopPoint", "PowerPathClosed")
    await _ev_side_disconnect(cs, ("EVDisconnected", "StoppedByEV"))


@pytest.mark.octt("TC_E_22_CS")
async def test_stop_energy_transfer_suspended_ev(cs: Cs):
    """TC_E_22_CS: TxStopPoint EnergyTransfer, the EV suspends: ChargingStateChanged, either
    Ended with chargingState EVConnected and stoppedReason StoppedByEV (E06.FR.07), or Updated
    with chargingState SuspendedEV."""
    await _point(cs, "TxStopPoint", "EnergyTransfer")
    await charging(cs)
    await cs.act("ev_full", connector=cs.connector_id)
    await cs.expect_any(
        ("TransactionEvent", transaction_event(
            triggerReason="ChargingStateChanged", eventType="Ended",
            chargingState="EVConnected", stoppedReason="StoppedByEV")),
        ("TransactionEvent", transaction_event(
            triggerReason="ChargingStateChanged", eventType="Updated",
            chargingState="SuspendedEV")),
        what="TransactionEventRequest ChargingStateChanged: Ended EVConnected StoppedByEV, "
             "or Updated SuspendedEV")


@pytest.mark.octt("TC_E_28_CS")
async def test_status_unknown_transaction(cs: Cs):
    """TC_E_28_CS: GetTransactionStatus of an unknown transactionId: not ongoing, nothing
    queued (E14.FR.?)."""
    await cs.ask("GetTransactionStatus", {"transactionId": "CB-UNKNOWN-TRANSACTION"},
                 {"ongoingIndicator": False, "messagesInQueue": False})


@pytest.mark.octt("TC_E_30_CS")
async def test_status_ongoing(cs: Cs):
    """TC_E_30_CS: GetTransactionStatus of the running transaction: ongoing, nothing queued."""
    await charging(cs)
    await cs.ask("GetTransactionStatus", {"transactionId": cs.tx_id},
                 {"ongoingIndicator": True, "messagesInQueue": False})


@pytest.mark.octt("TC_E_32_CS")
async def test_status_ended(cs: Cs):
    """TC_E_32_CS: GetTransactionStatus of an ended transaction: not ongoing, nothing
    queued."""
    await charging(cs)
    await stop_authorized(cs)
    await ev_disconnected(cs)
    await cs.ask("GetTransactionStatus", {"transactionId": cs.tx_id},
                 {"ongoingIndicator": False, "messagesInQueue": False})


@pytest.mark.octt("TC_E_34_CS")
async def test_status_without_transaction_id(cs: Cs):
    """TC_E_34_CS: GetTransactionStatus without transactionId: ongoingIndicator omitted,
    nothing queued."""
    reply = await cs.ask("GetTransactionStatus", {}, {"messagesInQueue": False})
    if "ongoingIndicator" in reply:
        raise Mismatch(f"ongoingIndicator {reply['ongoingIndicator']} without transactionId: "
                       "it must be omitted")


# Offline behaviour (E04, E08, E12): the station loses its connection and regains it ----------

#: <Configured transaction_update_metricvalues_interval>, station seconds
TX_UPDATED_INTERVAL = 5


async def _offline_thresholds(cs: Cs) -> None:
    """Configuration State of TC_E_40/44: OfflineThreshold RetryBackOffWaitMinimum + 60 (If
    implemented): the station reconnects without a new BootNotification."""
    wait = cs.var("OCPPCommCtrlr", "RetryBackOffWaitMinimum") or "1"
    await cs.configure("OCPPCommCtrlr", "OfflineThreshold", str(int(wait) + 60))


@pytest.mark.octt("TC_E_40_CS")
@pytest.mark.cb_requires("SampledDataCtrlr", "TxUpdatedInterval")
async def test_offline_during_transaction(cs: Cs):
    """TC_E_40_CS: EnergyTransferStarted, the connection lost for longer than
    TxUpdatedInterval: once back, every queued TransactionEventRequest is Updated, has
    meterValue and offline true (E04.FR.03, E12.FR.01)."""
    await cs.configure("SampledDataCtrlr", "Enabled", "true")
    if not await cs.configure("SampledDataCtrlr", "TxUpdatedInterval",
                              str(TX_UPDATED_INTERVAL)):
        pytest.skip("not applicable: SampledDataCtrlr.TxUpdatedInterval cannot be set")
    await _offline_thresholds(cs)
    await charging(cs)
    await go_offline(cs)
    await station_sleep(cs, 2.5 * TX_UPDATED_INTERVAL, limit=8.0)
    back = await go_online(cs)
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check(every={"eventType": "Updated", "meterValue": PRESENT})


@pytest.mark.octt("TC_E_43_CS")
async def test_offline_whole_transaction(cs: Cs):
    """TC_E_43_CS: Memory State TransactionEventsInQueueEnded: a whole transaction while
    offline; once back, its queued TransactionEventRequests all have offline true, one
    Started and one Ended (E12.FR.01/02/06)."""
    if not await offline_authorization(cs):
        pytest.skip("not applicable: the station authorizes no idToken offline "
                    "(no OfflineTxForUnknownIdEnabled, cache or local list)")
    back = await transaction_events_in_queue_ended(cs)
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check(types=("Started", "Ended"))
    cs.check_sequence()


@pytest.mark.octt("TC_E_44_CS")
async def test_offline_stop(cs: Cs):
    """TC_E_44_CS: EnergyTransferStarted, offline: the same idToken presented again, the EV
    disconnected; once back, the queued TransactionEventRequests have offline true, one
    Ended (E08.FR.01/04-08)."""
    await _offline_thresholds(cs)
    await charging(cs)
    await go_offline(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.act("plug_out", connector=cs.connector_id)
    back = await go_online(cs)
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check(types=("Ended",))
    cs.check_sequence()


@pytest.mark.octt("TC_E_16_CS")
@pytest.mark.cb_requires("TxCtrlr", "StopTxOnInvalidId")
async def test_deauthorized_invalid_after_offline(cs: Cs):
    """TC_E_16_CS: a transaction started offline (StartOfflineTransaction); back online the
    CSMS answers its idToken Invalid: the queued events have offline true, then Ended,
    Deauthorized, stoppedReason DeAuthorized (E05.FR.09/10, StopTxOnInvalidId true)."""
    if not set(cs.points("TxStopPoint")) & {"Authorized", "PowerPathClosed"}:
        await _point(cs, "TxStopPoint", "Authorized")
    await cs.configure("AuthCtrlr", "DisableRemoteAuthorization", "false")
    if not await cs.configure("TxCtrlr", "StopTxOnInvalidId", "true"):
        pytest.skip("not applicable: TxCtrlr.StopTxOnInvalidId cannot be set true")
    if not await offline_authorization(cs):
        pytest.skip("not applicable: the station authorizes no idToken offline "
                    "(no OfflineTxForUnknownIdEnabled, cache or local list)")
    await go_offline(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.act("plug_in", connector=cs.connector_id)
    cs.central.tokens[cs.valid["idToken"]] = "Invalid"
    back = await go_online(cs)
    await cs.expect("TransactionEvent", transaction_event(
        eventType="Ended", triggerReason="Deauthorized", stoppedReason="DeAuthorized"))
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check()


@pytest.mark.octt("TC_E_52_CS")
@pytest.mark.cb_requires("AuthCtrlr", "DisableRemoteAuthorization")
async def test_disable_remote_authorization(cs: Cs):
    """TC_E_52_CS: DisableRemoteAuthorization true: an idToken neither cached nor on the
    local list is refused without an AuthorizeRequest (part 6 writes "InvalidateRequest";
    appendix 3 AuthCtrlr: "not issue any AuthorizationRequests"), and nothing starts."""
    if not await cs.configure("AuthCtrlr", "DisableRemoteAuthorization", "true"):
        pytest.skip("not applicable: AuthCtrlr.DisableRemoteAuthorization cannot be set true")
    await cs.configure("AuthCtrlr", "Enabled", "true")
    unknown = {"idToken": f"CB-UNKNOWN-{next_id()}", "type": cs.valid["type"]}
    await cs.act("present_id_tag", tag=unknown["idToken"], connector=cs.connector_id)
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and (f.action == "Authorize" or (
            f.action == "TransactionEvent" and (f.payload or {}).get("idToken") == unknown)),
        during=1.0, what="AuthorizeRequest, or a TransactionEventRequest with the idToken")


@pytest.mark.octt("TC_E_39_CS")
@pytest.mark.cb_requires("TxCtrlr", "EVConnectionTimeOut")
async def test_deauthorized_timeout(cs: Cs):
    """TC_E_39_CS: Authorized and no EV within EVConnectionTimeOut: a started transaction
    reports EVConnectTimeout (Ended with stoppedReason Timeout; Updated with
    ParkingBayOccupancy: E03.FR.05); the EV connected afterwards must not charge (a
    CablePluggedIn event is allowed, never chargingState Charging)."""
    await cs.configure("AuthCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "DisableRemoteAuthorization", "false")
    await cs.configure("TxCtrlr", "EVConnectionTimeOut", "20")
    await cs.configure("AuthCacheCtrlr", "Enabled", "false")
    await authorized(cs)
    if cs.tx_id is not None:
        parking = "ParkingBayOccupancy" in cs.points("TxStartPoint")
        subset = transaction_event(triggerReason="EVConnectTimeout",
                                   eventType="Updated" if parking else "Ended")
        if not parking:
            subset["transactionInfo"] = {"stoppedReason": "Timeout"}
        await cs.expect("TransactionEvent", subset, timeout=cs.settings.timeout + 5)
    cs.tx_id, cs.authorized = None, False
    since = len(cs.peer.log)
    await cs.act("plug_in", connector=cs.connector_id)
    await cs.expect_status("Occupied")
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "TransactionEvent" and (
            ((f.payload or {}).get("transactionInfo") or {}).get("chargingState") == "Charging"
            or (f.payload or {}).get("triggerReason") not in ("CablePluggedIn",
                                                              "MeterValuePeriodic",
                                                              "MeterValueClock")),
        during=1.0, what="TransactionEventRequest other than CablePluggedIn, or Charging")
    for frame in cs.peer.log[since:]:
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        if frame.type == "CALL" and frame.action == "TransactionEvent" and (
                payload.get("transactionInfo") or {}).get("chargingState") == "Charging":
            raise Mismatch("the EV charged after the authorization timed out",
                           "no chargingState Charging", [frame])


@pytest.mark.octt("TC_E_24_CS")
@pytest.mark.cb_requires("TxCtrlr", "StopTxOnEVSideDisconnect")
@pytest.mark.cb_requires("OCPPCommCtrlr", "UnlockOnEVSideDisconnect")
async def test_ev_side_disconnect_unlock(cs: Cs):
    """TC_E_24_CS: StopTxOnEVSideDisconnect and UnlockOnEVSideDisconnect true,
    EnergyTransferSuspended; the cable pulled at the EV: a TransactionEventRequest
    EVCommunicationLost, chargingState Idle (E09.FR.01: deauthorized); the cable unlocked and
    taken from the station: the connector Available (StatusNotificationRequest or
    NotifyEventRequest AvailabilityState). The operator's unplug is both disconnections."""
    if not await cs.configure("TxCtrlr", "StopTxOnEVSideDisconnect", "true"):
        pytest.skip("not applicable: TxCtrlr.StopTxOnEVSideDisconnect cannot be set true")
    if not await cs.configure("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "true"):
        pytest.skip("not applicable: OCPPCommCtrlr.UnlockOnEVSideDisconnect cannot be set "
                    "true")
    await charging(cs)
    await cs.act("ev_full", connector=cs.connector_id)
    await cs.expect("TransactionEvent", transaction_event(
        chargingState=one_of("SuspendedEV", "EVConnected")))
    since = len(cs.peer.log)
    await cs.act("plug_out", connector=cs.connector_id)
    await cs.expect("TransactionEvent", transaction_event(
        triggerReason="EVCommunicationLost", chargingState="Idle"))
    available = [f for f in cs.peer.log[since:] if f.type == "CALL" and (
        (f.action == "StatusNotification"
         and (f.payload or {}).get("connectorStatus") == "Available")
        or (f.action == "NotifyEvent" and any(
            d.get("actualValue") == "Available"
            for d in (f.payload or {}).get("eventData", ()))))]
    if not available:
        await cs.expect_status("Available")


#: <Configured GroupIdToken> of TC_E_45_CS
GROUP = {"idToken": "CB-GROUP-E", "type": "Central"}


@pytest.mark.octt("TC_E_45_CS")
async def test_offline_stop_same_group(cs: Cs):
    """TC_E_45_CS: <valid idtoken fields2> cached (and on the local list, if there is one)
    with the GroupIdToken; the transaction authorized by the valid idToken of that group and
    charging; offline, idToken 2 presented (same group: C09.FR.03/04, offline from the cache
    or list: C13, C15) and the EV disconnected; back online the queue is emptied: every
    event offline true (E08.FR.??), one Ended. ChargeBench holds the connection down until
    the operator is done, which part 6's RetryBackOff/OfflineThreshold settings arrange for
    a tool that cannot."""
    other = {"idToken": "CB-VALID-2-GROUP-E", "type": cs.valid["type"]}
    cached = cs.model.has("AuthCacheCtrlr") and not cs.model.unavailable("AuthCacheCtrlr")
    listed = cs.model.has("LocalAuthListCtrlr") and not cs.model.unavailable(
        "LocalAuthListCtrlr")
    if not (cached or listed):
        pytest.skip("not applicable: neither an Authorization Cache nor a Local "
                    "Authorization List")
    if not await cs.configure("AuthCtrlr", "LocalAuthorizeOffline", "true"):
        pytest.skip("not applicable: AuthCtrlr.LocalAuthorizeOffline is not true")
    if "ParkingBayOccupancy" in cs.points("TxStopPoint"):
        pytest.skip("not implemented: TxStopPoint ParkingBayOccupancy (the EV driving out "
                    "of the parking bay)")
    for idtoken in (cs.valid, other):
        cs.central.token_info[idtoken["idToken"]] = {"groupIdToken": GROUP}
    if cached:  # Memory State IdTokenCached for idToken 2: a whole session with it
        await cs.configure("AuthCacheCtrlr", "Enabled", "true")
        await ev_connected_pre_session(cs)
        await authorized(cs, idtoken=other)
        await energy_transfer_started(cs)
        await stop_authorized(cs, remote=True)
        await ev_disconnected(cs)
        cs.tx_id, cs.authorized = None, False
        cs.start = len(cs.peer.log)
    if listed:
        await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
        await cs.ask("SendLocalList", {"versionNumber": next_id(), "updateType": "Full",
                                       "localAuthorizationList": [{
                                           "idToken": other, "idTokenInfo": {
                                               "status": "Accepted", "groupIdToken": GROUP}}]},
                     {"status": "Accepted"})
    await ev_connected_pre_session(cs)
    await authorized(cs)
    await energy_transfer_started(cs)
    await go_offline(cs)
    await cs.act("present_id_tag", tag=other["idToken"], connector=cs.connector_id)
    await cs.act("plug_out", connector=cs.connector_id)
    back = await go_online(cs)
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check(types=("Ended",))
