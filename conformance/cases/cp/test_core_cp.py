"""OCTT Core cases for a charge point under test; ChargeBench plays the CSMS.

Each case is a table of rows (`conformance.steps`): what the tool sends and must get back,
what a person at the charger does (the operator hook), what the charger must send.
"""

from __future__ import annotations

import pytest

from conformance.cases.cp.flows import (
    BOOTED,
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
from conformance.expect import an_int, one_of, present, sampled
from conformance.steps import (
    TAG,
    Absent,
    Answer,
    Do,
    Ensure,
    Expect,
    NothingBetween,
    Reconnect,
    Script,
    Send,
    Unordered,
    Var,
    params,
)


def _pending_then_accepted():
    """BootNotification.conf Pending (retry in 2 s) once, then the default Accepted."""
    from conformance.defaults import csms_handlers

    boot, answered = csms_handlers()["BootNotification"], []

    def answer(payload: dict) -> dict:
        answered.append(payload)
        if len(answered) == 1:
            return {**boot(payload), "status": "Pending", "interval": 2}
        return boot(payload)

    return answer


def _tag_info(status: str, parent: str | None = None) -> dict:
    info = {"status": status, **({"parentIdTag": parent} if parent else {})}
    return {"idTagInfo": info}


def _authorize_refused(case: str, refusal: str) -> Script:
    """TC_023_n: the CSMS refuses the card: no transaction (1.6 §4.1)."""
    return Script(case, (
        Answer("Authorize", _tag_info(refusal)), PLUG, status("Preparing"), card(),
        Expect("Authorize", {"idTag": TAG}), Absent("StartTransaction", during=0.5),
    ), cleanup=(UNPLUG,))


def _reset(case: str, kind: str, with_tx: bool) -> Script:
    """TC_013-016: Reset Accepted; a running transaction ends with reason <kind>Reset; the
    charger boots again (§4.2). 1.6 §5.14: on a soft reset the StopTransaction comes before
    the reset; on a hard reset it may also come after the reboot, so either is accepted."""
    session = (*CHARGING,) if with_tx else ()
    boot = Expect("BootNotification", {"chargePointVendor": present})
    if not with_tx:
        before, after_boot = (), (boot,)
    elif kind == "Soft":
        before, after_boot = (stopped("SoftReset"),), (boot,)
    else:
        before, after_boot = (), (Unordered(boot, stopped("HardReset")),)
    # after the reboot a plugged-in cable makes connector 1 Preparing (or Finishing: the
    # transaction ended with the cable in), not Available
    after = (status(one_of("Available", "Preparing", "Finishing")) if with_tx
             else status("Available"))
    return Script(case, (
        *session, Send("Reset", {"type": kind}, {"status": "Accepted"}), *before, Reconnect(),
        *after_boot, after,
    ))


SCRIPTS = [
    # Booting (1.6 §4.2, §4.9 errata 3.22)
    Script("TC_001", (Do("power_loss"), Reconnect(), *BOOTED)),
    # 1.6 §4.2: while Pending, no request but the BootNotification retry
    Script("TC_002", (
        Answer("BootNotification", _pending_then_accepted()), Do("power_loss"), Reconnect(),
        Expect("BootNotification", frame_as="pending boot"),
        Expect("BootNotification", frame_as="accepted boot"),
        NothingBetween("pending boot", "accepted boot"), status("Available"),
    )),
    # Charging sessions (1.6 §4.1, §4.8-§4.10)
    Script("TC_003", (*CHARGING, *STOP_LOCAL), cleanup=IDLE_AFTER_SESSION),
    Script("TC_004_1", (
        card(), Unordered(Expect("Authorize", {"idTag": TAG}), status("Preparing")), PLUG,
        charging(), *STOP_LOCAL,
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_004_2", (
        config("ConnectionTimeOut", "30"), card(), Expect("Authorize"), status("Preparing"),
        status("Available", within=3),
    )),
    Script("TC_005_1", (
        Ensure("StopTransactionOnEVSideDisconnect", "true"),
        Ensure("UnlockConnectorOnEVSideDisconnect", "true"), *CHARGING, UNPLUG,
        stopped("EVDisconnected"), status("Available"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_005_2", (
        Ensure("StopTransactionOnEVSideDisconnect", "true"),
        Ensure("UnlockConnectorOnEVSideDisconnect", "false"), *CHARGING, UNPLUG,
        stopped("EVDisconnected"), card(), status("Available"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_005_3", (
        Ensure("StopTransactionOnEVSideDisconnect", "false"), *CHARGING, UNPLUG,
        status("SuspendedEV"), Absent("StopTransaction", during=0.2), PLUG, status("Charging"),
        *STOP_LOCAL,
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_068", (*CHARGING, *STOP_LOCAL), cleanup=IDLE_AFTER_SESSION),
    Script("TC_069", (
        Answer("Authorize", _tag_info("Accepted", PARENT_TAG)),
        Answer("StartTransaction", {"transactionId": 4269,
                                    **_tag_info("Accepted", PARENT_TAG)}),
        *CHARGING, card(OTHER_TAG),
        Unordered(stopped("Local", idTag=OTHER_TAG), status("Finishing")),
        UNPLUG, status("Available"),
    ), cleanup=IDLE_AFTER_SESSION),
    # Authorization cache (1.6 §3.5.1, §5.4)
    # the Authorization Cache is optional: AuthorizationCacheEnabled absent -> not applicable
    Script("TC_007", (
        Ensure("AuthorizationCacheEnabled", "true"), config("LocalPreAuthorize", "true"),
        Send("ClearCache", {}, {"status": "Accepted"}),
        *CHARGING, *STOP_LOCAL, PLUG, status("Preparing"), card(), charging(),
        Absent("Authorize", during=0.2), *STOP_LOCAL,
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_061", (
        Ensure("AuthorizationCacheEnabled", "true"), config("LocalPreAuthorize", "true"),
        Send("ClearCache", {}, {"status": "Accepted"}),
        *CHARGING, *STOP_LOCAL, Send("ClearCache", {}, {"status": "Accepted"}), card(),
        Unordered(Expect("Authorize", {"idTag": TAG}), status("Preparing")), PLUG, charging(),
        *STOP_LOCAL,
    ), cleanup=IDLE_AFTER_SESSION),
    # Remote control (1.6 §5.11, §5.12)
    Script("TC_010", (
        PLUG, status("Preparing"),
        Send("RemoteStartTransaction", {"connectorId": 1, "idTag": TAG}, {"status": "Accepted"}),
        charging(),
    ), cleanup=IDLE_AFTER_SESSION),
    # ordered: the StartTransaction must follow the plug-in (OCTT step order)
    Script("TC_011_1", (
        Send("RemoteStartTransaction", {"connectorId": 1, "idTag": TAG}, {"status": "Accepted"}),
        status("Preparing"), PLUG, charging(),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_011_2", (
        Send("RemoteStartTransaction", {"connectorId": 1, "idTag": TAG}, {"status": "Accepted"}),
        status("Preparing"), status("Available", within=3), Absent("StartTransaction", during=0.1),
    )),
    Script("TC_012", (
        *CHARGING,
        Send("RemoteStopTransaction", {"transactionId": Var("tx")}, {"status": "Accepted"}),
        Unordered(stopped("Remote"), status("Finishing")), UNPLUG, status("Available"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_026", (
        Send("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"},
             {"status": "Accepted"}), status("Unavailable"),
        Send("RemoteStartTransaction", {"connectorId": 1, "idTag": TAG}, {"status": "Rejected"}),
        Absent("StartTransaction", during=0.2),
        Send("ChangeAvailability", {"connectorId": 1, "type": "Operative"},
             {"status": "Accepted"}), status("Available"),
    )),
    Script("TC_027", (
        Send("RemoteStartTransaction", {"connectorId": 0, "idTag": TAG}, {"status": "Rejected"}),
        Absent("StartTransaction", during=0.2),
    )),
    Script("TC_028", (
        Send("RemoteStopTransaction", {"transactionId": 987654}, {"status": "Rejected"}),
    )),
    # Reset (1.6 §5.14)
    _reset("TC_013", "Hard", with_tx=False),
    _reset("TC_014", "Soft", with_tx=False),
    _reset("TC_015", "Hard", with_tx=True),
    _reset("TC_016", "Soft", with_tx=True),
    # Unlock connector (1.6 §5.18)
    Script("TC_017_1", (Send("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),)),
    Script("TC_017_2", (
        Send("UnlockConnector", {"connectorId": 1}, {"status": "NotSupported"}),
    )),
    Script("TC_018_1", (
        *CHARGING, Send("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
        Unordered(stopped("UnlockCommand"), status("Finishing")),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_018_2", (
        *CHARGING, Send("UnlockConnector", {"connectorId": 1}, {"status": "NotSupported"}),
        Absent("StopTransaction", during=0.2),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_030", (
        Do("jam_lock", {"connector": 1}),
        Send("UnlockConnector", {"connectorId": 1}, {"status": "UnlockFailed"}),
    )),
    Script("TC_031", (
        Send("UnlockConnector", {"connectorId": 99}, {"status": "NotSupported"}),
    )),
    # Configuration (1.6 §5.3, §5.8)
    # 1.6 §5.8, §9.1: HeartbeatInterval and SupportedFeatureProfiles are required keys (the
    # latter read-only); `value` is optional in the reply (a key may be unset), so not asked
    Script("TC_019", (
        Send("GetConfiguration", {}, {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": present},
            {"key": "SupportedFeatureProfiles", "readonly": True}]}),
        Send("GetConfiguration", {"key": ["HeartbeatInterval"]},
             {"configurationKey": [{"key": "HeartbeatInterval"}]}),
    )),
    Script("TC_021", (
        Ensure("MeterValueSampleInterval", "0"),  # required RW (1.6 §9.1.19)
        config("MeterValueSampleInterval", "17", "Accepted"),
        Send("GetConfiguration", {"key": ["MeterValueSampleInterval"]},
             {"configurationKey": [{"key": "MeterValueSampleInterval", "value": "17"}]}),
    )),
    Script("TC_040_1", (config("ChargeBenchNoSuchKey", "1", "NotSupported"),)),
    Script("TC_040_2", (config("MeterValueSampleInterval", "-7", "Rejected"),)),
    # Non-happy flows (1.6 §4.1, §4.9)
    _authorize_refused("TC_023_1", "Invalid"),
    _authorize_refused("TC_023_2", "Expired"),
    _authorize_refused("TC_023_3", "Blocked"),
    Script("TC_024", (
        Do("jam_lock", {"connector": 1}), PLUG, status("Preparing"), card(),
        Expect("Authorize"), status("Faulted", errorCode="ConnectorLockFailure"),
        Absent("StartTransaction", during=0.2),
    )),
    Script("TC_041", (
        Do("fault", {"connector": 1, "error_code": "GroundFailure"}),
        status("Faulted", errorCode="GroundFailure"), Do("clear_fault", {"connector": 1}),
        status("Available", errorCode="NoError"),
    )),
    # Power failure (1.6 §4.10 PowerLoss, §5.2 persistent availability)
    Script("TC_032_1", (
        # the StopTransaction before going down (TC_032_1) or after the boot: either order
        *CHARGING, Do("power_loss"), Reconnect(),
        Unordered(Expect("BootNotification"), stopped("PowerLoss")),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_032_2", (
        config("StopTransactionOnInvalidId", "true"), *CHARGING, Do("power_loss"), Reconnect(),
        Unordered(Expect("BootNotification"), stopped("PowerLoss", meterStop=an_int)),
        Absent("StartTransaction", during=0.2),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_034", (
        Send("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"},
             {"status": "Accepted"}), status("Unavailable"), Do("power_loss"), Reconnect(),
        Expect("BootNotification"), status("Unavailable"),
        Send("ChangeAvailability", {"connectorId": 0, "type": "Operative"},
             {"status": "Accepted"}), status("Available"),
    )),
    # Offline behaviour (1.6 §3.5.4, §3.7, §4.10)
    # 1.6 §4.9: back online, the charger reports the status that changed while offline
    # (SHOULD), not the history (SHOULD NOT), and a reconnect is no reboot (§4.2)
    Script("TC_036", (
        *CHARGING, Do("go_offline"), Do("ev_full"), Do("go_online"), Reconnect(boot=False),
        status("SuspendedEV"), Absent("BootNotification", during=0.1), card(),
        stopped("Local", idTag=TAG),
    ), cleanup=IDLE_AFTER_SESSION),
    # AllowOfflineTxForUnknownId is optional (1.6 §9.1.1): absent -> not applicable
    Script("TC_037_1", (
        config("LocalAuthorizeOffline", "true"), config("AllowOfflineTxForUnknownId", "true"),
        Do("go_offline"), PLUG, card(), Do("go_online"), Reconnect(boot=False), charging(),
        Absent("StatusNotification", {"status": "Preparing"}, during=0.1),
        card(), stopped("Local"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_037_2", (
        config("AllowOfflineTxForUnknownId", "true"),
        config("StopTransactionOnInvalidId", "false"),
        Answer("StartTransaction", {"transactionId": 3702, **_tag_info("Invalid")}),
        Do("go_offline"), PLUG, card(), Do("go_online"), Reconnect(boot=False), started(),
        Absent("StopTransaction", during=0.3), card(), stopped("Local"), UNPLUG,
        status("Available"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_037_3", (
        config("AllowOfflineTxForUnknownId", "true"), config("StopTransactionOnInvalidId", "true"),
        Answer("StartTransaction", {"transactionId": 3703, **_tag_info("Invalid")}),
        Do("go_offline"), PLUG, card(), Do("go_online"), Reconnect(boot=False), started(),
        stopped("DeAuthorized"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_038", (
        *CHARGING, Do("go_offline"), card(), Do("go_online"), Reconnect(boot=False),
        stopped("Local"),
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_039", (
        config("AllowOfflineTxForUnknownId", "true"), Do("go_offline"), PLUG, card(), card(),
        Do("go_online"), Reconnect(boot=False), started(), stopped("Local"),
    ), cleanup=IDLE_AFTER_SESSION),
    # Meter values (1.6 §3.16, §4.7)
    # MeterValues.req: transactionId is optional (checked when present); a sampledValue
    # without context is Sample.Periodic (1.6 §7.39 ReadingContext default)
    Script("TC_070", (
        config("MeterValueSampleInterval", "10"), *CHARGING,
        Expect("MeterValues", {"connectorId": 1, "transactionId": Var("tx"),
                               "meterValue": sampled("Sample.Periodic")}, within=2),
        *STOP_LOCAL,
    ), cleanup=IDLE_AFTER_SESSION),
    Script("TC_071", (
        config("ClockAlignedDataInterval", "10"),
        Expect("MeterValues", {"connectorId": present, "meterValue": sampled("Sample.Clock")},
               within=2),
    )),
    # Data transfer (1.6 §5.6)
    Script("TC_062", (
        Send("DataTransfer", {"vendorId": "org.chargebench.unknown", "messageId": "x"},
             {"status": "UnknownVendorId"}),
    )),
]


@pytest.mark.parametrize("script", params(SCRIPTS))
async def test_core(ctx, script):
    """TC_001-TC_041, TC_061, TC_062, TC_068-TC_071 (charge point under test): booting,
    sessions, remote control, reset, unlock, configuration, power failure, offline, meter
    values. The script table above is the OCTT scenario, row by row."""
    await script.run(ctx)
