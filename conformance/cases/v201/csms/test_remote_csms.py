"""OCPP 2.0.1 part 6 §3.7 and §3.8, F Remote Control and G Availability, with a CSMS under
test: what the CSMS sends when its operator starts a transaction, unlocks a connector,
triggers a message or changes availability, and how it takes the station's reports after."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.chargepoint import Command, params
from conformance.v201.station import CONNECTOR_ID, EVSE_ID, Station, notify_event

# F01-F04 Remote start (Tables 532-535)


def _remote_start(cs: Station) -> dict:
    return {"idToken": cs.valid_token, "remoteStartId": 1, "evseId": EVSE_ID}


async def _request_start(cs: Station, reply: dict) -> int:
    """The CSMS sends RequestStartTransaction with the configured valid token; the station
    answers `reply`; returns the remoteStartId the CSMS chose (F01.FR.25, F02.FR.01)."""
    payload = await cs.command("RequestStartTransaction", _remote_start(cs), reply,
                               {"idToken": cs.valid_token})  # fmt: skip
    return int(payload["remoteStartId"])


@pytest.mark.octt("TC_F_01_CSMS")
async def test_remote_start_cable_first(cs: Station):
    """TC_F_01_CSMS: from EVConnectedPreSession the CSMS asks to start; Accepted with the
    running transaction's id; TransactionEvent RemoteStart with the CSMS's remoteStartId,
    then EnergyTransferStarted."""
    await cs.boot()
    await cs.ev_connected_pre_session()
    assert cs.tx is not None
    remote = await _request_start(cs, {"status": "Accepted", "transactionId": cs.tx.id})
    await cs.event("Updated", "RemoteStart", remote_start_id=remote)
    cs.tx.authorized = True  # the CSMS's own token: "State is Authorized" (part 6 step 5)
    await cs.energy_transfer_started()


@pytest.mark.parametrize("authorize", [
    pytest.param(True, id="TC_F_02_CSMS", marks=pytest.mark.octt("TC_F_02_CSMS")),
    pytest.param(False, id="TC_F_03_CSMS", marks=pytest.mark.octt("TC_F_03_CSMS")),
])
async def test_remote_start_first(cs: Station, authorize: bool):
    """TC_F_02/03_CSMS: the CSMS asks to start before a cable is in; Accepted; with
    AuthorizeRemoteStart true the station authorizes the token first (Accepted); the
    transaction Started by RemoteStart, then EnergyTransferStarted (cable plugged in)."""
    await cs.boot()
    remote = await _request_start(cs, {"status": "Accepted"})
    if authorize:
        await cs.authorize()
    await cs.event("Started", "RemoteStart", remote_start_id=remote)
    assert cs.tx is not None
    cs.tx.authorized = True  # "State is Authorized and EVConnected = false" (part 6 step 5/7)
    await cs.energy_transfer_started()


@pytest.mark.octt("TC_F_04_CSMS")
async def test_remote_start_cable_timeout(cs: Station):
    """TC_F_04_CSMS: remote start Accepted and Started, but no cable comes: EVConnectTimeout
    is answered."""
    await cs.boot()
    remote = await _request_start(cs, {"status": "Accepted"})
    await cs.event("Started", "RemoteStart", remote_start_id=remote)
    await cs.event("Updated", "EVConnectTimeout")
    await cs.event("Ended", "EVConnectTimeout", stopped_reason="Timeout")


# F06 Trigger message (Tables 537-546)


def _trigger(message: str, evse: dict | None = None) -> dict:
    request: dict[str, Any] = {"requestedMessage": message}
    if evse is not None:
        request["evse"] = evse
    return request


def _sends(action: str, payload: Any) -> Any:
    """`after` step: the station sends the triggered message (payload: a dict or a function
    of the Station), which the CSMS answers."""

    async def send(cs: Station, _: dict) -> None:
        await cs.ask(action, payload(cs) if callable(payload) else payload)

    return send


def _trigger_meter_values(cs: Station) -> dict:
    return {"evseId": EVSE_ID, "meterValue": [cs.sample(None, "Trigger")]}


async def _occupied(cs: Station, *_: Any) -> None:
    await cs.notify_connector("Occupied")


async def _available(cs: Station, *_: Any) -> None:
    await cs.notify_connector("Available")


ACCEPTED = {"status": "Accepted"}
COMMANDS = [
    # F05 Unlock connector
    Command("TC_F_06_CSMS", "UnlockConnector", {"evseId": EVSE_ID, "connectorId": CONNECTOR_ID},
            {"status": "Unlocked"}),
    # F06 Trigger message
    Command("TC_F_11_CSMS", "TriggerMessage", _trigger("MeterValues", {"id": EVSE_ID}), ACCEPTED,
            after=_sends("MeterValues", _trigger_meter_values)),
    Command("TC_F_12_CSMS", "TriggerMessage", _trigger("MeterValues"), ACCEPTED,
            after=_sends("MeterValues", _trigger_meter_values)),
    Command("TC_F_15_CSMS", "TriggerMessage", _trigger("LogStatusNotification"), ACCEPTED,
            after=_sends("LogStatusNotification", {"status": "Idle"})),
    Command("TC_F_18_CSMS", "TriggerMessage", _trigger("FirmwareStatusNotification"), ACCEPTED,
            after=_sends("FirmwareStatusNotification", {"status": "Idle"})),
    Command("TC_F_20_CSMS", "TriggerMessage", _trigger("Heartbeat"), ACCEPTED,
            after=_sends("Heartbeat", {})),
    Command("TC_F_23_CSMS", "TriggerMessage",
            _trigger("StatusNotification", {"id": EVSE_ID, "connectorId": CONNECTOR_ID}),
            ACCEPTED, {"requestedMessage": "StatusNotification", "evse": {"id": EVSE_ID}},
            after=_available),
    Command("TC_F_24_CSMS", "TriggerMessage",
            _trigger("StatusNotification", {"id": EVSE_ID, "connectorId": CONNECTOR_ID}),
            ACCEPTED, {"requestedMessage": "StatusNotification", "evse": {"id": EVSE_ID}},
            before=_occupied, after=_occupied),
    Command("TC_F_27_CSMS", "TriggerMessage", _trigger("SignV2GCertificate"),
            {"status": "NotImplemented"}, {}),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cs: Station, command: Command):
    """TC_F_06/11/12/15/18/20/23/24/27_CSMS: the CSMS sends the command as asked (part 6's
    tool validations) and takes the station's answer and the messages that follow."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol


@pytest.mark.parametrize("evse", [
    pytest.param(True, id="TC_F_13_CSMS", marks=pytest.mark.octt("TC_F_13_CSMS")),
    pytest.param(False, id="TC_F_14_CSMS", marks=pytest.mark.octt("TC_F_14_CSMS")),
])
async def test_trigger_transaction_event(cs: Station, evse: bool):
    """TC_F_13/14_CSMS: while charging the CSMS triggers a TransactionEvent (for EVSE 1, or
    every EVSE); the station sends it with triggerReason Trigger and a Trigger value."""
    await cs.boot()
    await cs.energy_transfer_started()
    request = _trigger("TransactionEvent", {"id": EVSE_ID} if evse else None)
    await cs.command("TriggerMessage", request, ACCEPTED)
    await cs.event("Updated", "Trigger", charging_state="Charging", evse=True, meter="Trigger")


# G Availability (Tables 547-556)


@pytest.mark.octt("TC_G_03_CSMS")
async def test_evse_inoperative(cs: Station):
    """TC_G_03_CSMS: Reusable State Unavailable for EVSE 1."""
    await cs.boot()
    await cs.unavailable(EVSE_ID)


@pytest.mark.parametrize("status, evse, connector", [
    pytest.param("Operative", EVSE_ID, None, id="TC_G_04_CSMS",
                 marks=pytest.mark.octt("TC_G_04_CSMS")),
    pytest.param("Inoperative", None, None, id="TC_G_05_CSMS",
                 marks=pytest.mark.octt("TC_G_05_CSMS")),
    pytest.param("Operative", None, None, id="TC_G_06_CSMS",
                 marks=pytest.mark.octt("TC_G_06_CSMS")),
    pytest.param("Inoperative", EVSE_ID, CONNECTOR_ID, id="TC_G_07_CSMS",
                 marks=pytest.mark.octt("TC_G_07_CSMS")),
    pytest.param("Operative", EVSE_ID, CONNECTOR_ID, id="TC_G_08_CSMS",
                 marks=pytest.mark.octt("TC_G_08_CSMS")),
])
async def test_change_availability(cs: Station, status: str, evse: int | None,
                                   connector: int | None):  # fmt: skip
    """TC_G_04-08_CSMS: ChangeAvailability of the station (evse omitted), an EVSE
    (connectorId omitted) or a connector, as asked; Accepted; the connectors report the new
    state. Back to Operative starts from Unavailable, as the case's preparation says."""
    if status == "Operative":
        await cs.boot(status="Unavailable")
    else:
        await cs.boot()
    await cs.change_availability(status, evse, connector)


@pytest.mark.parametrize("evse, connector", [
    pytest.param(EVSE_ID, None, id="TC_G_11_CSMS", marks=pytest.mark.octt("TC_G_11_CSMS")),
    pytest.param(None, None, id="TC_G_14_CSMS", marks=pytest.mark.octt("TC_G_14_CSMS")),
    pytest.param(EVSE_ID, CONNECTOR_ID, id="TC_G_17_CSMS",
                 marks=pytest.mark.octt("TC_G_17_CSMS")),
])
async def test_change_availability_while_charging(cs: Station, evse: int | None,
                                                  connector: int | None):  # fmt: skip
    """TC_G_11/14/17_CSMS: ChangeAvailability Inoperative while charging is Scheduled; the
    session ends (StopAuthorized, EVConnectedPostSession, EVDisconnected) and only then the
    connector reports Unavailable."""
    await cs.boot()
    await cs.energy_transfer_started()
    await cs.change_availability("Inoperative", evse, connector, reply="Scheduled")
    await cs.stop_authorized()
    await cs.ev_connected_post_session()
    await cs.ev_disconnected()
    await cs.notify_connector("Unavailable")


@pytest.mark.octt("TC_G_20_CSMS")
async def test_lock_failure(cs: Station):
    """TC_G_20_CSMS: NotifyEvent Delta of ConnectorPlugRetentionLock.Problem true is
    answered."""
    await cs.boot()
    await cs.ask("NotifyEvent", notify_event("true", 7, component="ConnectorPlugRetentionLock",
                                             variable="Problem"))
