"""Show verdicts: the per-scenario and per-step summary (rich) and a JUnit XML file for CI."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from reports import allure, junit
from scenarios.results import FAILED, PASSED, SKIPPED, ScenarioResult, StepResult

__all__ = ["print_summary", "step_line", "write_allure", "write_junit"]

_MARK = {PASSED: ("✔", "green"), FAILED: ("✘", "bold red"), SKIPPED: ("↷", "yellow")}


def step_line(step: StepResult) -> Text:
    mark, style = _MARK[step.status]
    text = Text(f"{mark} ", style=style)
    text.append(step.title)
    text.append(f"  {step.where}", style="dim")
    if step.status == SKIPPED and step.detail:
        text.append(f"  ({step.detail})", style="yellow")
    return text


def _add_steps(tree: Tree, steps: Iterable[StepResult]) -> None:
    for step in steps:
        branch = tree.add(step_line(step))
        _add_steps(branch, step.children)
        if step.status == FAILED and not any(c.status == FAILED for c in step.children):
            branch.add(Text(step.detail, style="red"))


def print_summary(results: list[ScenarioResult], console: Console, *, steps: bool = True) -> None:
    """Each scenario's steps as a tree (failures with what was expected and what came), then a
    table of all scenarios."""
    if steps:
        for result in results:
            mark, style = _MARK[result.status]
            tree = Tree(Text(f"{mark} {result.name}", style=style))
            if result.reason:
                tree.add(Text(result.reason, style=style))
            _add_steps(tree, result.steps)
            console.print(tree)
    table = Table(title="Scenarios", show_lines=False)
    for column in ("scenario", "result", "steps", "wall s", "simulated", "energy kWh", "billed"):
        table.add_column(column)
    for result in results:
        mark, style = _MARK[result.status]
        passed = sum(1 for s in result.steps if s.status == PASSED)
        summary = result.summary
        table.add_row(
            result.name, Text(f"{mark} {result.status}", style=style),
            f"{passed}/{len(result.steps)}", f"{result.seconds:.1f}",
            _duration(result.simulated_seconds),
            str(summary.get("energy_kwh", "")),
            f"{summary['billed']} {summary.get('currency', '')}" if "billed" in summary else "",
        )
    console.print(table)
    for result in results:
        failure = result.failure()
        if result.interrupted:
            console.print(Text(f"INTERRUPTED {result.name}: {result.reason}", style="bold red"))
        elif failure is not None:
            console.print(Text(f"FAILED {result.name}: step '{failure.title}' at {failure.where}",
                               style="bold red"))
            console.print(Text(f"  {failure.detail}", style="red"))
        elif result.status == FAILED:
            console.print(Text(f"FAILED {result.name}: {result.reason}", style="bold red"))


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def write_junit(results: list[ScenarioResult], path: Path) -> None:
    """One testsuite, one testcase per scenario; a failure names the step and its detail
    (`reports.junit`, the project's one JUnit writer)."""
    junit.write_junit("chargebench.scenarios", [r.verdict() for r in results], path)


def write_allure(results: list[ScenarioResult], directory: Path) -> None:
    """Allure results of the scenarios, steps as Allure steps, traces attached."""
    allure.write_allure([r.verdict() for r in results], directory, suite="chargebench.scenarios")
