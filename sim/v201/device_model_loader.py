"""Read and validate a libocpp 2.0.1 component_config folder as it is (`standardized/*.json`,
`custom/*.json`, one component per file) into a read-only `DeviceModelTemplate`.

The folder's shape is libocpp's: a component file has `name`, optional `instance`, `evse_id`
(EVSE and Connector components), `connector_id` (Connector components) and `properties`, one per
variable, each with `variable_name`, optional `instance`, `characteristics` (the OCPP
VariableCharacteristicsType: `dataType`, `supportsMonitoring`, `unit`, `minLimit`, `maxLimit`,
`valuesList`) and `attributes` (`type`, `mutability`, `value`). Other keys (`description`,
`$schema`, the JSON-schema words libocpp keeps beside them) are documentation and ignored.
A property's `default` is the Actual value when its Actual attribute has no `value` (libocpp's
files give e.g. HeartbeatInterval only as a default). A property's `monitors` are its hard-wired
and preconfigured monitors in libocpp's form (`type`, `value`, `severity`, `transaction`,
`config_type` HardWiredMonitor or PreconfiguredMonitor, `reference_value` for Delta).

Every problem is collected, so one run shows them all, as one line each:
`FILE: Component.Variable: reason` (`FILE:LINE:COL: reason` for JSON syntax).

A template is loaded once per folder and process and shared, read-only, by every station made
from it (`load_template` caches it while the files' sizes and mtimes stay the same): 10 000
stations from one folder hold one copy of its ~250 variables.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.v201.device_model_values import (
    ATTRIBUTE_TYPES,
    DATA_TYPES,
    LIST_TYPES,
    MUTABILITIES,
    Characteristics,
    check_value,
    to_text,
)

#: the folders of a component_config, in libocpp's order
SUBFOLDERS = ("standardized", "custom")
#: ComponentType.name / .instance, VariableType.name / .instance: string[50]; unit string[16];
#: valuesList string[1000] (2.0.1 part 2 §2 Datatypes)
NAME_MAX = 50
UNIT_MAX = 16
VALUES_LIST_MAX = 1000
#: VariableAttributeType.value: string[2500]
VALUE_MAX = 2500
#: dataTypes for which "" in a libocpp file means "no value yet" (ClockCtrlr.DateTime: "");
#: for the string-like types "" is a value
_EMPTY_IS_UNSET = frozenset({"integer", "decimal", "boolean", "dateTime", "OptionList"})


class DeviceModelError(Exception):
    """A component_config folder (or a state file) that cannot be loaded. `problems` holds one
    line per problem, `FILE: Component.variable: reason`; str() joins them with newlines (the
    CLI prints it and exits 2)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class ComponentKey:
    """A component of the device model: ComponentType (name, instance, evse.id and
    evse.connectorId)."""

    name: str
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None

    def to_ocpp(self) -> dict[str, Any]:
        """The ComponentType dict of OCPP 2.0.1."""
        out: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            out["instance"] = self.instance
        if self.evse is not None:
            out["evse"] = {"id": self.evse}
            if self.connector is not None:
                out["evse"]["connectorId"] = self.connector
        return out

    @property
    def lookup(self) -> tuple[str, str | None, int | None, int | None]:
        """The case-insensitive key (ComponentType.name and .instance: "Case Insensitive")."""
        return self.name.lower(), _fold(self.instance), self.evse, self.connector


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One VariableAttribute as configured: type, mutability and the value at load."""

    type: str
    mutability: str
    value: str | None


#: MonitorEnumType; the threshold types need a numeric variable (N04.FR.05)
MONITOR_TYPES = ("UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned")
THRESHOLDS = frozenset({"UpperThreshold", "LowerThreshold"})
NUMERIC = frozenset({"integer", "decimal"})
#: the monitors a component_config may configure (EventNotificationEnumType)
CONFIG_MONITOR_TYPES = ("HardWiredMonitor", "PreconfiguredMonitor")
#: severity 0 (Danger) .. 9 (Debug), 2.0.1 part 2 §3.77 "Severity levels"
SEVERITY_MAX = 9


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """A monitor the component_config sets up (hard-wired or preconfigured), read-only."""

    id: int
    type: str
    value: float
    severity: int
    transaction: bool
    config_type: str
    reference_value: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class VariableSpec:
    """One variable of one component, read-only and shared between stations. Hashed by
    identity: the per-station overlay is keyed by (spec, attributeType)."""

    component: ComponentKey
    name: str
    instance: str | None
    characteristics: Characteristics
    attributes: tuple[AttributeSpec, ...]
    source: str  # the file it came from, for messages
    monitors: tuple[MonitorSpec, ...] = ()

    def attribute(self, attribute_type: str) -> AttributeSpec | None:
        for attr in self.attributes:
            if attr.type == attribute_type:
                return attr
        return None

    def to_ocpp(self) -> dict[str, Any]:
        """The VariableType dict of OCPP 2.0.1."""
        return {"name": self.name} if self.instance is None else {
            "name": self.name, "instance": self.instance}

    @property
    def label(self) -> str:
        return f"{self.component.name}.{self.name}" + (
            f"[{self.instance}]" if self.instance is not None else "")


@dataclass(eq=False)
class DeviceModelTemplate:
    """The variables of one component_config folder, validated, read-only."""

    folder: Path
    variables: tuple[VariableSpec, ...]
    #: component lookup key -> ComponentKey
    components: dict[tuple[str, str | None, int | None, int | None], ComponentKey] = field(
        default_factory=dict)
    #: (component lookup key, variable name lowercased, variable instance) -> VariableSpec
    index: dict[tuple[Any, ...], VariableSpec] = field(default_factory=dict)
    #: the variables of each component, in file order
    grouped: dict[ComponentKey, tuple[VariableSpec, ...]] = field(default_factory=dict)
    _slots: dict[tuple[VariableSpec, str], tuple[VariableSpec, str]] = field(
        default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        groups: dict[ComponentKey, list[VariableSpec]] = {}
        for spec in self.variables:
            groups.setdefault(spec.component, []).append(spec)
            self.components.setdefault(spec.component.lookup, spec.component)
            self.index[(*spec.component.lookup, spec.name.lower(), _fold(spec.instance))] = spec
        self.grouped = {component: tuple(specs) for component, specs in groups.items()}

    def slot(self, spec: VariableSpec, attribute: str) -> tuple[VariableSpec, str]:
        """The one (spec, attributeType) tuple every station keys its changed value by: 10 000
        stations that set the same variable share one key instead of holding one each."""
        key = (spec, attribute)
        return self._slots.setdefault(key, key)

    def find(self, component: str, variable: str, *, evse: int | None = None,
             connector: int | None = None, component_instance: str | None = None,
             variable_instance: str | None = None) -> VariableSpec | None:
        return self.index.get((component.lower(), _fold(component_instance), evse, connector,
                               variable.lower(), _fold(variable_instance)))

    def has_component(self, component: str, *, evse: int | None = None,
                      connector: int | None = None, instance: str | None = None) -> bool:
        return (component.lower(), _fold(instance), evse, connector) in self.components


_CACHE: dict[Path, tuple[tuple[Any, ...], DeviceModelTemplate]] = {}


def _fold(instance: str | None) -> str | None:
    """An instance as the lookups compare it: case-insensitive, "" is none (B06.FR.15)."""
    return instance.lower() if instance else None


def component_files(folder: Path) -> list[Path]:
    """The component files of a component_config folder, in load order."""
    return [p for sub in SUBFOLDERS for p in sorted((folder / sub).glob("*.json"))]


def load_template(folder: Path, *, cached: bool = True) -> DeviceModelTemplate:
    """The validated template of `folder`, read once per process while its files are unchanged
    (`cached=False` reads it again, and keeps that copy); raises `DeviceModelError` with every
    problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DeviceModelError([f"{folder}: not a directory"])
    files = component_files(folder)
    if not files:
        raise DeviceModelError([f"{folder}: no standardized/*.json or custom/*.json files"])
    signature = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    key = folder.resolve()
    hit = _CACHE.get(key) if cached else None
    if hit is not None and hit[0] == signature:
        return hit[1]
    template = _read_folder(folder, files)
    _CACHE[key] = (signature, template)
    return template


def _read_folder(folder: Path, files: list[Path]) -> DeviceModelTemplate:
    problems: list[str] = []
    variables: list[VariableSpec] = []
    seen: dict[tuple[Any, ...], Path] = {}
    evses: set[int] = set()
    connectors: list[tuple[Path, ComponentKey]] = []
    unreadable = False  # a file whose component is unknown: it may be the EVSE a connector needs
    for path in files:
        read = _read_file(path, problems)
        if read is None:
            unreadable = True
            continue
        component, specs = read
        other = seen.get(component.lookup)
        if other is not None:
            problems.append(f"{path}: {component.name}: the same component as {other}")
            continue
        seen[component.lookup] = path
        if component.name == "EVSE" and component.evse is not None:
            evses.add(component.evse)
        if component.name == "Connector":
            connectors.append((path, component))
        variables.extend(specs)
    for path, connector in connectors if not unreadable else ():
        if connector.evse is not None and connector.evse not in evses:
            problems.append(f"{path}: Connector: evse_id {connector.evse} has no EVSE component")
    if problems:
        raise DeviceModelError(problems)
    # configured monitors are numbered 1.. in file order (VariableMonitoringType.id)
    ids = iter(range(1, 1 + sum(len(v.monitors) for v in variables)))
    variables = [replace(v, monitors=tuple(replace(m, id=next(ids)) for m in v.monitors))
                 if v.monitors else v for v in variables]
    return DeviceModelTemplate(folder, tuple(variables))


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return (_is_int(x) or isinstance(x, float)) and math.isfinite(x)


def _name_error(value: Any, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= NAME_MAX:
        return f"must be a string of 1 to {NAME_MAX} characters"
    return None


def _read_file(path: Path, problems: list[str]) -> tuple[ComponentKey, list[VariableSpec]] | None:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        problems.append(f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot be read: {exc}")
        return None
    if not isinstance(doc, dict):
        problems.append(f"{path}: (document): not a JSON object")
        return None
    component = _read_component(path, doc, problems)
    if component is None:
        return None
    props = doc.get("properties")
    if not isinstance(props, dict):
        problems.append(f"{path}: {component.name}: 'properties' must be an object")
        return None
    specs: list[VariableSpec] = []
    names: set[tuple[str, str | None]] = set()
    for key, prop in props.items():
        spec = _read_variable(path, component, key, prop, problems)
        if spec is None:
            continue
        ident = (spec.name.lower(), _fold(spec.instance))
        if ident in names:
            problems.append(f"{path}: {spec.label}: defined twice")
            continue
        names.add(ident)
        specs.append(spec)
    required = doc.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        problems.append(f"{path}: {component.name}: 'required' must be a list of property names")
    else:
        problems.extend(f"{path}: {component.name}: required property {r!r} is not in properties"
                        for r in required if r not in props)
    return component, specs


def _read_component(path: Path, doc: dict[str, Any], problems: list[str]) -> ComponentKey | None:
    name = doc.get("name")
    error = _name_error(name)
    if error:
        problems.append(f"{path}: (component): 'name' {error}")
        return None
    assert isinstance(name, str)
    start = len(problems)
    instance = doc.get("instance")
    error = _name_error(instance, optional=True)
    if error:
        problems.append(f"{path}: {name}: 'instance' {error}")
    ids: dict[str, int | None] = {}
    for field_name in ("evse_id", "connector_id"):
        value = doc.get(field_name)
        if value is not None and not (_is_int(value) and value >= 1):
            problems.append(f"{path}: {name}: '{field_name}' must be an integer >= 1")
            value = None
        ids[field_name] = value
    if len(problems) > start:
        return None
    evse, connector = ids["evse_id"], ids["connector_id"]
    # an EVSE component is addressed by evse.id, a Connector by evse.id and evse.connectorId
    # (2.0.1 part 2 appendices "EVSE", "Connector"; libocpp's custom/EVSE_n.json, Connector_n_m)
    if name == "EVSE" and (evse is None or connector is not None):
        problems.append(f"{path}: EVSE: needs 'evse_id' and no 'connector_id'")
    elif name == "Connector" and (evse is None or connector is None):
        problems.append(f"{path}: Connector: needs 'evse_id' and 'connector_id'")
    elif connector is not None and evse is None:
        problems.append(f"{path}: {name}: 'connector_id' without 'evse_id'")
    if len(problems) > start:
        return None
    return ComponentKey(name, instance, evse, connector)


def _read_variable(path: Path, component: ComponentKey, key: str, prop: Any,
                   problems: list[str]) -> VariableSpec | None:
    where = f"{path}: {component.name}.{key}"
    if not isinstance(prop, dict):
        problems.append(f"{where}: not an object")
        return None
    name = prop.get("variable_name")
    error = _name_error(name)
    if error:
        problems.append(f"{where}: 'variable_name' {error}")
        return None
    assert isinstance(name, str)
    instance = prop.get("instance")
    label = f"{component.name}.{name}" + (f"[{instance}]" if isinstance(instance, str) else "")
    where = f"{path}: {label}"
    start = len(problems)
    error = _name_error(instance, optional=True)
    if error:
        problems.append(f"{where}: 'instance' {error}")
    ch = _read_characteristics(where, prop.get("characteristics"), problems)
    attributes = _read_attributes(where, prop.get("attributes"), problems)
    if ch is None or attributes is None or len(problems) > start:
        return None
    values: list[AttributeSpec] = []
    for attr_type, mutability, raw in attributes:
        if raw is None and attr_type == "Actual" and "default" in prop:
            raw, what = prop["default"], "default"
        else:
            what = f"{attr_type} value"
        value = _read_value(f"{where}: {what}", ch, raw, problems)
        values.append(AttributeSpec(attr_type, mutability, value))
    monitors = _read_monitors(where, ch, prop.get("monitors", []), problems)
    if len(problems) > start:
        return None
    return VariableSpec(component, name, instance, ch, tuple(values), str(path), monitors)


def _read_monitors(where: str, ch: Characteristics, monitors: Any, problems: list[str]
                   ) -> tuple[MonitorSpec, ...]:
    if not isinstance(monitors, list):
        problems.append(f"{where}: 'monitors' must be a list")
        return ()
    if monitors and not ch.supports_monitoring:
        problems.append(f"{where}: monitors on a variable without supportsMonitoring")
        return ()
    out = []
    for n, m in enumerate(monitors):
        at = f"{where}: monitors[{n}]"
        if not isinstance(m, dict):
            problems.append(f"{at} must be an object")
            continue
        kind: Any = m.get("type")
        value: Any = m.get("value")
        severity: Any = m.get("severity")
        config_type = m.get("config_type", "PreconfiguredMonitor")
        reference = m.get("reference_value")
        if kind not in MONITOR_TYPES:
            problems.append(f"{at}.type {kind!r} is not one of {', '.join(MONITOR_TYPES)}")
        elif kind in THRESHOLDS and ch.data_type not in NUMERIC:
            problems.append(f"{at}.type {kind} needs an integer or decimal variable")
        elif not _is_number(value) or (kind != "UpperThreshold" and kind != "LowerThreshold"
                                       and value < 0):
            problems.append(f"{at}.value must be a number (>= 0 for {kind})")
        elif not (_is_int(severity) and 0 <= severity <= SEVERITY_MAX):
            problems.append(f"{at}.severity must be an integer from 0 to {SEVERITY_MAX}")
        elif not isinstance(m.get("transaction", False), bool):
            problems.append(f"{at}.transaction must be true or false")
        elif config_type not in CONFIG_MONITOR_TYPES:
            problems.append(f"{at}.config_type {config_type!r} is not one of "
                            f"{', '.join(CONFIG_MONITOR_TYPES)}")
        elif kind == "Delta" and (reference is None or isinstance(reference, (dict, list))):
            # libocpp: "for a delta monitor, an initial reference_value must be provided"
            problems.append(f"{at}.reference_value is required for a Delta monitor")
        else:
            out.append(MonitorSpec(0, kind, float(value), severity, m.get("transaction", False),
                                   config_type, None if reference is None else to_text(reference)))
    return tuple(out)


def _read_characteristics(where: str, ch: Any, problems: list[str]) -> Characteristics | None:
    if not isinstance(ch, dict):
        problems.append(f"{where}: 'characteristics' must be an object")
        return None
    start = len(problems)
    data_type = ch.get("dataType")
    if data_type not in DATA_TYPES:
        problems.append(f"{where}: characteristics.dataType {data_type!r} is not one of "
                        f"{', '.join(DATA_TYPES)}")
        return None
    monitoring = ch.get("supportsMonitoring")
    if not isinstance(monitoring, bool):
        problems.append(f"{where}: characteristics.supportsMonitoring must be true or false")
    unit = ch.get("unit")
    if unit is not None and not (isinstance(unit, str) and len(unit) <= UNIT_MAX):
        problems.append(f"{where}: characteristics.unit must be a string of at most "
                        f"{UNIT_MAX} characters")
    limits: dict[str, float | None] = {}
    for limit in ("minLimit", "maxLimit"):
        value = ch.get(limit)
        if value is not None and not _is_number(value):
            problems.append(f"{where}: characteristics.{limit} must be a number")
            value = None
        limits[limit] = value
    low, high = limits["minLimit"], limits["maxLimit"]
    if low is not None and high is not None and low > high:
        problems.append(f"{where}: characteristics.minLimit {low} is above maxLimit {high}")
    values_list = ch.get("valuesList")
    items: tuple[str, ...] | None = None
    if data_type in LIST_TYPES:
        if not (isinstance(values_list, str) and values_list.strip()
                and len(values_list) <= VALUES_LIST_MAX):
            problems.append(f"{where}: characteristics.valuesList (a comma separated string of "
                            f"at most {VALUES_LIST_MAX} characters) is required for {data_type}")
        else:
            items = tuple(item.strip() for item in values_list.split(","))
            if "" in items or len(set(items)) != len(items):
                problems.append(f"{where}: characteristics.valuesList {values_list!r} has an "
                                "empty or repeated member")
    elif values_list is not None:
        problems.append(f"{where}: characteristics.valuesList is only for OptionList, "
                        f"SequenceList and MemberList, not {data_type}")
    if len(problems) > start:
        return None
    return Characteristics(data_type, unit, low, high, items, bool(monitoring))


def _read_attributes(where: str, attrs: Any, problems: list[str]
                     ) -> list[tuple[str, str, Any]] | None:
    # VariableAttributeType: 1 to 4 attributes, one per AttributeEnumType; mutability defaults
    # to ReadWrite when omitted (MutabilityEnumType)
    if not isinstance(attrs, list) or not 1 <= len(attrs) <= len(ATTRIBUTE_TYPES):
        problems.append(f"{where}: 'attributes' must be a list of 1 to "
                        f"{len(ATTRIBUTE_TYPES)} attributes")
        return None
    out: list[tuple[str, str, Any]] = []
    start = len(problems)
    for n, attr in enumerate(attrs):
        if not isinstance(attr, dict):
            problems.append(f"{where}: attributes[{n}] must be an object")
            continue
        attr_type = attr.get("type", "Actual")
        if attr_type not in ATTRIBUTE_TYPES:
            problems.append(f"{where}: attributes[{n}].type {attr_type!r} is not one of "
                            f"{', '.join(ATTRIBUTE_TYPES)}")
            continue
        if any(t == attr_type for t, _, _ in out):
            problems.append(f"{where}: attribute {attr_type} is given twice")
            continue
        mutability = attr.get("mutability", "ReadWrite")
        if mutability not in MUTABILITIES:
            problems.append(f"{where}: {attr_type} mutability {mutability!r} is not one of "
                            f"{', '.join(MUTABILITIES)}")
            continue
        out.append((attr_type, mutability, attr.get("value")))
    return None if len(problems) > start else out


def _read_value(where: str, ch: Characteristics, raw: Any, problems: list[str]) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, (dict, list)) or (isinstance(raw, float) and not math.isfinite(raw)):
        problems.append(f"{where}: must be a string, number or boolean")
        return None
    text = to_text(raw)
    if text == "" and ch.data_type in _EMPTY_IS_UNSET:
        return None
    if len(text) > VALUE_MAX:
        problems.append(f"{where}: longer than {VALUE_MAX} characters")
        return None
    if text == "":
        return text
    problem = check_value(ch, text)
    if problem is not None:
        problems.append(f"{where}: {problem[1]}")
        return None
    return text
