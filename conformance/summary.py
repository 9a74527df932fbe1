"""Verdicts per certification profile: passed / failed / skipped / not applicable.

A skip whose reason starts with "not applicable" came from the capabilities (the case does not
apply to this system); any other skip means the case could not run (no operator, no trigger) and
is counted as such: a certification run wants zero of those.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

OUTCOMES = ("passed", "failed", "error", "skipped", "not_applicable")
NOT_APPLICABLE = "not applicable"
_RANK = {"passed": 0, "skipped": 1, "not_applicable": 1, "error": 2, "failed": 2}


@dataclass
class Verdict:
    case: str  # full id, e.g. TC_003_CS
    profile: str
    title: str
    outcome: str
    nodeid: str
    reason: str = ""


class Summary:
    """Collects one verdict per test item; failure in any phase wins."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Verdict] = {}
        #: why no case could run at all (the system under test unreachable), else None
        self.problem: str | None = None

    def record(self, verdict: Verdict) -> None:
        """Keep the gravest outcome of the item's phases (setup, call, teardown)."""
        old = self.verdicts.get(verdict.nodeid)
        if old is None or _RANK[verdict.outcome] > _RANK[old.outcome]:
            self.verdicts[verdict.nodeid] = verdict

    def per_profile(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter] = {}
        for verdict in self.verdicts.values():
            table.setdefault(verdict.profile, Counter())[verdict.outcome] += 1
        return {p: {o: table[p][o] for o in OUTCOMES} for p in sorted(table)}

    def to_json(self, role: str) -> dict:
        return {
            "role": role,
            "problem": self.problem,
            "profiles": self.per_profile(),
            "cases": [asdict(v) for v in sorted(self.verdicts.values(), key=lambda v: v.case)],
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
