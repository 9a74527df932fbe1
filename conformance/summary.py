"""Verdicts per certification profile: passed / failed / skipped / not applicable.

A skip whose reason starts with "not applicable" came from the capabilities (the case does not
apply to this system); any other skip means the case could not run (no operator, no trigger) and
is counted as such: a certification run wants zero of those.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reports.outcome import Outcome
from reports.outcome import Verdict as Judged

#: the table's columns, in the order summary.json and the terminal show them
OUTCOMES = tuple(Outcome)
NOT_APPLICABLE = "not applicable"


@dataclass
class Verdict:
    """One case's line of summary.json (its keys are what users and `reports` read)."""

    case: str  # full id, e.g. TC_003_CS
    profile: str
    title: str
    outcome: Outcome
    nodeid: str
    reason: str = ""
    #: the frames received when it failed (not in summary.json: its trace file has them all)
    received: list = field(default_factory=list, repr=False, compare=False)
    #: what the case waited for, in words, when it failed on a frame (not in summary.json)
    expected: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.outcome)

    def judged(self) -> Judged:
        """As the project's one verdict type (`reports.outcome`)."""
        return Judged(f"{self.case} {self.title}".strip(), self.outcome, self.reason,
                      expected=self.expected, received=list(self.received), group=self.profile,
                      labels={"profile": self.profile, "case": self.case,
                              "feature": self.profile})

    def row(self) -> dict:
        row = asdict(self)
        del row["received"], row["expected"]
        row["outcome"] = self.outcome.value
        return row


def trace_name(nodeid: str) -> str:
    """The name of a case's trace file in --cb-results/traces (without `.jsonl`)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)


class Summary:
    """Collects one verdict per test item; failure in any phase wins."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Verdict] = {}
        #: why no case could run at all (the system under test unreachable), else None
        self.problem: str | None = None

    def record(self, verdict: Verdict) -> None:
        """Keep the gravest outcome of the item's phases (setup, call, teardown)."""
        old = self.verdicts.get(verdict.nodeid)
        if old is None or verdict.outcome.rank > old.outcome.rank:
            self.verdicts[verdict.nodeid] = verdict

    def per_profile(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter] = {}
        for verdict in self.verdicts.values():
            table.setdefault(verdict.profile, Counter())[verdict.outcome] += 1
        return {p: {o.value: table[p][o] for o in OUTCOMES} for p in sorted(table)}

    def to_json(self, role: str) -> dict:
        return {
            "role": role,
            "problem": self.problem,
            "profiles": self.per_profile(),
            "cases": [v.row() for v in sorted(self.verdicts.values(), key=lambda v: v.case)],
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
        if self.problem is not None:
            rows.append(f"no case ran: {self.problem}")
        return rows
