"""The one verdict vocabulary: every scenario, conformance case and report speaks it.

Scenarios and the conformance suite produce `Verdict`s; the JUnit and Allure writers
(`reports.junit`, `reports.allure`) and the page's counts (`reports.verdicts`) consume them, so
an outcome is defined once and never parsed back out of a message string.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from chargebench.trace import TraceRecord

__all__ = ["Outcome", "Verdict", "gravest"]


class Outcome(enum.StrEnum):
    """How a case ended. StrEnum: the value is what summary.json and the pages print."""

    PASSED = "passed"
    FAILED = "failed"
    #: the case could not be judged (its setup broke, or the run was interrupted in it)
    ERROR = "error"
    #: the case could not run here (no operator, no trigger): a certification run wants none
    SKIPPED = "skipped"
    #: the system under test declares it does not do what the case checks
    NOT_APPLICABLE = "not_applicable"

    @property
    def ok(self) -> bool:
        """Not a failure: what exit code 0 needs."""
        return self not in (Outcome.FAILED, Outcome.ERROR)

    @property
    def rank(self) -> int:
        """Gravity, to keep the worst of several phases: passed < skipped/n.a. < error/failed."""
        return _RANK[self]


_RANK = {Outcome.PASSED: 0, Outcome.SKIPPED: 1, Outcome.NOT_APPLICABLE: 1,
         Outcome.ERROR: 2, Outcome.FAILED: 2}


def gravest(outcomes: list[Outcome]) -> Outcome:
    """The worst of `outcomes` (the first of equals); PASSED for none."""
    worst = Outcome.PASSED
    for outcome in outcomes:
        if outcome.rank > worst.rank:
            worst = outcome
    return worst


@dataclass(slots=True)
class Verdict:
    """One judged case: what was expected and, as trace records, what was received.

    `expected` says in words what the case waited for (empty when it passed); `reason` is the
    one-line message (why skipped, which step failed); `received` holds the frames that came
    instead, as the run's trace recorded them, so a writer can show them without re-reading.
    """

    name: str
    outcome: Outcome
    reason: str = ""
    expected: str = ""
    received: list[TraceRecord] = field(default_factory=list)
    #: the group it belongs to (JUnit classname, Allure suite): "scenarios.charge", "core"
    group: str = ""
    #: the file that defines it (a scenario's YAML), if any
    source: Path | None = None
    seconds: float = 0.0
    #: the trace file its run wrote
    trace: Path | None = None
    #: extra labels for Allure (profile, case id, ...)
    labels: dict[str, str] = field(default_factory=dict)
    #: for ERROR: what kind of error ("interrupted"), JUnit's `<error type=...>`
    error_type: str = ""
    #: the verdicts of its steps, in order (a scenario's steps; Allure shows them as steps)
    steps: list[Verdict] = field(default_factory=list)
    #: True when `expected` already names the received frames in the producer's own words
    #: (a scenario says why each did not match): the text writers then do not list them again
    described: bool = False

    def __post_init__(self) -> None:
        if type(self.outcome) is not Outcome:
            self.outcome = Outcome(self.outcome)

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    def details(self) -> str:
        """The long text under a failure: what was expected, then each frame received."""
        lines = [self.expected] if self.expected else []
        if self.received and not self.described:
            lines.append("received:")
            lines.extend(f"  {record.describe()}" for record in self.received)
        return "\n".join(lines)
