"""A station's prerequisites for a 2.0.1 case, read from its device model (issue 20 point 3).

Part 6 lists a case under a certification profile of part 5; whether a station can run it at
all is its device model's to say: a station without a LocalAuthListCtrlr has no local list
(D01), one without a ReservationCtrlr takes no reservation (H01), and so on. At the start of a
run the suite asks the station for its FullInventory (B07 GetBaseReport, the NotifyReports
collected until tbc is false; a station that does not support it is asked GetVariables for the
components the cases need, B06) and a case whose component is absent, or present with
Available false, is NOT APPLICABLE with that reason, never run and never failed. A case may name
finer conditions (a variable that must exist, a value it must hold: TxStartPoint containing
EVConnected for TC_E_09_CS) with `@pytest.mark.cb_requires(component, variable, contains=...)`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from conformance.harness import HarnessPeer
from conformance.v201.catalog import Case

__all__ = ["DeviceModelView", "Need", "needs_of", "read_device_model", "unmet"]

#: the optional controller each certification profile needs (part 2 appendix 3: a station
#: implementing the functional block has the component)
PROFILE_COMPONENT = {
    "local_auth_list": "LocalAuthListCtrlr",
    "reservation": "ReservationCtrlr",
    "smart_charging": "SmartChargingCtrlr",
    "advanced_user_interface": "DisplayMessageCtrlr",
    "iso15118": "ISO15118Ctrlr",
}
#: the optional controller of each functional block whose cases need one
BLOCK_COMPONENT = {
    "D": "LocalAuthListCtrlr", "H": "ReservationCtrlr", "I": "TariffCostCtrlr",
    "K": "SmartChargingCtrlr", "O": "DisplayMessageCtrlr",
}
_request_ids = itertools.count(900_000)


@dataclass(frozen=True)
class Need:
    """One prerequisite: `component` exists; with `variable`, that variable too; with
    `contains`, its Actual value (a comma list) contains that member; with `equals`, equals."""

    component: str
    variable: str | None = None
    contains: str | None = None
    equals: str | None = None

    def describe(self) -> str:
        where = f"{self.component}.{self.variable}" if self.variable else self.component
        if self.contains is not None:
            return f"{where} containing {self.contains}"
        if self.equals is not None:
            return f"{where} = {self.equals}"
        return where


@dataclass
class DeviceModelView:
    """What the station reported of its device model: per (component, variable), names
    compared case-insensitively (ComponentType.name: "Case Insensitive"), the Actual values
    over every instance and EVSE."""

    #: component name (lower case) -> variable name (lower case) -> Actual values seen
    components: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: how it was read: "GetBaseReport FullInventory", "GetVariables", or why it was not
    source: str = ""

    def add(self, component: str, variable: str, value: str | None) -> None:
        values = self.components.setdefault(component.lower(), {}).setdefault(
            variable.lower(), [])
        if value is not None:
            values.append(value)

    def add_report(self, report_data: Iterable[dict]) -> None:
        """The reportData of a NotifyReportRequest (B07/B08)."""
        for entry in report_data:
            actual = next((a.get("value") for a in entry.get("variableAttribute", ())
                           if a.get("type", "Actual") == "Actual"), None)
            self.add(entry["component"]["name"], entry["variable"]["name"], actual)

    def has(self, component: str, variable: str | None = None) -> bool:
        variables = self.components.get(component.lower())
        if variables is None:
            return False
        return variable is None or variable.lower() in variables

    def values(self, component: str, variable: str) -> list[str]:
        return self.components.get(component.lower(), {}).get(variable.lower(), [])

    def value(self, component: str, variable: str) -> str | None:
        values = self.values(component, variable)
        return values[0] if values else None

    def unavailable(self, component: str) -> bool:
        """The component says Available false (part 2 appendix: "component is present but
        the feature is not available")."""
        return any(v.strip().lower() == "false" for v in self.values(component, "Available"))


def needs_of(case: Case, extra: Iterable[Need] = ()) -> list[Need]:
    """The case's prerequisites: the controller of its profile or block, and `extra`."""
    needs: list[Need] = []
    # a case only profiles with a controller list (TC_K_01_CS: Smart Charging and ISO 15118)
    # needs the first one's; a case Core or Advanced Security also lists needs none of them
    profiles = [profile for profile, _ in case.levels]
    if profiles and all(profile in PROFILE_COMPONENT for profile in profiles):
        needs.append(Need(PROFILE_COMPONENT[profiles[0]]))
    block = BLOCK_COMPONENT.get(case.block)
    if block is not None and Need(block) not in needs:
        needs.append(Need(block))
    needs.extend(extra)
    return needs


def unmet(needs: Iterable[Need], model: DeviceModelView) -> str | None:
    """Why the station cannot run a case with `needs`, or None."""
    for need in needs:
        if not model.has(need.component):
            return f"the station's device model has no {need.component} ({model.source})"
        if need.variable is None:
            if model.unavailable(need.component):
                return f"{need.component}.Available is false ({model.source})"
            continue
        if not model.has(need.component, need.variable):
            return (f"the station's device model has no {need.component}.{need.variable} "
                    f"({model.source})")
        values = model.values(need.component, need.variable)
        if need.contains is not None and not any(
                need.contains in [m.strip() for m in v.split(",")] for v in values):
            return f"{need.component}.{need.variable} is {values} (needs {need.describe()})"
        if need.equals is not None and need.equals not in values:
            return f"{need.component}.{need.variable} is {values} (needs {need.describe()})"
    return None


async def read_device_model(peer: HarnessPeer, *, timeout: float,
                            fallback: Iterable[tuple[str, str]] = ()) -> DeviceModelView:
    """The station's device model: B07 GetBaseReport FullInventory, every NotifyReport of
    its requestId collected (tbc false ends it); a station answering other than Accepted is
    asked GetVariables (B06) for the `fallback` (component, variable) pairs instead."""
    view = DeviceModelView()
    request_id = next(_request_ids)
    reply = await peer.call("GetBaseReport", {"requestId": request_id,
                                              "reportBase": "FullInventory"}, timeout=timeout)
    status = (reply.payload or {}).get("status") if reply.type == "CALLRESULT" else None
    if status == "Accepted":
        view.source = "GetBaseReport FullInventory"
        async with asyncio.timeout(timeout * 3):
            while True:
                frame = await peer.wait_for("NotifyReport", {"requestId": request_id},
                                            timeout=timeout)
                view.add_report((frame.payload or {}).get("reportData", ()))
                if not (frame.payload or {}).get("tbc", False):
                    break
        return view
    view.source = (f"GetBaseReport answered {status or reply.type}: read with GetVariables")
    pairs = list(fallback)
    if not pairs:
        return view
    reply = await peer.call("GetVariables", {"getVariableData": [
        {"component": {"name": c}, "variable": {"name": v}} for c, v in pairs]},
        timeout=timeout)
    for result in (reply.payload or {}).get("getVariableResult", ()):
        if result.get("attributeStatus") == "UnknownComponent":
            continue
        component, variable = result["component"]["name"], result["variable"]["name"]
        if result.get("attributeStatus") == "UnknownVariable":
            view.components.setdefault(component.lower(), {})
            continue
        view.add(component, variable, result.get("attributeValue"))
    return view
