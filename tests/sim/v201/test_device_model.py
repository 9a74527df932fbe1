"""sim.v201.device_model: a libocpp 2.0.1 component_config folder as a station's device model.

Loading (EVerest's real folder from ../shared and our own), one-line errors for broken files,
GetVariables/SetVariables statuses (B05, B06), reports (B07, B08) split into NotifyReport
messages, persistence of changed values. Every payload built here is checked against the
`ocpp` package's 2.0.1 schemas (the independent witness), through the validator the session
core uses.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from chargebench.ocppj.validation import check_payload
from chargebench.ocppj.versions import OCPP201
from sim.v201.device_model import (
    DeviceModel,
    DeviceModelError,
    default_config_dir,
    notify_report_payloads,
    split_reports,
)
from tests.sim.conftest import LIBOCPP_DIR

EVEREST = LIBOCPP_DIR.parent / "v201" / "component_config"
needs_everest = pytest.mark.skipif(not EVEREST.is_dir(),
                                   reason="../shared/everest-libocpp/v201 missing")


def valid(action: str, payload: Any, response: bool) -> None:
    """Raises when `payload` breaks the `ocpp` package's 2.0.1 schema of `action`."""
    check_payload(OCPP201, action, payload, response)


def cv(component: str, variable: str, **extra: Any) -> dict[str, Any]:
    """A GetVariableData/SetVariableData for `component`.`variable`."""
    comp: dict[str, Any] = {"name": component}
    for key in ("instance", "evse"):
        if key in extra:
            comp[key] = extra.pop(key)
    var: dict[str, Any] = {"name": variable}
    if "variable_instance" in extra:
        var["instance"] = extra.pop("variable_instance")
    return {"component": comp, "variable": var, **extra}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A writable copy of our default component_config."""
    return Path(shutil.copytree(default_config_dir(), tmp_path / "config"))


@pytest.fixture
def dm(folder: Path) -> DeviceModel:
    return DeviceModel.load(folder)


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


# Loading


@needs_everest
def test_loads_everest_folder_as_it_is() -> None:
    dm = DeviceModel.load(EVEREST)
    assert len(dm.variables()) == 264
    assert dm.evse_ids() == [1, 2]
    assert dm.connector_ids(2) == [1]
    # a value, a property default (HeartbeatInterval has only "default": "1800"), "true" strings
    assert dm.get("SecurityCtrlr", "Identity") == "cp001"
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 1800
    assert dm.get_int("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default") == 60
    assert dm.get_bool("SmartChargingCtrlr", "ChargingProfilePersistence",
                       variable_instance="TxProfile") is True
    assert dm.get_list("TxCtrlr", "TxStopPoint") == ["EVConnected", "Authorized"]
    assert dm.get("EVSE", "SupplyPhases", evse=2) == "3"
    assert dm.get("Connector", "ConnectorType", evse=1, connector=1) == "sType2"
    assert dm.get("ClockCtrlr", "DateTime") is None  # "" in the file: no value yet
    for payload in notify_report_payloads(7, dm.report("FullInventory"), 100,
                                          "2026-01-01T00:00:00Z"):
        valid("NotifyReport", payload, response=False)


def test_loads_our_default_config() -> None:
    folder = default_config_dir()
    assert (folder / "standardized" / "OCPPCommCtrlr.json").is_file()
    dm = DeviceModel.load(folder)
    names = {c.name for c in dm.components()}
    assert names >= {
        "ChargingStation", "EVSE", "Connector", "OCPPCommCtrlr", "SecurityCtrlr", "TxCtrlr",
        "SampledDataCtrlr", "AlignedDataCtrlr", "AuthCtrlr", "AuthCacheCtrlr",
        "LocalAuthListCtrlr", "DeviceDataCtrlr", "ClockCtrlr", "SmartChargingCtrlr",
        "ReservationCtrlr", "MonitoringCtrlr"}
    assert dm.evse_ids() == [1] and dm.connector_ids(1) == [1]
    assert dm.get_int("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetReport") == 20
    # names and instances match case-insensitively (ComponentType, VariableType)
    assert dm.get("ocppcommctrlr", "heartbeatinterval") == dm.get(
        "OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert dm.get("OCPPCommCtrlr", "MessageTimeout", variable_instance="DEFAULT") == "30"
    assert [e["variable"]["instance"] for e in dm.report(component_variable=[
        {"component": {"name": "DeviceDataCtrlr"},
         "variable": {"name": "itemsPerMessage", "instance": "getreport"}}])] == ["GetReport"]


def test_stations_from_one_folder_share_the_template(folder: Path) -> None:
    a, b = DeviceModel.load(folder), DeviceModel.load(folder)
    assert a.template is b.template
    a.set_local("SecurityCtrlr", "Identity", "CB0042", persist=False)
    assert (a.get("SecurityCtrlr", "Identity"), b.get("SecurityCtrlr", "Identity")) == (
        "CB0042", "CB0001")
    assert a.changed() == {"SecurityCtrlr.Identity/Actual": "CB0042"} and b.changed() == {}
    # a changed file is read again
    path = folder / "standardized" / "SecurityCtrlr.json"
    path.write_text(path.read_text("utf-8").replace('"CB0001"', '"CB9"'), "utf-8")
    c = DeviceModel.load(folder)
    assert c.template is not a.template and c.get("SecurityCtrlr", "Identity") == "CB9"


def _edit(folder: Path, name: str, edit: Any) -> Path:
    path = folder / name
    doc = json.loads(path.read_text("utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc), "utf-8")
    return path


def _prop(doc: dict, key: str) -> dict:
    return doc["properties"][key]


BROKEN = {
    "data type": (
        "standardized/OCPPCommCtrlr.json",
        lambda d: _prop(d, "HeartbeatInterval")["characteristics"].update(dataType="float"),
        "OCPPCommCtrlr.HeartbeatInterval: characteristics.dataType 'float' is not one of "
        "string, decimal, integer, dateTime, boolean, OptionList, SequenceList, MemberList"),
    "value vs data type": (
        "standardized/OCPPCommCtrlr.json",
        lambda d: _prop(d, "HeartbeatInterval")["attributes"][0].update(value="often"),
        "OCPPCommCtrlr.HeartbeatInterval: Actual value: 'often' is not an integer"),
    "boolean": (
        "standardized/TxCtrlr.json",
        lambda d: _prop(d, "StopTxOnInvalidId")["attributes"][0].update(value="yes"),
        "TxCtrlr.StopTxOnInvalidId: Actual value: 'yes' is not a boolean (true or false)"),
    "maxLimit": (
        "standardized/SecurityCtrlr.json",
        lambda d: _prop(d, "SecurityProfile")["attributes"][0].update(value=4),
        "SecurityCtrlr.SecurityProfile: Actual value: 4 is above maxLimit 3"),
    "minLimit > maxLimit": (
        "standardized/SecurityCtrlr.json",
        lambda d: _prop(d, "SecurityProfile")["characteristics"].update(minLimit=5),
        "SecurityCtrlr.SecurityProfile: characteristics.minLimit 5 is above maxLimit 3"),
    "string length": (
        "standardized/SecurityCtrlr.json",
        lambda d: _prop(d, "BasicAuthPassword")["attributes"][0].update(value="short"),
        "SecurityCtrlr.BasicAuthPassword: Actual value: 5 characters, minLimit is 16"),
    "valuesList missing": (
        "standardized/TxCtrlr.json",
        lambda d: _prop(d, "TxStartPoint")["characteristics"].pop("valuesList"),
        "TxCtrlr.TxStartPoint: characteristics.valuesList (a comma separated string of at "
        "most 1000 characters) is required for MemberList"),
    "not in valuesList": (
        "standardized/TxCtrlr.json",
        lambda d: _prop(d, "TxStartPoint")["attributes"][0].update(value="EVConnected,Plugged"),
        "TxCtrlr.TxStartPoint: Actual value: Plugged not in ParkingBayOccupancy,EVConnected,"
        "Authorized,DataSigned,PowerPathClosed,EnergyTransfer"),
    "option": (
        "standardized/AuthCacheCtrlr.json",
        lambda d: _prop(d, "Policy")["attributes"][0].update(value="MRU"),
        "AuthCacheCtrlr.Policy: Actual value: 'MRU' is not one of LRU,LFU,FIFO"),
    "mutability": (
        "standardized/TxCtrlr.json",
        lambda d: _prop(d, "TxStartPoint")["attributes"][0].update(mutability="Sometimes"),
        "TxCtrlr.TxStartPoint: Actual mutability 'Sometimes' is not one of ReadOnly, "
        "WriteOnly, ReadWrite"),
    "attribute type": (
        "custom/EVSE_1.json",
        lambda d: _prop(d, "Power")["attributes"][1].update(type="Maximum"),
        "EVSE.Power: attributes[1].type 'Maximum' is not one of Actual, Target, MinSet, MaxSet"),
    "no variable_name": (
        "standardized/ClockCtrlr.json",
        lambda d: _prop(d, "TimeZone").pop("variable_name"),
        "ClockCtrlr.TimeZone: 'variable_name' must be a string of 1 to 50 characters"),
    "no name": (
        "standardized/ClockCtrlr.json",
        lambda d: d.pop("name"),
        "(component): 'name' must be a string of 1 to 50 characters"),
    "EVSE without evse_id": (
        "custom/EVSE_1.json",
        lambda d: d.pop("evse_id"),
        "EVSE: needs 'evse_id' and no 'connector_id'"),
    "bad connector_id": (
        "custom/Connector_1_1.json",
        lambda d: d.update(connector_id=0),
        "Connector: 'connector_id' must be an integer >= 1"),
    "required": (
        "standardized/TxCtrlr.json",
        lambda d: d["required"].append("TxStartPoints"),
        "TxCtrlr: required property 'TxStartPoints' is not in properties"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_gives_one_line(folder: Path, case: str) -> None:
    name, edit, reason = BROKEN[case]
    path = _edit(folder, name, edit)
    with pytest.raises(DeviceModelError) as info:
        DeviceModel.load(folder)
    assert str(info.value) == f"{path}: {reason}"


def test_broken_folder_lists_every_problem(folder: Path) -> None:
    clock = _edit(folder, "standardized/ClockCtrlr.json",
                  lambda d: _prop(d, "DateTime")["attributes"][0].update(value="noon"))
    orphan = _edit(folder, "custom/Connector_1_1.json", lambda d: d.update(evse_id=2))
    twin = folder / "custom" / "EVSE_1_again.json"
    shutil.copy(folder / "custom" / "EVSE_1.json", twin)
    with pytest.raises(DeviceModelError) as info:
        DeviceModel.load(folder)
    assert info.value.problems == [
        f"{clock}: ClockCtrlr.DateTime: Actual value: 'noon' is not an RFC 3339 date-time "
        "with a time zone",
        f"{twin}: EVSE: the same component as {folder / 'custom' / 'EVSE_1.json'}",
        f"{orphan}: Connector: evse_id 2 has no EVSE component",
    ]
    assert str(info.value).count("\n") == 2


def test_json_syntax_error_has_line_and_column(folder: Path) -> None:
    bad = folder / "standardized" / "ClockCtrlr.json"
    bad.write_text('{"name": "ClockCtrlr",\n  "properties": {,}}', "utf-8")
    with pytest.raises(DeviceModelError) as info:
        DeviceModel.load(folder)
    assert str(info.value) == f"{bad}:2:18: Expecting property name enclosed in double quotes"


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DeviceModelError, match=r"^\S+/nowhere: not a directory$"):
        DeviceModel.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeviceModelError, match="no standardized/.json or custom/.json"
                       .replace(".json", r"\*\.json")):
        DeviceModel.load(tmp_path / "empty")


# B06 GetVariables


def test_get_variables_statuses(dm: DeviceModel) -> None:
    request = [
        cv("OCPPCommCtrlr", "HeartbeatInterval"),
        cv("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default"),
        cv("EVSE", "Power", evse={"id": 1}, attributeType="MaxSet"),
        cv("EVSE", "Power", evse={"id": 1}, attributeType="Target"),
        cv("NoSuchCtrlr", "HeartbeatInterval"),
        cv("EVSE", "Power", evse={"id": 9}),
        cv("OCPPCommCtrlr", "NoSuchVariable"),
        cv("OCPPCommCtrlr", "MessageTimeout"),  # B06.FR.15: no instance-less variable
        cv("SecurityCtrlr", "BasicAuthPassword"),
        cv("TxCtrlr", "ChargingTime"),
    ]
    valid("GetVariables", {"getVariableData": request}, response=False)
    results = dm.get_variables(request)
    valid("GetVariables", {"getVariableResult": results}, response=True)
    assert [(r["attributeStatus"], r.get("attributeValue")) for r in results] == [
        ("Accepted", "300"),  # B06.FR.10
        ("Accepted", "30"),  # B06.FR.14
        ("Accepted", "22080"),
        ("NotSupportedAttributeType", None),  # B06.FR.08
        ("UnknownComponent", None),  # B06.FR.06
        ("UnknownComponent", None),
        ("UnknownVariable", None),  # B06.FR.07
        ("UnknownVariable", None),  # B06.FR.15
        ("Rejected", None),  # B06.FR.09: WriteOnly
        ("Accepted", ""),  # B06.FR.13: no value yet
    ]
    assert results[8]["attributeStatusInfo"]["reasonCode"] == "WriteOnly"
    # B06.FR.02/03/11: same component and variable, the attributeType asked (Actual if none)
    assert [r["attributeType"] for r in results[:4]] == ["Actual", "Actual", "MaxSet", "Target"]
    assert all(r["component"] == q["component"] and r["variable"] == q["variable"]
               for r, q in zip(results, request, strict=True))


def test_value_sizes(folder: Path) -> None:
    def sizes(d: dict) -> None:
        d["properties"]["ReportingValueSize"]["attributes"][0]["value"] = 8
        d["properties"]["ConfigurationValueSize"]["attributes"][0]["value"] = 12
    _edit(folder, "standardized/DeviceDataCtrlr.json", sizes)
    dm = DeviceModel.load(folder)
    fallback = cv("TariffCostCtrlr", "TariffFallbackMessage")
    # ReportingValueSize: GetVariableResult.attributeValue and VariableAttribute.value
    assert dm.get_variables([fallback])[0]["attributeValue"] == "Prices a"
    [entry] = dm.report(component_variable=[fallback])
    assert entry["variableAttribute"][0]["value"] == "Prices a"
    assert dm.get("TariffCostCtrlr", "TariffFallbackMessage") == "Prices at chargebench.example"
    # ConfigurationValueSize: SetVariableData.attributeValue
    [too_long, fits] = dm.set_variables([{**fallback, "attributeValue": "x" * 13},
                                         {**fallback, "attributeValue": "x" * 12}])
    assert too_long["attributeStatusInfo"] == {
        "reasonCode": "ValueOutOfRange",
        "additionalInfo": "13 characters, ConfigurationValueSize is 12"}
    assert fits["attributeStatus"] == "Accepted"


# B05 SetVariables


def test_set_variables_statuses(dm: DeviceModel) -> None:
    request = [
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="120"),
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="0"),
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="2 min"),
        cv("SecurityCtrlr", "SecurityProfile", attributeValue="2"),
        cv("TxCtrlr", "TxStartPoint", attributeValue="EVConnected,Sunrise"),
        cv("TxCtrlr", "TxStopPoint", attributeValue="Authorized, EVConnected"),
        cv("AuthCacheCtrlr", "Policy", attributeValue="FIFO"),
        cv("ClockCtrlr", "TimeSource", attributeValue="NTP,Heartbeat,NTP"),
        cv("EVSE", "Power", evse={"id": 1}, attributeType="MinSet", attributeValue="1"),
        cv("NoSuchCtrlr", "Enabled", attributeValue="true"),
        cv("OCPPCommCtrlr", "Heartbeat", attributeValue="1"),
        cv("OCPPCommCtrlr", "NetworkConfigurationPriority", attributeValue="2,1"),
        cv("SecurityCtrlr", "BasicAuthPassword", attributeValue="a-new-password-0002"),
        cv("TariffCostCtrlr", "Currency", attributeValue="EURO"),
        cv("AuthCtrlr", "LocalPreAuthorize", attributeValue="True"),
    ]
    valid("SetVariables", {"setVariableData": request}, response=False)
    results = dm.set_variables(request)
    valid("SetVariables", {"setVariableResult": results}, response=True)
    got = [(r["attributeStatus"], r.get("attributeStatusInfo", {}).get("reasonCode"))
           for r in results]
    assert got == [
        ("Accepted", None),  # B05.FR.10
        ("Rejected", "ValueOutOfRange"),  # B05.FR.08: minLimit 1
        ("Rejected", "InvalidValue"),  # B05.FR.07
        ("Rejected", "ReadOnly"),  # B05.FR.09
        ("Rejected", "InvalidValue"),  # not in valuesList
        ("Accepted", None),  # MemberList: any order
        ("Accepted", None),
        ("Rejected", "InvalidValue"),  # SequenceList: a member twice
        ("NotSupportedAttributeType", None),  # B05.FR.06
        ("UnknownComponent", None),  # B05.FR.04
        ("UnknownVariable", None),  # B05.FR.05
        ("RebootRequired", None),
        ("Accepted", None),  # WriteOnly can be written
        ("Rejected", "ValueOutOfRange"),  # maxLimit 3 characters
        ("Rejected", "InvalidValue"),  # booleans are "true"/"false"
    ]
    assert results[1]["attributeStatusInfo"]["additionalInfo"] == "0 is below minLimit 1"
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 120
    assert dm.get("AuthCacheCtrlr", "Policy") == "FIFO"
    assert dm.get("SecurityCtrlr", "BasicAuthPassword") == "a-new-password-0002"
    # RebootRequired: the old value stays in use until the reboot
    assert dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "1"
    assert dm.pending_reboot == {"OCPPCommCtrlr.NetworkConfigurationPriority": "2,1"}
    assert [s.name for s in dm.apply_pending()] == ["NetworkConfigurationPriority"]
    assert dm.get_list("OCPPCommCtrlr", "NetworkConfigurationPriority") == ["2", "1"]
    assert dm.pending_reboot == {}


def test_station_checks_and_listeners(dm: DeviceModel) -> None:
    seen: list[tuple[str, str, str]] = []
    dm.subscribe(lambda spec, attr, value: seen.append((spec.label, attr, value)))
    dm.add_check("OCPPCommCtrlr", "WebSocketPingInterval",
                 lambda v: None if int(v) % 10 == 0 else "a multiple of 10, please")
    results = dm.set_variables([
        cv("OCPPCommCtrlr", "WebSocketPingInterval", attributeValue="15"),
        cv("OCPPCommCtrlr", "WebSocketPingInterval", attributeValue="20"),
    ])
    assert [r["attributeStatus"] for r in results] == ["Rejected", "Accepted"]
    assert results[0]["attributeStatusInfo"] == {
        "reasonCode": "InvalidValue", "additionalInfo": "a multiple of 10, please"}
    assert seen == [("OCPPCommCtrlr.WebSocketPingInterval", "Actual", "20")]
    # a local write skips mutability, not the data type
    dm.set_local("EVSE", "AvailabilityState", "Occupied", evse=1, persist=False)
    assert dm.get("EVSE", "AvailabilityState", evse=1) == "Occupied"
    with pytest.raises(ValueError, match="not one of"):
        dm.set_local("EVSE", "AvailabilityState", "Busy", evse=1)
    with pytest.raises(KeyError):
        dm.set_local("EVSE", "Colour", "red", evse=1)


# B07/B08 reports


def test_base_reports_split_by_items_per_message(dm: DeviceModel) -> None:
    full = dm.report("FullInventory")
    assert len(full) == len(dm.variables())  # B07.FR.08
    per_message = dm.get_int("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetReport")
    payloads = notify_report_payloads(3, full, per_message, "2026-05-01T12:00:00.000Z")
    assert len(payloads) == -(-len(full) // 20)
    for seq, payload in enumerate(payloads):
        valid("NotifyReport", payload, response=False)
        assert payload["requestId"] == 3 and payload["seqNo"] == seq  # B07.FR.04, B07.FR.10
        assert payload["tbc"] is (seq < len(payloads) - 1)
        assert len(payload["reportData"]) <= 20
    assert [e for p in payloads for e in p["reportData"]] == full
    power = next(e for e in full if e["variable"] == {"name": "Power"})
    # B07.FR.11: every supported attribute type, unset ones too
    assert power["variableAttribute"] == [
        {"type": "Actual", "mutability": "ReadOnly", "value": "0"},
        {"type": "MaxSet", "mutability": "ReadOnly", "value": "22080"}]
    assert power["variableCharacteristics"] == {
        "dataType": "decimal", "supportsMonitoring": True, "unit": "W", "minLimit": 0,
        "maxLimit": 22080}
    password = next(e for e in full if e["variable"] == {"name": "BasicAuthPassword"})
    assert password["variableAttribute"] == [{"type": "Actual", "mutability": "WriteOnly"}]
    # B07.FR.07: only what the operator can set
    config = dm.report("ConfigurationInventory")
    assert 0 < len(config) < len(full)
    assert all(any(a["mutability"] != "ReadOnly" for a in e["variableAttribute"])
               for e in config)
    # B07.FR.09: availability of the station, EVSE and connector (plus problems set)
    summary = dm.report("SummaryInventory")
    assert [(e["component"], e["variable"]["name"]) for e in summary] == [
        ({"name": "ChargingStation"}, "AvailabilityState"),
        ({"name": "Connector", "evse": {"id": 1, "connectorId": 1}}, "AvailabilityState"),
        ({"name": "EVSE", "evse": {"id": 1}}, "AvailabilityState"),
    ]
    dm.set_local("ChargingStation", "Problem", True, persist=False)
    assert len(dm.report("SummaryInventory")) == 4
    with pytest.raises(ValueError, match="reportBase 'Everything'"):
        dm.report("Everything")


def _names(entries: list[dict]) -> list[str]:
    return [f"{e['component']['name']}.{e['variable']['name']}"
            + (f"[{e['variable']['instance']}]" if "instance" in e["variable"] else "")
            for e in entries]


def test_custom_reports(dm: DeviceModel) -> None:
    def report(**kw: Any) -> list[str]:
        entries = dm.report(**kw)
        for payload in notify_report_payloads(1, entries, 20, "2026-05-01T12:00:00Z"):
            valid("NotifyReport", payload, response=False)
        return _names(entries)

    # B08.FR.21: no variable instance: every instance
    assert report(component_variable=[{"component": {"name": "DeviceDataCtrlr"},
                                       "variable": {"name": "ItemsPerMessage"}}]) == [
        "DeviceDataCtrlr.ItemsPerMessage[GetReport]",
        "DeviceDataCtrlr.ItemsPerMessage[GetVariables]",
        "DeviceDataCtrlr.ItemsPerMessage[SetVariables]"]
    # B08.FR.20: no variable: every variable of the component; B08.FR.22: every connector
    assert len(report(component_variable=[{"component": {"name": "Connector",
                                                         "evse": {"id": 1}}}])) == 4
    # B08.FR.23: no evse: every EVSE
    assert report(component_variable=[{"component": {"name": "evse"},
                                       "variable": {"name": "power"}}]) == ["EVSE.Power"]
    assert report(component_variable=[{"component": {"name": "EVSE", "evse": {"id": 2}}}]) == []
    # B08.FR.10: Problem set to true
    assert report(criteria=["Problem"]) == []
    dm.set_local("ChargingStation", "Problem", "true", persist=False)
    assert report(criteria=["Problem"])[0] == "ChargingStation.AvailabilityState"
    # B08.FR.09/13: Enabled true or no Enabled variable, OR-ed; B08.FR.05: with componentVariable
    dm.set_variables([cv("ReservationCtrlr", "Enabled", attributeValue="false")])
    enabled = report(criteria=["Enabled"])
    assert "ReservationCtrlr.Available" not in enabled and "EVSE.Power" in enabled
    assert "ReservationCtrlr.Available" in report(criteria=["Enabled", "Available"])
    assert report(criteria=["Enabled"], component_variable=[
        {"component": {"name": "ReservationCtrlr"}}, {"component": {"name": "TxCtrlr"},
                                                      "variable": {"name": "TxStartPoint"}}]) == [
        "TxCtrlr.TxStartPoint"]
    with pytest.raises(ValueError, match="Broken"):
        dm.report(criteria=["Broken"])


def test_split_reports() -> None:
    assert split_reports(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert split_reports(list(range(4)), 2) == [[0, 1], [2, 3]]
    assert split_reports([1], None) == [[1]]
    assert split_reports([], 10) == []
    with pytest.raises(ValueError):
        split_reports([1], 0)
    [only] = notify_report_payloads(5, [], 10, "2026-05-01T12:00:00Z")
    assert only == {"requestId": 5, "generatedAt": "2026-05-01T12:00:00Z", "seqNo": 0,
                    "tbc": False}
    valid("NotifyReport", only, response=False)


# Persistence


def test_changed_values_persist_across_a_reload(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state" / "device_model.json"
    before = folder_digest(folder)
    dm = DeviceModel.load(folder, state)
    assert not state.exists()  # nothing changed yet
    dm.set_local("EVSE", "Power", 7400, evse=1, persist=False)  # a measurement
    dm.set_variables([
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="90"),
        cv("OCPPCommCtrlr", "NetworkConfigurationPriority", attributeValue="2"),
        cv("OCPPCommCtrlr", "OfflineThreshold", attributeValue="oops"),
    ])
    dm.set_local("EVSE", "AvailabilityState", "Unavailable", evse=1)
    assert dm.get("EVSE", "Power", evse=1) == "7400"
    assert list(state.parent.iterdir()) == [state]  # no temporary file left behind
    again = DeviceModel.load(folder, state)
    assert again.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 90
    assert again.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "2"  # after a reboot
    assert again.get("EVSE", "AvailabilityState", evse=1) == "Unavailable"
    assert again.get("EVSE", "Power", evse=1) == "0"  # persist=False: never written
    assert again.get("OCPPCommCtrlr", "OfflineThreshold") == "120"
    assert folder_digest(folder) == before  # the component_config is never written
    # back to the folder's value: the overlay forgets it
    again.set_variables([cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="300")])
    saved = json.loads(state.read_text("utf-8"))["values"]
    assert [(e["variable"]["name"], e["value"]) for e in saved] == [
        ("AvailabilityState", "Unavailable"), ("NetworkConfigurationPriority", "2")]


def test_state_file_problems(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"values": [', "utf-8")
    with pytest.raises(DeviceModelError, match=rf"^{state}:1:13: Expecting value$"):
        DeviceModel.load(folder, state)
    state.write_text('{"values": {}}', "utf-8")
    with pytest.raises(DeviceModelError, match="not a device-model state file"):
        DeviceModel.load(folder, state)
    # an entry the folder no longer has is kept, not applied
    foreign = {"component": {"name": "GoneCtrlr"}, "variable": {"name": "X"},
               "attributeType": "Actual", "value": "1"}
    state.write_text(json.dumps({"version": 1, "values": [foreign]}), "utf-8")
    dm = DeviceModel.load(folder, state)
    dm.set_variables([cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="60")])
    assert foreign in json.loads(state.read_text("utf-8"))["values"]


# Bad input never crashes: random damage to a file is a DeviceModelError or a valid model

_JUNK: list[Any] = [None, 0, -1, 7, 1.5, float("nan"), "", "x", "ReadOnly", "MemberList",
                    [], {}, [1], {"a": 1}, True, False, "y" * 3000]


def _nodes(doc: Any, path: tuple = ()) -> list[tuple]:
    """Every (container, key) pair of a JSON document."""
    out = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(
        doc, list) else ()
    for key, value in items:
        out.append((doc, key))
        out.extend(_nodes(value, (*path, key)))
    return out


def test_random_damage_is_reported_or_harmless(folder: Path) -> None:
    import random

    rng = random.Random(201)
    files = sorted(folder.rglob("*.json"))
    originals = {p: p.read_text("utf-8") for p in files}
    outcomes = {"error": 0, "loaded": 0}
    for _ in range(100):
        path = rng.choice(files)
        doc = json.loads(originals[path])
        container, key = rng.choice(_nodes(doc))
        if rng.random() < 0.2 and isinstance(container, dict):
            del container[key]
        else:
            container[key] = rng.choice(_JUNK)
        path.write_text(json.dumps(doc), "utf-8")
        try:
            dm = DeviceModel.load(folder)
        except DeviceModelError as exc:
            # the damaged file, or a component that now lacks (or duplicates) what it named
            assert exc.problems and all(
                str(path) in p or p.endswith("has no EVSE component") for p in exc.problems), exc
            outcomes["error"] += 1
        else:
            outcomes["loaded"] += 1
            # what loads gives reports the `ocpp` schemas accept
            entries = dm.report("FullInventory")
            for payload in notify_report_payloads(1, entries, 500, "2026-05-01T12:00:00Z"):
                valid("NotifyReport", payload, response=False)
        path.write_text(originals[path], "utf-8")
    assert outcomes["error"] > 40 and outcomes["loaded"] > 5


SPEC_CSV = (LIBOCPP_DIR.parents[1] / "ocpp-spec" / "2.0.1" / "appendices-csv"
            / "dm_components_vars.csv")
#: where our dataType differs from the appendix CSV, and why
DATA_TYPE_CHOICES = {
    # part 2 §2.1.6 "NetworkConfigurationPriority": dataType SequenceList, valuesList the slots
    ("OCPPCommCtrlr", "NetworkConfigurationPriority"): "SequenceList",
    # part 2 appendix 3.1 OCPPCommCtrlr table: integer (the CSV says string)
    ("OCPPCommCtrlr", "ActiveNetworkProfile"): "integer",
    # passwordString and identifierString are no DataEnumType: string is the schema's
    ("SecurityCtrlr", "BasicAuthPassword"): "string",
    ("SecurityCtrlr", "Identity"): "string",
}


@pytest.mark.skipif(not SPEC_CSV.is_file(), reason="../shared/ocpp-spec/2.0.1 missing")
def test_our_standardized_variables_are_the_specs() -> None:
    import csv

    with SPEC_CSV.open(encoding="utf-8") as fh:
        rows = [[cell.strip() for cell in row] for row in csv.reader(fh, delimiter=";")][1:]
    data_types = {(r[0], r[1]): r[4] for r in rows}
    generic = {r[1]: r[4] for r in rows if r[0] == "<generic>"}
    checked = 0
    for spec in DeviceModel.load(default_config_dir()).variables():
        if "/custom/InternalCtrlr" in spec.source:
            continue  # the simulator's own settings, under libocpp's names
        key = (spec.component.name, spec.name)
        expected = data_types.get(key, generic.get(spec.name))
        assert expected is not None, f"{spec.label} is not in the 2.0.1 appendix"
        assert spec.characteristics.data_type == DATA_TYPE_CHOICES.get(key, expected), spec.label
        checked += 1
    assert checked > 120
