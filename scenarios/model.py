"""What a loaded scenario is: plain dataclasses the runner executes and the reports name.

The loader builds these only from files that passed the schema and the semantic checks, so the
runner can trust the shapes and concentrate on time, charge points and verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ACTION_VERBS", "CHECK_VERBS", "CONTROL_VERBS", "VERBS",
    "CsmsSpec", "GroupSpec", "Scenario", "Step", "variable_key",
]

#: Steps that act on a charge point (they open a new expectation window, see README).
ACTION_VERBS = (
    "connect", "boot", "plug_in", "present_id_tag", "ev_full", "plug_out", "fault",
    "go_offline", "go_online", "power_loss", "send", "command", "operator", "fault_plan",
)
#: Steps that check what happened.
CHECK_VERBS = ("expect", "expect_not", "assert")
#: Steps that shape the flow.
CONTROL_VERBS = ("wait", "set", "parallel", "sequence", "repeat", "include")
VERBS = ACTION_VERBS + CHECK_VERBS + CONTROL_VERBS


@dataclass(slots=True)
class Step:
    """One step: its verb and arguments as written, where it was written, and its sub-steps.

    `args` may still hold `${name}` placeholders; the runner substitutes them when it runs.
    `children` holds the steps of parallel/sequence/repeat/include, `scope` the variables an
    include's `with:` sets for its steps.
    """

    verb: str
    args: Any
    where: str  # "FILE:LINE"
    name: str | None = None
    on: list[str] | None = None
    children: list[Step] = field(default_factory=list)
    scope: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """What the summary calls this step: its name, or the verb and a hint of the args."""
        if self.name:
            return self.name
        hint = ""
        if isinstance(self.args, dict) and "action" in self.args:
            hint = f" {self.args['action']}"
        elif self.verb == "include" or isinstance(self.args, str | int | float):
            hint = f" {self.args}"
        return f"{self.verb}{hint}"


@dataclass(slots=True)
class CsmsSpec:
    """Built-in CSMS (with an optional seed) or an external one reached over `url`."""

    builtin: bool = True
    seed: Path | dict | None = None
    heartbeat_interval: float | None = None
    tls: bool = False  # built-in: a fresh PKI, ws:// and wss:// on one port, a CA that signs CSRs
    url: str | None = None
    security_profile: int = 0
    credentials: dict[str, str] = field(default_factory=dict)
    api_url: str | None = None
    api_token: str | None = None


@dataclass(slots=True)
class GroupSpec:
    """A group of charge points built from one template, all speaking `ocpp` ("1.6" or
    "2.0.1"). For 1.6, `config` is a libocpp key file and `overrides` `{Profile: {Key:
    value}}`; for 2.0.1, `config` is a libocpp component_config folder and `overrides`
    `{Component: {Variable: value}}` (Actual values)."""

    name: str
    ids: list[str]
    ocpp: str = "1.6"
    config: Path | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    faker_seed: int | None = None
    ramp_per_second: float | None = None
    password: str | None = None
    faults: dict[str, Any] = field(default_factory=dict)  # `fault_plan:` shape, from the start


@dataclass(slots=True)
class Scenario:
    name: str
    source: Path
    steps: list[Step]
    description: str = ""
    requires: list[str] = field(default_factory=list)
    speed: float = 1.0
    timeout: float = 30.0
    repeat: int = 1
    variables: dict[str, Any] = field(default_factory=dict)
    csms: CsmsSpec = field(default_factory=CsmsSpec)
    fleet: list[GroupSpec] = field(default_factory=list)
    files: dict[str, dict[str, Any]] | None = None  # None: no file servers

    @property
    def charge_points(self) -> list[str]:
        return [cp for group in self.fleet for cp in group.ids]

    def versions(self, target: list[str] | None) -> set[str]:
        """The OCPP versions of the charge points a step acts on."""
        ocpp = {cp: group.ocpp for group in self.fleet for cp in group.ids}
        return {ocpp[cp] for cp in self.resolve_target(target) if cp in ocpp}

    def resolve_target(self, target: list[str] | None) -> list[str]:
        """Charge point ids a step acts on: ids, group names or `all` (the default)."""
        if not target:
            return self.charge_points
        groups = {group.name: group.ids for group in self.fleet}
        chosen: list[str] = []
        for name in target:
            ids = self.charge_points if name in ("all", "*") else groups.get(name, [name])
            chosen.extend(cp for cp in ids if cp not in chosen)
        return chosen


def variable_key(key: str) -> tuple[str, str | None]:
    """A 2.0.1 override's variable: `Name` or `Name[Instance]` (an instanced variable, e.g.
    SmartChargingCtrlr `Entries[ChargingProfiles]`)."""
    if key.endswith("]") and "[" in key:
        name, instance = key[:-1].split("[", 1)
        return name, instance
    return key, None
