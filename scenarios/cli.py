"""`chargebench run FILE…`: load every scenario first, then run them and show the verdicts.

Exit codes: 0 every expectation held (skipped scenarios do not fail a run), 1 something failed,
2 a scenario file is invalid (every problem printed as FILE:LINE:COL before anything starts),
130/143 interrupted by SIGINT/SIGTERM (after the summary and JUnit of what finished).

Each scenario on the built-in CSMS runs on an event loop of its own whose time advances by
events (`chargebench.clock.VirtualTimeLoop`): its verdict does not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from rich.console import Console

from chargebench.cli import (
    ADMIN_TOKEN_ENV,
    UsageError,
    admin_token_from_env,
    check_csms_url,
    writable_dir,
    writable_file,
)
from scenarios.interrupt import Interrupted, interruptible, run_loop
from scenarios.loader import ScenarioError, load_scenario
from scenarios.model import Scenario
from scenarios.report import print_summary, step_line, write_allure, write_junit
from scenarios.results import FAILED, ScenarioResult, StepResult
from scenarios.runner import RunOptions, on_builtin_csms, run_scenario
from sim.cli import add_ui_options, scenario_ui

__all__ = ["Progress", "add_parser", "load_all", "run_all", "run_each"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run scenario files against the built-in CSMS or an external one",
        description="Run YAML scenarios (see scenarios/README.md). Exit 0 when every "
        "expectation held, 1 otherwise, 2 when a file is invalid.",
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.add_argument("--library", nargs="*", metavar="NAME",
                        help="run scenarios of the shipped library by name (e.g. "
                        "cold_boot_accepted); no NAME or `all`: every one; "
                        "`chargebench paths` lists them")
    parser.add_argument("--csms", metavar="URL",
                        help="an external CSMS's OCPP base URL (ws:// or wss://)")
    parser.add_argument("--csms-api", metavar="URL",
                        help="the external CSMS's HTTP API, to run command: steps")
    parser.add_argument("--admin-token", default=None, metavar="TOKEN",
                        help=f"Bearer token of --csms-api (default: ${ADMIN_TOKEN_ENV})")
    parser.add_argument("--speed", type=float, metavar="X", help="time acceleration override")
    parser.add_argument("--junit", type=Path, metavar="PATH", help="write a JUnit XML report")
    parser.add_argument("--allure", type=Path, metavar="DIR",
                        help="write Allure results (one per scenario, its trace attached) here")
    parser.add_argument("--trace", type=Path, metavar="DIR",
                        help="write each scenario's trace records (JSON Lines) here")
    parser.add_argument("--workdir", type=Path, metavar="DIR",
                        help="keep the built-in CSMS database and charge point state here")
    parser.add_argument("--check", action="store_true", help="only validate the files")
    add_ui_options(parser)  # the fleet page; --admin-token (above) is its token too
    parser.set_defaults(func=main)


def load_all(files: list[Path]) -> list[Scenario]:
    """Every file loaded, or `UsageError` listing every problem of every file."""
    scenarios, problems = [], []
    for path in files:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as error:
            problems.extend(error.problems)
    if problems:
        raise UsageError("invalid scenario file(s):\n" + "\n".join(problems))
    return scenarios


@dataclasses.dataclass(slots=True)
class Progress:
    """What a run has done so far, kept outside its event loops so that an interrupted run
    can still report every scenario that ended, and mark the one that was running."""

    results: list[ScenarioResult] = dataclasses.field(default_factory=list)
    current: Scenario | None = None
    steps: list[StepResult] = dataclasses.field(default_factory=list)
    started: float = 0.0

    def starting(self, scenario: Scenario) -> None:
        self.current, self.steps, self.started = scenario, [], time.monotonic()

    def finished(self, result: ScenarioResult) -> None:
        self.results.append(result)
        self.current = None

    def interrupted(self, why: Interrupted) -> None:
        """Record the scenario that was running as interrupted, with its finished steps."""
        if self.current is not None:
            self.results.append(ScenarioResult(
                self.current.name, self.current.source, status=FAILED, reason=str(why),
                steps=self.steps, interrupted=True, seconds=time.monotonic() - self.started,
            ))
            self.current = None


def _announce(scenario: Scenario, console: Console) -> None:
    console.rule(f"{scenario.name}  [dim]{scenario.source}[/]")


def _told(result: ScenarioResult, console: Console) -> None:
    if result.reason:
        console.print(f"[yellow]{result.status}:[/] {result.reason}", markup=True)


def _watch(options: RunOptions, progress: Progress, console: Console) -> None:
    """Print each top-level step as it ends, and keep it for an interrupted scenario."""

    def on_step(name: str, step: StepResult) -> None:
        progress.steps.append(step)
        console.print(step_line(step))

    options.on_step = on_step


async def run_all(scenarios: list[Scenario], options: RunOptions, console: Console,
                  progress: Progress | None = None) -> list[ScenarioResult]:
    """Run the scenarios one after the other on this loop (the demo's shared CSMS), printing
    each top-level step as it ends; `progress` keeps the results as they come."""
    progress = progress or Progress()
    _watch(options, progress, console)
    for scenario in scenarios:
        progress.starting(scenario)  # first: a signal may come as soon as the title shows
        _announce(scenario, console)
        with console.status(f"running {scenario.name}…"):
            result = await run_scenario(scenario, options)
        progress.finished(result)
        _told(result, console)
    return progress.results


def run_each(scenarios: list[Scenario], options: RunOptions, console: Console,
             progress: Progress) -> None:
    """Each scenario on an event loop of its own: a `VirtualTimeLoop` on the built-in CSMS
    (deterministic time), an ordinary one against an external CSMS. Raises `Interrupted`."""
    _watch(options, progress, console)
    for scenario in scenarios:
        progress.starting(scenario)  # first: a signal may come as soon as the title shows
        _announce(scenario, console)
        with console.status(f"running {scenario.name}…"):
            result = run_loop(lambda s=scenario: run_scenario(s, options),
                              virtual=on_builtin_csms(scenario, options))
        progress.finished(result)
        _told(result, console)


def main(args: argparse.Namespace) -> int:
    if args.speed is not None and args.speed <= 0:
        raise UsageError("--speed must be positive")
    if args.csms:
        check_csms_url(args.csms)
    files = list(args.files)
    if args.library is not None:
        from chargebench.paths_cli import resolve_library

        files += resolve_library(args.library)
    if not files:
        raise UsageError("no scenario: give FILE(s) or --library [NAME ...]")
    scenarios = load_all(files)
    console = Console(stderr=False, highlight=False)
    if args.check:
        for scenario in scenarios:
            console.print(f"ok {scenario.source}: {scenario.name}")
        return 0
    if args.junit:  # checked before the run: a long run never ends in a traceback about it
        writable_file(args.junit, "--junit")
    if args.trace:
        writable_dir(args.trace, "--trace")
    if args.allure:
        writable_dir(args.allure, "--allure")
    if args.workdir:
        writable_dir(args.workdir, "--workdir")
    token = args.admin_token if args.admin_token is not None else admin_token_from_env()
    options = RunOptions(csms_url=args.csms, csms_api=args.csms_api, csms_token=token,
                         speed=args.speed, trace_dir=args.trace, workdir=args.workdir)
    progress = Progress()
    stopped: Interrupted | None = None
    with scenario_ui(args) as options.on_stations:
        try:
            with interruptible():
                run_each(scenarios, options, console, progress)
        except Interrupted as why:
            stopped = why
            progress.interrupted(why)
    results = progress.results
    print_summary(results, console, steps=False)
    if args.junit:
        write_junit(results, args.junit)
    if args.allure:
        write_allure(results, args.allure)
        console.print(f"Allure results: {args.allure}")
    if args.trace:
        console.print(f"trace records: {args.trace}")
    if stopped is not None:
        done = sum(1 for r in results if not r.interrupted)
        console.print(f"{stopped}: {done} of {len(scenarios)} scenario(s) finished")
        return stopped.code
    return 1 if any(r.status == FAILED for r in results) else 0
