"""OCTT Core cases for a CSMS under test; ChargeBench plays the charge point.

Two kinds: sessions the charge point runs, where the CSMS's answers are the verdict (an id tag
it must refuse, a transaction it must accept), and CSMS-initiated commands, which the trigger
hook makes the CSMS send: the CALL it sends is checked, and the CSMS must keep serving the
connection after the charge point's answer, whatever it was.
"""

from __future__ import annotations

import secrets

import pytest

from conformance.chargepoint import ChargePoint, Command, at, params
from conformance.expect import one_of

pytestmark = pytest.mark.usefixtures("cb")


@pytest.mark.octt("TC_001")
async def test_cold_boot(cp: ChargePoint):
    """TC_001: BootNotification is Accepted with time and interval; StatusNotification and
    Heartbeat are answered (OCPP 1.6 §4.2, §4.6, §4.9)."""
    await cp.boot()
    await cp.still_serving()


# Sessions run by the charge point: the CSMS decides


@pytest.mark.parametrize("plug_first", [
    pytest.param(True, id="TC_003", marks=pytest.mark.octt("TC_003")),
    pytest.param(False, id="TC_004_1", marks=pytest.mark.octt("TC_004_1")),
])
async def test_regular_charging_session(cp: ChargePoint, plug_first: bool):
    """TC_003/TC_004_1: a whole session in either order is accepted: Authorize and
    StartTransaction Accepted with a transactionId, MeterValues and StopTransaction answered
    (OCPP 1.6 §4.1, §4.7-§4.10)."""
    await cp.boot()
    tx = await cp.charge(plug_first=plug_first)
    await cp.finish(tx)


@pytest.mark.octt("TC_004_2")
async def test_identification_first_connection_timeout(cp: ChargePoint):
    """TC_004_2: the driver identifies but never plugs in; the connector goes back to Available
    after ConnectionTimeOut (§9.1.7) and the CSMS takes it without a transaction."""
    await cp.boot()
    await cp.authorize()
    await cp.status(1, "Preparing")
    await cp.status(1, "Available")
    await cp.still_serving()


@pytest.mark.octt("TC_005_1")
async def test_ev_side_disconnected(cp: ChargePoint):
    """TC_005_1: the EV unplugs while charging; StopTransaction with reason EVDisconnected and
    no idTag is answered (§4.10, StopTransactionOnEVSideDisconnect §9.1.30)."""
    await cp.boot()
    tx = await cp.charge()
    await cp.status(1, "SuspendedEV")
    await cp.stop(tx, reason="EVDisconnected")
    await cp.status(1, "Finishing")
    await cp.status(1, "Available")


@pytest.mark.octt("TC_007")
async def test_cached_id_start(cp: ChargePoint):
    """TC_007: a tag from the authorization cache starts without Authorize; StartTransaction
    must still be Accepted by the CSMS (§3.5.1, §4.8)."""
    await cp.boot()
    tx = await cp.charge(authorize=False)
    await cp.finish(tx)


@pytest.mark.parametrize("kind, status", [
    pytest.param("invalid", "Invalid", id="TC_023_1", marks=pytest.mark.octt("TC_023_1")),
    pytest.param("expired", "Expired", id="TC_023_2", marks=pytest.mark.octt("TC_023_2")),
    pytest.param("blocked", "Blocked", id="TC_023_3", marks=pytest.mark.octt("TC_023_3")),
])
async def test_authorize_refused(cp: ChargePoint, cb, kind: str, status: str):
    """TC_023_1-3: the CSMS answers Authorize with the tag's own status, never Accepted, for an
    unknown, an expired and a blocked tag (§4.1, §7.2)."""
    tag = {
        "invalid": f"CB-UNKNOWN-{secrets.token_hex(4).upper()}",
        "expired": cb.capabilities.expired_id_tag,
        "blocked": cb.capabilities.blocked_id_tag,
    }[kind]
    await cp.boot()
    await cp.status(1, "Preparing")
    await cp.authorize(tag, status)
    await cp.status(1, "Available")


@pytest.mark.octt("TC_024")
async def test_lock_failure(cp: ChargePoint):
    """TC_024: the connector cannot lock after authorization: Faulted with ConnectorLockFailure,
    then Available, both taken by the CSMS, which keeps serving (§4.9, §7.6)."""
    await cp.boot()
    await cp.status(1, "Preparing")
    await cp.authorize()
    await cp.status(1, "Faulted", "ConnectorLockFailure")
    await cp.status(1, "Available")
    await cp.still_serving()


@pytest.mark.octt("TC_032_1")
async def test_power_failure_stops_transactions(cp: ChargePoint):
    """TC_032_1: power fails while charging; after the reboot the CSMS accepts the
    BootNotification and the StopTransaction with reason PowerLoss (§4.2, §4.10)."""
    await cp.boot()
    tx = await cp.charge()
    await cp.reboot()
    await cp.stop(tx, reason="PowerLoss", id_tag=cp.id_tag, timestamp=at(-1))
    await cp.still_serving()


@pytest.mark.parametrize("valid", [
    pytest.param(True, id="TC_037_1", marks=pytest.mark.octt("TC_037_1")),
    pytest.param(False, id="TC_037_3", marks=pytest.mark.octt("TC_037_3")),
])
async def test_offline_start_transaction(cp: ChargePoint, valid: bool):
    """TC_037_1/TC_037_3: a transaction started while offline is delivered after reconnecting
    (no new boot: a reconnect is not a reboot, §4.2); the CSMS judges its tag then: Accepted,
    or Invalid for an unknown one, after which the charge point stops it (DeAuthorized,
    §3.5.4, §4.8)."""
    await cp.boot()
    await cp.reconnect()
    tag = cp.id_tag if valid else f"CB-UNKNOWN-{secrets.token_hex(4).upper()}"
    tx = await cp.start(1, tag, status="Accepted" if valid else "Invalid", timestamp=at(-30))
    await cp.status(1, "Charging")
    if valid:
        await cp.finish(tx)
    else:
        await cp.stop(tx, reason="DeAuthorized")
        await cp.status(1, "Finishing")
    await cp.still_serving()


@pytest.mark.octt("TC_039")
async def test_offline_transaction(cp: ChargePoint):
    """TC_039: a whole transaction ran offline; start and stop (with its transactionData) are
    delivered late, in order, and both answered (§3.7, §4.10)."""
    await cp.boot()
    await cp.reconnect()
    tx = await cp.start(1, timestamp=at(-120))
    await cp.stop(tx, reason="Local", id_tag=cp.id_tag, timestamp=at(-60), transaction_data=True)
    await cp.status(1, "Available")
    await cp.still_serving()


@pytest.mark.octt("TC_064")
async def test_data_transfer_to_central_system(cp: ChargePoint):
    """TC_064: a DataTransfer from the charge point gets a DataTransfer.conf with a valid
    status (an unknown vendor may be UnknownVendorId, §4.3)."""
    await cp.boot()
    await cp.ask(
        "DataTransfer",
        {"vendorId": "org.chargebench.conformance", "messageId": "TC_064", "data": "ping"},
        {"status": one_of("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId")},
    )


# Remote start and stop (§5.11, §5.12)


def _remote_start(cp: ChargePoint) -> dict:
    return {"connectorId": 1, "idTag": cp.id_tag}


@pytest.mark.parametrize("plug_first", [
    pytest.param(True, id="TC_010", marks=pytest.mark.octt("TC_010")),
    pytest.param(False, id="TC_011_1", marks=pytest.mark.octt("TC_011_1")),
])
async def test_remote_start(cp: ChargePoint, plug_first: bool):
    """TC_010/TC_011_1: the CSMS sends RemoteStartTransaction with the id tag; the transaction
    the charge point then starts with it is Accepted (§5.11)."""
    await cp.boot()
    if plug_first:
        await cp.status(1, "Preparing")
    await cp.command("RemoteStartTransaction", _remote_start(cp), {"status": "Accepted"})
    if not plug_first:
        await cp.status(1, "Preparing")
    tx = await cp.start(1)
    await cp.status(1, "Charging")
    await cp.finish(tx, reason="Local")


@pytest.mark.octt("TC_011_2")
async def test_remote_start_time_out(cp: ChargePoint):
    """TC_011_2: after an accepted RemoteStartTransaction no cable comes; the connector returns
    to Available after ConnectionTimeOut and the CSMS copes (§5.11, §9.1.7)."""
    await cp.boot()
    await cp.command("RemoteStartTransaction", _remote_start(cp), {"status": "Accepted"})
    await cp.status(1, "Preparing")
    await cp.status(1, "Available")
    await cp.still_serving()


@pytest.mark.parametrize("answer", [
    pytest.param("Accepted", id="TC_012", marks=pytest.mark.octt("TC_012")),
    pytest.param("Rejected", id="TC_028", marks=pytest.mark.octt("TC_028")),
])
async def test_remote_stop(cp: ChargePoint, answer: str):
    """TC_012/TC_028: the CSMS sends RemoteStopTransaction with the running transaction's id;
    Accepted ends it (reason Remote), Rejected leaves it running and the CSMS copes (§5.12)."""
    await cp.boot()
    tx = await cp.charge()
    await cp.command("RemoteStopTransaction", {"transactionId": tx}, {"status": answer})
    if answer == "Accepted":
        await cp.stop(tx, reason="Remote", id_tag=cp.id_tag)
        await cp.status(1, "Finishing")
    else:
        await cp.still_serving()
        await cp.finish(tx)


@pytest.mark.parametrize("kind", [
    pytest.param("Hard", id="TC_013", marks=pytest.mark.octt("TC_013")),
    pytest.param("Soft", id="TC_014", marks=pytest.mark.octt("TC_014")),
])
async def test_reset_without_transaction(cp: ChargePoint, kind: str):
    """TC_013/TC_014: the CSMS sends Reset of the asked type; the charge point reboots and its
    new BootNotification is Accepted (§5.14, §4.2)."""
    await cp.boot()
    await cp.command("Reset", {"type": kind}, {"status": "Accepted"})
    await cp.reboot()
    await cp.still_serving()


@pytest.mark.octt("TC_018_1")
async def test_unlock_connector_with_session(cp: ChargePoint):
    """TC_018_1: UnlockConnector during a transaction: the charge point stops it with reason
    UnlockCommand, which the CSMS accepts (§5.18, §4.10)."""
    await cp.boot()
    tx = await cp.charge()
    await cp.command("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"})
    await cp.stop(tx, reason="UnlockCommand", id_tag=cp.id_tag)
    await cp.status(1, "Finishing")
    await cp.status(1, "Available")


async def _reports_all(cp: ChargePoint, command: dict) -> None:
    assert not command.get("key"), f"expected GetConfiguration without keys; got {command}"


# Commands whose answer the CSMS must take: sent, answered, connection still served

COMMANDS = [
    # §5.18 UnlockConnector
    Command("TC_017_1", "UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
    Command("TC_017_2", "UnlockConnector", {"connectorId": 1}, {"status": "NotSupported"}),
    Command("TC_030", "UnlockConnector", {"connectorId": 1}, {"status": "UnlockFailed"}),
    Command("TC_031", "UnlockConnector", {"connectorId": 2}, {"status": "NotSupported"}),
    # §5.8 GetConfiguration
    Command("TC_019_1", "GetConfiguration", {}, {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
    ]}, after=_reports_all),
    Command("TC_019_2", "GetConfiguration", {"key": ["MeterValueSampleInterval"]},
            {"configurationKey": [
                {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"}]}),
    # §5.3 ChangeConfiguration
    Command("TC_021", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"},
            {"status": "Accepted"}),
    Command("TC_040_1", "ChangeConfiguration", {"key": "CbNoSuchKey", "value": "1"},
            {"status": "NotSupported"}),
    Command("TC_040_2", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "-1"},
            {"status": "Rejected"}),
    # §5.11 RemoteStartTransaction refused
    Command("TC_026", "RemoteStartTransaction", _remote_start, {"status": "Rejected"}),
    # §5.4 ClearCache
    Command("TC_061", "ClearCache", {}, {"status": "Accepted"}),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cp: ChargePoint, command: Command):
    """TC_017_1/2, TC_019_1/2, TC_021, TC_026, TC_030, TC_031, TC_040_1/2, TC_061: the CSMS
    sends the command as asked and takes the charge point's answer, refusals included."""
    await command.run(cp)
