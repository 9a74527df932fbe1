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
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from chargebench.trace import TraceRecord
from conformance.catalog import Case
from reports.outcome import Outcome, Verdict
from reports.verdicts import trace_name

__all__ = ["NOT_APPLICABLE", "OUTCOMES", "Summary", "case_verdict", "error_verdict",
           "trace_name"]

#: the table's columns, in the order summary.json and the terminal show them
OUTCOMES = tuple(Outcome)
NOT_APPLICABLE = "not applicable"
#: the JUnit classname (Allure suite) of a verdict that belongs to no case
COLLECTION = "collection"


def case_verdict(case: Case, outcome: Outcome, reason: str = "", *, expected: str = "",
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

    def __init__(self) -> None:
        #: pytest node id -> its verdict, in run order
        self.verdicts: dict[str, Verdict] = {}
        #: pytest node id -> its catalogue entry; a verdict without one is an `errors` entry
        self.cases: dict[str, Case] = {}
        #: why no case could run at all (the system under test unreachable), else None
        self.problem: str | None = None

    def record(self, nodeid: str, verdict: Verdict, case: Case | None = None) -> None:
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
        table: dict[str, Counter] = {}
        for nodeid, case in self.cases.items():
            table.setdefault(case.profile, Counter())[self.verdicts[nodeid].outcome] += 1
        return {p: {o.value: table[p][o] for o in OUTCOMES} for p in sorted(table)}

    def to_json(self, role: str) -> dict:
        rows = [
            {"case": case.full_id, "profile": case.profile, "title": case.title,
             "outcome": self.verdicts[nodeid].outcome.value, "nodeid": nodeid,
             "reason": self.verdicts[nodeid].reason}
            for nodeid, case in self.cases.items()
        ]
        return {
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
        header = f"{'profile':<15}" + "".join(f"{o.replace('_', ' '):>16}" for o in OUTCOMES)
        rows = [header, "-" * len(header)]
        for profile, counts in self.per_profile().items():
            rows.append(f"{profile:<15}" + "".join(f"{counts[o]:>16}" for o in OUTCOMES))
        for nodeid, verdict in self.errors().items():
            rows.append(f"error ({verdict.error_type}) {nodeid}: {verdict.reason}")
        if self.problem is not None:
            rows.append(f"no case ran: {self.problem}")
        return rows
