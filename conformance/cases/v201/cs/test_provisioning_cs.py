"""OCPP 2.0.1 part 6 §2.3, B Provisioning, with a Charging Station under test."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.expect import Mismatch, one_of, present
from conformance.v201.states import (
    Cs,
    booted,
    charging,
    next_id,
    rebooted,
)
from conformance.v201.states_bceh import go_offline, go_online, station_sleep

OCPP_COMM = {"name": "OCPPCommCtrlr"}
NO_ERROR = {"reasonCode": "NoError"}


def _status_info_ok(result: dict) -> None:
    """"attributeStatusInfo is absent or attributeStatusInfo.reasonCode = NoError"."""
    info = result.get("attributeStatusInfo")
    if info is not None and info.get("reasonCode", "").lower() != "noerror":
        raise Mismatch(f"attributeStatusInfo {info}: absent or reasonCode NoError expected",
                       "attributeStatusInfo absent or NoError")


def _result(results: list[dict], component: str, variable: str) -> dict:
    """The result of `component`.`variable` in a response (results come in any order)."""
    for result in results:
        if (result["component"]["name"].lower() == component.lower()
                and result["variable"]["name"].lower() == variable.lower()):
            return result
    raise Mismatch(f"no result for {component}.{variable} in {results}",
                   f"a result for {component}.{variable}")


async def _set(cs: Cs, component: str, variable: str, value: str, expect: Any = "Accepted",
               **entry) -> dict:
    reply = await cs.ask("SetVariables", {"setVariableData": [{
        "component": {"name": component}, "variable": {"name": variable},
        "attributeValue": value, **entry}]}, {"setVariableResult": [{
            "attributeStatus": expect, "component": {"name": component},
            "variable": {"name": variable}}]})
    return reply["setVariableResult"][0]


@pytest.mark.octt("TC_B_01_CS")
async def test_cold_boot_accepted(cs: Cs):
    """TC_B_01_CS: Reusable State Booted: BootNotificationRequest (B01.FR.01, reason B01.FR.09),
    Accepted; every connector reported (B01.FR.05)."""
    await booted(cs)


@pytest.mark.octt("TC_B_06_CS")
async def test_get_variables_single(cs: Cs):
    """TC_B_06_CS: OfflineThreshold set to 300 (configuration state), read back Actual."""
    await _set(cs, "OCPPCommCtrlr", "OfflineThreshold", "300")
    reply = await cs.ask("GetVariables", {"getVariableData": [{
        "component": OCPP_COMM, "variable": {"name": "OfflineThreshold"},
        "attributeType": "Actual"}]}, {"getVariableResult": [{
            "attributeStatus": "Accepted", "attributeValue": "300",
            "component": OCPP_COMM, "variable": {"name": "OfflineThreshold"}}]})
    result = reply["getVariableResult"][0]
    if result.get("attributeType", "Actual") != "Actual":
        raise Mismatch(f"attributeType {result['attributeType']}, expected Actual")
    _status_info_ok(result)


@pytest.mark.octt("TC_B_07_CS")
async def test_get_variables_multiple(cs: Cs):
    """TC_B_07_CS: two variables in one request, both Accepted, in any order (B06.FR.10)."""
    await _set(cs, "OCPPCommCtrlr", "OfflineThreshold", "300")
    await _set(cs, "AuthCtrlr", "LocalAuthorizeOffline", "true")
    reply = await cs.ask("GetVariables", {"getVariableData": [
        {"component": OCPP_COMM, "variable": {"name": "OfflineThreshold"},
         "attributeType": "Actual"},
        {"component": {"name": "AuthCtrlr"}, "variable": {"name": "LocalAuthorizeOffline"},
         "attributeType": "Actual"}]})
    results = reply["getVariableResult"]
    for component, variable, value in (("OCPPCommCtrlr", "OfflineThreshold", "300"),
                                       ("AuthCtrlr", "LocalAuthorizeOffline", "true")):
        result = _result(results, component, variable)
        if result["attributeStatus"] != "Accepted" or (
                result.get("attributeValue", "").lower() != value):
            raise Mismatch(f"{component}.{variable}: {result}, expected Accepted {value!r}")
        _status_info_ok(result)


@pytest.mark.octt("TC_B_32_CS")
async def test_get_variables_unknown_component(cs: Cs):
    """TC_B_32_CS: UnknownComponent (B06.FR.06)."""
    await cs.ask("GetVariables", {"getVariableData": [{
        "component": {"name": "UnknownComponent"}, "variable": {"name": "OfflineThreshold"}}]},
        {"getVariableResult": [{"attributeStatus": "UnknownComponent",
                                "component": {"name": "UnknownComponent"},
                                "variable": {"name": "OfflineThreshold"}}]})


@pytest.mark.octt("TC_B_33_CS")
async def test_get_variables_unknown_variable(cs: Cs):
    """TC_B_33_CS: UnknownVariable (B06.FR.07)."""
    await cs.ask("GetVariables", {"getVariableData": [{
        "component": OCPP_COMM, "variable": {"name": "UnknownVariable"}}]},
        {"getVariableResult": [{"attributeStatus": "UnknownVariable", "component": OCPP_COMM,
                                "variable": {"name": "UnknownVariable"}}]})


@pytest.mark.octt("TC_B_34_CS")
async def test_get_variables_unsupported_attribute(cs: Cs):
    """TC_B_34_CS: attributeType Target, which OfflineThreshold does not have:
    NotSupportedAttributeType, attributeType Target echoed (B06.FR.08)."""
    await cs.ask("GetVariables", {"getVariableData": [{
        "component": OCPP_COMM, "variable": {"name": "OfflineThreshold"},
        "attributeType": "Target"}]},
        {"getVariableResult": [{"attributeStatus": "NotSupportedAttributeType",
                                "attributeType": "Target", "component": OCPP_COMM,
                                "variable": {"name": "OfflineThreshold"}}]})


@pytest.mark.octt("TC_B_09_CS")
async def test_set_variables_single(cs: Cs):
    """TC_B_09_CS: OfflineThreshold 300, Accepted (B05.FR.01/02)."""
    result = await _set(cs, "OCPPCommCtrlr", "OfflineThreshold", "300", attributeType="Actual")
    if result.get("attributeType", "Actual") != "Actual":
        raise Mismatch(f"attributeType {result['attributeType']}, expected Actual")
    _status_info_ok(result)


@pytest.mark.octt("TC_B_10_CS")
async def test_set_variables_multiple(cs: Cs):
    """TC_B_10_CS: two variables, both Accepted, results in any order."""
    reply = await cs.ask("SetVariables", {"setVariableData": [
        {"component": OCPP_COMM, "variable": {"name": "OfflineThreshold"},
         "attributeValue": "300", "attributeType": "Actual"},
        {"component": {"name": "AuthCtrlr"}, "variable": {"name": "LocalAuthorizeOffline"},
         "attributeValue": "true", "attributeType": "Actual"}]})
    for component, variable in (("OCPPCommCtrlr", "OfflineThreshold"),
                                ("AuthCtrlr", "LocalAuthorizeOffline")):
        result = _result(reply["setVariableResult"], component, variable)
        if result["attributeStatus"] != "Accepted":
            raise Mismatch(f"{component}.{variable}: {result}, expected Accepted")
        _status_info_ok(result)


@pytest.mark.octt("TC_B_35_CS")
async def test_set_variables_unknown_component(cs: Cs):
    """TC_B_35_CS: UnknownComponent (B05.FR.04)."""
    await _set(cs, "UnknownComponent", "OfflineThreshold", "300", "UnknownComponent")


@pytest.mark.octt("TC_B_36_CS")
async def test_set_variables_unknown_variable(cs: Cs):
    """TC_B_36_CS: UnknownVariable (B05.FR.05)."""
    await _set(cs, "OCPPCommCtrlr", "UnknownVariable", "300", "UnknownVariable")


@pytest.mark.octt("TC_B_37_CS")
async def test_set_variables_unsupported_attribute(cs: Cs):
    """TC_B_37_CS: attributeType Target: NotSupportedAttributeType (B05.FR.06)."""
    result = await _set(cs, "OCPPCommCtrlr", "OfflineThreshold", "300",
                        "NotSupportedAttributeType", attributeType="Target")
    if result.get("attributeType", "Actual") != "Target":
        raise Mismatch(f"attributeType {result.get('attributeType')!r}, expected Target")


@pytest.mark.octt("TC_B_11_CS")
async def test_set_variables_invalid_values(cs: Cs):
    """TC_B_11_CS: OfflineThreshold (an integer) set to its value, value + 0.1, true, a date,
    "abc": the value itself Accepted, the others Rejected with reasonCode InvalidValue or
    Accepted where the station supports the value (B05.FR.07); AuthorizeRemoteStart (a
    boolean) likewise."""
    current = cs.var("OCPPCommCtrlr", "OfflineThreshold") or "300"
    await _set(cs, "OCPPCommCtrlr", "OfflineThreshold", current)
    for value in (f"{current}.1", "true", cs.time(), "abc"):
        result = await _set(cs, "OCPPCommCtrlr", "OfflineThreshold", value,
                            one_of("Rejected", "Accepted"))
        if result["attributeStatus"] == "Rejected":
            reason = (result.get("attributeStatusInfo") or {}).get("reasonCode", "")
            if reason.lower() != "invalidvalue":
                raise Mismatch(f"OfflineThreshold {value!r}: Rejected with "
                               f"attributeStatusInfo {result.get('attributeStatusInfo')}, "
                               "expected reasonCode InvalidValue")
        elif value == "abc":
            raise Mismatch("OfflineThreshold 'abc' Accepted: an integer variable takes no "
                           "text (B05.FR.07)")
    for value, ok in (("true", True), ("abc", False), ("1", False)):
        result = await _set(cs, "AuthCtrlr", "AuthorizeRemoteStart", value,
                            "Accepted" if ok else one_of("Rejected", "Accepted"))
        if not ok and value == "abc" and result["attributeStatus"] != "Rejected":
            raise Mismatch("AuthorizeRemoteStart 'abc' Accepted: a boolean takes true/false")


@pytest.mark.octt("TC_B_39_CS")
@pytest.mark.cb_requires("OCPPCommCtrlr", "MessageTimeout")
async def test_set_variables_read_only(cs: Cs):
    """TC_B_39_CS: MessageTimeout (instance Default) is ReadOnly: Rejected (B05.FR.09)."""
    await cs.ask("SetVariables", {"setVariableData": [{
        "component": OCPP_COMM, "variable": {"name": "MessageTimeout", "instance": "Default"},
        "attributeValue": "30"}]}, {"setVariableResult": [{
            "attributeStatus": "Rejected", "component": OCPP_COMM,
            "variable": {"name": "MessageTimeout", "instance": "Default"}}]})


async def _base_report(cs: Cs, base: str) -> list[dict]:
    """GetBaseReport `base` Accepted; the NotifyReportRequests of its requestId, seqNo 0 then
    incremented by 1 while tbc (B07.FR.03/04); their reportData."""
    request_id = next_id()
    reply = await cs.ask("GetBaseReport", {"requestId": request_id, "reportBase": base},
                         {"status": "Accepted"})
    info = reply.get("statusInfo")
    if info is not None and info.get("reasonCode", "").lower() != "noerror":
        raise Mismatch(f"statusInfo {info}: absent or NoError expected")
    entries: list[dict] = []
    seq = 0
    while True:
        report = await cs.expect("NotifyReport", {"requestId": request_id, "seqNo": seq,
                                                  "generatedAt": present})
        entries.extend(report.get("reportData", ()))
        if not report.get("tbc", False):
            return entries
        seq += 1


def _check_characteristics(entries: list[dict]) -> None:
    """Every reported variable has variableCharacteristics; a list type has valuesList
    (B07.FR.12)."""
    for entry in entries:
        where = f"{entry['component']['name']}.{entry['variable']['name']}"
        characteristics = entry.get("variableCharacteristics")
        if characteristics is None:
            raise Mismatch(f"{where}: variableCharacteristics absent")
        if characteristics.get("dataType") in ("OptionList", "SequenceList", "MemberList") and (
                not characteristics.get("valuesList")):
            raise Mismatch(f"{where}: dataType {characteristics['dataType']} without "
                           "valuesList")


@pytest.mark.octt("TC_B_12_CS")
async def test_base_report_configuration(cs: Cs):
    """TC_B_12_CS: ConfigurationInventory: only ReadWrite or WriteOnly variables (B07.FR.07),
    each with its characteristics."""
    entries = await _base_report(cs, "ConfigurationInventory")
    if not entries:
        raise Mismatch("ConfigurationInventory reported no variable")
    _check_characteristics(entries)
    for entry in entries:
        mutability = {a.get("mutability", "ReadWrite") for a in entry["variableAttribute"]}
        if mutability & {"ReadOnly"} and not mutability & {"ReadWrite", "WriteOnly"}:
            raise Mismatch(f"{entry['component']['name']}.{entry['variable']['name']}: "
                           f"mutability {mutability} in a ConfigurationInventory (B07.FR.07)")


@pytest.mark.octt("TC_B_13_CS")
async def test_base_report_full(cs: Cs):
    """TC_B_13_CS: FullInventory, every variable with its characteristics (B07.FR.08)."""
    entries = await _base_report(cs, "FullInventory")
    _check_characteristics(entries)


#: part 6 TC_B_53_CS / part 2 appendix 3: the variables every station has, per component
REQUIRED = {
    "AuthCtrlr": ("AuthorizeRemoteStart", "LocalAuthorizeOffline", "LocalPreAuthorize"),
    "ChargingStation": ("AvailabilityState", "Available", "SupplyPhases"),
    "ClockCtrlr": ("DateTime", "TimeSource"),
    "DeviceDataCtrlr": ("ItemsPerMessage", "BytesPerMessage"),
    "OCPPCommCtrlr": ("HeartbeatInterval", "MessageAttempts", "MessageAttemptInterval",
                      "MessageTimeout", "NetworkConfigurationPriority",
                      "NetworkProfileConnectionAttempts", "OfflineThreshold",
                      "ResetRetries", "UnlockOnEVSideDisconnect", "WebSocketPingInterval"),
    "SampledDataCtrlr": ("TxEndedMeasurands", "TxEndedInterval", "TxStartedMeasurands",
                         "TxUpdatedMeasurands", "TxUpdatedInterval"),
    "SecurityCtrlr": ("OrganizationName", "SecurityProfile"),
    "TxCtrlr": ("EVConnectionTimeOut", "StopTxOnEVSideDisconnect", "StopTxOnInvalidId",
                "TxStartPoint", "TxStopPoint"),
}


@pytest.mark.octt("TC_B_53_CS")
async def test_base_report_required_variables(cs: Cs):
    """TC_B_53_CS: the FullInventory holds the required variables of the device model."""
    entries = await _base_report(cs, "FullInventory")
    have = {(e["component"]["name"].lower(), e["variable"]["name"].lower()) for e in entries}
    missing = [f"{c}.{v}" for c, names in REQUIRED.items() for v in names
               if (c.lower(), v.lower()) not in have]
    if missing:
        raise Mismatch(f"FullInventory lacks required variables: {', '.join(missing)}",
                       "the required device model variables")


@pytest.mark.octt("TC_B_20_CS")
async def test_reset_on_idle_without_transaction(cs: Cs):
    """TC_B_20_CS: Reset OnIdle with no transaction: Accepted, reboot, BootNotification
    (B11.FR.01/03/04), connectors Available."""
    await cs.ask("Reset", {"type": "OnIdle"}, {"status": "Accepted"})
    await rebooted(cs, reason=one_of("RemoteReset", "ScheduledReset"))


@pytest.mark.octt("TC_B_21_CS")
async def test_reset_on_idle_with_transaction(cs: Cs):
    """TC_B_21_CS: Reset OnIdle while charging: Scheduled (B12.FR.01); the station reboots
    only once the transaction ended (B12.FR.03)."""
    await charging(cs)
    await cs.ask("Reset", {"type": "OnIdle"}, {"status": "Scheduled"})
    await cs.expect_nothing("BootNotification", during=1.0)
    await cs.ask("RequestStopTransaction", {"transactionId": cs.tx_id}, {"status": "Accepted"})
    await cs.expect("TransactionEvent", {"eventType": "Ended",
                                         "transactionInfo": {"transactionId": cs.tx_id}})
    await cs.act("plug_out", connector=cs.connector_id)
    await rebooted(cs)


@pytest.mark.octt("TC_B_22_CS")
async def test_reset_immediate_with_transaction(cs: Cs):
    """TC_B_22_CS: Reset Immediate while charging: Accepted, the transaction Ended with
    triggerReason ResetCommand and stoppedReason ImmediateReset (B12.FR.04), then the reboot."""
    await charging(cs)
    await cs.ask("Reset", {"type": "Immediate"}, {"status": "Accepted"})
    await cs.expect("TransactionEvent", {
        "eventType": "Ended", "triggerReason": "ResetCommand",
        "transactionInfo": {"transactionId": cs.tx_id, "stoppedReason": "ImmediateReset"}})
    with_ev = cs.connector_id in cs.plugged
    await rebooted(cs) if not with_ev else await _reboot_plugged(cs)


async def _reboot_plugged(cs: Cs) -> None:
    """The reboot with the EV still connected: the connector is Occupied after it."""
    await cs.reconnected()
    await cs.expect("BootNotification", timeout=cs.settings.boot_timeout)
    await cs.expect_status("Occupied")


@pytest.mark.octt("TC_B_23_CS")
async def test_reset_unavailable_persists(cs: Cs):
    """TC_B_23_CS: an Inoperative connector stays Unavailable across a reset (B11.FR.06?)."""
    from conformance.v201.states import unavailable

    await unavailable(cs, {"id": cs.evse_id})
    await cs.ask("Reset", {"type": "Immediate"}, {"status": "Accepted"})
    await cs.reconnected()
    await cs.expect("BootNotification", timeout=cs.settings.boot_timeout)
    await cs.expect_status("Unavailable")




# Status changes while offline (B04 / G01 after a connection loss) ----------------------------

#: <Configured offlineThreshold>, station seconds
OFFLINE_THRESHOLD = 2


@pytest.mark.octt("TC_B_52_CS")
async def test_status_change_offline_below_threshold(cs: Cs):
    """TC_B_52_CS: offline shorter than OfflineThreshold, the EV connected meanwhile: once
    back, the configured connector reported Occupied (StatusNotificationRequest or
    NotifyEventRequest AvailabilityState: B04.FR.01/02, G01)."""
    await cs.configure("OCPPCommCtrlr", "OfflineThreshold", "300")
    await go_offline(cs)
    await cs.act("plug_in", connector=cs.connector_id)
    await go_online(cs)
    await cs.expect_status("Occupied")


@pytest.mark.octt("TC_B_51_CS")
@pytest.mark.cb_requires("OCPPCommCtrlr", "OfflineThreshold")
async def test_status_change_offline_above_threshold(cs: Cs):
    """TC_B_51_CS: offline longer than OfflineThreshold, the EV connected meanwhile: once
    back, the station reports the status of all its connectors, the configured one Occupied
    (B04.FR.01: beyond the threshold every connector's status)."""
    if not await cs.configure("OCPPCommCtrlr", "OfflineThreshold", str(OFFLINE_THRESHOLD)):
        pytest.skip("not applicable: OCPPCommCtrlr.OfflineThreshold cannot be set")
    await go_offline(cs)
    await cs.act("plug_in", connector=cs.connector_id)
    await station_sleep(cs, OFFLINE_THRESHOLD + 1.5, limit=OFFLINE_THRESHOLD + 3)
    await go_online(cs)
    await cs.expect_status("Occupied")


# Summary and custom reports (B07, B08) --------------------------------------------------------


async def _reports(cs: Cs, request_id: int) -> list[dict]:
    """The NotifyReportRequests of `request_id`: seqNo 0 then incremented by 1 while tbc,
    generatedAt present; their reportData."""
    entries: list[dict] = []
    seq = 0
    while True:
        report = await cs.expect("NotifyReport", {"requestId": request_id, "seqNo": seq,
                                                  "generatedAt": present})
        entries.extend(report.get("reportData", ()))
        if not report.get("tbc", False):
            return entries
        seq += 1


def _no_error(reply: dict, *codes: str) -> None:
    info = reply.get("statusInfo")
    if info is not None and info.get("reasonCode", "").lower() not in [c.lower() for c in codes]:
        raise Mismatch(f"statusInfo {info}: absent or reasonCode {' or '.join(codes)} "
                       "expected")


@pytest.mark.octt("TC_B_14_CS")
async def test_base_report_summary(cs: Cs):
    """TC_B_14_CS: SummaryInventory (optional: a station answering NotSupported is not
    applicable, TC_B_15_CS is its case): the AvailabilityState of the ChargingStation, each
    EVSE and each Connector, with characteristics (B07.FR.09)."""
    request_id = next_id()
    reply = await cs.ask("GetBaseReport", {"requestId": request_id,
                                           "reportBase": "SummaryInventory"})
    if reply.get("status") == "NotSupported":
        pytest.skip("not applicable: the station does not support SummaryInventory "
                    "(GetBaseReport answered NotSupported)")
    if reply.get("status") != "Accepted":
        raise Mismatch(f"GetBaseReportResponse status {reply.get('status')!r}: Accepted "
                       "expected")
    _no_error(reply, "NoError")
    entries = await _reports(cs, request_id)
    _check_characteristics(entries)
    states = {(e["component"]["name"].lower(), (e["component"].get("evse") or {}).get("id"))
              for e in entries if e["variable"]["name"].lower() == "availabilitystate"}
    for component, evse in (("chargingstation", None), ("evse", cs.evse_id),
                            ("connector", cs.evse_id)):
        if (component, evse) not in states:
            raise Mismatch(f"SummaryInventory lacks the AvailabilityState of {component}"
                           f"{'' if evse is None else f' of EVSE {evse}'}",
                           "AvailabilityState of the station, each EVSE and connector")


@pytest.mark.octt("TC_B_15_CS")
async def test_base_report_summary_not_supported(cs: Cs):
    """TC_B_15_CS: a station without SummaryInventory answers NotSupported (statusInfo absent
    or UnsupportedParam) and sends no NotifyReport (B07.FR.05); one that supports it is not
    applicable."""
    request_id = next_id()
    reply = await cs.ask("GetBaseReport", {"requestId": request_id,
                                           "reportBase": "SummaryInventory"})
    if reply.get("status") == "Accepted":
        await _reports(cs, request_id)
        pytest.skip("not applicable: the station supports SummaryInventory")
    if reply.get("status") != "NotSupported":
        raise Mismatch(f"GetBaseReportResponse status {reply.get('status')!r}: NotSupported "
                       "expected")
    _no_error(reply, "UnsupportedParam")
    await cs.expect_nothing("NotifyReport", during=1.0)


@pytest.mark.octt("TC_B_16_CS")
async def test_custom_report_enabled(cs: Cs):
    """TC_B_16_CS: GetReport componentCriteria [Enabled]: Accepted; each reported Enabled is
    true, with characteristics; GetVariables confirms each; every Enabled true of the
    FullInventory is in it. Part 6 expects only Enabled variables; part 2 B08.FR.09 says
    "report every component that has the variable Enabled set to true, or does not have
    the Enabled variable": a station reporting such components whole (their other variables,
    components without Enabled) is as right, but never an Enabled that is not true."""
    request_id = next_id()
    reply = await cs.ask("GetReport", {"requestId": request_id,
                                       "componentCriteria": ["Enabled"]}, {"status": "Accepted"})
    _no_error(reply, "NoError")
    entries = await _reports(cs, request_id)
    _check_characteristics(entries)
    enabled_entries = [e for e in entries if e["variable"]["name"].lower() == "enabled"]
    for entry in enabled_entries:
        actual = next((a.get("value") for a in entry["variableAttribute"]
                       if a.get("type", "Actual") == "Actual"), None)
        if (actual or "").lower() != "true":
            raise Mismatch(f"{entry['component']['name']}.Enabled = {actual!r} in a report of "
                           "componentCriteria Enabled: only true expected (B08.FR.09)")
    if enabled_entries:
        await cs.ask("GetVariables", {"getVariableData": [
            {"component": e["component"], "variable": e["variable"]}
            for e in enabled_entries]},
            {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": one_of(
                "true", "True", "TRUE")} for _ in enabled_entries]})
    reported = {e["component"]["name"].lower() for e in enabled_entries}
    enabled = {component for component, variables in cs.model.components.items()
               if any(v.strip().lower() == "true" for v in variables.get("enabled", ()))}
    if enabled - reported:
        raise Mismatch(f"Enabled true in the FullInventory but not in the custom report: "
                       f"{sorted(enabled - reported)}", "every Enabled true component")


#: part 6 TC_B_17_CS/TC_B_18_CS: AvailabilityState's valuesList (part 2 appendix 3)
AVAILABILITY_VALUES = {"available", "occupied", "reserved", "unavailable", "faulted"}


def _evse_availability(cs: Cs) -> dict:
    """componentVariable EVSE #<Configured evseId> AvailabilityState."""
    return {"component": {"name": "EVSE", "evse": {"id": cs.evse_id}},
            "variable": {"name": "AvailabilityState"}}


def _check_evse_availability(cs: Cs, entries: list[dict]) -> None:
    """Part 6 step 3 of TC_B_17/18_CS: the report holds EVSE #evseId AvailabilityState, an
    OptionList of Available, Occupied, Reserved, Unavailable, Faulted, ReadOnly, type Actual
    only; nothing else (B08.FR.11: limited to the componentVariable asked for)."""
    if not entries:
        raise Mismatch("NotifyReport without reportData", "EVSE AvailabilityState")
    for entry in entries:
        where = f"{entry['component']['name']}.{entry['variable']['name']}"
        evse = (entry["component"].get("evse") or {}).get("id")
        if (entry["component"]["name"].lower() != "evse" or evse != cs.evse_id
                or entry["variable"]["name"].lower() != "availabilitystate"):
            raise Mismatch(f"{where} (evse {evse}) in a report of EVSE {cs.evse_id} "
                           "AvailabilityState only (B08.FR.11)",
                           f"EVSE {cs.evse_id} AvailabilityState")
        characteristics = entry.get("variableCharacteristics") or {}
        if characteristics.get("dataType") != "OptionList":
            raise Mismatch(f"{where}: dataType {characteristics.get('dataType')!r}",
                           "dataType OptionList")
        values = {v.strip().lower() for v in characteristics.get("valuesList", "").split(",")}
        if values != AVAILABILITY_VALUES:
            raise Mismatch(f"{where}: valuesList {characteristics.get('valuesList')!r}",
                           "valuesList Available, Occupied, Reserved, Unavailable, Faulted")
        for attribute in entry["variableAttribute"]:
            if attribute.get("type", "Actual") != "Actual" or attribute.get(
                    "mutability", "ReadWrite") != "ReadOnly":
                raise Mismatch(f"{where}: variableAttribute {attribute}",
                               "type Actual, mutability ReadOnly")


@pytest.mark.octt("TC_B_17_CS")
async def test_custom_report_component_variable(cs: Cs):
    """TC_B_17_CS: GetReport componentVariable EVSE #1 AvailabilityState: Accepted (B08.FR.01),
    NotifyReport seqNo 0 (B08.FR.03/04) with that variable only (B08.FR.11/12/14)."""
    request_id = next_id()
    reply = await cs.ask("GetReport", {"requestId": request_id,
                                       "componentVariable": [_evse_availability(cs)]},
                         {"status": "Accepted"})
    _no_error(reply, "NoError")
    _check_evse_availability(cs, await _reports(cs, request_id))


@pytest.mark.octt("TC_B_18_CS")
async def test_custom_report_criteria_and_component_variable(cs: Cs):
    """TC_B_18_CS: the same with componentCriteria Available: Accepted and the report
    (B08.FR.05); with componentCriteria Problem (EVSE #1 has no Problem set):
    EmptyResultSet, statusInfo absent or NotFound (B08.FR.15), and no report."""
    request_id = next_id()
    reply = await cs.ask("GetReport", {"requestId": request_id,
                                       "componentCriteria": ["Available"],
                                       "componentVariable": [_evse_availability(cs)]},
                         {"status": "Accepted"})
    _no_error(reply, "NoError")
    _check_evse_availability(cs, await _reports(cs, request_id))
    request_id = next_id()
    reply = await cs.ask("GetReport", {"requestId": request_id,
                                       "componentCriteria": ["Problem"],
                                       "componentVariable": [_evse_availability(cs)]},
                         {"status": "EmptyResultSet"})
    _no_error(reply, "NotFound")
    await cs.expect_nothing("NotifyReport", during=1.0)


#: DeviceDataCtrlr.ItemsPerMessage's instances (part 2 appendix 3); part 6 TC_B_54_CS writes
#: "GetVariable", the appendix "GetVariables": either names the second
ITEMS_INSTANCES = ("getreport", "getvariables")


def _items_per_message(entries: list[dict]) -> list[str]:
    """The instances of DeviceDataCtrlr.ItemsPerMessage a report holds; anything else in it
    is a mismatch (B08.FR.11)."""
    instances = []
    for entry in entries:
        if (entry["component"]["name"].lower() != "devicedatactrlr"
                or entry["variable"]["name"].lower() != "itemspermessage"):
            raise Mismatch(f"{entry['component']['name']}.{entry['variable']['name']} in a "
                           "report of DeviceDataCtrlr.ItemsPerMessage only (B08.FR.11)",
                           "DeviceDataCtrlr.ItemsPerMessage")
        instances.append((entry["variable"].get("instance") or "").lower())
    return instances


@pytest.mark.octt("TC_B_54_CS")
async def test_custom_report_all_instances(cs: Cs):
    """TC_B_54_CS: GetReport componentVariable DeviceDataCtrlr.ItemsPerMessage without
    instance: Accepted; the report holds every instance, GetReport and GetVariables
    (B08.FR.11: no instance given, all of them)."""
    request_id = next_id()
    reply = await cs.ask("GetReport", {"requestId": request_id, "componentVariable": [{
        "component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}}]},
        {"status": "Accepted"})
    _no_error(reply, "NoError")
    instances = _items_per_message(await _reports(cs, request_id))
    got = {i.rstrip("s") for i in instances}
    for wanted in ITEMS_INSTANCES:
        if wanted.rstrip("s") not in got:
            raise Mismatch(f"ItemsPerMessage instances {instances}: instance {wanted} missing",
                           "instances GetReport and GetVariables")


@pytest.mark.octt("TC_B_55_CS")
async def test_custom_report_one_instance(cs: Cs):
    """TC_B_55_CS: GetReport componentVariable DeviceDataCtrlr.ItemsPerMessage instance
    GetReport: Accepted; the report holds that instance only."""
    request_id = next_id()
    reply = await cs.ask("GetReport", {"requestId": request_id, "componentVariable": [{
        "component": {"name": "DeviceDataCtrlr"},
        "variable": {"name": "ItemsPerMessage", "instance": "GetReport"}}]},
        {"status": "Accepted"})
    _no_error(reply, "NoError")
    instances = _items_per_message(await _reports(cs, request_id))
    if instances != ["getreport"]:
        raise Mismatch(f"ItemsPerMessage instances {instances}", "instance GetReport only")


@pytest.mark.octt("TC_B_56_CS")
async def test_custom_report_every_evse(cs: Cs):
    """TC_B_56_CS: GetReport componentVariable EVSE AvailabilityState without evse: Accepted;
    the report holds the AvailabilityState of every EVSE, as many as the station has (the
    EVSE.Available of its FullInventory), nothing else."""
    request_id = next_id()
    reply = await cs.ask("GetReport", {"requestId": request_id, "componentVariable": [{
        "component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}}]},
        {"status": "Accepted"})
    _no_error(reply, "NoError")
    evses = set()
    for entry in await _reports(cs, request_id):
        if (entry["component"]["name"].lower() != "evse"
                or entry["variable"]["name"].lower() != "availabilitystate"):
            raise Mismatch(f"{entry['component']['name']}.{entry['variable']['name']} in a "
                           "report of EVSE AvailabilityState only (B08.FR.11)",
                           "EVSE AvailabilityState")
        evses.add((entry["component"].get("evse") or {}).get("id"))
    count = max(1, len(cs.model.values("EVSE", "Available")))
    if len(evses) != count or None in evses:
        raise Mismatch(f"AvailabilityState of EVSEs {sorted(evses, key=str)}",
                       f"one for each of the {count} EVSEs")


async def _reset_evse_not_supported(cs: Cs) -> None:
    """ResetRequest OnIdle with evseId <Configured evseId>: Rejected (B11.FR.09/B12.FR.09).
    A station that resets the EVSE (Accepted, Scheduled) supports it: TC_B_25..27_CS are its
    cases, this one is not applicable."""
    reply = await cs.ask("Reset", {"type": "OnIdle", "evseId": cs.evse_id})
    if reply.get("status") in ("Accepted", "Scheduled"):
        pytest.skip("not applicable: the station supports resetting an individual EVSE "
                    f"(ResetResponse {reply['status']})")
    if reply.get("status") != "Rejected":
        raise Mismatch(f"ResetResponse status {reply.get('status')!r}", "Rejected")


@pytest.mark.octt("TC_B_28_CS")
async def test_reset_evse_not_supported(cs: Cs):
    """TC_B_28_CS: idle, Reset of one EVSE, which the station does not support: Rejected."""
    await _reset_evse_not_supported(cs)
    await cs.expect_nothing("BootNotification", during=1.0)


@pytest.mark.octt("TC_B_29_CS")
async def test_reset_evse_with_transaction_not_supported(cs: Cs):
    """TC_B_29_CS: EnergyTransferStarted, Reset of that EVSE, not supported: Rejected; the
    transaction goes on (no Ended event)."""
    await charging(cs)
    await _reset_evse_not_supported(cs)
    await cs.expect_nothing("BootNotification", during=1.0)
    if cs.ended():
        raise Mismatch("the transaction ended after a Rejected Reset", "it goes on")


@pytest.mark.octt("TC_B_24_CS")
@pytest.mark.cb_requires("ReservationCtrlr")
async def test_reset_reserved_persists(cs: Cs):
    """TC_B_24_CS: the configured connector Reserved (Memory State), Reset OnIdle: Accepted,
    BootNotification RemoteReset (B11.FR.03/04), the connector reported Reserved again
    (B11.FR.05: a reservation persists a reset)."""
    from conformance.v201.states import reserved

    await cs.configure("ReservationCtrlr", "Enabled", "true")
    await reserved(cs)
    await cs.ask("Reset", {"type": "OnIdle"}, {"status": "Accepted"})
    await cs.reconnected()
    await cs.expect("BootNotification", {"reason": "RemoteReset"},
                    timeout=cs.settings.boot_timeout)
    await cs.expect_status("Reserved")
