"""sim.v201.device_model_monitoring: monitors of a 2.0.1 station (functional block N).

Our default component_config has two configured monitors: 1, ChargingStation.Problem Delta
(PreconfiguredMonitor, severity 3) and 2, EVSE 1 Power UpperThreshold 22080 (HardWiredMonitor,
severity 2). Every request and result is checked against the `ocpp` package's 2.0.1 schemas.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chargebench.ocppj.validation import check_payload
from chargebench.ocppj.versions import OCPP201
from sim.v201.device_model import (
    DeviceModel,
    DeviceModelError,
    default_config_dir,
    notify_event_payloads,
    notify_monitoring_report_payloads,
)

T0 = "2026-05-01T12:00:00Z"
POWER = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}


def valid(action: str, payload: Any, response: bool) -> None:
    check_payload(OCPP201, action, payload, response)


def monitor(target: dict, kind: str, value: float, severity: int, **extra: Any) -> dict:
    return {**target, "type": kind, "value": value, "severity": severity, **extra}


def var(component: str, variable: str) -> dict:
    return {"component": {"name": component}, "variable": {"name": variable}}


def set_monitors(dm: DeviceModel, *data: dict) -> list[dict]:
    valid("SetVariableMonitoring", {"setMonitoringData": list(data)}, response=False)
    results = dm.set_variable_monitoring(list(data))
    valid("SetVariableMonitoring", {"setMonitoringResult": results}, response=True)
    return results


def events(dm: DeviceModel, value: Any, target: dict = POWER, **kw: Any) -> list[tuple]:
    """The (trigger, actualValue, cleared, monitor id) of the events `value` raises."""
    comp, variable = target["component"], target["variable"]
    evse = comp.get("evse", {}).get("id")
    found = dm.check_monitors(comp["name"], variable["name"], value, evse=evse,
                              timestamp=T0, **kw)
    if found:
        for payload in notify_event_payloads(found, T0):
            valid("NotifyEvent", payload, response=False)
    return [(e["trigger"], e["actualValue"], e.get("cleared", False), e["variableMonitoringId"])
            for e in found]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return Path(shutil.copytree(default_config_dir(), tmp_path / "config"))


@pytest.fixture
def dm(folder: Path) -> DeviceModel:
    return DeviceModel.load(folder)


def test_set_variable_monitoring_statuses(dm: DeviceModel) -> None:
    results = set_monitors(
        dm,
        monitor(POWER, "UpperThreshold", 11000, 4),
        monitor(var("NoSuchCtrlr", "Power"), "Delta", 1, 4),
        monitor(var("TxCtrlr", "NoSuchVariable"), "Delta", 1, 4),
        monitor(var("TxCtrlr", "StopTxOnInvalidId"), "UpperThreshold", 1, 4),
        monitor(var("InternalCtrlr", "NetworkConnectionProfiles"), "Delta", 1, 4),
        monitor(POWER, "UpperThreshold", 30000, 5),
        monitor(POWER, "Delta", -5, 5),
        monitor(POWER, "UpperThreshold", 12000, 4),
        monitor(POWER, "UpperThreshold", 12000, 4, id=3),
        monitor(POWER, "LowerThreshold", 100, 4, id=99),
        monitor(POWER, "UpperThreshold", 20000, 1, id=2),
        monitor(var("ChargingStation", "Problem"), "Delta", 1, 4, id=3),
        monitor(POWER, "Periodic", 0, 8),
    )
    assert [(r["status"], r.get("id"), r.get("statusInfo", {}).get("reasonCode"))
            for r in results] == [
        ("Accepted", 3, None),  # N04.FR.08, N04.FR.11: the station picks the id
        ("UnknownComponent", None, None),  # N04.FR.03
        ("UnknownVariable", None, None),  # N04.FR.04
        ("UnsupportedMonitorType", None, None),  # N04.FR.05: a threshold on a boolean
        ("UnsupportedMonitorType", None, None),  # supportsMonitoring false
        ("Rejected", None, "ValueOutOfRange"),  # N04.FR.06: above maxLimit 22080
        ("Rejected", None, "ValuePositiveOnly"),  # N04.FR.14
        ("Duplicate", None, None),  # N04.FR.10: same type and severity, another id
        ("Accepted", 3, None),  # N04.FR.12: replaced
        ("Rejected", 99, "NotFound"),  # N04.FR.13
        ("Rejected", 2, "ReadOnly"),  # N04.FR.18: hard-wired
        ("Rejected", 3, "InvalidValue"),  # N04.FR.16: another variable
        ("Rejected", None, "ValuePositiveOnly"),
    ]
    assert [(m.id, m.value, m.kind) for m in dm.monitoring.monitors.values()] == [
        (1, 1.0, "PreconfiguredMonitor"), (2, 22080.0, "HardWiredMonitor"),
        (3, 12000.0, "CustomMonitor")]


def test_thresholds_alert_and_clear(dm: DeviceModel) -> None:
    dm.set_local("EVSE", "Power", 5000, evse=1, persist=False)
    set_monitors(dm, monitor(POWER, "UpperThreshold", 11000, 4),
                 monitor(POWER, "LowerThreshold", 1000, 4))
    assert dm.take_monitor_events() == []  # 5000 W is within both
    # N07.FR.16/17: beyond the threshold, not on it; one event per crossing
    assert events(dm, 11000) == []
    assert events(dm, 11000.5) == [("Alerting", "11000.5", False, 3)]
    assert events(dm, 12000) == []
    assert events(dm, 10000) == [("Alerting", "10000", True, 3)]  # N07.FR.02
    assert events(dm, 999) == [("Alerting", "999", False, 4)]
    assert events(dm, 1000) == [("Alerting", "1000", True, 4)]
    # the hard-wired over-power monitor, and both thresholds of it at once
    assert events(dm, 23000) == [("Alerting", "23000", False, 2),
                                 ("Alerting", "23000", False, 3)]
    # N07.FR.11: a new threshold the value already exceeds raises its event
    dm.set_local("EVSE", "Power", 8000, evse=1, persist=False)
    set_monitors(dm, monitor(POWER, "UpperThreshold", 5000, 6))
    [event] = dm.take_monitor_events()
    assert (event["trigger"], event["actualValue"], event["variableMonitoringId"]) == (
        "Alerting", "8000", 5)
    assert dm.take_monitor_events() == []


def test_delta_and_transaction_monitors(dm: DeviceModel) -> None:
    hb = var("OCPPCommCtrlr", "HeartbeatInterval")
    set_monitors(dm, monitor(hb, "Delta", 100, 5),
                 monitor(var("TxCtrlr", "TxStopPoint"), "Delta", 1, 5, transaction=True))
    # N07.FR.18: more than ± value since set (300) or since the last event
    assert events(dm, 350, hb) == []
    assert events(dm, 401, hb) == [("Delta", "401", False, 3)]
    assert events(dm, 500, hb) == []
    assert events(dm, 300, hb) == [("Delta", "300", False, 3)]
    # N07.FR.19: any change of a non-numeric variable; a transaction monitor only in one
    stop = var("TxCtrlr", "TxStopPoint")
    assert events(dm, "EVConnected", stop) == []
    assert events(dm, "EVConnected", stop, transaction_id="tx-1") == [
        ("Delta", "EVConnected", False, 4)]
    assert events(dm, "EVConnected", stop, transaction_id="tx-1") == []
    [event] = dm.check_monitors("TxCtrlr", "TxStopPoint", "Authorized", transaction_id="tx-1")
    assert event["transactionId"] == "tx-1"
    # the configured Problem monitor, without any SetVariableMonitoring
    fresh = DeviceModel.load(dm.folder)
    assert events(fresh, True, var("ChargingStation", "Problem")) == [
        ("Delta", "true", False, 1)]
    assert fresh.check_monitors("OCPPCommCtrlr", "HeartbeatInterval", 1) == []


def test_write_only_variable_reports_an_empty_value(dm: DeviceModel) -> None:
    password = var("SecurityCtrlr", "BasicAuthPassword")
    set_monitors(dm, monitor(password, "Delta", 1, 5))
    assert events(dm, "another-password-0003", password) == [("Delta", "", False, 3)]  # N07.FR.10


def test_monitoring_level_and_enabled(dm: DeviceModel) -> None:
    set_monitors(dm, monitor(POWER, "UpperThreshold", 11000, 4))
    for severity, status in ((2, "Accepted"), (10, "Rejected"), (-1, "Rejected")):
        reply = dm.set_monitoring_level(severity)
        valid("SetMonitoringLevel", reply, response=True)
        assert reply["status"] == status  # N05.FR.01, N05.FR.02
    assert dm.get_int("MonitoringCtrlr", "ActiveMonitoringLevel") == 2
    # N07.FR.15: severity 4 is above level 2: no event; severity 2 (hard-wired) is reported
    assert events(dm, 11500) == []
    assert events(dm, 23000) == [("Alerting", "23000", False, 2)]
    dm.set_variables([{**var("MonitoringCtrlr", "Enabled"), "attributeValue": "false"}])
    assert events(dm, 0) == []


def test_clear_and_monitoring_base(dm: DeviceModel) -> None:
    set_monitors(dm, monitor(POWER, "UpperThreshold", 11000, 4))
    results = dm.clear_variable_monitoring([1, 2, 77])
    valid("ClearVariableMonitoring", {"clearMonitoringResult": results}, response=True)
    assert [(r["id"], r["status"]) for r in results] == [
        (1, "Accepted"), (2, "Rejected"), (77, "NotFound")]  # N06.FR.01..03
    assert sorted(dm.monitoring.monitors) == [2, 3]
    assert dm.set_monitoring_base("Everything") == {"status": "NotSupported"}  # N03.FR.02
    # N03.FR.03: All brings back the configured monitors, custom ones stay
    assert dm.set_monitoring_base("All") == {"status": "Accepted"}
    assert sorted(dm.monitoring.monitors) == [1, 2, 3]
    # N03.FR.05: HardWiredOnly: custom and preconfigured monitors go
    assert dm.set_monitoring_base("HardWiredOnly") == {"status": "Accepted"}
    assert sorted(dm.monitoring.monitors) == [2]
    assert dm.get("MonitoringCtrlr", "ActiveMonitoringBase") == "HardWiredOnly"
    # N03.FR.04: FactoryDefault: configured monitors, replaced ones restored, no custom
    assert dm.set_monitoring_base("All") == {"status": "Accepted"}
    set_monitors(dm, monitor(var("ChargingStation", "Problem"), "Delta", 1, 7, id=1))
    assert dm.monitoring.monitors[1].kind == "CustomMonitor"  # N04.FR.15
    assert dm.set_monitoring_base("FactoryDefault") == {"status": "Accepted"}
    assert [(m.id, m.kind) for m in dm.monitoring.monitors.values()] == [
        (2, "HardWiredMonitor"), (1, "PreconfiguredMonitor")]
    for base in ("All", "FactoryDefault", "HardWiredOnly"):
        valid("SetMonitoringBase", {"monitoringBase": base}, response=False)
    valid("SetMonitoringBase", {"status": "NotSupported"}, response=True)


def test_monitoring_report(dm: DeviceModel) -> None:
    set_monitors(dm, monitor(POWER, "Delta", 500, 6),
                 monitor(var("OCPPCommCtrlr", "HeartbeatInterval"), "Periodic", 3600, 8))

    def report(**kw: Any) -> list[tuple[str, list[int]]]:
        entries = dm.monitoring_report(**kw)
        for payload in notify_monitoring_report_payloads(4, entries, 1, T0):
            valid("NotifyMonitoringReport", payload, response=False)
        return [(e["variable"]["name"], [m["id"] for m in e["variableMonitoring"]])
                for e in entries]

    # N02.FR.11: everything; N02.FR.12..14 by criteria; N02.FR.08/16 by componentVariable
    assert report() == [("Problem", [1]), ("Power", [2, 3]), ("HeartbeatInterval", [4])]
    assert report(criteria=["ThresholdMonitoring"]) == [("Power", [2])]
    assert report(criteria=["DeltaMonitoring", "PeriodicMonitoring"]) == [
        ("Problem", [1]), ("Power", [3]), ("HeartbeatInterval", [4])]
    assert report(component_variable=[{"component": {"name": "EVSE"}}]) == [("Power", [2, 3])]
    assert report(criteria=["PeriodicMonitoring"],
                  component_variable=[{"component": {"name": "EVSE"}}]) == []  # N02.FR.10
    payloads = notify_monitoring_report_payloads(4, dm.monitoring_report(), 2, T0)
    assert [(p["seqNo"], p["tbc"], len(p["monitor"])) for p in payloads] == [
        (0, True, 2), (1, False, 1)]
    with pytest.raises(ValueError, match="Sometimes"):
        dm.monitoring_report(criteria=["Sometimes"])


def test_periodic_monitors(dm: DeviceModel) -> None:
    hb = var("OCPPCommCtrlr", "HeartbeatInterval")
    set_monitors(dm, monitor(hb, "Periodic", 60, 8),
                 monitor(hb, "PeriodicClockAligned", 900, 7))
    start = datetime(2026, 5, 1, 12, 7, 30, tzinfo=UTC)

    def at(seconds: float) -> list[tuple[int, str]]:
        found = dm.periodic_events(start + timedelta(seconds=seconds))
        for payload in notify_event_payloads(found, T0, 10):
            valid("NotifyEvent", payload, response=False)
        assert all(e["trigger"] == "Periodic" for e in found)  # N08.FR.05
        return [(e["variableMonitoringId"], e["actualValue"]) for e in found]

    assert at(0) == []  # scheduled from here
    assert at(59) == []
    assert at(60) == [(3, "300")]  # N08.FR.06
    assert at(449) == [(3, "300")]  # missed periods are not replayed
    assert at(450) == [(4, "300")]  # N08.FR.07: 12:15:00
    assert at(480) == [(3, "300")]


def test_monitors_persist_across_a_reload(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    dm = DeviceModel.load(folder, state)
    set_monitors(dm, monitor(POWER, "LowerThreshold", 1000, 4))
    dm.clear_variable_monitoring([1])
    dm.set_monitoring_level(5)
    again = DeviceModel.load(folder, state)  # N07.FR.13
    assert [(m.id, m.type, m.kind) for m in again.monitoring.monitors.values()] == [
        (2, "UpperThreshold", "HardWiredMonitor"), (3, "LowerThreshold", "CustomMonitor")]
    assert again.get_int("MonitoringCtrlr", "ActiveMonitoringLevel") == 5
    # the power was 0 W when the LowerThreshold was set: tripped then (N07.FR.11), and still
    # after the reboot; back within it: cleared (N07.FR.14)
    assert events(again, 500) == []
    assert events(again, 1500) == [("Alerting", "1500", True, 3)]
    assert events(DeviceModel.load(folder, state), 500) == [("Alerting", "500", False, 3)]


BROKEN_MONITORS = {
    "threshold on a boolean": (
        "standardized/ChargingStation.json", "Problem",
        [{"type": "UpperThreshold", "value": 1, "severity": 3}],
        "ChargingStation.Problem: monitors[0].type UpperThreshold needs an integer or decimal "
        "variable"),
    "delta without reference": (
        "custom/EVSE_1.json", "Power",
        [{"type": "Delta", "value": 10, "severity": 3}],
        "EVSE.Power: monitors[0].reference_value is required for a Delta monitor"),
    "severity": (
        "custom/EVSE_1.json", "Power",
        [{"type": "LowerThreshold", "value": 10, "severity": 12}],
        "EVSE.Power: monitors[0].severity must be an integer from 0 to 9"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_MONITORS))
def test_broken_configured_monitor(folder: Path, case: str) -> None:
    name, key, monitors, reason = BROKEN_MONITORS[case]
    path = folder / name
    doc = json.loads(path.read_text("utf-8"))
    doc["properties"][key]["monitors"] = monitors
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(DeviceModelError) as info:
        DeviceModel.load(folder)
    assert str(info.value) == f"{path}: {reason}"
