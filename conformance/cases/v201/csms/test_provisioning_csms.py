"""OCPP 2.0.1 part 6 §3.3, B Provisioning, with a CSMS under test: the boot, the device model
requests (B05-B08), resets (B11, B12) and network profiles (B09)."""

from __future__ import annotations

from typing import Any

import pytest

from chargebench.matching import Predicate
from conformance.chargepoint import Command, params
from conformance.endpoints import now
from conformance.harness import HarnessPeer
from conformance.v201.station import EVSE_ID, Station, absent, absent_or, booted

#: B06: "attributeType is at least absent or attributeType = Actual, but Target, MinSet, and
#: MaxSet are also allowed"
READ_ATTRIBUTE = absent_or("Actual", "Target", "MinSet", "MaxSet")
#: B05: "attributeType is absent or attributeType = Actual"
WRITE_ATTRIBUTE = absent_or("Actual")
#: "requestId has integer value >= 0" (B07)
REQUEST_ID = Predicate("<integer >= 0>", lambda value: type(value) is int and value >= 0)


@pytest.mark.octt("TC_B_01_CSMS")
async def test_cold_boot_accepted(station: HarnessPeer):
    """TC_B_01_CSMS Cold Boot Charging Station - Accepted: Reusable State Booted, i.e. the
    CSMS accepts the registered station's BootNotification with currentTime and interval
    (B01.FR.02) and answers its StatusNotification and NotifyEvent."""
    await booted(station)


def _variable(component: str, variable: str, **fields: Any) -> dict:
    return {"component": {"name": component}, "variable": {"name": variable}, **fields}


def _read(*names: tuple[str, str]) -> dict:
    return {"getVariableData": [_variable(c, v) for c, v in names]}


def _read_expect(*names: tuple[str, str]) -> dict:
    return {"getVariableData": [_variable(c, v, attributeType=READ_ATTRIBUTE)
                                for c, v in names]}  # fmt: skip


def _values(payload: dict) -> dict:
    """GetVariablesResponse: every asked variable Accepted with a value (B06.FR.01)."""
    return {"getVariableResult": [
        {"attributeStatus": "Accepted", "attributeValue": "60", "component": item["component"],
         "variable": item["variable"]} for item in payload["getVariableData"]]}


def _set(*items: tuple[str, str, str]) -> dict:
    return {"setVariableData": [_variable(c, v, attributeValue=value) for c, v, value in items]}


def _set_expect(*items: tuple[str, str, str]) -> dict:
    return {"setVariableData": [_variable(c, v, attributeValue=value,
                                          attributeType=WRITE_ATTRIBUTE)
                                for c, v, value in items]}  # fmt: skip


def _accepted(payload: dict) -> dict:
    """SetVariablesResponse: every variable Accepted (B05.FR.04)."""
    return {"setVariableResult": [
        {"attributeStatus": "Accepted", "component": item["component"],
         "variable": item["variable"]} for item in payload["setVariableData"]]}


OFFLINE = ("OCPPCommCtrlr", "OfflineThreshold")
REMOTE_START = ("AuthCtrlr", "AuthorizeRemoteStart")


async def _report(station: Station, command: dict) -> None:
    """After GetBaseReport/GetReport Accepted the station sends the report (B07.FR.04): one
    NotifyReportRequest of that requestId, which the CSMS answers."""
    await station.ask("NotifyReport", {
        "requestId": command["requestId"], "generatedAt": now(), "seqNo": 0,
        "tbc": False, "reportData": [{
            "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"},
            "variableAttribute": [{"type": "Actual", "value": "60", "mutability": "ReadWrite"}],
            "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
        }]})


def _base_report(base: str) -> dict[str, Any]:
    """The Command fields of a GetBaseReport case (B07)."""
    return {"action": "GetBaseReport", "request": {"requestId": 1, "reportBase": base},
            "reply": {"status": "Accepted"},
            "expect": {"requestId": REQUEST_ID, "reportBase": base}, "after": _report}


def _network_profile(station: Station) -> dict:
    """B09 with the configured values: slot 1, this CSMS's URL, the run's security profile."""
    return {"configurationSlot": 1, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": station.cb.target,
        "messageTimeout": 30, "securityProfile": station.cb.security_profile,
        "ocppInterface": "Wired0"}}


COMMANDS = [
    # B06 Get Variables
    Command("TC_B_06_CSMS", "GetVariables", _read(OFFLINE), _values, _read_expect(OFFLINE)),
    Command("TC_B_07_CSMS", "GetVariables", _read(OFFLINE, REMOTE_START), _values,
            _read_expect(OFFLINE, REMOTE_START)),
    # B05 Set Variables
    Command("TC_B_09_CSMS", "SetVariables", _set((*OFFLINE, "123")), _accepted,
            _set_expect((*OFFLINE, "123"))),
    Command("TC_B_10_CSMS", "SetVariables", _set((*OFFLINE, "123"), (*REMOTE_START, "false")),
            _accepted, _set_expect((*OFFLINE, "123"), (*REMOTE_START, "false"))),
    # B07 Get Base Report
    Command("TC_B_12_CSMS", **_base_report("ConfigurationInventory")),
    Command("TC_B_13_CSMS", **_base_report("FullInventory")),
    Command("TC_B_14_CSMS", **_base_report("SummaryInventory")),
    # B11 Reset EVSE without a transaction
    Command("TC_B_25_CSMS", "Reset", {"type": "OnIdle", "evseId": EVSE_ID},
            {"status": "Accepted"}),
    # B09 Set Network Profile (the whole profile as configured; Failed is the station's right)
    Command("TC_B_42_CSMS", "SetNetworkProfile", _network_profile, {"status": "Accepted"}),
    Command("TC_B_44_CSMS", "SetNetworkProfile", _network_profile, {"status": "Failed"}),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cs: Station, command: Command):
    """TC_B_06/07/09/10/12/13/14/25/42/44_CSMS: the CSMS sends the request as asked (the tool
    validations of part 6) and takes the station's answer."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol


@pytest.mark.octt("TC_B_18_CSMS")
async def test_custom_report(cs: Station):
    """TC_B_18_CSMS: GetReport of EVSE 1's AvailabilityState for Problem components (the
    station answers EmptyResultSet), then for Available ones (Accepted, then the report)."""
    await cs.boot()
    wanted = [{"component": {"name": "EVSE", "evse": {"id": EVSE_ID}},
               "variable": {"name": "AvailabilityState"}}]
    for criterion, status in (("Problem", "EmptyResultSet"), ("Available", "Accepted")):
        payload = await cs.command(
            "GetReport", {"requestId": 2, "componentCriteria": [criterion],
                          "componentVariable": wanted},
            {"status": status}, {"requestId": REQUEST_ID, "componentCriteria": [criterion],
                                 "componentVariable": wanted})
    await _report(cs, payload)


# B11/B12 Reset (part 6 Tables 475-480)


@pytest.mark.octt("TC_B_20_CSMS")
async def test_reset_without_transaction(cs: Station):
    """TC_B_20_CSMS: Reset OnIdle without a transaction: Accepted, the station reboots and
    its BootNotification is Accepted (B11.FR.04)."""
    await cs.boot()
    await cs.command("Reset", {"type": "OnIdle"}, {"status": "Accepted"},
                     {"type": "OnIdle", "evseId": absent})
    await cs.reconnect()
    await cs.boot("RemoteReset")


@pytest.mark.parametrize("evse", [
    pytest.param(None, id="TC_B_21_CSMS", marks=pytest.mark.octt("TC_B_21_CSMS")),
    pytest.param(EVSE_ID, id="TC_B_26_CSMS", marks=pytest.mark.octt("TC_B_26_CSMS")),
])
async def test_reset_on_idle_with_transaction(cs: Station, evse: int | None):
    """TC_B_21/26_CSMS: Reset OnIdle (of the station, of the charging EVSE) while charging is
    Scheduled (B12.FR.01); the transaction ends (StopAuthorized, EVDisconnected), then the
    station reboots with reason ScheduledReset and is Accepted."""
    await cs.boot()
    await cs.energy_transfer_started()
    request: dict[str, Any] = {"type": "OnIdle"}
    if evse is not None:
        request["evseId"] = evse
    await cs.command("Reset", request, {"status": "Scheduled"},
                     {**request, "evseId": evse if evse is not None else absent})
    await cs.event("Updated", "StopAuthorized", charging_state="EVConnected",
                   token=cs.valid_token)
    await cs.event("Ended", "EVCommunicationLost", charging_state="Idle",
                   stopped_reason="EVDisconnected")
    if evse is None:
        await cs.reconnect()
        await cs.boot("ScheduledReset")


@pytest.mark.parametrize("evse", [
    pytest.param(None, id="TC_B_22_CSMS", marks=pytest.mark.octt("TC_B_22_CSMS")),
    pytest.param(EVSE_ID, id="TC_B_27_CSMS", marks=pytest.mark.octt("TC_B_27_CSMS")),
])
async def test_reset_immediate_with_transaction(cs: Station, evse: int | None):
    """TC_B_22/27_CSMS: Reset Immediate while charging: Accepted; the transaction Ended with
    ResetCommand/ImmediateReset and no idToken (B12.FR.02); a station reset reboots with
    reason RemoteReset, Accepted, its connector still Occupied."""
    await cs.boot()
    await cs.energy_transfer_started()
    request: dict[str, Any] = {"type": "Immediate"}
    if evse is not None:
        request["evseId"] = evse
    await cs.command("Reset", request, {"status": "Accepted"},
                     {**request, "evseId": evse if evse is not None else absent})
    await cs.event("Ended", "ResetCommand", charging_state="EVConnected",
                   stopped_reason="ImmediateReset")
    if evse is None:
        await cs.reconnect()
        await cs.boot("RemoteReset", status="Occupied")
