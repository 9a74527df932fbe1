"""`chargebench demo`: the whole toolkit in one command, for a first look.

Starts the built-in CSMS on an SQLite file in the output directory, runs a representative set of
library scenarios against it (single chargers, then a mixed fleet living through a day), all at
one accelerated speed so the CSMS and the charge points share one clock, on a `VirtualTimeLoop`
(time advances by events, so a busy machine changes the wall time only), and prints what ran,
what passed, the energy delivered and billed, and where the traces, the JUnit report and the
HTML report (`chargebench report`) are.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from chargebench.cli import UsageError
from chargebench.clock import loop_clock
from reports.cli import write_report
from reports.verdicts import read_junit
from scenarios.backends import BuiltinBackend
from scenarios.cli import load_all, run_all
from scenarios.loader import DEFAULT_SEED, LIBRARY
from scenarios.model import CsmsSpec
from scenarios.report import print_summary, write_junit
from scenarios.results import ScenarioResult
from scenarios.runner import RunOptions, run_virtual

__all__ = ["DEMO_SCENARIOS", "add_parser", "run_demo"]

#: Library scenarios the demo runs, in order: one of each kind, the fleet last.
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
                        help="where the database, traces and report go (default: a temp dir)")
    parser.add_argument("--speed", type=float, default=DEMO_SPEED, metavar="X",
                        help=f"time acceleration (default {DEMO_SPEED:g})")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="library files to run instead of the default set")
    parser.set_defaults(func=main)


async def run_demo(files: list[Path], out: Path, speed: float, console: Console
                   ) -> tuple[list[ScenarioResult], dict]:
    """Run `files` against one built-in CSMS in `out`; returns the results and its summary."""
    scenarios = load_all(files)
    spec = CsmsSpec(builtin=True, seed=Path(DEFAULT_SEED))
    backend = BuiltinBackend(spec, loop_clock(speed), out)
    await backend.start()
    try:
        console.print(f"built-in CSMS listening on {backend.url()}  (database {out / 'csms.db'})")
        options = RunOptions(workdir=out / "runs", trace_dir=out / "traces", backend=backend)
        results = await run_all(scenarios, options, console)
        return results, backend.summary()
    finally:
        await backend.close()


def main(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        raise UsageError("--speed must be positive")
    names = args.only or list(DEMO_SCENARIOS)
    files = [name if Path(name).is_file() else LIBRARY / name for name in names]
    files = [f if f.suffix else f.with_suffix(".yaml") for f in map(Path, files)]
    out = args.out or Path(tempfile.mkdtemp(prefix="chargebench-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    console = Console(highlight=False)
    started = time.monotonic()
    results, totals = run_virtual(lambda: run_demo(files, out, args.speed, console))
    print_summary(results, console, steps=False)
    junit = out / "junit.xml"
    write_junit(results, junit)
    report = out / "report.html"
    write_report(sorted((out / "traces").glob("*.jsonl")), report, verdicts=[read_junit(junit)])
    counts = {s: sum(1 for r in results if r.status == s) for s in ("passed", "failed", "skipped")}
    console.print(Panel.fit(
        f"scenarios: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped\n"
        f"transactions: {totals.get('transactions', 0)}, energy delivered: "
        f"{totals.get('energy_kwh', 0)} kWh, billed: {totals.get('billed', 0)} "
        f"{totals.get('currency', '')}\n"
        f"wall time: {time.monotonic() - started:.0f} s at speed {args.speed:g}\n"
        f"traces: {out / 'traces'}\nJUnit report: {junit}\nHTML report: {report}\n"
        f"CSMS database: {out / 'csms.db'}",
        title="ChargeBench demo",
    ))
    return 1 if counts["failed"] else 0
