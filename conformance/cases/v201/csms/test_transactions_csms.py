"""OCPP 2.0.1 part 6 §3.6 and §3.11, E Transactions and J MeterValues, with a CSMS under test:
the station runs sessions through the reusable states of §3.18 and the CSMS must answer every
TransactionEvent (with the token's idTokenInfo where one is sent)."""

from __future__ import annotations

import pytest

from conformance.chargepoint import at
from conformance.expect import one_of
from conformance.v201.station import EVSE_ID, Station, absent

ACCEPTED = {"idTokenInfo": {"status": "Accepted"}}


# E01 Start transaction options (Tables 505, 506, 514-517)


@pytest.mark.parametrize("state", [
    pytest.param("SuspendedEVSE", id="TC_E_01_CSMS", marks=pytest.mark.octt("TC_E_01_CSMS")),
    pytest.param("Charging", id="TC_E_02_CSMS", marks=pytest.mark.octt("TC_E_02_CSMS")),
])
async def test_start_on_power_path_or_energy(cs: Station, state: str):
    """TC_E_01/02_CSMS (TxStartPoint PowerPathClosed / EnergyTransfer): Authorize Accepted,
    connector Occupied, then the transaction Started by ChargingStateChanged with the token:
    Accepted (E01.FR.05/06); PowerPathClosed then moves on to Charging."""
    await cs.boot()
    await cs.authorize()
    await cs.notify_connector("Occupied")
    await cs.event("Started", "ChargingStateChanged", charging_state=state,
                   token=cs.valid_token, expect=ACCEPTED)
    if state != "Charging":
        await cs.event("Updated", "ChargingStateChanged", charging_state="Charging")


@pytest.mark.octt("TC_E_03_CSMS")
async def test_cable_plugin_first(cs: Station):
    """TC_E_03_CSMS: EVConnectedPreSession, Authorized, EnergyTransferStarted (E02.FR.02)."""
    await cs.boot()
    await cs.ev_connected_pre_session()
    await cs.authorized()
    await cs.energy_transfer_started()


@pytest.mark.octt("TC_E_04_CSMS")
async def test_authorization_first(cs: Station):
    """TC_E_04_CSMS: Authorized, then EnergyTransferStarted (E03.FR.02)."""
    await cs.boot()
    await cs.authorized()
    await cs.energy_transfer_started()


@pytest.mark.octt("TC_E_09_CSMS")
async def test_start_on_ev_connected(cs: Station):
    """TC_E_09_CSMS: connector Occupied, then Started by CablePluggedIn (E01.FR.02)."""
    await cs.boot()
    await cs.notify_connector("Occupied")
    await cs.event("Started", "CablePluggedIn", charging_state="EVConnected")


@pytest.mark.octt("TC_E_10_CSMS")
async def test_start_on_authorized(cs: Station):
    """TC_E_10_CSMS: Authorize Accepted, then Started by Authorized with the token: Accepted
    (E01.FR.03)."""
    await cs.boot()
    await cs.authorize()
    await cs.event("Started", "Authorized", token=cs.valid_token, expect=ACCEPTED)


@pytest.mark.octt("TC_E_11_CSMS")
async def test_start_on_data_signed(cs: Station):
    """TC_E_11_CSMS: Started by SignedDataReceived with a signed Transaction.Begin value;
    Accepted, then Charging (E01.FR.04)."""
    await cs.boot()
    await cs.authorize()
    await cs.notify_connector("Occupied")
    await cs.event("Started", "SignedDataReceived", token=cs.valid_token, expect=ACCEPTED,
                   meter="Transaction.Begin", signed=True)
    await cs.event("Updated", "ChargingStateChanged", charging_state="Charging")


@pytest.mark.octt("TC_E_12_CSMS")
async def test_start_on_parking_bay(cs: Station):
    """TC_E_12_CSMS: Started by EVDetected (ParkingBayOccupancy, E01.FR.01) is answered."""
    await cs.boot()
    await cs.event("Started", "EVDetected")


@pytest.mark.octt("TC_E_38_CSMS")
async def test_ev_not_ready(cs: Station):
    """TC_E_38_CSMS: Authorized, EVConnectedPreSession, then SuspendedEV: answered."""
    await cs.boot()
    await cs.authorized()
    await cs.ev_connected_pre_session()
    await cs.event("Updated", "ChargingStateChanged", charging_state="SuspendedEV")


@pytest.mark.octt("TC_E_53_CSMS")
async def test_seq_no_reset(cs: Station):
    """TC_E_53_CSMS: two transactions, each starting at seqNo 0 (E01.FR.07), both answered."""
    await cs.boot()
    for _ in range(2):
        await cs.energy_transfer_started()
        await cs.ev_disconnected()


# E03/E06 Stop transaction options (Tables 509-513, 519-525)


@pytest.mark.octt("TC_E_39_CSMS")
async def test_ev_connect_timeout(cs: Station):
    """TC_E_39_CSMS: Authorized, no cable within the EV connection timeout: Ended by
    EVConnectTimeout with stoppedReason Timeout (E03.FR.04/05)."""
    await cs.boot()
    await cs.authorized()
    await cs.event("Ended", "EVConnectTimeout", stopped_reason="Timeout")


@pytest.mark.octt("TC_E_14_CSMS")
async def test_ev_disconnected_station_side(cs: Station):
    """TC_E_14_CSMS: from EVConnectedPostSession, EVDisconnected (E06.FR.02)."""
    await cs.boot()
    await cs.ev_connected_post_session()
    await cs.ev_disconnected()


@pytest.mark.octt("TC_E_20_CSMS")
async def test_ev_disconnected_ev_side(cs: Station):
    """TC_E_20_CSMS: from EnergyTransferSuspended, EVDisconnected (E06.FR.02)."""
    await cs.boot()
    await cs.energy_transfer_suspended()
    await cs.ev_disconnected()


@pytest.mark.parametrize("case", [
    pytest.param("TC_E_15_CSMS", id="TC_E_15_CSMS", marks=pytest.mark.octt("TC_E_15_CSMS")),
    pytest.param("TC_E_07_CSMS", id="TC_E_07_CSMS", marks=pytest.mark.octt("TC_E_07_CSMS")),
])
async def test_stop_authorized_local(cs: Station, case: str):
    """TC_E_15/07_CSMS (TxStopPoint Authorized / PowerPathClosed): from EnergyTransferStarted,
    Ended by StopAuthorized with stoppedReason Local (E06.FR.03/06)."""
    await cs.boot()
    await cs.energy_transfer_started()
    await cs.event("Ended", "StopAuthorized", stopped_reason="Local")


@pytest.mark.octt("TC_E_21_CSMS")
async def test_stop_authorized_remote(cs: Station):
    """TC_E_21_CSMS: the CSMS sends RequestStopTransaction with the running transaction's id
    (F03.FR.01); Accepted; Ended by RemoteStop, stoppedReason Remote."""
    await cs.boot()
    await cs.energy_transfer_started()
    assert cs.tx is not None
    await cs.command("RequestStopTransaction", {"transactionId": cs.tx.id},
                     {"status": "Accepted"})
    await cs.event("Ended", "RemoteStop", stopped_reason="Remote")


@pytest.mark.octt("TC_E_08_CSMS")
async def test_stop_on_energy_transfer_stopped(cs: Station):
    """TC_E_08_CSMS (TxStopPoint EnergyTransfer): from StopAuthorized, Ended by
    ChargingStateChanged to EVConnected, stoppedReason Local (E06.FR.07)."""
    await cs.boot()
    await cs.stop_authorized()
    await cs.event("Ended", "ChargingStateChanged", charging_state="EVConnected",
                   stopped_reason="Local")


@pytest.mark.octt("TC_E_16_CSMS")
async def test_deauthorized_invalid_token(cs: Station):
    """TC_E_16_CSMS: Started by Authorized with the invalid token is answered Invalid or
    Unknown (E01.FR.11/12); Ended by Deauthorized, DeAuthorized (E06.FR.04)."""
    await cs.boot()
    await cs.event("Started", "Authorized", token=cs.invalid_token(),
                   expect={"idTokenInfo": {"status": one_of("Invalid", "Unknown")}})
    await cs.event("Ended", "Deauthorized", stopped_reason="DeAuthorized")


@pytest.mark.octt("TC_E_17_CSMS")
async def test_deauthorized_ev_side_disconnect(cs: Station):
    """TC_E_17_CSMS: from EnergyTransferSuspended, Ended by EVCommunicationLost, Idle,
    EVDisconnected (E06.FR.04)."""
    await cs.boot()
    await cs.energy_transfer_suspended()
    await cs.event("Ended", "EVCommunicationLost", charging_state="Idle",
                   stopped_reason="EVDisconnected")


@pytest.mark.octt("TC_E_22_CSMS")
async def test_stopped_by_ev(cs: Station):
    """TC_E_22_CSMS: from EnergyTransferStarted, Ended by ChargingStateChanged to
    SuspendedEV, stoppedReason StoppedByEV (E06.FR.07)."""
    await cs.boot()
    await cs.energy_transfer_started()
    await cs.event("Ended", "ChargingStateChanged", charging_state="SuspendedEV",
                   stopped_reason="StoppedByEV")


@pytest.mark.octt("TC_E_19_CSMS")
async def test_parking_bay_unoccupied(cs: Station):
    """TC_E_19_CSMS (TxStopPoint ParkingBayOccupancy): after EVDisconnected the transaction
    runs on; Ended by EVDeparted, stoppedReason Local (E06.FR.01)."""
    await cs.boot()
    await cs.energy_transfer_started()
    await cs.stop_authorized()
    await cs.ev_connected_post_session()
    await cs.notify_connector("Available")
    await cs.event("Updated", "EVCommunicationLost", charging_state="Idle")
    await cs.event("Ended", "EVDeparted", stopped_reason="Local")


@pytest.mark.octt("TC_E_26_CSMS")
async def test_cable_disconnected_suspends(cs: Station):
    """TC_E_26_CSMS: from EnergyTransferSuspended the cable is pulled on the EV side (the
    transaction goes on: E10.FR.01): Idle, connector Available, plugged in again, Charging."""
    await cs.boot()
    await cs.energy_transfer_suspended()
    await cs.event("Updated", "EVCommunicationLost", charging_state="Idle")
    await cs.notify_connector("Available")
    await cs.event("Updated", "CablePluggedIn", charging_state="EVConnected")
    await cs.event("Updated", "ChargingStateChanged", charging_state="Charging")


# E14 Check transaction status (Tables 526-530)


async def _offline(cs: Station) -> None:
    """"The OCTT closes the WebSocket connection", waits, and reconnects (no new boot: a
    reconnect is not a reboot)."""
    await cs.reconnect()
    cs.peer.booted.set()


@pytest.mark.parametrize("queued", [
    pytest.param(True, id="TC_E_29_CSMS", marks=pytest.mark.octt("TC_E_29_CSMS")),
    pytest.param(False, id="TC_E_30_CSMS", marks=pytest.mark.octt("TC_E_30_CSMS")),
])
async def test_transaction_status_ongoing(cs: Station, queued: bool):
    """TC_E_29/30_CSMS: the CSMS sends GetTransactionStatus with the running transaction's
    id (E14.FR.02); the station answers ongoing, with or without messages in queue, and
    then delivers the queued offline event."""
    await cs.boot()
    await cs.energy_transfer_started()
    assert cs.tx is not None
    if queued:
        await _offline(cs)
    await cs.command("GetTransactionStatus", {"transactionId": cs.tx.id},
                     {"ongoingIndicator": True, "messagesInQueue": queued})
    if queued:
        await cs.event("Updated", "MeterValuePeriodic", meter="Sample.Periodic", offline=True)


@pytest.mark.octt("TC_E_31_CSMS")
async def test_transaction_status_ended_with_queue(cs: Station):
    """TC_E_31_CSMS: offline the transaction ended; its Ended event arrives first with two
    seqNo skipped, the CSMS asks GetTransactionStatus for it (E14.FR.03) and the two missing
    events follow (E14.FR.04)."""
    await cs.boot()
    await cs.energy_transfer_started()
    tx = cs.tx
    assert tx is not None
    await _offline(cs)
    await cs.ask("StatusNotification", {"timestamp": at(), "connectorStatus": "Available",
                                        "evseId": EVSE_ID, "connectorId": 1})
    skipped = tx.seq
    tx.seq += 2
    await cs.event("Ended", "EVCommunicationLost", charging_state="Idle", offline=True,
                   stopped_reason="EVDisconnected", tx=tx)
    await cs.command("GetTransactionStatus", {"transactionId": tx.id},
                     {"ongoingIndicator": False, "messagesInQueue": True})
    tx.seq = skipped
    await cs.event("Updated", "StopAuthorized", offline=True, tx=tx)
    await cs.event("Updated", "ChargingStateChanged", charging_state="EVConnected",
                   offline=True, tx=tx)


@pytest.mark.parametrize("queued", [
    pytest.param(True, id="TC_E_33_CSMS", marks=pytest.mark.octt("TC_E_33_CSMS")),
    pytest.param(False, id="TC_E_34_CSMS", marks=pytest.mark.octt("TC_E_34_CSMS")),
])
async def test_transaction_status_without_id(cs: Station, queued: bool):
    """TC_E_33/34_CSMS: GetTransactionStatus without a transactionId (E14.FR.06): the
    station answers whether messages are queued, with no ongoingIndicator (E14.FR.07/08)."""
    await cs.boot()
    if queued:
        await cs.energy_transfer_started()
        await _offline(cs)
    await cs.command("GetTransactionStatus", {}, {"messagesInQueue": queued},
                     {"transactionId": absent})
    if queued:
        await cs.event("Updated", "MeterValuePeriodic", meter="Sample.Periodic", offline=True)


# J Meter values (Tables 568-576)


def _aligned(seconds: int, rounds: int = 3) -> list[str]:
    """Timestamps `seconds` apart (the configured clock-aligned interval), the last one now:
    the OCTT's rounds, not waited for."""
    return [at(-seconds * (rounds - 1 - n)) for n in range(rounds)]


@pytest.mark.octt("TC_J_01_CSMS")
async def test_clock_aligned_idle(cs: Station):
    """TC_J_01_CSMS: three rounds of clock-aligned values (Sample.Clock) for the main meter
    (evseId 0) and the EVSE, with the FiscalMetering Periodic events; all answered."""
    await cs.boot()
    for event_id, stamp in enumerate(_aligned(900), start=10):
        for evse in (0, EVSE_ID):
            await cs.ask("MeterValues", {"evseId": evse, "meterValue": [
                cs.sample(None, "Sample.Clock", timestamp=stamp)]})
        await cs.ask("NotifyEvent", {"generatedAt": stamp, "seqNo": 0, "tbc": False,
                                     "eventData": [{
            "eventId": event_id, "timestamp": stamp, "trigger": "Periodic",
            "actualValue": "0", "eventNotificationType": "PreconfiguredMonitor",
            "component": {"name": "FiscalMetering"}, "variable": {"name": "EnergyImport"}}]})


@pytest.mark.octt("TC_J_02_CSMS")
async def test_clock_aligned_transaction(cs: Station):
    """TC_J_02_CSMS: while charging, clock-aligned values for the main meter in MeterValues
    and for the transaction in TransactionEvent MeterValueClock (Sample.Clock)."""
    await cs.boot()
    await cs.energy_transfer_started()
    for stamp in _aligned(900):
        await cs.ask("MeterValues", {"evseId": 0, "meterValue": [
            cs.sample(None, "Sample.Clock", timestamp=stamp)]})
        await cs.event("Updated", "MeterValueClock", meter="Sample.Clock")


@pytest.mark.parametrize("context, signed", [
    pytest.param("Sample.Clock", False, id="TC_J_03_CSMS", marks=pytest.mark.octt("TC_J_03_CSMS")),
    pytest.param("Sample.Clock", True, id="TC_J_04_CSMS", marks=pytest.mark.octt("TC_J_04_CSMS")),
    pytest.param("Sample.Periodic", False, id="TC_J_10_CSMS",
                 marks=pytest.mark.octt("TC_J_10_CSMS")),
    pytest.param("Sample.Periodic", True, id="TC_J_11_CSMS",
                 marks=pytest.mark.octt("TC_J_11_CSMS")),
])
async def test_ended_meter_values(cs: Station, context: str, signed: bool):
    """TC_J_03/04/10/11_CSMS: the Ended event of EVDisconnected carries the transaction's
    values (clock-aligned or sampled, the last one Transaction.End; signed in J_04/J_11)."""
    await cs.boot()
    await cs.energy_transfer_started()
    await cs.ev_disconnected(meter=(context, context, "Transaction.End"), signed=signed)


@pytest.mark.octt("TC_J_07_CSMS")
async def test_transaction_begin_values(cs: Station):
    """TC_J_07_CSMS: EVConnectedPreSession with a Transaction.Begin value."""
    await cs.boot()
    await cs.ev_connected_pre_session(meter="Transaction.Begin")


@pytest.mark.octt("TC_J_08_CSMS")
async def test_transaction_begin_values_authorized(cs: Station):
    """TC_J_08_CSMS: Authorized, EVConnectedPreSession with a Transaction.Begin value, then
    EnergyTransferStarted."""
    await cs.boot()
    await cs.authorized()
    await cs.ev_connected_pre_session(meter="Transaction.Begin")
    await cs.energy_transfer_started()


@pytest.mark.octt("TC_J_09_CSMS")
async def test_sampled_values(cs: Station):
    """TC_J_09_CSMS: while charging, three TransactionEvent MeterValuePeriodic with
    Sample.Periodic values, each answered."""
    await cs.boot()
    await cs.energy_transfer_started()
    for _ in range(3):
        await cs.event("Updated", "MeterValuePeriodic", meter="Sample.Periodic")
