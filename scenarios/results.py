"""Verdicts of a run: per step and per scenario, as the summary, JUnit and the demo read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FAILED", "PASSED", "SKIPPED", "ScenarioResult", "StepResult"]

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(slots=True)
class StepResult:
    """One executed step; `detail` says what was expected and what came when it failed."""

    title: str
    where: str
    status: str = PASSED
    detail: str = ""
    seconds: float = 0.0
    children: list[StepResult] = field(default_factory=list)

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
    status: str = PASSED
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
