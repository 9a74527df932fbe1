"""The case catalogue (`catalog.yaml`): every case, its OCTT id, role, profile and spec clause.

Ids follow the OCTT 1.6 numbering ("TC_003", "TC_004_1"); the full id appends the role under
test ("TC_003_CS": a CSMS is tested, "TC_003_CP": a charge point is). OCPP-J robustness checks,
which OCTT does not number, use ChargeBench's own "RPC_nnn" series.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from conformance.capabilities import PROFILES

SUFFIX = {"csms": "CS", "cp": "CP"}


@dataclass(frozen=True)
class Case:
    id: str
    role: str  # role under test: "csms" or "cp"
    title: str
    profile: str
    clause: str
    prerequisites: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def full_id(self) -> str:
        return f"{self.id}_{SUFFIX[self.role]}"

    @property
    def profiles(self) -> tuple[str, ...]:
        """The profiles it counts in (`conformance.summary`): its one (a 2.0.1 case may have
        several)."""
        return (self.profile,)


def load_catalog(text: str | None = None) -> dict[tuple[str, str], Case]:
    """(id, role) -> Case, from the packaged `catalog.yaml` unless `text` is given."""
    if text is None:
        text = resources.files("conformance").joinpath("catalog.yaml").read_text("utf-8")
    cases: dict[tuple[str, str], Case] = {}
    for entry in yaml.safe_load(text)["cases"]:
        for role in _roles(entry):
            case = _case(entry, role)
            if (case.id, role) in cases:
                raise ValueError(f"catalog: {case.full_id} listed twice")
            cases[case.id, role] = case
    return cases


def _roles(entry: dict[str, Any]) -> list[str]:
    roles = entry["role"] if isinstance(entry["role"], list) else [entry["role"]]
    for role in roles:
        if role not in SUFFIX:
            raise ValueError(f"catalog: {entry['id']}: role {role!r} is not cp or csms")
    return roles


def _case(entry: dict[str, Any], role: str) -> Case:
    if entry["profile"] not in PROFILES:
        raise ValueError(f"catalog: {entry['id']}: unknown profile {entry['profile']!r}")
    return Case(
        id=entry["id"], role=role, title=entry["title"], profile=entry["profile"],
        clause=entry["clause"], prerequisites=tuple(entry.get("prerequisites", ())),
        requires=tuple(entry.get("requires", ())),
    )


def consistency_problems(
    catalog: dict[tuple[str, str], Case], collected: list[tuple[str, str, str]]
) -> list[str]:
    """Compare the catalogue with collected tests, given as (case id, role, test node id).
    Every entry needs exactly one test and every test exactly one entry."""
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for case_id, role, nodeid in collected:
        if (case_id, role) not in catalog:
            problems.append(f"{nodeid}: {case_id} ({role}) is not in catalog.yaml")
        elif (case_id, role) in seen:
            problems.append(f"{nodeid}: {case_id} ({role}) already tested by {seen[case_id, role]}")
        else:
            seen[case_id, role] = nodeid
    for key, case in catalog.items():
        if key not in seen and case.role in {role for _, role, _ in collected}:
            problems.append(f"{case.full_id} has no test")
    return problems
