"""OCPP 2.0.1 part 6 §2.7, F Remote Control, with a Charging Station under test."""

from __future__ import annotations

import pytest

from conformance.expect import Mismatch
from conformance.v201.states import (
    Cs,
    authorized,
    charging,
    energy_transfer_started,
    ev_connected_pre_session,
    stop_authorized,
)

TRIGGERED = {"sampledValue": [{"context": "Trigger"}]}


@pytest.mark.octt("TC_F_01_CS")
async def test_remote_start_cable_first(cs: Cs):
    """TC_F_01_CS: EVConnectedPreSession, Authorized (remote), EnergyTransferStarted
    (F01.FR.01..)."""
    await ev_connected_pre_session(cs)
    await authorized(cs, remote=True)
    await energy_transfer_started(cs)
    cs.check_sequence()


async def _remote_first(cs: Cs, authorize_remote_start: str) -> None:
    await cs.configure("AuthCtrlr", "AuthorizeRemoteStart", authorize_remote_start)
    await authorized(cs, remote=True)
    await energy_transfer_started(cs)
    cs.check_sequence()


@pytest.mark.octt("TC_F_02_CS")
async def test_remote_start_first_authorize(cs: Cs):
    """TC_F_02_CS: AuthorizeRemoteStart true: RequestStartTransaction, AuthorizeRequest
    (F02.FR.08..), then the EV connected and charging."""
    await _remote_first(cs, "true")


@pytest.mark.octt("TC_F_03_CS")
async def test_remote_start_first_no_authorize(cs: Cs):
    """TC_F_03_CS: AuthorizeRemoteStart false: no AuthorizeRequest needed (F02.FR.10)."""
    await _remote_first(cs, "false")


@pytest.mark.octt("TC_F_04_CS")
@pytest.mark.cb_requires("TxCtrlr", "EVConnectionTimeOut")
async def test_remote_start_cable_timeout(cs: Cs):
    """TC_F_04_CS: remote start, no EV within EVConnectionTimeOut: with the transaction
    started (TxStartPoint Authorized or ParkingBayOccupancy) it ends with triggerReason
    EVConnectTimeout (E03.FR.05); the EVSE takes another remote start."""
    await cs.configure("TxCtrlr", "EVConnectionTimeOut", "20")
    await authorized(cs, remote=True)
    if cs.tx_id is not None:
        await cs.expect("TransactionEvent", {
            "eventType": "Ended", "triggerReason": "EVConnectTimeout",
            "transactionInfo": {"transactionId": cs.tx_id}}, timeout=cs.settings.timeout + 5)
    else:
        await cs.expect_nothing("TransactionEvent", during=2.0)
    cs.tx_id = None
    await authorized(cs, remote=True)


@pytest.mark.octt("TC_F_05_CS")
async def test_unlock_with_transaction(cs: Cs):
    """TC_F_05_CS: UnlockConnector during an authorized transaction:
    OngoingAuthorizedTransaction (F05.FR.02)."""
    await charging(cs)
    await cs.ask("UnlockConnector", {"evseId": cs.evse_id, "connectorId": cs.connector_id},
                 {"status": "OngoingAuthorizedTransaction"})


@pytest.mark.octt("TC_F_06_CS")
async def test_unlock_without_transaction(cs: Cs):
    """TC_F_06_CS: UnlockConnector with no transaction: Unlocked (F05.FR.04)."""
    await cs.ask("UnlockConnector", {"evseId": cs.evse_id, "connectorId": cs.connector_id},
                 {"status": "Unlocked"})


@pytest.mark.octt("TC_F_07_CS")
async def test_unlock_no_cable(cs: Cs):
    """TC_F_07_CS: UnlockConnector with no cable connected: Unlocked."""
    await cs.ask("UnlockConnector", {"evseId": cs.evse_id, "connectorId": cs.connector_id},
                 {"status": "Unlocked"})


@pytest.mark.octt("TC_F_10_CS")
async def test_unlock_unknown_connector(cs: Cs):
    """TC_F_10_CS: UnlockConnector on connector 999: UnknownConnector (F05.FR.06)."""
    await cs.ask("UnlockConnector", {"evseId": cs.evse_id, "connectorId": 999},
                 {"status": "UnknownConnector"})


@pytest.mark.octt("TC_F_08_CS")
async def test_remote_stop(cs: Cs):
    """TC_F_08_CS: EnergyTransferStarted, StopAuthorized (remote): Accepted, RemoteStop
    (F03.FR.02..)."""
    await charging(cs)
    await stop_authorized(cs, remote=True)
    cs.check_sequence()


@pytest.mark.octt("TC_F_09_CS")
async def test_remote_stop_rejected(cs: Cs):
    """TC_F_09_CS: RequestStopTransaction for another transactionId: Rejected (F03.FR.08)."""
    await charging(cs)
    await cs.ask("RequestStopTransaction", {"transactionId": "CB-NO-SUCH-TRANSACTION"},
                 {"status": "Rejected"})


async def _trigger(cs: Cs, message: str, evse: dict | None = None,
                   status: object = "Accepted") -> dict:
    payload: dict = {"requestedMessage": message}
    if evse is not None:
        payload["evse"] = evse
    return await cs.ask("TriggerMessage", payload, {"status": status})


@pytest.mark.octt("TC_F_11_CS")
async def test_trigger_meter_values_evse(cs: Cs):
    """TC_F_11_CS: TriggerMessage MeterValues for the EVSE: MeterValuesRequest of that EVSE,
    context Trigger (F06.FR.06)."""
    await _trigger(cs, "MeterValues", {"id": cs.evse_id})
    await cs.expect("MeterValues", {"evseId": cs.evse_id, "meterValue": [TRIGGERED]})


@pytest.mark.octt("TC_F_12_CS")
async def test_trigger_meter_values_all(cs: Cs):
    """TC_F_12_CS: TriggerMessage MeterValues without evse: one MeterValuesRequest per EVSE,
    context Trigger."""
    await _trigger(cs, "MeterValues")
    await cs.expect("MeterValues", {"meterValue": [TRIGGERED]})


async def _trigger_event(cs: Cs, evse: dict | None) -> None:
    await charging(cs)
    await _trigger(cs, "TransactionEvent", evse)
    event = await cs.expect("TransactionEvent", {
        "triggerReason": "Trigger", "transactionInfo": {"chargingState": "Charging"},
        "meterValue": [TRIGGERED]})
    if evse is not None and event.get("evse", {}).get("id", cs.evse_id) != cs.evse_id:
        raise Mismatch(f"evse {event['evse']}: omitted or {cs.evse_id} expected")


@pytest.mark.octt("TC_F_13_CS")
async def test_trigger_transaction_event_evse(cs: Cs):
    """TC_F_13_CS: TriggerMessage TransactionEvent for the EVSE: triggerReason Trigger,
    chargingState Charging, meterValue context Trigger (F06.FR.07?)."""
    await _trigger_event(cs, {"id": cs.evse_id})


@pytest.mark.octt("TC_F_14_CS")
async def test_trigger_transaction_event_all(cs: Cs):
    """TC_F_14_CS: TriggerMessage TransactionEvent without evse: one per transaction."""
    await _trigger_event(cs, None)


@pytest.mark.octt("TC_F_15_CS")
async def test_trigger_log_status_idle(cs: Cs):
    """TC_F_15_CS: TriggerMessage LogStatusNotification while idle: Accepted, status Idle
    (F06.FR.?)."""
    await _trigger(cs, "LogStatusNotification")
    await cs.expect("LogStatusNotification", {"status": "Idle"})


@pytest.mark.octt("TC_F_18_CS")
async def test_trigger_firmware_status_idle(cs: Cs):
    """TC_F_18_CS: TriggerMessage FirmwareStatusNotification while idle: status Idle."""
    await _trigger(cs, "FirmwareStatusNotification")
    await cs.expect("FirmwareStatusNotification", {"status": "Idle"})


@pytest.mark.octt("TC_F_17_CS")
async def test_trigger_firmware_status_evse(cs: Cs):
    """TC_F_17_CS: FirmwareStatusNotification with an evse (not relevant to it): the station
    ignores the evse (F06.FR.?): Accepted, status Idle."""
    await _trigger(cs, "FirmwareStatusNotification", {"id": cs.evse_id})
    await cs.expect("FirmwareStatusNotification", {"status": "Idle"})


@pytest.mark.octt("TC_F_20_CS")
async def test_trigger_heartbeat(cs: Cs):
    """TC_F_20_CS: TriggerMessage Heartbeat: Accepted, HeartbeatRequest (F06.FR.04)."""
    await _trigger(cs, "Heartbeat")
    await cs.expect("Heartbeat")


@pytest.mark.octt("TC_F_23_CS")
async def test_trigger_status_available(cs: Cs):
    """TC_F_23_CS: TriggerMessage StatusNotification for the connector: Available."""
    await _trigger(cs, "StatusNotification", {"id": cs.evse_id,
                                              "connectorId": cs.connector_id})
    await cs.expect_status("Available")


@pytest.mark.octt("TC_F_24_CS")
async def test_trigger_status_occupied(cs: Cs):
    """TC_F_24_CS: EVConnectedPreSession, TriggerMessage StatusNotification: Occupied."""
    await ev_connected_pre_session(cs)
    await _trigger(cs, "StatusNotification", {"id": cs.evse_id,
                                              "connectorId": cs.connector_id})
    await cs.expect_status("Occupied")


@pytest.mark.octt("TC_F_26_CS")
async def test_trigger_boot_rejected(cs: Cs):
    """TC_F_26_CS: TriggerMessage BootNotification once Accepted: Rejected (F06.FR.17)."""
    await _trigger(cs, "BootNotification", status="Rejected")


@pytest.mark.octt("TC_F_27_CS")
async def test_trigger_not_implemented(cs: Cs):
    """TC_F_27_CS: TriggerMessage of a message the station does not implement
    (SignCombinedCertificate): NotImplemented (F06.FR.08)."""
    await _trigger(cs, "SignCombinedCertificate", status="NotImplemented")


