"""The OCPP 2.0.1 device model of one charging station, sans-I/O.

    dm = DeviceModel.load(folder, state_file=None)      # a libocpp component_config folder
    dm.get("OCPPCommCtrlr", "HeartbeatInterval")          # "1800" (values are OCPP strings)
    dm.get_int(...), dm.get_bool(...), dm.get_list(...)
    dm.get_variables(request["getVariableData"])          # B06 GetVariableResult list
    dm.set_variables(request["setVariableData"])          # B05 SetVariableResult list
    dm.report("FullInventory")                            # B07 ReportData list
    dm.report(criteria=[...], component_variable=[...])   # B08 ReportData list
    notify_report_payloads(request_id, entries, items_per_message, generated_at)
    dm.set_local("EVSE", "AvailabilityState", "Occupied", evse=1)   # the station's own write
    dm.set_variable_monitoring(...), dm.clear_variable_monitoring(...)   # N04, N06
    dm.set_monitoring_base(...), dm.set_monitoring_level(...)           # N03, N05
    dm.monitoring_report(...)                                            # N02
    dm.check_monitors("EVSE", "Power", "7400", evse=1)   # N07 EventData for NotifyEvent
    dm.periodic_events(now)                              # N08 EventData

The folder is read as it is and validated (`sim.v201.device_model_loader`; problems raise
`DeviceModelError`, one `FILE: Component.variable: reason` line each). What it holds is a
read-only `DeviceModelTemplate` shared by every station loaded from the same folder; a station
keeps only the values that changed (SetVariables, `set_local`), copy-on-write. Changed values
persist in a small JSON overlay (`state_file`, written atomically, re-applied at load); the
component_config folder is never written.

Names of components and variables match case-insensitively (ComponentType.name, VariableType
.name: "Case Insensitive"); an empty instance is no instance (B06.FR.15).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from chargebench.clock import iso
from sim.state import write_json
from sim.v201.device_model_loader import (
    AttributeSpec,
    ComponentKey,
    DeviceModelError,
    DeviceModelTemplate,
    VariableSpec,
    load_template,
)
from sim.v201.device_model_monitoring import (
    MONITORING_BASES,
    MONITORING_CRITERIA,
    Monitoring,
    notify_event_payloads,
    notify_monitoring_report_payloads,
)
from sim.v201.device_model_reports import (
    COMPONENT_CRITERIA,
    REPORT_BASES,
    build_report,
    notify_report_payloads,
    split_reports,
)
from sim.v201.device_model_values import Characteristics, check_value, list_items, to_text

__all__ = [
    "COMPONENT_CRITERIA",
    "MONITORING_BASES",
    "MONITORING_CRITERIA",
    "REBOOT_REQUIRED",
    "REPORT_BASES",
    "AttributeSpec",
    "Characteristics",
    "ComponentKey",
    "DeviceModel",
    "DeviceModelError",
    "DeviceModelTemplate",
    "Monitoring",
    "VariableSpec",
    "default_config_dir",
    "notify_event_payloads",
    "notify_monitoring_report_payloads",
    "notify_report_payloads",
    "split_reports",
]

#: (component, variable), lowercased, whose new value takes effect only after a reboot: the
#: SetVariableResult is RebootRequired (SetVariableStatusEnumType) and the value is persisted
#: for the next boot. NetworkConfigurationPriority: B10.FR.01 ("Accepted, or RebootRequired"),
#: B10.FR.04 (the new priority is used after a reboot).
REBOOT_REQUIRED: frozenset[tuple[str, str]] = frozenset({
    ("ocppcommctrlr", "networkconfigurationpriority"),
})

#: StatusInfoType.additionalInfo: string[512]; reasonCode: string[20]
_INFO_MAX = 512
_STATE_VERSION = 1

#: a SetVariables check of the station's own: the value -> None (fine) or why not, as
#: additionalInfo (reasonCode InvalidValue) or a (reasonCode, additionalInfo) pair
Check = Callable[[str], "str | tuple[str, str] | None"]
#: called after a value changed: (variable, attributeType, new value)
Listener = Callable[[VariableSpec, str, str], None]

_Slot = tuple[VariableSpec, str]  # (variable, attributeType)


def default_config_dir() -> Path:
    """ChargeBench's own 2.0.1 component_config (libocpp format, written by us): one AC station,
    EVSE 1 with connector 1, every controller a station needs."""
    return Path(str(resources.files(__package__).joinpath("default_config")))


def _status_info(reason: str, info: str) -> dict[str, str]:
    return {"reasonCode": reason[:20], "additionalInfo": info[:_INFO_MAX]}


class DeviceModel:
    """One station's device model: the shared template plus this station's changed values."""

    __slots__ = ("_changed", "_checks", "_foreign", "_listeners", "_monitoring", "_pending",
                 "_volatile", "state_file", "template")

    def __init__(self, template: DeviceModelTemplate, state_file: Path | None = None) -> None:
        self.template = template
        self.state_file = Path(state_file) if state_file is not None else None
        #: this station's values that differ from the template: (spec, attributeType) -> value
        self._changed: dict[_Slot, str] | None = None
        #: RebootRequired values, active after `apply_pending` (a reboot) or the next load
        self._pending: dict[_Slot, str] | None = None
        self._checks: dict[VariableSpec, list[Check]] | None = None
        self._listeners: list[Listener] | None = None
        #: state-file entries this folder has no variable for: kept, written back unchanged
        self._foreign: list[Any] | None = None
        #: values set with `set_local(persist=False)`: over `_changed`, never written
        self._volatile: dict[_Slot, str] | None = None
        #: the monitoring state (`sim.v201.device_model_monitoring`), made on first use
        self._monitoring: Monitoring | None = None
        if self.state_file is not None:
            self._read_state()

    @classmethod
    def load(cls, folder: Path, state_file: Path | None = None) -> DeviceModel:
        """The device model of a libocpp component_config folder (`standardized/*.json`,
        `custom/*.json`) with the values saved in `state_file` (if any) applied. Raises
        `DeviceModelError` (one line per problem) for a folder or state file that is invalid."""
        return cls(load_template(Path(folder)), state_file)

    @property
    def folder(self) -> Path:
        return self.template.folder

    # Lookup

    def find(self, component: str, variable: str, *, evse: int | None = None,
             connector: int | None = None, component_instance: str | None = None,
             variable_instance: str | None = None) -> VariableSpec | None:
        """The variable, or None when the device model has no such component-variable."""
        return self.template.find(component, variable, evse=evse, connector=connector,
                                  component_instance=component_instance,
                                  variable_instance=variable_instance)

    def variables(self) -> tuple[VariableSpec, ...]:
        """Every variable of the device model, in file order."""
        return self.template.variables

    def components(self) -> list[ComponentKey]:
        return list(self.template.components.values())

    def evse_ids(self) -> list[int]:
        """The ids of the EVSE components, ascending."""
        return sorted({c.evse for c in self.template.components.values()
                       if c.name == "EVSE" and c.evse is not None})

    def connector_ids(self, evse: int) -> list[int]:
        """The connector ids of the Connector components on EVSE `evse`, ascending."""
        return sorted({c.connector for c in self.template.components.values()
                       if c.name == "Connector" and c.evse == evse and c.connector is not None})

    def value_of(self, spec: VariableSpec, attribute: str = "Actual") -> str | None:
        """The current value of one attribute of `spec` (None: unset or no such attribute)."""
        if self._volatile is not None:
            value = self._volatile.get((spec, attribute))
            if value is not None:
                return value
        if self._changed is not None:
            value = self._changed.get((spec, attribute))
            if value is not None:
                return value
        attr = spec.attribute(attribute)
        return attr.value if attr is not None else None

    # Typed reads for the station's own logic

    def get(self, component: str, variable: str, *, attribute: str = "Actual",
            evse: int | None = None, connector: int | None = None,
            component_instance: str | None = None,
            variable_instance: str | None = None) -> str | None:
        """The value as its OCPP string, or None when the variable, the attribute or a value
        is missing. Mutability does not apply: this is the station reading its own model."""
        spec = self.find(component, variable, evse=evse, connector=connector,
                         component_instance=component_instance,
                         variable_instance=variable_instance)
        return None if spec is None else self.value_of(spec, attribute)

    def get_int(self, component: str, variable: str, default: int | None = None,
                **where: Any) -> int | None:
        """`get` as an int (decimals are truncated), else `default`."""
        value = self.get(component, variable, **where)
        try:
            return int(float(value)) if value not in (None, "") else default
        except ValueError:
            return default

    def get_decimal(self, component: str, variable: str, default: float | None = None,
                    **where: Any) -> float | None:
        value = self.get(component, variable, **where)
        try:
            return float(value) if value not in (None, "") else default
        except ValueError:
            return default

    def get_bool(self, component: str, variable: str, default: bool | None = None,
                 **where: Any) -> bool | None:
        """`get` as a bool ("true"/"false"), else `default`."""
        value = self.get(component, variable, **where)
        return {"true": True, "false": False}.get(value or "", default)

    def get_list(self, component: str, variable: str, default: list[str] | None = None,
                 **where: Any) -> list[str] | None:
        """`get` of a comma separated value (MemberList, SequenceList, lists kept in strings)
        as its items in order, else `default`."""
        value = self.get(component, variable, **where)
        return list_items(value) if value is not None else default

    # Writes

    def set_local(self, component: str, variable: str, value: str | int | float | bool, *,
                  attribute: str = "Actual", evse: int | None = None,
                  connector: int | None = None, component_instance: str | None = None,
                  variable_instance: str | None = None, persist: bool = True) -> None:
        """The station's own write (AvailabilityState, DateTime, an identity): mutability does
        not apply, the value must still fit the variable. `persist=False` for values that must
        not survive a reboot or change too often to write each time (measurements). Raises
        KeyError for an unknown variable or attribute, ValueError for a value that does not
        fit."""
        spec = self.find(component, variable, evse=evse, connector=connector,
                         component_instance=component_instance,
                         variable_instance=variable_instance)
        if spec is None:
            raise KeyError(f"{component}.{variable}: not in the device model")
        if spec.attribute(attribute) is None:
            raise KeyError(f"{spec.label}: no {attribute} attribute")
        text = to_text(value)
        problem = check_value(spec.characteristics, text)
        if problem is not None:
            raise ValueError(f"{spec.label}: {problem[1]}")
        self._store(spec, attribute, text, volatile=not persist)
        if persist:
            self._save()

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(spec, attributeType, value)` after every change of a value."""
        if self._listeners is None:
            self._listeners = []
        self._listeners.append(listener)

    def add_check(self, component: str, variable: str, check: Check, **where: Any) -> None:
        """A SetVariables rule of the station's own for one variable (B05.FR.09: "not able to
        set it"), e.g. NetworkConfigurationPriority naming only valid slots (B10.FR.02)."""
        spec = self.find(component, variable, **where)
        if spec is None:
            raise KeyError(f"{component}.{variable}: not in the device model")
        if self._checks is None:
            self._checks = {}
        self._checks.setdefault(spec, []).append(check)

    def has_check(self, component: str, variable: str, **where: Any) -> bool:
        """Whether a rule of the station's own is registered for the variable (`add_check`)."""
        spec = self.find(component, variable, **where)
        return spec is not None and spec in (self._checks or {})

    @property
    def pending_reboot(self) -> dict[str, str]:
        """The RebootRequired values waiting for a reboot, by "Component.Variable"."""
        return {spec.label: value for (spec, _), value in (self._pending or {}).items()}

    def apply_pending(self) -> list[VariableSpec]:
        """Make the RebootRequired values active (the station rebooted); returns their
        variables."""
        pending, self._pending = self._pending or {}, None
        for (spec, attribute), value in pending.items():
            self._store(spec, attribute, value)
        return [spec for spec, _ in pending]

    def changed(self) -> dict[str, str]:
        """This station's values that differ from the folder, by "Component.Variable/Attr"
        (the copy-on-write part; for tests and diagnostics)."""
        both = {**(self._changed or {}), **(self._volatile or {})}
        return {f"{spec.label}/{attr}": value for (spec, attr), value in both.items()}

    # B06 GetVariables

    def get_variables(self, get_variable_data: Iterable[Mapping[str, Any]]) -> list[dict]:
        """GetVariableResult for each GetVariableData, in order (B06.FR.01/02)."""
        limit = self._reporting_value_size()
        return [self._get_one(item, limit) for item in get_variable_data]

    def _get_one(self, item: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
        component, variable = item["component"], item["variable"]
        attribute = item.get("attributeType") or "Actual"
        # B06.FR.03/B06.FR.11: the attributeType asked for, Actual when absent
        result: dict[str, Any] = {"attributeType": attribute, "component": component,
                                  "variable": variable}
        spec, status = self._resolve(component, variable)
        attr = spec.attribute(attribute) if spec is not None else None
        if spec is None:
            result["attributeStatus"] = status  # B06.FR.06, B06.FR.07, B06.FR.15
        elif attr is None:
            result["attributeStatus"] = "NotSupportedAttributeType"  # B06.FR.08
        elif attr.mutability == "WriteOnly":
            result["attributeStatus"] = "Rejected"  # B06.FR.09
            result["attributeStatusInfo"] = _status_info(
                "WriteOnly", f"{spec.label} is WriteOnly")
        else:
            # B06.FR.10; B06.FR.13: "" when the attribute has no value
            value = self.value_of(spec, attribute) or ""
            result["attributeStatus"] = "Accepted"
            result["attributeValue"] = value if limit is None else value[:limit]
        return result

    # B05 SetVariables

    def set_variables(self, set_variable_data: Iterable[Mapping[str, Any]]) -> list[dict]:
        """SetVariableResult for each SetVariableData, in order (B05.FR.01/02); accepted values
        are stored (and persisted, once for the whole request)."""
        size = self.get_int("DeviceDataCtrlr", "ConfigurationValueSize")
        results: list[dict] = []
        changed = False
        for item in set_variable_data:
            result, stored = self._set_one(item, size)
            results.append(result)
            changed = changed or stored
        if changed:
            self._save()
        return results

    def _set_one(self, item: Mapping[str, Any], size: int | None) -> tuple[dict, bool]:
        component, variable = item["component"], item["variable"]
        attribute = item.get("attributeType") or "Actual"
        value = item["attributeValue"]
        # B05.FR.03/B05.FR.12: the attributeType asked for, Actual when absent
        result: dict[str, Any] = {"attributeType": attribute, "component": component,
                                  "variable": variable}

        def rejected(reason: str, info: str) -> tuple[dict, bool]:
            result["attributeStatus"] = "Rejected"
            result["attributeStatusInfo"] = _status_info(reason, info)
            return result, False

        spec, status = self._resolve(component, variable)
        if spec is None:
            result["attributeStatus"] = status  # B05.FR.04, B05.FR.05
            return result, False
        attr = spec.attribute(attribute)
        if attr is None:
            result["attributeStatus"] = "NotSupportedAttributeType"  # B05.FR.06
            return result, False
        if size is not None and len(value) > size:
            # ConfigurationValueSize limits SetVariableData.attributeValue
            return rejected("ValueOutOfRange", f"{len(value)} characters, "
                            f"ConfigurationValueSize is {size}")
        problem = check_value(spec.characteristics, value)
        if problem is not None:
            return rejected(*problem)  # B05.FR.07 (format), B05.FR.08 (range)
        if attr.mutability == "ReadOnly":
            return rejected("ReadOnly", f"{spec.label} is ReadOnly")  # B05.FR.09
        for check in (self._checks or {}).get(spec, ()):
            verdict = check(value)
            if verdict is not None:  # B05.FR.09: the station is not able to set it
                return rejected(*(("InvalidValue", verdict) if isinstance(verdict, str)
                                  else verdict))
        key = (spec.component.name.lower(), spec.name.lower())
        if key in REBOOT_REQUIRED:
            if self._pending is None:
                self._pending = {}
            self._pending[self.template.slot(spec, attribute)] = value
            result["attributeStatus"] = "RebootRequired"
            return result, True
        self._store(spec, attribute, value)
        result["attributeStatus"] = "Accepted"  # B05.FR.10
        return result, True

    # B07/B08 reports

    def report(self, report_base: str | None = None, criteria: Iterable[str] | None = None,
               component_variable: Iterable[Mapping[str, Any]] | None = None) -> list[dict]:
        """ReportData entries: for GetBaseReport's `report_base` (ConfigurationInventory,
        FullInventory, SummaryInventory; B07.FR.07/08/09), else for GetReport's
        componentCriteria and/or componentVariable (B08.FR.05..25; neither: every variable).
        An unknown reportBase or criterion raises ValueError (the handler answers NotSupported,
        B07.FR.02/B08.FR.02); an empty list is GetReport's EmptyResultSet (B08.FR.15)."""
        return build_report(self, report_base, criteria, component_variable,
                            self._reporting_value_size())

    # N: monitoring (sim.v201.device_model_monitoring)

    @property
    def monitoring(self) -> Monitoring:
        """This station's monitors, made on first use (until then the configured monitors
        stay in the shared template)."""
        if self._monitoring is None:
            self._monitoring = Monitoring(self)
        return self._monitoring

    def set_variable_monitoring(self, set_monitoring_data: Iterable[Mapping[str, Any]]
                                ) -> list[dict]:
        """SetMonitoringResult for each SetMonitoringData (N04)."""
        return self.monitoring.set_variable_monitoring(set_monitoring_data)

    def clear_variable_monitoring(self, ids: Iterable[int]) -> list[dict]:
        """ClearMonitoringResult for each id (N06)."""
        return self.monitoring.clear_variable_monitoring(ids)

    def set_monitoring_base(self, monitoring_base: str) -> dict[str, Any]:
        """The SetMonitoringBaseResponse payload (N03)."""
        return self.monitoring.set_monitoring_base(monitoring_base)

    def set_monitoring_level(self, severity: int) -> dict[str, Any]:
        """The SetMonitoringLevelResponse payload (N05)."""
        return self.monitoring.set_monitoring_level(severity)

    def monitoring_report(self, criteria: Iterable[str] | None = None,
                          component_variable: Iterable[Mapping[str, Any]] | None = None
                          ) -> list[dict]:
        """MonitoringData for GetMonitoringReport (N02); ValueError for an unknown criterion
        (NotSupported, N02.FR.02), [] for EmptyResultSet (N02.FR.10)."""
        return self.monitoring.report(criteria, component_variable)

    def check_monitors(self, component: str, variable: str, new_value: str | int | float | bool,
                       *, evse: int | None = None, connector: int | None = None,
                       component_instance: str | None = None,
                       variable_instance: str | None = None, transaction_id: str | None = None,
                       timestamp: datetime | str | None = None) -> list[dict]:
        """EventData for NotifyEvent of every monitor on the variable that `new_value` (its new
        Actual value) trips: UpperThreshold/LowerThreshold Alerting and cleared (N07.FR.02,
        .16, .17), Delta (N07.FR.18, .19). Does not store the value (`set_local` does)."""
        spec = self.find(component, variable, evse=evse, connector=connector,
                         component_instance=component_instance,
                         variable_instance=variable_instance)
        if spec is None or (self._monitoring is None and not spec.monitors):
            return []
        stamp = (iso(datetime.now(UTC)) if timestamp is None
                 else timestamp if isinstance(timestamp, str) else iso(timestamp))
        return self.monitoring.check(spec, to_text(new_value), transaction_id, stamp)

    def periodic_events(self, now: datetime, transaction_id: str | None = None) -> list[dict]:
        """EventData of the Periodic/PeriodicClockAligned monitors due at `now` (N08); call it
        from a timer (each monitor's first call only schedules it)."""
        if self._monitoring is None and not any(s.monitors for s in self.variables()):
            return []
        return self.monitoring.periodic(now, transaction_id)

    def take_monitor_events(self) -> list[dict]:
        """EventData found when SetVariableMonitoring set a threshold the value already
        exceeds (N07.FR.11), once."""
        return self._monitoring.take_events() if self._monitoring is not None else []

    # Internals

    def _resolve(self, component: Mapping[str, Any], variable: Mapping[str, Any]
                 ) -> tuple[VariableSpec | None, str]:
        """The variable a ComponentType + VariableType pair names, else None and the status
        (UnknownComponent or UnknownVariable)."""
        evse = component.get("evse") or {}
        where = {"evse": evse.get("id"), "connector": evse.get("connectorId"),
                 "instance": component.get("instance")}
        if not self.template.has_component(component["name"], **where):
            # N04.FR.04 (part 6 TC_N_37_CS): a component the station has, named without its
            # EVSE, and a variable none of its instances has: the variable is the unknown one
            name = component["name"].lower()
            same = [s for s in self.template.variables if s.component.name.lower() == name]
            if where["evse"] is None and same and not any(
                    s.name.lower() == variable["name"].lower() for s in same):
                return None, "UnknownVariable"
            return None, "UnknownComponent"
        spec = self.find(component["name"], variable["name"], evse=where["evse"],
                         connector=where["connector"], component_instance=where["instance"],
                         variable_instance=variable.get("instance"))
        return (spec, "") if spec is not None else (None, "UnknownVariable")

    def _reporting_value_size(self) -> int | None:
        # ReportingValueSize limits GetVariableResult.attributeValue, VariableAttribute.value
        # and EventData.actualValue (VariableAttributeType.value); 0 or less: no limit
        size = self.get_int("DeviceDataCtrlr", "ReportingValueSize")
        return size if size is not None and size > 0 else None

    def _store(self, spec: VariableSpec, attribute: str, value: str,
               volatile: bool = False) -> None:
        if volatile:
            if self._volatile is None:
                self._volatile = {}
            self._volatile[self.template.slot(spec, attribute)] = value
        else:
            if self._volatile:
                self._volatile.pop((spec, attribute), None)
            base = spec.attribute(attribute)
            if base is not None and base.value == value:
                if self._changed:
                    self._changed.pop((spec, attribute), None)  # back to the folder's value
            else:
                if self._changed is None:
                    self._changed = {}
                self._changed[self.template.slot(spec, attribute)] = value
        if self._pending:
            self._pending.pop((spec, attribute), None)
        for listener in self._listeners or ():
            listener(spec, attribute, value)

    # Persistence: the state file holds the values to use at the next load (a boot), that is
    # the changed values with the RebootRequired ones over them.

    def _save(self) -> None:
        if self.state_file is None:
            return
        slots = {**(self._changed or {}), **(self._pending or {})}
        entries = [{"component": spec.component.to_ocpp(), "variable": spec.to_ocpp(),
                    "attributeType": attribute, "value": value}
                   for (spec, attribute), value in slots.items()]
        doc: dict[str, Any] = {"version": _STATE_VERSION, "values": entries + (self._foreign or [])}
        if self._monitoring is not None:
            doc["monitoring"] = self._monitoring.state()
        write_json(self.state_file, doc)

    def _read_state(self) -> None:
        path = self.state_file
        assert path is not None
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            return  # first start
        except OSError as exc:
            raise DeviceModelError([f"{path}: cannot be read: {exc}"]) from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeviceModelError([f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}"]) from None
        entries = doc.get("values") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise DeviceModelError([f"{path}: (state): not a device-model state file "
                                    "(an object with a 'values' list)"])
        for n, entry in enumerate(entries):
            try:
                component, variable = entry["component"], entry["variable"]
                attribute, value = entry.get("attributeType", "Actual"), entry["value"]
                evse = component.get("evse") or {}
                spec = self.find(component["name"], variable["name"], evse=evse.get("id"),
                                 connector=evse.get("connectorId"),
                                 component_instance=component.get("instance"),
                                 variable_instance=variable.get("instance"))
            except (KeyError, TypeError, AttributeError):
                raise DeviceModelError(
                    [f"{path}: values[{n}]: needs component, variable and value"]) from None
            if (spec is None or spec.attribute(attribute) is None or not isinstance(value, str)
                    or check_value(spec.characteristics, value) is not None):
                # the folder changed since: keep the entry, do not apply it
                self._foreign = [*(self._foreign or []), entry]
                continue
            self._store(spec, attribute, value)
        monitoring = doc.get("monitoring")
        if isinstance(monitoring, dict):
            try:
                self.monitoring.restore(monitoring)
            except (KeyError, TypeError, ValueError, AttributeError):
                raise DeviceModelError([f"{path}: monitoring: not a saved monitoring "
                                        "state"]) from None
