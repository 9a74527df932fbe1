"""OCTT cases of the optional feature profiles for a CSMS under test (Firmware Management,
Local Auth List Management, Reservation, Remote Trigger, Smart Charging, OCPP 1.6 §5); ChargeBench
plays the charge point. The trigger hook makes the CSMS send each command; the CALL is checked
and the CSMS must take the answer and what the charge point reports afterwards."""

from __future__ import annotations

import pytest

from conformance.chargepoint import ChargePoint, Command, at, notifications, params
from conformance.expect import an_int, present

pytestmark = pytest.mark.usefixtures("cb")

FTP = "ftp://conformance.chargebench.invalid/"


async def _faulted(cp: ChargePoint) -> None:
    await cp.status(1, "Faulted", "OtherError")


async def _occupied(cp: ChargePoint) -> None:
    await cp.status(1, "Preparing")


async def _unavailable(cp: ChargePoint) -> None:
    await cp.status(1, "Unavailable")


def _reserve(cp: ChargePoint, connector: int = 1) -> dict:
    # 1.6 §5.13: the reservationId is the CSMS's to allocate; the trigger proposes one
    return {"connectorId": connector, "expiryDate": at(3600), "idTag": cp.id_tag,
            "reservationId": 1}  # fmt: skip


RESERVE_EXPECT = {"connectorId": 1, "expiryDate": present, "reservationId": an_int}

TX_DEFAULT = {
    "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute", "chargingSchedule": {
        "startSchedule": at(-60), "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    },
}  # fmt: skip


def _tx_profile(transaction_id: int | None = None) -> dict:
    profile = {
        "chargingProfileId": 2, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6000.0}],
        },
    }  # fmt: skip
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


COMMANDS = [
    # Firmware Management: §5.19 UpdateFirmware, §4.5; §5.9 GetDiagnostics, §4.4
    Command("TC_044_2", "UpdateFirmware", {"location": FTP + "fw.bin", "retrieveDate": at()}, {},
            after=notifications("FirmwareStatusNotification", "Downloading", "DownloadFailed")),
    Command("TC_044_3", "UpdateFirmware", {"location": FTP + "fw.bin", "retrieveDate": at()}, {},
            after=notifications("FirmwareStatusNotification", "Downloading", "Downloaded",
                                "Installing", "InstallationFailed")),
    Command("TC_045_1", "GetDiagnostics", {"location": FTP}, {"fileName": "diagnostics.log"},
            after=notifications("DiagnosticsStatusNotification", "Uploading", "Uploaded")),
    # Local Auth List Management: §5.10 GetLocalListVersion, §5.15 SendLocalList
    Command("TC_042_1", "GetLocalListVersion", {}, {"listVersion": -1}),
    Command("TC_042_2", "GetLocalListVersion", {}, {"listVersion": 0}),
    Command("TC_043_1", "SendLocalList", {"listVersion": 1, "updateType": "Full"},
            {"status": "NotSupported"}),
    Command("TC_043_3", "SendLocalList", {"listVersion": 1, "updateType": "Full"},
            {"status": "Failed"}),
    Command("TC_043_4", "SendLocalList", lambda cp: {
        "listVersion": 1, "updateType": "Full",
        "localAuthorizationList": [{"idTag": cp.id_tag, "idTagInfo": {"status": "Accepted"}}],
    }, {"status": "Accepted"}),
    Command("TC_043_5", "SendLocalList", lambda cp: {
        "listVersion": 2, "updateType": "Differential",
        "localAuthorizationList": [{"idTag": cp.cb.capabilities.blocked_id_tag,
                                    "idTagInfo": {"status": "Blocked"}}],
    }, {"status": "Accepted"}),
    # Reservation: §5.13 ReserveNow refused, §5.1 CancelReservation refused
    Command("TC_048_1", "ReserveNow", _reserve, {"status": "Faulted"}, RESERVE_EXPECT,
            before=_faulted),
    Command("TC_048_2", "ReserveNow", _reserve, {"status": "Occupied"}, RESERVE_EXPECT,
            before=_occupied),
    Command("TC_048_3", "ReserveNow", _reserve, {"status": "Unavailable"}, RESERVE_EXPECT,
            before=_unavailable),
    Command("TC_048_4", "ReserveNow", _reserve, {"status": "Rejected"}, RESERVE_EXPECT),
    Command("TC_052", "CancelReservation", {"reservationId": 424242}, {"status": "Rejected"}),
    # Remote Trigger: §5.17 refused
    Command("TC_055", "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1},
            {"status": "Rejected"}),
    # Smart Charging: §5.16.4 default profile, §5.7 composite schedule, §5.5 clear
    Command("TC_056", "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": TX_DEFAULT},
            {"status": "Accepted"}),
    Command("TC_066", "GetCompositeSchedule", {"connectorId": 1, "duration": 3600}, {
        "status": "Accepted", "connectorId": 1, "scheduleStart": at(), "chargingSchedule": {
            "duration": 3600, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }),
    Command("TC_067", "ClearChargingProfile", {"id": 1}, {"status": "Accepted"}),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cp: ChargePoint, command: Command):
    """TC_042-045, TC_048, TC_052, TC_055, TC_056, TC_066, TC_067: the CSMS sends the command
    as asked, takes the answer (refusals included) and the progress the charge point reports."""
    await command.run(cp)


@pytest.mark.octt("TC_044_1")
async def test_firmware_update(cp: ChargePoint):
    """TC_044_1: UpdateFirmware, then Downloading, Downloaded, Installing, a reboot with an
    Accepted BootNotification, and Installed, each answered (§5.19, §4.5)."""
    await cp.boot()
    request = {"location": FTP + "fw.bin", "retrieveDate": at(), "retries": 1}
    await cp.command("UpdateFirmware", request, {})
    for status in ("Downloading", "Downloaded", "Installing"):
        await cp.ask("FirmwareStatusNotification", {"status": status})
    await cp.reboot()
    await cp.ask("FirmwareStatusNotification", {"status": "Installed"})


# Reservation (§5.13, §5.1, §4.8 reservationId)


@pytest.mark.parametrize("connector", [
    pytest.param(1, id="TC_046", marks=pytest.mark.octt("TC_046")),
    pytest.param(0, id="TC_049", marks=pytest.mark.octt("TC_049")),
])
async def test_reservation_used_by_transaction(cp: ChargePoint, connector: int):
    """TC_046/TC_049: ReserveNow for a connector (or the whole charge point, connectorId 0) is
    Accepted; the reserved tag then starts a transaction with the reservationId the CSMS
    allocated, and the CSMS accepts it (§5.13, §4.8)."""
    await cp.boot()
    reservation = await cp.command(
        "ReserveNow", _reserve(cp, connector), {"status": "Accepted"},
        {**RESERVE_EXPECT, "connectorId": connector},
    )
    if connector:
        await cp.status(connector, "Reserved")
    await cp.status(1, "Preparing")
    await cp.authorize()
    tx = await cp.start(1, reservationId=reservation["reservationId"])
    await cp.status(1, "Charging")
    await cp.finish(tx)


@pytest.mark.octt("TC_047")
async def test_reservation_expires(cp: ChargePoint):
    """TC_047: an accepted reservation expires; the connector returns to Available and the
    CSMS takes it (§5.13)."""
    await cp.boot()
    await cp.command("ReserveNow", _reserve(cp), {"status": "Accepted"}, RESERVE_EXPECT)
    await cp.status(1, "Reserved")
    await cp.status(1, "Available")
    await cp.still_serving()


@pytest.mark.octt("TC_051")
async def test_cancel_reservation(cp: ChargePoint):
    """TC_051: CancelReservation carries the reservationId the CSMS gave in ReserveNow; the
    connector is Available again (§5.1)."""
    await cp.boot()
    reservation = await cp.command(
        "ReserveNow", _reserve(cp), {"status": "Accepted"}, RESERVE_EXPECT
    )
    await cp.status(1, "Reserved")
    rid = reservation["reservationId"]
    await cp.command("CancelReservation", {"reservationId": rid}, {"status": "Accepted"})
    await cp.status(1, "Available")
    await cp.still_serving()


# Remote Trigger (§5.17)


@pytest.mark.octt("TC_054")
async def test_trigger_message(cp: ChargePoint):
    """TC_054: TriggerMessage for each message a charge point can be asked for; the triggered
    message that follows is answered by the CSMS (§5.17)."""
    await cp.boot()
    triggered = {
        "MeterValues": lambda: cp.meter_values(1),
        "Heartbeat": cp.still_serving,
        "StatusNotification": lambda: cp.status(1, "Available"),
        "DiagnosticsStatusNotification": lambda: cp.ask(
            "DiagnosticsStatusNotification", {"status": "Idle"}),
        "FirmwareStatusNotification": lambda: cp.ask(
            "FirmwareStatusNotification", {"status": "Idle"}),
        "BootNotification": cp.boot,
    }  # fmt: skip
    for message, send in triggered.items():
        request = {"requestedMessage": message}
        if message in ("MeterValues", "StatusNotification"):
            request["connectorId"] = 1
        await cp.command("TriggerMessage", request, {"status": "Accepted"})
        await send()


# Smart Charging (§5.16)


@pytest.mark.octt("TC_057")
async def test_tx_profile(cp: ChargePoint):
    """TC_057: during a transaction the CSMS sends a TxProfile bound to its transactionId
    (§5.16.3); the charge point applies it and the session ends normally."""
    await cp.boot()
    tx = await cp.charge()
    request = {"connectorId": 1, "csChargingProfiles": _tx_profile(tx)}
    await cp.command("SetChargingProfile", request, {"status": "Accepted"})
    await cp.meter_values(1, tx)
    await cp.finish(tx)


@pytest.mark.octt("TC_059")
async def test_remote_start_with_charging_profile(cp: ChargePoint):
    """TC_059: RemoteStartTransaction carries a TxProfile without transactionId (§5.16.2); the
    transaction it starts is Accepted."""
    await cp.boot()
    request = {"connectorId": 1, "idTag": cp.id_tag, "chargingProfile": _tx_profile()}
    expect = {**request, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}}
    payload = await cp.command("RemoteStartTransaction", request, {"status": "Accepted"}, expect)
    assert "transactionId" not in payload["chargingProfile"], (
        f"expected no transactionId in RemoteStartTransaction's profile (§5.16.2); got {payload}"
    )
    await cp.status(1, "Preparing")
    tx = await cp.start(1)
    await cp.status(1, "Charging")
    await cp.finish(tx)
