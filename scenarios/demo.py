"""`chargebench demo`: the whole toolkit in one command, for a first look.

Starts the built-in CSMS on an SQLite file in the output directory, runs a representative set of
library scenarios against it (single chargers, a fleet living through a day, then a mixed
fleet: 1.6 charge points and 2.0.1 stations on the one port), all at
one accelerated speed so the CSMS and the charge points share one clock, on a `VirtualTimeLoop`
(time advances by events, so a busy machine changes the wall time only), and prints what ran,
what passed, the energy delivered and billed, and where the traces, the JUnit report and the
HTML report (`chargebench report`) are.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from chargebench.cli import UsageError, writable_dir
from chargebench.clock import loop_clock
from reports.cli import write_report
from reports.verdicts import Verdicts
from scenarios.backends import BuiltinBackend
from scenarios.cli import Progress, load_all, run_all
from scenarios.interrupt import Interrupted, interruptible, run_loop
from scenarios.loader import DEFAULT_SEED, LIBRARY
from scenarios.model import CsmsSpec
from scenarios.report import print_summary, write_allure, write_junit
from scenarios.results import FAILED, PASSED, SKIPPED, ScenarioResult
from scenarios.runner import RunOptions
from sim.cli import add_ui_options, scenario_ui

__all__ = ["DEMO_SCENARIOS", "add_parser", "run_demo"]

#: Library scenarios the demo runs, in order: one of each kind, the fleets last (the mixed
#: one: 1.6 and 2.0.1 on one CSMS port).
DEMO_SCENARIOS = (
    "cold_boot_accepted.yaml",
    "charging_plug_in_first.yaml",
    "charging_authorize_first.yaml",
    "remote_start_stop.yaml",
    "tags_invalid_blocked_expired.yaml",
    "offline_transaction.yaml",
    "reset_with_transaction.yaml",
    "smart_charging.yaml",
    "local_list.yaml",
    "reservation.yaml",
    "firmware_update.yaml",
    "fleet_day_small.yaml",
    "fleet_mixed.yaml",
)
#: A simulated day in 36 s: fast enough for "under two minutes", slow enough for 2 cores.
DEMO_SPEED = 2400.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="built-in CSMS + virtual fleet + scenario library, with a summary",
        description="Run a representative set of library scenarios against the built-in "
        "CSMS and print a summary. Exit 1 if a scenario failed.",
    )
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where the database, traces and report go (default: a temporary "
                        "folder, removed at exit)")
    parser.add_argument("--speed", type=float, default=DEMO_SPEED, metavar="X",
                        help=f"time acceleration (default {DEMO_SPEED:g})")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="library files to run instead of the default set")
    add_ui_options(parser)
    parser.set_defaults(func=main)


async def run_demo(files: list[Path], out: Path, speed: float, console: Console,
                   progress: Progress | None = None, totals: dict | None = None,
                   on_stations: Callable[[dict], None] | None = None,
                   ) -> tuple[list[ScenarioResult], dict]:
    """Run `files` against one built-in CSMS in `out`; returns the results and its summary.
    `progress` and `totals` (the CSMS's summary, taken before it closes) survive an interrupt;
    `on_stations` shows each scenario's charge points on the fleet UI (`--ui`)."""
    scenarios = load_all(files)
    progress = progress or Progress()
    totals = {} if totals is None else totals
    spec = CsmsSpec(builtin=True, seed=Path(DEFAULT_SEED))
    backend = BuiltinBackend(spec, loop_clock(speed), out)
    await backend.start()
    try:
        console.print(f"built-in CSMS listening on {backend.url()}  (database {out / 'csms.db'})")
        options = RunOptions(workdir=out / "runs", trace_dir=out / "traces", backend=backend,
                             on_stations=on_stations)
        await run_all(scenarios, options, console, progress)
    finally:
        with contextlib.suppress(Exception):
            totals.update(backend.summary())
        await backend.close()
    return progress.results, totals


def main(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        raise UsageError("--speed must be positive")
    names = args.only or list(DEMO_SCENARIOS)
    files = [name if Path(name).is_file() else LIBRARY / name for name in names]
    files = [f if f.suffix else f.with_suffix(".yaml") for f in map(Path, files)]
    if args.out:  # checked before the run: a demo never ends in a traceback about its output
        writable_dir(args.out, "--out")
    scratch = None if args.out else Path(tempfile.mkdtemp(prefix="chargebench-demo-"))
    out = args.out or scratch
    try:
        out.mkdir(parents=True, exist_ok=True)
        return _demo(args, files, out, kept=scratch is None)
    finally:
        if scratch is not None:  # nothing of a demo without --out outlives it
            shutil.rmtree(scratch, ignore_errors=True)


def _demo(args: argparse.Namespace, files: list[Path], out: Path, *, kept: bool) -> int:
    console = Console(highlight=False)
    started = time.monotonic()
    progress, totals = Progress(), {}
    stopped: Interrupted | None = None
    with scenario_ui(args) as on_stations:
        try:
            with interruptible():
                run_loop(lambda: run_demo(files, out, args.speed, console, progress, totals,
                                          on_stations), virtual=True)
        except Interrupted as why:
            stopped = why
            progress.interrupted(why)
    results = progress.results
    print_summary(results, console, steps=False)
    junit, allure = out / "junit.xml", out / "allure"
    write_junit(results, junit)
    write_allure(results, allure)
    report = out / "report.html"
    verdicts = Verdicts.of(f"JUnit: {junit.name}", (r.verdict() for r in results))
    write_report(sorted((out / "traces").glob("*.jsonl")), report, verdicts=[verdicts])
    counts = {o: sum(1 for r in results if r.status == o) for o in (PASSED, FAILED, SKIPPED)}
    where = (f"traces: {out / 'traces'}\nJUnit report: {junit}\nAllure results: {allure}\n"
             f"HTML report: {report}\n"
             f"CSMS database: {out / 'csms.db'}" if kept else
             "files: removed with their temporary folder (--out DIR keeps the traces, the JUnit "
             "and HTML reports, the Allure results and the CSMS database)")
    done = sum(1 for r in results if not r.interrupted)
    ended = f"\n{stopped}: {done} of {len(files)} scenario(s) finished" if stopped else ""
    console.print(Panel.fit(
        f"scenarios: {counts[PASSED]} passed, {counts[FAILED]} failed, "
        f"{counts[SKIPPED]} skipped{ended}\n"
        f"transactions: {totals.get('transactions', 0)}, energy delivered: "
        f"{totals.get('energy_kwh', 0)} kWh, billed: {totals.get('billed', 0)} "
        f"{totals.get('currency', '')}\n"
        f"wall time: {time.monotonic() - started:.0f} s at speed {args.speed:g} "
        f"(simulated time advances by events: a busy machine only takes longer)\n{where}",
        title="ChargeBench demo",
    ))
    if stopped is not None:
        return stopped.code
    return 1 if counts[FAILED] else 0
