"""Results of a run: per step and per scenario; `verdict()` turns one into the project's
`reports.outcome.Verdict`, which the summary, the JUnit and Allure writers and the demo read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargebench.trace import TraceRecord
from reports.outcome import Outcome, Verdict

__all__ = ["FAILED", "PASSED", "SKIPPED", "ScenarioResult", "StepResult"]

#: the outcomes a step or scenario can have (`reports.outcome.Outcome`, defined there once)
PASSED, FAILED, SKIPPED = Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED


@dataclass(slots=True)
class StepResult:
    """One executed step; `detail` says what was expected and what came when it failed."""

    title: str
    where: str
    status: Outcome = PASSED
    detail: str = ""
    seconds: float = 0.0
    children: list[StepResult] = field(default_factory=list)
    #: the frames that came instead of the expected one, when the step knows them
    received: list[TraceRecord] = field(default_factory=list)

    def verdict(self) -> Verdict:
        failed = self.status == FAILED
        return Verdict(
            f"{self.title}  {self.where}", Outcome(self.status),
            reason=self.detail if self.status == SKIPPED else "",
            expected=self.detail if failed and not self.children else "",
            received=list(self.received), described=True, seconds=self.seconds,
            steps=[child.verdict() for child in self.children],
        )

    def first_failure(self) -> StepResult | None:
        """The innermost failed step: the one to name in the verdict."""
        if self.status != FAILED:
            return None
        for child in self.children:
            found = child.first_failure()
            if found is not None:
                return found
        return self


@dataclass(slots=True)
class ScenarioResult:
    name: str
    source: Path
    status: Outcome = PASSED
    reason: str = ""  # why skipped, or what broke outside any step
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    speed: float = 1.0
    simulated_seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)
    trace: Path | None = None
    interrupted: bool = False  # cut short by SIGINT/SIGTERM: `reason` says which (a failure)

    @property
    def ok(self) -> bool:
        return self.status != FAILED

    def failure(self) -> StepResult | None:
        for step in self.steps:
            found = step.first_failure()
            if found is not None:
                return found
        return None

    def verdict(self) -> Verdict:
        """This scenario as a verdict: the innermost failed step is named in the reason, its
        detail is what was expected; an interrupted run is an ERROR, not a verdict."""
        outcome, reason, expected, received = Outcome(self.status), self.reason, "", []
        failure = self.failure()
        if self.interrupted:
            outcome = Outcome.ERROR
        elif self.status == FAILED and failure is not None:
            reason = f"step '{failure.title}' at {failure.where}"
            expected, received = failure.detail, list(failure.received)
        return Verdict(
            self.name, outcome, reason=reason, expected=expected, received=received,
            group=f"scenarios.{self.source.stem}", source=self.source, seconds=self.seconds,
            trace=self.trace, error_type="interrupted" if self.interrupted else "",
            described=True,  # a step's detail names what came, with why it did not match
            steps=[step.verdict() for step in self.steps],
        )
