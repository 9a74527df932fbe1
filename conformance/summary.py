"""Verdicts per certification profile: passed / failed / error / skipped / not applicable.

The run keeps one `reports.outcome.Verdict` per case (the project's one verdict: expected,
received as trace records, outcome), keyed by its pytest node id; summary.json, the terminal
table, JUnit and Allure are all written from those. A case's identity (OCTT id, profile, title)
comes from its catalogue entry, never parsed back out of a verdict's name.

A skip whose reason starts with "not applicable" came from the capabilities (the case does not
apply to this system); any other skip means the case could not run (no operator, no trigger) and
is counted as such: a certification run wants zero of those. A case module that cannot be
collected (an import error), or a case the catalogue does not know, is an ERROR verdict of its
own, under `errors` in summary.json: no case, no profile, but never silently absent.

OCPP 2.0.1 (`Summary(ocpp="2.0.1")`): a case counts in every certification profile that lists
it (`conformance.v201.catalog.Case.profiles`), a catalogued case without an implementation is
SKIPPED with the reason "not implemented" (never passed) and counted as such per profile, and
the terminal adds one line per profile: "Core: 0/222 passed, 222 not implemented".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chargebench.trace import TraceRecord
from conformance.catalog import Case
from conformance.v201.catalog import Case as Case201
from reports.outcome import Outcome, Verdict
from reports.verdicts import trace_name

#: a catalogue entry of either version
AnyCase = Case | Case201

__all__ = ["NOT_APPLICABLE", "NOT_IMPLEMENTED", "OUTCOMES", "Summary", "case_verdict",
           "error_verdict", "trace_name"]

#: the table's columns, in the order summary.json and the terminal show them
OUTCOMES = tuple(Outcome)
NOT_APPLICABLE = "not applicable"
#: the skip reason of a catalogued case that has no implementation yet (OCPP 2.0.1)
NOT_IMPLEMENTED = "not implemented"
#: the JUnit classname (Allure suite) of a verdict that belongs to no case
COLLECTION = "collection"


def case_verdict(case: AnyCase, outcome: Outcome, reason: str = "", *, expected: str = "",
                 received: Iterable[TraceRecord] = ()) -> Verdict:
    """A case's verdict: named by its OCTT id and title, grouped (JUnit classname) by profile."""
    return Verdict(
        f"{case.full_id} {case.title}".strip(), outcome, reason, expected=expected,
        received=list(received), group=case.profile,
        labels={"profile": case.profile, "case": case.full_id, "feature": case.profile},
    )


def error_verdict(where: str, reason: str, error_type: str) -> Verdict:
    """What broke outside any case (a module that does not import, a bad option): an ERROR,
    which JUnit writes as `<error type=...>` and Allure as broken."""
    return Verdict(where, Outcome.ERROR, reason, group=COLLECTION, error_type=error_type)


class Summary:
    """Collects one verdict per test item; failure in any phase wins."""

    def __init__(self, ocpp: str = "1.6", names: dict[str, str] | None = None) -> None:
        #: the OCPP version of the run: "2.0.1" adds the not-implemented counts
        self.ocpp = ocpp
        #: profile key -> its name in the per-profile lines (2.0.1)
        self.names = names or {}
        #: pytest node id -> its verdict, in run order
        self.verdicts: dict[str, Verdict] = {}
        #: pytest node id -> its catalogue entry (`conformance.catalog.Case`, or
        #: `conformance.v201.catalog.Case`); a verdict without one is an `errors` entry
        self.cases: dict[str, AnyCase] = {}
        #: why no case could run at all (the system under test unreachable), else None
        self.problem: str | None = None

    def record(self, nodeid: str, verdict: Verdict, case: AnyCase | None = None) -> None:
        """Keep the gravest outcome of the item's phases (setup, call, teardown)."""
        old = self.verdicts.get(nodeid)
        if old is None or verdict.outcome.rank > old.outcome.rank:
            self.verdicts[nodeid] = verdict
        if case is not None:
            self.cases[nodeid] = case

    def errors(self) -> dict[str, Verdict]:
        """The verdicts of no case: collection and catalogue errors."""
        return {n: v for n, v in self.verdicts.items() if n not in self.cases}

    def per_profile(self) -> dict[str, dict[str, int]]:
        """Outcome counts per profile; a 2.0.1 run adds `not_implemented` (of the skipped)."""
        table: dict[str, Counter] = {}
        missing: Counter = Counter()
        for nodeid, case in self.cases.items():
            verdict = self.verdicts[nodeid]
            for profile in case.profiles:
                table.setdefault(profile, Counter())[verdict.outcome] += 1
                missing[profile] += _not_implemented(verdict)
        order = sorted(table) if self.ocpp == "1.6" else _ordered(table, self.names)
        counts = {p: {o.value: table[p][o] for o in OUTCOMES} for p in order}
        if self.ocpp != "1.6":
            for profile, row in counts.items():
                row["not_implemented"] = missing[profile]
        return counts

    def executed(self) -> int:
        """How many cases ran to a verdict: passed, failed or error (not skipped)."""
        return sum(self.verdicts[n].outcome in (Outcome.PASSED, Outcome.FAILED, Outcome.ERROR)
                   for n in self.cases)

    def profile_lines(self) -> list[str]:
        """One sentence per profile: "Core: 58/60 passed, 2 not applicable"."""
        lines = []
        for profile, counts in self.per_profile().items():
            total = sum(counts[o.value] for o in OUTCOMES)
            missing = counts.get("not_implemented", 0)
            parts = [f"{counts[Outcome.FAILED.value]} failed",
                     f"{counts[Outcome.ERROR.value]} error",
                     f"{counts[Outcome.SKIPPED.value] - missing} skipped",
                     f"{missing} {NOT_IMPLEMENTED}",
                     f"{counts[Outcome.NOT_APPLICABLE.value]} {NOT_APPLICABLE}"]
            rest = "".join(f", {part}" for part in parts if not part.startswith("0 "))
            name = self.names.get(profile, profile)
            lines.append(f"{name}: {counts[Outcome.PASSED.value]}/{total} passed{rest}")
        return lines

    def to_json(self, role: str) -> dict:
        rows: list[dict[str, Any]] = [
            {"case": case.full_id, "profile": case.profile, "title": case.title,
             "outcome": self.verdicts[nodeid].outcome.value, "nodeid": nodeid,
             "reason": self.verdicts[nodeid].reason}
            for nodeid, case in self.cases.items()
        ]
        version: dict[str, Any] = {}
        if self.ocpp != "1.6":
            version = {"ocpp": self.ocpp}
            for row, case in zip(rows, self.cases.values(), strict=True):
                row["profiles"] = list(case.profiles)
        return {
            **version,
            "role": role,
            "problem": self.problem,
            "profiles": self.per_profile(),
            "cases": sorted(rows, key=lambda row: row["case"]),
            "errors": [{"nodeid": nodeid, "outcome": verdict.outcome.value,
                        "type": verdict.error_type, "reason": verdict.reason}
                       for nodeid, verdict in self.errors().items()],
        }

    def write(self, path: Path, role: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(role), indent=2) + "\n", encoding="utf-8")

    def lines(self) -> list[str]:
        """The table as plain text lines (pytest's terminal writer prints them)."""
        table = self.per_profile()
        width = max([15, *(len(profile) + 1 for profile in table)])
        header = f"{'profile':<{width}}" + "".join(
            f"{o.replace('_', ' '):>16}" for o in OUTCOMES)
        rows = [header, "-" * len(header)]
        for profile, counts in table.items():
            rows.append(f"{profile:<{width}}" + "".join(f"{counts[o]:>16}" for o in OUTCOMES))
        if self.ocpp != "1.6":
            rows.extend(self.profile_lines())
        for nodeid, verdict in self.errors().items():
            rows.append(f"error ({verdict.error_type}) {nodeid}: {verdict.reason}")
        if self.problem is not None:
            rows.append(f"no case ran: {self.problem}")
        return rows


def _not_implemented(verdict: Verdict) -> bool:
    return verdict.outcome is Outcome.SKIPPED and verdict.reason.startswith(NOT_IMPLEMENTED)


def _ordered(table: dict[str, Counter], names: dict[str, str]) -> list[str]:
    """The profiles in the order `names` lists them (part 5's), unknown ones after."""
    return [p for p in names if p in table] + sorted(p for p in table if p not in names)
