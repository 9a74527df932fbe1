"""ReportData for GetBaseReport (B07) and GetReport (B08), and the NotifyReport messages that
carry them, split by DeviceDataCtrlr.ItemsPerMessage[GetReport].

The handler answers GetBaseReport/GetReport itself (Accepted, NotSupported, EmptyResultSet)
and sends the payloads `notify_report_payloads` builds; this module only decides what a report
holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chargebench.clock import iso

if TYPE_CHECKING:
    from sim.v201.device_model import DeviceModel
    from sim.v201.device_model_loader import VariableSpec

#: ReportBaseEnumType; all three supported (B07.FR.12 requires the first two)
REPORT_BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
#: ComponentCriterionEnumType
COMPONENT_CRITERIA = ("Active", "Available", "Enabled", "Problem")
#: the components SummaryInventory reports the AvailabilityState of (B07.FR.09)
_SUMMARY_COMPONENTS = frozenset({"chargingstation", "evse", "connector"})
#: B07.FR.09 note: "Active (Problem, Tripped, Overload, Fallback) variables" of components in an
#: abnormal state
_PROBLEM_VARIABLES = frozenset({"problem", "tripped", "overload", "fallback"})


def report_data(dm: DeviceModel, spec: VariableSpec, limit: int | None = None) -> dict[str, Any]:
    """The ReportDataType of one variable: every attribute type it supports, even unset ones
    (B07.FR.11, value ""), and its characteristics (B07.FR.07/08, B08.FR.12)."""
    attributes = []
    for attr in spec.attributes:
        entry: dict[str, Any] = {"type": attr.type, "mutability": attr.mutability}
        # VariableAttributeType.value "may only be omitted when mutability is WriteOnly"
        if attr.mutability != "WriteOnly":
            value = dm.value_of(spec, attr.type) or ""
            entry["value"] = value[:limit] if limit else value
        attributes.append(entry)
    return {"component": spec.component.to_ocpp(), "variable": spec.to_ocpp(),
            "variableAttribute": attributes,
            "variableCharacteristics": spec.characteristics.to_ocpp()}


def build_report(dm: DeviceModel, report_base: str | None, criteria: Iterable[str] | None,
                 component_variable: Iterable[Mapping[str, Any]] | None,
                 limit: int | None = None) -> list[dict[str, Any]]:
    """`DeviceModel.report`: the ReportData of a base report or of a custom report."""
    if report_base is not None:
        if report_base not in REPORT_BASES:
            raise ValueError(f"reportBase {report_base!r} is not one of {', '.join(REPORT_BASES)}")
        specs = _base(dm, report_base)
    else:
        specs = _custom(dm, list(criteria or ()), list(component_variable or ()))
    return [report_data(dm, spec, limit) for spec in specs]


def _base(dm: DeviceModel, report_base: str) -> list[VariableSpec]:
    variables = dm.variables()
    if report_base == "FullInventory":  # B07.FR.08: every component-variable
        return list(variables)
    if report_base == "ConfigurationInventory":
        # B07.FR.07: every component-variable the operator can set
        return [s for s in variables if any(a.mutability != "ReadOnly" for a in s.attributes)]
    # SummaryInventory, B07.FR.09: availability of the station, EVSEs and connectors, and the
    # problem variables that are set
    return [s for s in variables
            if (s.name.lower() == "availabilitystate"
                and s.component.name.lower() in _SUMMARY_COMPONENTS)
            or (s.name.lower() in _PROBLEM_VARIABLES and dm.value_of(s) == "true")]


def _custom(dm: DeviceModel, criteria: list[str], wanted: list[Mapping[str, Any]]
            ) -> list[VariableSpec]:
    unknown = [c for c in criteria if c not in COMPONENT_CRITERIA]
    if unknown:
        raise ValueError(f"componentCriteria {', '.join(unknown)} not one of "
                         f"{', '.join(COMPONENT_CRITERIA)}")
    grouped = dm.template.grouped
    out: list[VariableSpec] = []
    for specs in grouped.values():
        # B08.FR.13: a component qualifies when it meets one of the criteria (OR)
        if criteria and not any(_meets(dm, specs, c) for c in criteria):
            continue
        for spec in specs:
            # B08.FR.05/B08.FR.11: limited to componentVariable when given
            if not wanted or any(_matches(cv, spec) for cv in wanted):
                out.append(spec)
    return out


def _meets(dm: DeviceModel, specs: Sequence[VariableSpec], criterion: str) -> bool:
    flag = next((s for s in specs if s.name.lower() == criterion.lower() and s.instance is None),
                None)
    if criterion == "Problem":  # B08.FR.10: Problem set to true
        return flag is not None and dm.value_of(flag) == "true"
    # B08.FR.07/08/09: the variable set to true, or no such variable
    return flag is None or dm.value_of(flag) == "true"


def _matches(cv: Mapping[str, Any], spec: VariableSpec) -> bool:
    component: Mapping[str, Any] = cv.get("component") or {}
    c = spec.component
    if str(component.get("name", "")).lower() != c.name.lower():
        return False
    # B08.FR.24/25: an instance selects that instance; none, every instance and none
    if component.get("instance") and str(component["instance"]).lower() != (
            c.instance or "").lower():
        return False
    evse = component.get("evse")
    if evse is not None:  # B08.FR.22: evse.id without connectorId: every connector of it
        if c.evse != evse.get("id"):
            return False
        if evse.get("connectorId") is not None and c.connector != evse["connectorId"]:
            return False
    # B08.FR.23: no evse: every EVSE and the top-level component
    variable = cv.get("variable")
    if not variable:
        return True  # B08.FR.20: every variable of the component
    if str(variable.get("name", "")).lower() != spec.name.lower():
        return False
    # B08.FR.21: no instance: every instance of the variable
    return not variable.get("instance") or str(variable["instance"]).lower() == (
        spec.instance or "").lower()


def split_reports(entries: Sequence[Any], items_per_message: int | None) -> list[list[Any]]:
    """`entries` in chunks of at most `items_per_message` (DeviceDataCtrlr.ItemsPerMessage
    [GetReport]; None: no limit): one NotifyReport each. No entries: no chunk."""
    if items_per_message is None:
        return [list(entries)] if entries else []
    if items_per_message < 1:
        raise ValueError(f"items_per_message must be >= 1, not {items_per_message}")
    return [list(entries[i:i + items_per_message])
            for i in range(0, len(entries), items_per_message)]


def notify_report_payloads(request_id: int, entries: Sequence[dict[str, Any]],
                           items_per_message: int | None,
                           generated_at: datetime | str) -> list[dict[str, Any]]:
    """The NotifyReportRequest payloads of one report, in order: the same requestId in each
    (B07.FR.04, B08.FR.04), seqNo from 0 (B07.FR.10, B08.FR.14), tbc true on every part but the
    last. No entries give one payload without reportData."""
    stamp = generated_at if isinstance(generated_at, str) else iso(generated_at)
    chunks = split_reports(entries, items_per_message) or [[]]
    payloads = []
    for seq, chunk in enumerate(chunks):
        payload: dict[str, Any] = {"requestId": request_id, "generatedAt": stamp,
                                   "seqNo": seq, "tbc": seq < len(chunks) - 1}
        if chunk:
            payload["reportData"] = chunk
        payloads.append(payload)
    return payloads
