"""OCPP 2.0.1 part 6 §3.15, N Diagnostics, with a CSMS under test: logs (N01), monitoring
(N02-N08), events (N07, N08) and customer information (N09, N10)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.chargepoint import Command, params
from conformance.endpoints import now
from conformance.v201.station import EVSE_ID, Station, absent, notify_event
from conformance.v201.station_certificates import hash_data

from .test_localauth_csms import NEWER, NOT_EMPTY

LOG_LOCATION = "ftp://logs.example.com/chargebench/"


# N01 Retrieve log information (Tables 657, 666-668)


def _get_log(kind: str) -> dict:
    return {"logType": kind, "requestId": 1, "log": {"remoteLocation": LOG_LOCATION}}


def _log_statuses(*statuses: str) -> Any:
    """`after` step: LogStatusNotification per status with the GetLog's requestId (N01.FR.?)."""

    async def report(cs: Station, command: dict) -> None:
        for status in statuses:
            await cs.ask("LogStatusNotification",
                         {"status": status, "requestId": command["requestId"]})

    return report


# N09/N10 Customer information (Tables 658-665, 670)


def _customer(cs: Station, *, report: bool, clear: bool, **by: Any) -> dict:
    return {"requestId": 1, "report": report, "clear": clear,
            **(by or {"idToken": cs.valid_token})}


async def _customer_data(cs: Station, command: dict, data: str = "CB-VALID-1: 3 sessions"
                         ) -> None:  # fmt: skip
    """NotifyCustomerInformation of the request (N09.FR.04), answered by the CSMS."""
    await cs.ask("NotifyCustomerInformation", {
        "data": data, "tbc": False, "seqNo": 0, "generatedAt": now(),
        "requestId": command["requestId"]})


async def _no_customer_data(cs: Station, command: dict) -> None:
    await _customer_data(cs, command, "")


def _by_token(report: bool, clear: bool):
    return lambda cs: _customer(cs, report=report, clear=clear)


# N02-N06 Monitoring (Tables 646-656, 669, 671)


def _component_variable(component: str, variable: str, evse: int | None = None) -> dict:
    where: dict[str, Any] = {"name": component}
    if evse is not None:
        where["evse"] = {"id": evse}
    return {"component": where, "variable": {"name": variable}}


def _monitoring_report(criteria: list[str] | None, *variables: dict) -> dict:
    request: dict[str, Any] = {"requestId": 1}
    if criteria:
        request["monitoringCriteria"] = criteria
    if variables:
        request["componentVariable"] = list(variables)
    return request


async def _monitors(cs: Station, command: dict) -> None:
    """NotifyMonitoringReport of the request with one threshold monitor (N02.FR.03)."""
    await cs.ask("NotifyMonitoringReport", {
        "requestId": command["requestId"], "seqNo": 0, "generatedAt": now(), "tbc": False,
        "monitor": [{**_component_variable("EVSE", "AvailabilityState", EVSE_ID),
                     "variableMonitoring": [{"id": 1, "transaction": False, "value": 1,
                                             "type": "Delta", "severity": 8}]}]})


def _delta_monitor(component: str, evse: int | None = None) -> dict:
    return {"value": 1, "type": "Delta", "severity": 8,
            **_component_variable(component, "AvailabilityState", evse)}


def _monitor_results(payload: dict) -> dict:
    return {"setMonitoringResult": [
        {"status": "Accepted", "type": item["type"], "severity": item["severity"], "id": n + 1,
         "component": item["component"], "variable": item["variable"]}
        for n, item in enumerate(payload["setMonitoringData"])]}


def _cleared(status: str):
    def answer(payload: dict) -> dict:
        return {"clearMonitoringResult": [{"status": status, "id": i} for i in payload["id"]]}

    return answer


ACCEPTED = {"status": "Accepted"}
EVSE_AVAILABILITY = _component_variable("EVSE", "AvailabilityState", EVSE_ID)

COMMANDS = [
    Command("TC_N_25_CSMS", "GetLog", _get_log("DiagnosticsLog"), ACCEPTED,
            {"logType": "DiagnosticsLog"}, after=_log_statuses("Uploading", "Uploaded")),
    Command("TC_N_34_CSMS", "GetLog", _get_log("DiagnosticsLog"), {"status": "Rejected"},
            {"log": {"remoteLocation": LOG_LOCATION}}),
    Command("TC_N_35_CSMS", "GetLog", _get_log("SecurityLog"), ACCEPTED,
            {"logType": "SecurityLog"}, after=_log_statuses("Uploading", "Uploaded")),
    Command("TC_N_27_CSMS", "CustomerInformation", _by_token(True, False), ACCEPTED,
            after=_customer_data),
    Command("TC_N_28_CSMS", "CustomerInformation", _by_token(True, False), ACCEPTED,
            after=_no_customer_data),
    Command("TC_N_29_CSMS", "CustomerInformation", _by_token(True, False),
            {"status": "Rejected"}),
    Command("TC_N_30_CSMS", "CustomerInformation", _by_token(True, True), ACCEPTED,
            after=_customer_data),
    Command("TC_N_31_CSMS", "CustomerInformation", _by_token(True, True), ACCEPTED,
            after=_no_customer_data),
    Command("TC_N_32_CSMS", "CustomerInformation", _by_token(False, True), ACCEPTED,
            after=_no_customer_data),
    Command("TC_N_62_CSMS", "CustomerInformation",
            lambda cs: _customer(cs, report=True, clear=True,
                                 customerIdentifier="OpenChargeAlliance"),
            ACCEPTED, after=_customer_data),
    Command("TC_N_47_CSMS", "GetMonitoringReport", {"requestId": 1}, ACCEPTED,
            {"monitoringCriteria": absent, "componentVariable": absent}, after=_monitors),
    Command("TC_N_08_CSMS", "SetVariableMonitoring",
            {"setMonitoringData": [_delta_monitor("EVSE", EVSE_ID)]}, _monitor_results),
    Command("TC_N_09_CSMS", "SetVariableMonitoring",
            {"setMonitoringData": [_delta_monitor("EVSE", EVSE_ID),
                                   _delta_monitor("ChargingStation")]}, _monitor_results),
    Command("TC_N_16_CSMS", "SetMonitoringLevel", {"severity": 4}, ACCEPTED),
    Command("TC_N_17_CSMS", "SetMonitoringLevel", {"severity": 4}, {"status": "Rejected"}),
    Command("TC_N_44_CSMS", "ClearVariableMonitoring", {"id": [1]}, _cleared("Rejected")),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cs: Station, command: Command):
    """TC_N_08/09/16/17/25/27-35/44/47/62_CSMS: the CSMS sends the request as asked (part 6's
    tool validations) and takes the station's answer and the messages that follow."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol


@pytest.mark.parametrize("first, second", [
    pytest.param((["DeltaMonitoring"], []), (["ThresholdMonitoring"], []), id="TC_N_01_CSMS",
                 marks=pytest.mark.octt("TC_N_01_CSMS")),
    pytest.param(([], [_component_variable("ChargingStation", "Power")]),
                 ([], [EVSE_AVAILABILITY]), id="TC_N_02_CSMS",
                 marks=pytest.mark.octt("TC_N_02_CSMS")),
    pytest.param((["DeltaMonitoring"], [EVSE_AVAILABILITY]),
                 (["ThresholdMonitoring"], [_component_variable("ChargingStation", "Power")]),
                 id="TC_N_03_CSMS", marks=pytest.mark.octt("TC_N_03_CSMS")),
    pytest.param((["ThresholdMonitoring"], [_component_variable("ChargingStation", "Power"),
                                            _component_variable("EVSE", "Power", EVSE_ID)]),
                 (["DeltaMonitoring"], [
                     _component_variable("ChargingStation", "AvailabilityState"),
                     EVSE_AVAILABILITY]),
                 id="TC_N_60_CSMS", marks=pytest.mark.octt("TC_N_60_CSMS")),
])
async def test_monitoring_report(cs: Station, first: tuple, second: tuple):
    """TC_N_01/02/03/60_CSMS: two GetMonitoringReport requests with the criteria and
    component/variables asked for; the first answered EmptyResultSet, the second Accepted
    and followed by the NotifyMonitoringReport the CSMS answers."""
    await cs.boot()
    for (criteria, variables), status in ((first, "EmptyResultSet"), (second, "Accepted")):
        request = _monitoring_report(criteria, *variables)
        expect = {key: value for key, value in request.items() if key != "requestId"}
        command = await cs.command("GetMonitoringReport", request, {"status": status}, expect)
    await _monitors(cs, command)


@pytest.mark.octt("TC_N_05_CSMS")
async def test_monitoring_base(cs: Station):
    """TC_N_05_CSMS: SetMonitoringBase All, FactoryDefault, HardWiredOnly, in turn."""
    await cs.boot()
    for base in ("All", "FactoryDefault", "HardWiredOnly"):
        await cs.command("SetMonitoringBase", {"monitoringBase": base}, ACCEPTED)


@pytest.mark.octt("TC_N_36_CSMS")
async def test_second_log_request(cs: Station):
    """TC_N_36_CSMS: a second GetLog while the first uploads: AcceptedCanceled; the first
    reports AcceptedCanceled, the second uploads."""
    await cs.boot()
    first = await cs.command("GetLog", _get_log("DiagnosticsLog"), ACCEPTED,
                             {"logType": "DiagnosticsLog"})  # fmt: skip
    await _log_statuses("Uploading")(cs, first)
    second = await cs.command("GetLog", _get_log("DiagnosticsLog"),
                              {"status": "AcceptedCanceled"}, {"logType": "DiagnosticsLog"})
    await _log_statuses("AcceptedCanceled")(cs, first)
    await _log_statuses("Uploading", "Uploaded")(cs, second)


def _event(**fields: Any) -> dict:
    event = notify_event("1", 30, component="EVSE", evse=EVSE_ID, variable="Power")
    event["eventData"][0].update(fields)
    return event


@pytest.mark.parametrize("event", [
    pytest.param(_event(trigger="Periodic", eventNotificationType="CustomMonitor",
                        variableMonitoringId=1), id="TC_N_24_CSMS",
                 marks=pytest.mark.octt("TC_N_24_CSMS")),
    pytest.param(_event(trigger="Alerting", cleared=True, eventNotificationType="CustomMonitor",
                        variableMonitoringId=1), id="TC_N_49_CSMS",
                 marks=pytest.mark.octt("TC_N_49_CSMS")),
    pytest.param(_event(trigger="Periodic", eventNotificationType="CustomMonitor",
                        variableMonitoringId=2), id="TC_N_50_CSMS",
                 marks=pytest.mark.octt("TC_N_50_CSMS")),
    # a monitor on a WriteOnly variable reports no value: actualValue empty (N07.FR.?)
    pytest.param(_event(trigger="Alerting", actualValue="", eventNotificationType="CustomMonitor",
                        variableMonitoringId=3), id="TC_N_48_CSMS",
                 marks=pytest.mark.octt("TC_N_48_CSMS")),
])
async def test_events(cs: Station, event: dict):
    """TC_N_24/48/49/50_CSMS: monitor events (periodic, a cleared threshold alert, an alert of
    a write-only variable without a value) are answered with an empty NotifyEventResponse,
    each of several."""
    await cs.boot()
    for seq in range(3):
        event["eventData"][0]["eventId"] = 30 + seq
        await cs.ask("NotifyEvent", event)


@pytest.mark.octt("TC_N_46_CSMS")
async def test_clear_customer_updates_local_list(cs: Station):
    """TC_N_46_CSMS: CustomerInformation report and clear for the valid token; the data is
    reported; then the CSMS sends the Local Authorization List without the customer's token:
    SendLocalList Differential with a newer version, not empty (N10.FR.?, D01)."""
    await cs.boot()
    command = await cs.command("CustomerInformation", _customer(cs, report=True, clear=True),
                               ACCEPTED, {"report": True, "clear": True,
                                          "idToken": cs.valid_token})
    await _customer_data(cs, command)
    request = {"versionNumber": 2, "updateType": "Differential",
               "localAuthorizationList": [{"idToken": cs.valid_token}]}
    await cs.command("SendLocalList", request, ACCEPTED, {
        "updateType": "Differential", "versionNumber": NEWER,
        "localAuthorizationList": NOT_EMPTY})


@pytest.mark.octt("TC_N_63_CSMS")
async def test_clear_customer_by_certificate(cs: Station):
    """TC_N_63_CSMS: CustomerInformation report and clear for a customer certificate's hash
    data (N09.FR.?: one of idToken, customerCertificate, customerIdentifier); Accepted and
    reported."""
    await cs.boot()
    certificate = hash_data("V2GCertificateChain")["certificateHashData"]
    request = {"requestId": 1, "report": True, "clear": True, "customerCertificate": certificate}
    command = await cs.command("CustomerInformation", request, ACCEPTED, {
        "report": True, "clear": True, "customerCertificate": certificate})
    await _customer_data(cs, command)
