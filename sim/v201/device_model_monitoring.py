"""Variable monitoring of one station (2.0.1 functional block N), sans-I/O.

`Monitoring` holds the station's monitors: the component_config's hard-wired and preconfigured
ones (`VariableSpec.monitors`, shared, copied here only once the station uses monitoring) and
the CSMS's custom ones (SetVariableMonitoring). It answers SetVariableMonitoring (N04),
ClearVariableMonitoring (N06), SetMonitoringBase (N03), SetMonitoringLevel (N05), builds the
MonitoringData of a monitoring report (N02) and the EventData of NotifyEvent when a value
crosses a threshold or moves by a delta (N07) or a periodic monitor is due (N08).

The station calls `DeviceModel.check_monitors(...)` with a variable's new Actual value (from a
`DeviceModel.subscribe` listener, or where it measures) and sends the EventData it returns;
`DeviceModel.periodic_events(now)` from a timer for Periodic/PeriodicClockAligned monitors.
Offline queuing by OfflineQueuingSeverity (N07.FR.04) is the session's: `severity_of` tells it
an event's severity.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chargebench.clock import iso
from sim.v201.device_model_loader import (
    MONITOR_TYPES,
    NUMERIC,
    SEVERITY_MAX,
    THRESHOLDS,
    MonitorSpec,
    VariableSpec,
)
from sim.v201.device_model_reports import _matches, split_reports

if TYPE_CHECKING:
    from sim.v201.device_model import DeviceModel

#: MonitoringBaseEnumType (N03)
MONITORING_BASES = ("All", "FactoryDefault", "HardWiredOnly")
#: MonitoringCriterionEnumType (N02.FR.12..14) -> the monitor types each selects
MONITORING_CRITERIA = {
    "ThresholdMonitoring": frozenset(THRESHOLDS),
    "DeltaMonitoring": frozenset({"Delta"}),
    "PeriodicMonitoring": frozenset({"Periodic", "PeriodicClockAligned"}),
}
_PERIODIC = MONITORING_CRITERIA["PeriodicMonitoring"]


@dataclass(slots=True)
class Monitor:
    """One active monitor of this station."""

    id: int
    spec: VariableSpec
    type: str
    value: float
    severity: int
    transaction: bool
    #: EventNotificationEnumType: HardWiredMonitor, PreconfiguredMonitor, CustomMonitor
    kind: str
    #: Delta: the value at the last event or when set (N07.FR.18/19)
    reference: str | None = None
    #: thresholds: the value is beyond the threshold (an Alerting event was due)
    tripped: bool = False
    #: periodic: when the next event is due (POSIX seconds), None until the first tick
    due: float | None = None

    def to_ocpp(self) -> dict[str, Any]:
        """VariableMonitoringType."""
        return {"id": self.id, "transaction": self.transaction, "value": _number(self.value),
                "type": self.type, "severity": self.severity}


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _from_config(spec: VariableSpec, m: MonitorSpec) -> Monitor:
    return Monitor(m.id, spec, m.type, m.value, m.severity, m.transaction, m.config_type,
                   m.reference_value)


def _info(reason: str, info: str) -> dict[str, str]:
    return {"reasonCode": reason, "additionalInfo": info[:512]}


def _as_float(value: str | None) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class Monitoring:
    """The monitors of one station and the state they trip on."""

    def __init__(self, dm: DeviceModel) -> None:
        self.dm = dm
        self.monitors: dict[int, Monitor] = {}
        #: configured monitors not active now: cleared (N06), replaced by a custom one
        #: (N04.FR.15) or switched off by HardWiredOnly (N03.FR.05); ids
        self.inactive: set[int] = set()
        self._event_ids = itertools.count(1)
        #: EventData found while setting monitors (N07.FR.11), for `take_events`
        self._pending: list[dict[str, Any]] = []
        base = dm.get("MonitoringCtrlr", "ActiveMonitoringBase") or "All"
        for spec in dm.variables():
            for m in spec.monitors:
                if base != "HardWiredOnly" or m.config_type == "HardWiredMonitor":
                    self.monitors[m.id] = _from_config(spec, m)
                else:
                    self.inactive.add(m.id)

    # Persistence (N07.FR.13: monitors persist across a reboot)

    def state(self) -> dict[str, Any]:
        custom = [{"id": m.id, "component": m.spec.component.to_ocpp(),
                   "variable": m.spec.to_ocpp(), **{k: v for k, v in m.to_ocpp().items()
                                                    if k != "id"}}
                  for m in self.monitors.values() if m.kind == "CustomMonitor"]
        # N07.FR.14: a threshold tripped before a reboot is cleared by the value after it
        tripped = sorted(m.id for m in self.monitors.values() if m.tripped)
        return {"custom": custom, "inactive": sorted(self.inactive), "tripped": tripped}

    def restore(self, state: Mapping[str, Any]) -> None:
        for n in state.get("inactive", []):
            self.monitors.pop(n, None)
            self.inactive.add(n)
        for item in state.get("custom", []):
            spec, _ = self.dm._resolve(item["component"], item["variable"])
            if spec is None:
                continue  # the folder no longer has the variable
            self.monitors.pop(item["id"], None)
            self.monitors[item["id"]] = Monitor(
                item["id"], spec, item["type"], float(item["value"]), item["severity"],
                item.get("transaction", False), "CustomMonitor", self.dm.value_of(spec))
        for n in state.get("tripped", []):
            if n in self.monitors:
                self.monitors[n].tripped = True

    # N04 SetVariableMonitoring

    def set_variable_monitoring(self, data: Iterable[Mapping[str, Any]]) -> list[dict]:
        """SetMonitoringResult for each SetMonitoringData, in order (N04.FR.01/02)."""
        return [self._set_one(item) for item in data]

    def _set_one(self, item: Mapping[str, Any]) -> dict[str, Any]:
        kind, severity, value = item["type"], item["severity"], float(item["value"])
        result: dict[str, Any] = {"type": kind, "severity": severity,
                                  "component": item["component"], "variable": item["variable"]}
        if item.get("id") is not None:
            result["id"] = item["id"]

        def status(name: str, reason: str | None = None, info: str = "") -> dict[str, Any]:
            result["status"] = name
            if reason:
                result["statusInfo"] = _info(reason, info)
            return result

        spec, unknown = self.dm._resolve(item["component"], item["variable"])
        if spec is None:
            return status(unknown)  # N04.FR.03, N04.FR.04
        ch = spec.characteristics
        if kind not in MONITOR_TYPES or not ch.supports_monitoring or (
                kind in THRESHOLDS and ch.data_type not in NUMERIC):
            return status("UnsupportedMonitorType")  # N04.FR.05
        if not 0 <= severity <= SEVERITY_MAX:
            return status("Rejected", "ValueOutOfRange", f"severity {severity} is not 0..9")
        if kind in THRESHOLDS and ((ch.min_limit is not None and value < ch.min_limit)
                                   or (ch.max_limit is not None and value > ch.max_limit)):
            return status("Rejected", "ValueOutOfRange",  # N04.FR.06
                          f"{_number(value)} is outside the variable's limits")
        if kind == "Delta" and value < 0:
            return status("Rejected", "ValuePositiveOnly", "a Delta is >= 0")  # N04.FR.14
        if kind in _PERIODIC and value <= 0:
            return status("Rejected", "ValuePositiveOnly", "a period is > 0 seconds")
        wanted = item.get("id")
        if wanted is not None:
            old = self.monitors.get(wanted)
            if old is None:
                return status("Rejected", "NotFound", f"no monitor {wanted}")  # N04.FR.13
            if old.kind == "HardWiredMonitor":
                return status("Rejected", "ReadOnly", "a hard-wired monitor")  # N04.FR.18
            if old.spec is not spec:
                return status("Rejected", "InvalidValue",  # N04.FR.16
                              f"monitor {wanted} watches another variable")
        if any(m.spec is spec and m.type == kind and m.severity == severity and m.id != wanted
               for m in self.monitors.values()):
            return status("Duplicate")  # N04.FR.10
        if wanted is None:  # N04.FR.11: the station chooses the id
            wanted = 1 + max([*self.monitors, *self.inactive, 0])
            result["id"] = wanted
        elif wanted in {m.id for m in spec.monitors}:
            self.inactive.add(wanted)  # N04.FR.15: a replaced configured monitor
        current = self.dm.value_of(spec)
        monitor = Monitor(wanted, spec, kind, value, severity, bool(item.get("transaction")),
                          "CustomMonitor", current)  # N04.FR.12: replaces
        self.monitors[wanted] = monitor
        if kind in THRESHOLDS:  # N07.FR.11: does the current value exceed the new threshold?
            self._pending.extend(self._threshold(monitor, current, None, None))
        self.dm._save()
        return status("Accepted")  # N04.FR.08

    # N06 ClearVariableMonitoring

    def clear_variable_monitoring(self, ids: Iterable[int]) -> list[dict]:
        """ClearMonitoringResult for each id (N06.FR.05)."""
        results = []
        for n in ids:
            m = self.monitors.get(n)
            if m is None:
                results.append({"status": "NotFound", "id": n})  # N06.FR.02
            elif m.kind == "HardWiredMonitor":
                results.append({"status": "Rejected", "id": n,  # N06.FR.03
                                "statusInfo": _info("ReadOnly", "a hard-wired monitor")})
            else:
                # N07.FR.12: no cleared event for a removed threshold monitor
                del self.monitors[n]
                if m.kind == "PreconfiguredMonitor":
                    self.inactive.add(n)
                results.append({"status": "Accepted", "id": n})  # N06.FR.01
        self.dm._save()
        return results

    # N03 SetMonitoringBase, N05 SetMonitoringLevel

    def set_monitoring_base(self, base: str) -> dict[str, Any]:
        """SetMonitoringBaseResponse payload."""
        spec = self.dm.find("MonitoringCtrlr", "ActiveMonitoringBase")
        offered = spec.characteristics.values_list if spec is not None else None
        if base not in MONITORING_BASES or (offered is not None and base not in offered):
            return {"status": "NotSupported"}  # N03.FR.02
        configured = {m.id: (spec_, m) for spec_ in self.dm.variables() for m in spec_.monitors}
        if base != "All":
            # N03.FR.04 (FactoryDefault), N03.FR.05 (HardWiredOnly): every custom monitor goes
            for n in [n for n, m in self.monitors.items() if m.kind == "CustomMonitor"]:
                del self.monitors[n]
        for n, (spec_, m) in configured.items():
            keep = base != "HardWiredOnly" or m.config_type == "HardWiredMonitor"
            if keep and n not in self.monitors:
                # N03.FR.03: All activates every configured monitor, custom ones stay;
                # FactoryDefault also brings back the replaced ones
                if base == "FactoryDefault" or n in self.inactive:
                    self.monitors[n] = _from_config(spec_, m)
                    self.inactive.discard(n)
            elif not keep:
                self.monitors.pop(n, None)
                self.inactive.add(n)
        if spec is not None:
            self.dm.set_local("MonitoringCtrlr", "ActiveMonitoringBase", base)  # saves
        else:
            self.dm._save()
        return {"status": "Accepted"}  # N03.FR.01

    def set_monitoring_level(self, severity: int) -> dict[str, Any]:
        """SetMonitoringLevelResponse payload (N05)."""
        if not 0 <= severity <= SEVERITY_MAX:  # N05.FR.02
            return {"status": "Rejected",
                    "statusInfo": _info("ValueOutOfRange", f"severity {severity} is not 0..9")}
        spec = self.dm.find("MonitoringCtrlr", "ActiveMonitoringLevel")
        if spec is not None:
            # ActiveMonitoringLevel is ReadOnly to the CSMS: the station writes it
            self.dm.set_local("MonitoringCtrlr", "ActiveMonitoringLevel", severity)
        else:
            self._level = severity
        return {"status": "Accepted"}  # N05.FR.01

    @property
    def level(self) -> int:
        """Only monitors with a severity number up to this report events (N05.FR.03)."""
        level = self.dm.get_int("MonitoringCtrlr", "ActiveMonitoringLevel")
        return level if level is not None else getattr(self, "_level", SEVERITY_MAX)

    # N02 monitoring report

    def report(self, criteria: Iterable[str] | None,
               component_variable: Iterable[Mapping[str, Any]] | None) -> list[dict]:
        """MonitoringData of the monitors the criteria and componentVariables select
        (N02.FR.05/06/08/11..17); an empty list is EmptyResultSet (N02.FR.10)."""
        criteria = list(criteria or ())
        unknown = [c for c in criteria if c not in MONITORING_CRITERIA]
        if unknown:  # N02.FR.02: NotSupported
            raise ValueError(f"monitoringCriteria {', '.join(unknown)} not one of "
                             f"{', '.join(MONITORING_CRITERIA)}")
        types = frozenset().union(*(MONITORING_CRITERIA[c] for c in criteria)) if criteria \
            else frozenset(MONITOR_TYPES)
        wanted = list(component_variable or ())
        by_spec: dict[VariableSpec, list[Monitor]] = {}
        for m in sorted(self.monitors.values(), key=lambda m: m.id):
            if m.type in types and (not wanted or any(_matches(cv, m.spec) for cv in wanted)):
                by_spec.setdefault(m.spec, []).append(m)
        return [{"component": spec.component.to_ocpp(), "variable": spec.to_ocpp(),
                 "variableMonitoring": [m.to_ocpp() for m in ms]}
                for spec, ms in by_spec.items()]

    # N07 alert events, N08 periodic events

    def take_events(self) -> list[dict[str, Any]]:
        """The EventData found while monitors were set (N07.FR.11), once."""
        events, self._pending = self._pending, []
        return events

    def check(self, spec: VariableSpec, value: str, transaction_id: str | None,
              timestamp: str) -> list[dict[str, Any]]:
        """EventData for the monitors of `spec` that `value` trips (N07.FR.02, .16..19)."""
        events: list[dict[str, Any]] = []
        for m in [m for m in self.monitors.values() if m.spec is spec]:
            if m.transaction and transaction_id is None:
                continue  # a transaction monitor is active during a transaction only
            if m.type in THRESHOLDS:
                events.extend(self._threshold(m, value, transaction_id, timestamp))
            elif m.type == "Delta":
                events.extend(self._delta(m, value, transaction_id, timestamp))
        return events

    def periodic(self, now: datetime, transaction_id: str | None = None) -> list[dict]:
        """EventData (trigger Periodic, N08.FR.05) of the periodic monitors due at `now`: a
        Periodic monitor every `value` seconds from its first tick (N08.FR.06), a
        PeriodicClockAligned one at the multiples of `value` seconds after midnight UTC
        (N08.FR.07)."""
        t = now.timestamp()
        stamp = iso(now)
        events = []
        for m in self.monitors.values():
            if m.type not in _PERIODIC or (m.transaction and transaction_id is None):
                continue
            if m.due is None:
                if m.type == "Periodic":
                    m.due = t + m.value
                else:
                    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0,
                                                          microsecond=0).timestamp()
                    m.due = midnight + (math.floor((t - midnight) / m.value) + 1) * m.value
                continue
            if t >= m.due:
                m.due += m.value * (1 + math.floor((t - m.due) / m.value))  # skip missed
                events.append(self._event(m, "Periodic", self.dm.value_of(m.spec) or "",
                                          transaction_id, stamp))
        return [e for e in events if self._reported(e)]

    def _threshold(self, m: Monitor, value: str | None, tx: str | None,
                   stamp: str | None) -> list[dict[str, Any]]:
        number = _as_float(value)
        if number is None:
            return []
        # N07.FR.16/17: strictly beyond the threshold, not on it
        beyond = number > m.value if m.type == "UpperThreshold" else number < m.value
        if beyond == m.tripped:
            return []
        m.tripped = beyond
        self.dm._save()  # N07.FR.14: the tripped state outlives a reboot
        event = self._event(m, "Alerting", value or "", tx, stamp or iso(datetime.now(UTC)))
        if not beyond:
            event["cleared"] = True  # N07.FR.02: back within the threshold
        return [event] if self._reported(event) else []

    def _delta(self, m: Monitor, value: str, tx: str | None, stamp: str) -> list[dict]:
        if m.spec.characteristics.data_type in NUMERIC:
            now, ref = _as_float(value), _as_float(m.reference)
            # N07.FR.18: changed by more than plus or minus `value` since set or last event
            moved = now is not None and (ref is None or abs(now - ref) > m.value)
        else:
            moved = value != m.reference  # N07.FR.19: any change, whatever `value` is
        if not moved:
            return []
        m.reference = value
        event = self._event(m, "Delta", value, tx, stamp)
        return [event] if self._reported(event) else []

    def _event(self, m: Monitor, trigger: str, value: str, tx: str | None,
               stamp: str) -> dict[str, Any]:
        attr = m.spec.attribute("Actual")
        if attr is not None and attr.mutability == "WriteOnly":
            value = ""  # N07.FR.10
        limit = self.dm._reporting_value_size()
        event: dict[str, Any] = {
            "eventId": next(self._event_ids), "timestamp": stamp, "trigger": trigger,
            "actualValue": value[:limit or 2500],  # EventDataType.actualValue: string[2500]
            "eventNotificationType": m.kind, "component": m.spec.component.to_ocpp(),
            "variable": m.spec.to_ocpp(), "variableMonitoringId": m.id,  # N07.FR.06
        }
        if tx is not None:
            event["transactionId"] = tx
        return event

    def _reported(self, event: Mapping[str, Any]) -> bool:
        # N07.FR.15: severities above the level set by SetMonitoringLevel are not reported;
        # MonitoringCtrlr.Enabled false: monitoring is off
        if self.dm.get_bool("MonitoringCtrlr", "Enabled", True) is False:
            return False
        return self.severity_of(event) <= self.level

    def severity_of(self, event: Mapping[str, Any]) -> int:
        """The severity of the monitor behind an EventData (for OfflineQueuingSeverity,
        N07.FR.04); SEVERITY_MAX when the monitor is gone."""
        m = self.monitors.get(event.get("variableMonitoringId", -1))
        return m.severity if m is not None else SEVERITY_MAX


def notify_event_payloads(events: list[dict[str, Any]], generated_at: datetime | str,
                          items_per_message: int | None = None) -> list[dict[str, Any]]:
    """NotifyEventRequest payloads carrying `events`: seqNo from 0 (N07.FR.07, N08.FR.04),
    tbc on every part but the last."""
    stamp = generated_at if isinstance(generated_at, str) else iso(generated_at)
    chunks = split_reports(events, items_per_message)
    return [{"generatedAt": stamp, "seqNo": n, "tbc": n < len(chunks) - 1, "eventData": chunk}
            for n, chunk in enumerate(chunks)]


def notify_monitoring_report_payloads(request_id: int, entries: list[dict[str, Any]],
                                      items_per_message: int | None,
                                      generated_at: datetime | str) -> list[dict[str, Any]]:
    """NotifyMonitoringReportRequest payloads of one report: the same requestId (N02.FR.04),
    seqNo from 0 (N02.FR.09), tbc on every part but the last."""
    stamp = generated_at if isinstance(generated_at, str) else iso(generated_at)
    chunks = split_reports(entries, items_per_message) or [[]]
    out = []
    for n, chunk in enumerate(chunks):
        payload: dict[str, Any] = {"requestId": request_id, "generatedAt": stamp, "seqNo": n,
                                   "tbc": n < len(chunks) - 1}
        if chunk:
            payload["monitor"] = chunk
        out.append(payload)
    return out
