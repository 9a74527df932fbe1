"""OCTT cases of the optional feature profiles for a charge point under test: Local Auth List
Management, Reservation, Remote Trigger, Smart Charging, Firmware Management (with the
harness's own HTTP/FTP server, `conformance.filehost`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from chargebench.clock import iso
from conformance.cases.cp.flows import (
    CHARGING,
    IDLE_AFTER_SESSION,
    OTHER_TAG,
    PARENT_TAG,
    PLUG,
    STOP_LOCAL,
    UNPLUG,
    card,
    charging,
    config,
    started,
    status,
    stopped,
)
from conformance.expect import an_int, number, one_of
from conformance.steps import (
    TAG,
    Absent,
    Answer,
    At,
    Call,
    Do,
    Ensure,
    Expect,
    Read,
    Reconnect,
    Script,
    Send,
    Step,
    Svc,
    Unordered,
    Var,
    params,
)

# Local Authorization List (1.6 §3.5.2, §5.10, §5.15)


def local_list(version: int, *tags: str, update: str = "Full") -> Send:
    entries = [{"idTag": tag, "idTagInfo": {"status": "Accepted"}} for tag in tags]
    return Send("SendLocalList", {"listVersion": version, "updateType": update,
                                  "localAuthorizationList": entries}, {"status": "Accepted"})


EMPTY_LIST = local_list(1)
#: 1.6 §9.2.1: LocalAuthListEnabled is a required key of the profile; a charger that has it
#: false and read-only cannot run the list cases (not applicable, never failed or passed)
LIST_ON = config("LocalAuthListEnabled", "true")


def _too_long(ctx) -> dict:
    """One entry more than SendLocalListMaxLength (1.6 §9.2.3)."""
    count = int(ctx.vars["max"]) + 1
    return {"listVersion": 41, "updateType": "Full", "localAuthorizationList": [
        {"idTag": f"CB-LIST-{n:05d}", "idTagInfo": {"status": "Accepted"}} for n in range(count)]}


LOCAL_AUTH = [
    Script("TC_008_1", (
        config("LocalPreAuthorize", "true"), LIST_ON,
        Send("GetLocalListVersion", {}, {"listVersion": an_int}), local_list(11, OTHER_TAG),
        card(OTHER_TAG), status("Preparing"), PLUG, charging(OTHER_TAG),
        Absent("Authorize", during=0.1), card(OTHER_TAG), stopped("Local"),
    ), cleanup=(EMPTY_LIST,)),
    Script("TC_008_2", (
        config("AuthorizeRemoteTxRequests", "true"), config("LocalPreAuthorize", "true"),
        LIST_ON, local_list(12, OTHER_TAG), PLUG, status("Preparing"),
        Send("RemoteStartTransaction", {"connectorId": 1, "idTag": OTHER_TAG},
             {"status": "Accepted"}), started(OTHER_TAG), Absent("Authorize", during=0.1),
    ), cleanup=(EMPTY_LIST,)),
    Script("TC_042_1", (
        Send("GetLocalListVersion", {}, {"listVersion": -1}),
    )),
    Script("TC_042_2", (
        LIST_ON, EMPTY_LIST, Send("GetLocalListVersion", {}, {"listVersion": one_of(0, 1)}),
    )),
    Script("TC_043", (
        LIST_ON, local_list(21, OTHER_TAG), Send("GetLocalListVersion", {}, {"listVersion": 21}),
        local_list(22, TAG, update="Differential"),
        Send("GetLocalListVersion", {}, {"listVersion": 22}),
    ), cleanup=(EMPTY_LIST,)),
    Script("TC_043_4", (
        LIST_ON, local_list(51, OTHER_TAG), Send("GetLocalListVersion", {}, {"listVersion": 51}),
        local_list(52, TAG), Send("GetLocalListVersion", {}, {"listVersion": 52}),
    ), cleanup=(EMPTY_LIST,)),
    Script("TC_043_5", (
        LIST_ON, local_list(61, OTHER_TAG), local_list(62, TAG, update="Differential"),
        # 1.6 §5.15: a Differential entry without idTagInfo removes that idTag from the list
        Send("SendLocalList", {"listVersion": 63, "updateType": "Differential",
                               "localAuthorizationList": [{"idTag": OTHER_TAG}]},
             {"status": "Accepted"}),
        Send("GetLocalListVersion", {}, {"listVersion": 63}),
    ), cleanup=(EMPTY_LIST,)),
    Script("TC_043_1", (
        Send("SendLocalList", {"listVersion": 1, "updateType": "Full"},
             {"status": "NotSupported"}),
    )),
    Script("TC_043_2", (
        LIST_ON, local_list(31, OTHER_TAG),
        Send("SendLocalList", {"listVersion": 31, "updateType": "Differential",
                               "localAuthorizationList": [{"idTag": TAG}]},
             {"status": "VersionMismatch"}),
    ), cleanup=(EMPTY_LIST,)),
    # a list longer than the charger takes, with the list enabled: Failed (1.6 §5.15, §9.2.3)
    Script("TC_043_3", (
        LIST_ON, Read("SendLocalListMaxLength", save="max"),
        Send("SendLocalList", Svc(_too_long), {"status": "Failed"}),
    ), cleanup=(EMPTY_LIST,)),
]

# Reservation (1.6 §5.1, §5.13)


def reserve(connector: int, expect: str, *, tag: str = TAG, rid: int = 7, parent=None) -> Send:
    payload = {"connectorId": connector, "expiryDate": At(3600), "idTag": tag,
               "reservationId": rid, **({"parentIdTag": parent} if parent else {})}
    return Send("ReserveNow", payload, {"status": expect})


INOPERATIVE = Send("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"},
                   {"status": "Accepted"})
FAULT = Do("fault", {"connector": 1, "error_code": "OtherError"})


def _occupied(connector: int) -> Script:
    case = "TC_048_2" if connector else "TC_050_2"
    zero = (config("ReserveConnectorZeroSupported", "true"),) if connector == 0 else ()
    return Script(case, (*zero, *CHARGING, reserve(connector, "Occupied")),
                  cleanup=IDLE_AFTER_SESSION)


#: 1.6 §5.13: reservations of connector 0 need ReserveConnectorZeroSupported true (optional
#: key, §9.3.1); not set or false -> ReserveNow on connector 0 is Rejected (TC_050_4)
ZERO_ON = config("ReserveConnectorZeroSupported", "true")
RESERVATION = [
    Script("TC_046_1", (
        reserve(1, "Accepted"), status("Reserved"), PLUG, card(),
        Unordered(started(reservation=7), status("Charging")),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_046_2", (
        reserve(1, "Accepted"), status("Reserved"),
        Send("RemoteStartTransaction", {"connectorId": 1, "idTag": TAG}, {"status": "Accepted"}),
        # 1.6 §5.11: the transaction waits for the cable (a start before the PLUG row could
        # otherwise arrive just after the operator began it and pass)
        Absent("StartTransaction", during=0.3),
        PLUG, Unordered(started(reservation=7), status("Charging")),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_047", (
        Send("ReserveNow", {"connectorId": 1, "expiryDate": At(20), "idTag": TAG,
                            "reservationId": 8}, {"status": "Accepted"}),
        status("Reserved"), status("Available", within=3),
    )),
    Script("TC_048_1", (FAULT, status("Faulted"), reserve(1, "Faulted"))),
    _occupied(1),
    Script("TC_048_3", (INOPERATIVE, status("Unavailable"), reserve(1, "Unavailable"))),
    Script("TC_048_4", (
        reserve(1, "Accepted"), status("Reserved"), reserve(1, "Occupied", tag=OTHER_TAG, rid=9),
    )),
    Script("TC_049", (
        ZERO_ON, reserve(0, "Accepted"), PLUG, card(),
        Unordered(started(reservation=7), status("Charging")),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_050_1", (ZERO_ON, FAULT, status("Faulted"), reserve(0, "Faulted"))),
    _occupied(0),
    Script("TC_050_3", (ZERO_ON, INOPERATIVE, status("Unavailable"), reserve(0, "Unavailable"))),
    Script("TC_050_4", (
        Ensure("ReserveConnectorZeroSupported", "false", absent_means="false"),
        reserve(0, "Rejected"),
    )),
    Script("TC_051", (
        reserve(1, "Accepted"), status("Reserved"),
        Send("CancelReservation", {"reservationId": 7}, {"status": "Accepted"}),
        status("Available"),
    )),
    Script("TC_052", (
        Send("CancelReservation", {"reservationId": 4242}, {"status": "Rejected"}),
    )),
    Script("TC_053", (
        Answer("Authorize", {"idTagInfo": {"status": "Accepted", "parentIdTag": PARENT_TAG}}),
        reserve(1, "Accepted", parent=PARENT_TAG), status("Reserved"), PLUG, card(OTHER_TAG),
        started(OTHER_TAG, reservation=7),
    ), cleanup=IDLE_AFTER_SESSION),
]

# Remote Trigger (1.6 §5.17)

TRIGGERS = [
    ("BootNotification", {}), ("Heartbeat", {}), ("StatusNotification", {"connectorId": 1}),
    ("MeterValues", {"connectorId": 1}), ("DiagnosticsStatusNotification", {}),
    ("FirmwareStatusNotification", {}),
]


@dataclass(frozen=True)
class Trigger(Step):
    """TriggerMessage for `message`. 1.6 §5.17: "It is up to the Charge Point if it accepts or
    rejects"; NotImplemented for a message it does not implement. Accepted -> the message
    must follow (after the reply, §5.17 "SHALL first send the TriggerMessage response")."""

    message: str
    extra: Any = None

    async def run(self, ctx) -> None:
        ctx.mark(f"TriggerMessage {self.message}")
        reply = await ctx.peer.request(
            "TriggerMessage", {"requestedMessage": self.message, **(self.extra or {})},
            {"status": one_of("Accepted", "Rejected", "NotImplemented")})
        if reply["status"] == "Accepted":
            await Expect(self.message).run(ctx)
        else:
            ctx.vars.setdefault("declined", []).append(f"{self.message}: {reply['status']}")


def _some_accepted(ctx) -> None:
    declined = ctx.vars.get("declined", [])
    if len(declined) == len(TRIGGERS):
        pytest.skip("not applicable: the charge point accepts no TriggerMessage (1.6 §5.17 "
                    f"leaves it the choice): {'; '.join(declined)}")


REMOTE_TRIGGER = [
    Script("TC_054", (*(Trigger(message, extra) for message, extra in TRIGGERS),
                      Call(_some_accepted))),
    # 1.6 §5.17: a connectorId not relevant to the message "should be ignored" and the message
    # still sent, and accepting or rejecting is the charger's choice: both answers are legal
    Script("TC_055", (
        Send("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 99},
             {"status": one_of("Rejected", "Accepted")}),
    )),
]

# Smart Charging (1.6 §3.13, §5.5, §5.7, §5.16)


def profile(purpose: str, limit: float, *, pid: int = 1, level: int = 0, tx=None) -> dict:
    body = {
        "chargingProfileId": pid, "stackLevel": level, "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "startSchedule": At(-60), "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(limit)}],
        },
    }
    if tx is not None:
        body["transactionId"] = tx
    return body


def set_profile(connector: int, body: dict, expect: str = "Accepted") -> Send:
    return Send("SetChargingProfile", {"connectorId": connector, "csChargingProfiles": body},
                {"status": expect})


def composite(limit: float) -> Send:
    """GetCompositeSchedule (1.6 §5.7); a limit of 10 may come as 10 or 10.0 (decimal)."""
    return Send("GetCompositeSchedule", {"connectorId": 1, "duration": 300,
                                         "chargingRateUnit": "A"},
                {"status": "Accepted", "chargingSchedule": {"chargingSchedulePeriod": [
                    {"limit": number(limit)}]}})


SMART = [
    Script("TC_056", (
        set_profile(1, profile("TxDefaultProfile", 10)), composite(10), *CHARGING,
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_057", (
        *CHARGING, set_profile(1, profile("TxProfile", 8, pid=2, tx=Var("tx"))), composite(8),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_058_1", (set_profile(1, profile("TxProfile", 8, pid=3), "Rejected"),)),
    Script("TC_058_2", (
        *CHARGING, set_profile(1, profile("TxProfile", 8, pid=4, tx=999999), "Rejected"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_059", (
        PLUG, Send("RemoteStartTransaction", {"connectorId": 1, "idTag": TAG,
                                               "chargingProfile": profile("TxProfile", 6, pid=5)},
                   {"status": "Accepted"}), started(), composite(6),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_060", (
        Send("RemoteStartTransaction", {"connectorId": 1, "idTag": TAG, "chargingProfile":
                                        profile("TxDefaultProfile", 6, pid=6)},
             {"status": "Rejected"}), Absent("StartTransaction", during=0.1),
    )),
    Script("TC_066", (
        set_profile(1, profile("TxDefaultProfile", 12, pid=7)), composite(12),
    ), ),
    Script("TC_067", (
        set_profile(1, profile("TxDefaultProfile", 12, pid=8)),
        Send("ClearChargingProfile", {"id": 8}, {"status": "Accepted"}),
        Send("ClearChargingProfile", {"id": 8}, {"status": "Unknown"}),
    ), ),
    Script("TC_072", (
        set_profile(1, profile("TxDefaultProfile", 16, pid=9, level=0)),
        set_profile(1, profile("TxDefaultProfile", 11, pid=10, level=1)), composite(11),
    ), ),
    Script("TC_082", (
        *CHARGING, set_profile(1, profile("TxDefaultProfile", 9, pid=11)), composite(9),
    ), cleanup=IDLE_AFTER_SESSION),
]

# Firmware Management (1.6 §4.4, §4.5, §5.9, §5.19)

FIRMWARE_IMAGE = b"CBFW 9.9.9-cb\nChargeBench conformance firmware\n"


def _serve_image(ctx) -> None:
    ctx.services["files"].put("firmware.bin", FIRMWARE_IMAGE)


def _has_diagnostics(ctx) -> None:
    if ctx.vars.get("file") is None:
        pytest.skip("not applicable: the charge point has no diagnostic information "
                    "(GetDiagnostics.conf without fileName, 1.6 §6.24)")


def _uploaded(ctx) -> None:
    name = ctx.vars.get("file")
    assert name in ctx.services["files"].uploads(), (
        f"expected {name} on the harness's file server; found {ctx.services['files'].uploads()}"
    )


def update(url: Svc) -> Send:
    return Send("UpdateFirmware", {"location": url, "retrieveDate": At(-1), "retries": 1,
                                   "retryInterval": 1}, {})


def fw(*statuses: str, within: float = 2) -> tuple:
    return tuple(Expect("FirmwareStatusNotification", {"status": s}, within=within)
                 for s in statuses)


FTP_IMAGE = Svc(lambda ctx: ctx.services["files"].ftp_url("firmware.bin"))
MISSING = Svc(lambda ctx: ctx.services["files"].http_url("no-such-firmware.bin"))
FIRMWARE = [
    Script("TC_044_1", (
        Call(_serve_image), update(FTP_IMAGE), *fw("Downloading", "Downloaded", "Installing"),
        *fw("Installed"), Reconnect(),
        # firmwareVersion is optional in BootNotification.req: checked when present
        Expect("BootNotification", {"firmwareVersion": "9.9.9-cb"}),
    )),
    Script("TC_044_2", (update(MISSING), *fw("Downloading", "DownloadFailed", within=3))),
    Script("TC_044_3", (
        Call(_serve_image), Do("fail_firmware_install"), update(FTP_IMAGE),
        *fw("Downloading", "Downloaded", "Installing", "InstallationFailed"),
    )),
    Script("TC_045_1", (
        # GetDiagnostics.conf fileName is absent when there is no diagnostic information
        # (1.6 §6.24): nothing to upload, the case is not applicable then
        Send("GetDiagnostics", {"location": Svc(lambda ctx: ctx.services["files"].upload_ftp)},
             {}, save={"file": "fileName"}), Call(_has_diagnostics),
        Expect("DiagnosticsStatusNotification", {"status": "Uploading"}, within=2),
        Expect("DiagnosticsStatusNotification", {"status": "Uploaded"}, within=2),
        Call(_uploaded),
    )),
    Script("TC_045_2", (
        Send("GetDiagnostics", {"location": "ftp://cb:cb@127.0.0.1:9/nowhere/", "retries": 0},
             {}),
        Expect("DiagnosticsStatusNotification", {"status": "UploadFailed"}, within=3),
    )),
]


@pytest.mark.parametrize("script", params(LOCAL_AUTH))
async def test_local_auth_list(ctx, script):
    """TC_008_1-2, TC_042_1-2, TC_043, TC_043_1-5: the Local Authorization List."""
    lacking = script.case in ("TC_042_1", "TC_043_1")  # for chargers without the profile
    await script.run(ctx, None if lacking else "LocalAuthListManagement")


@pytest.mark.parametrize("script", params(RESERVATION))
async def test_reservation(ctx, script):
    """TC_046_1-2, TC_047, TC_048_1-4, TC_049, TC_050_1-4, TC_051-053: reservations."""
    await script.run(ctx, "Reservation")


@pytest.mark.parametrize("script", params(REMOTE_TRIGGER))
async def test_remote_trigger(ctx, script):
    """TC_054, TC_055: TriggerMessage."""
    await script.run(ctx, "RemoteTrigger")


@pytest.mark.parametrize("script", params(SMART))
async def test_smart_charging(ctx, script):
    """TC_056-060, TC_066, TC_067, TC_072, TC_082: charging profiles and schedules."""
    await script.run(ctx, "SmartCharging")


@pytest.mark.parametrize("script", params(FIRMWARE))
async def test_firmware(ctx, script):
    """TC_044_1-3, TC_045_1-2: firmware and diagnostics through real HTTP/FTP servers."""
    await script.run(ctx, "FirmwareManagement")


_ = (STOP_LOCAL, UNPLUG, Reconnect, iso)
