"""N02-N08. Monitoring on a 2.0.1 station: the messages in front of the device model's monitors
(`sim.v201.device_model_monitoring`, through `DeviceModel`), and NotifyEvent when one trips.

SetVariableMonitoring (N04), ClearVariableMonitoring (N06), SetMonitoringBase (N03),
SetMonitoringLevel (N05) answer what the device model decides; GetMonitoringReport (N02) sends
the monitors in NotifyMonitoringReport parts after the response. A monitor trips when the CSMS
sets a monitored value (SetVariables) or sets a threshold the value already crosses (N07.FR.11):
NotifyEvent with the EventData, after the response. Without MonitoringCtrlr every N02-N06
message is answered CALLERROR NotSupported.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from chargebench.clock import iso
from chargebench.ocppj import CallFailed
from chargebench.ocppj.errors import OcppCallError
from sim.v201.device_model import DeviceModel
from sim.v201.device_model_reports import notify_report_payloads

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["clear_variable_monitoring", "get_monitoring_report", "notify_events",
           "set_monitoring_base", "set_monitoring_level", "set_variable_monitoring",
           "variables_set"]


def _model(st: ChargingStation) -> DeviceModel:
    dm = st.settings.dm
    if not isinstance(dm, DeviceModel) or not st.settings.has("MonitoringCtrlr"):
        raise OcppCallError("NotSupported", "this station has no MonitoringCtrlr")
    return dm


def set_variable_monitoring(st: ChargingStation, p: dict) -> dict:
    """N04: a SetMonitoringResult per SetMonitoringData, in order (N04.FR.01/02); a threshold
    the value already crosses is reported at once (N07.FR.11)."""
    dm = _model(st)
    results = dm.set_variable_monitoring(p["setMonitoringData"])
    notify_events(st, dm.take_monitor_events())
    return {"setMonitoringResult": results}


def clear_variable_monitoring(st: ChargingStation, p: dict) -> dict:
    """N06: a ClearMonitoringResult per id (Accepted, NotFound, Rejected for a hard-wired one)."""
    return {"clearMonitoringResult": _model(st).clear_variable_monitoring(p["id"])}


def set_monitoring_base(st: ChargingStation, p: dict) -> dict:
    """N03: All, FactoryDefault or HardWiredOnly."""
    return _model(st).set_monitoring_base(p["monitoringBase"])


def set_monitoring_level(st: ChargingStation, p: dict) -> dict:
    """N05: events of a severity above the level are not reported."""
    return _model(st).set_monitoring_level(p["severity"])


def get_monitoring_report(st: ChargingStation, p: dict) -> dict:
    """N02: NotSupported for a criterion this station does not know (N02.FR.02), EmptyResultSet
    when nothing matches (N02.FR.10); else Accepted and NotifyMonitoringReport parts with the
    requestId, seqNo from 0, tbc on all but the last (N02.FR.03/04)."""
    dm = _model(st)
    try:
        monitors = dm.monitoring_report(p.get("monitoringCriteria"), p.get("componentVariable"))
    except ValueError:
        return {"status": "NotSupported"}
    if not monitors:
        return {"status": "EmptyResultSet"}
    per_message = dm.get_int("MonitoringCtrlr", "ItemsPerMessage",
                             variable_instance="GetMonitoringReport")
    payloads = notify_report_payloads(p["requestId"], monitors, per_message, st.clock.now())
    for payload in payloads:
        payload["monitor"] = payload.pop("reportData")
    st.spawn(_send_all(st, "NotifyMonitoringReport", payloads))
    return {"status": "Accepted"}


def variables_set(st: ChargingStation, items: list[dict], results: list[dict]) -> None:
    """N07: the values the CSMS just set, checked against their monitors; NotifyEvent for those
    that trip."""
    dm = st.settings.dm
    check = getattr(dm, "check_monitors", None)
    if check is None:
        return
    events: list[dict] = []
    for item, result in zip(items, results, strict=True):
        if result["attributeStatus"] != "Accepted":
            continue
        component, variable = item["component"], item["variable"]
        evse = component.get("evse") or {}
        events += check(component["name"], variable["name"], item["attributeValue"],
                        evse=evse.get("id"), connector=evse.get("connectorId"),
                        component_instance=component.get("instance"),
                        variable_instance=variable.get("instance"),
                        timestamp=st.clock.now())
    notify_events(st, events)


def notify_events(st: ChargingStation, events: list[dict]) -> None:
    """NotifyEvent with `events` (N07), after the response that caused them."""
    if events:
        payload: dict[str, Any] = {"generatedAt": iso(st.clock.now()), "seqNo": 0,
                                   "eventData": events}
        st.spawn(_send_all(st, "NotifyEvent", [payload]))


async def _send_all(st: ChargingStation, action: str, payloads: list[dict]) -> None:
    await asyncio.sleep(0)  # the response goes out first
    for payload in payloads:
        with contextlib.suppress(CallFailed):
            await st.call(action, payload)
