"""``chargebench sim``: run a fleet of virtual charge points against a CSMS.

``chargebench sim --csms URL --count N --config FILE [--hardware FILE] [--seed N]
[--ramp PER_SECOND] [--speed X] [--duration SECONDS] [--state-dir DIR] [--trace FILE]``

Shows a progress bar while the fleet connects, runs until Ctrl-C (or ``--duration`` simulated
seconds), then stops open transactions, persists queues and prints a summary. Exit code 0 when
every charge point booted, 1 when some did not, 2 for a bad file or argument.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chargebench.clock import Clock
from chargebench.trace import TraceWriter
from sim.config import ConfigError
from sim.features.connection import TlsFiles
from sim.fleet import Fleet
from sim.hardware import Hardware, HardwareError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``sim`` subcommand."""
    parser = subparsers.add_parser("sim", help="run virtual charge points against a CSMS")
    parser.add_argument("--csms", required=True, metavar="URL",
                        help="CSMS base URL, e.g. ws://127.0.0.1:9000/ocpp (id appended)")
    parser.add_argument("--count", type=int, default=1, metavar="N", help="charge points")
    parser.add_argument("--config", required=True, type=Path, metavar="FILE",
                        help="libocpp 1.6 JSON configuration used as template")
    parser.add_argument("--hardware", type=Path, metavar="FILE", help="hardware YAML")
    parser.add_argument("--seed", type=int, default=0, help="Faker seed for identities")
    parser.add_argument("--ramp", type=float, default=50.0, metavar="PER_SECOND",
                        help="connections started per second (default 50)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="simulated seconds per wall-clock second")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="stop after this many simulated seconds (default: until Ctrl-C)")
    parser.add_argument("--state-dir", type=Path, metavar="DIR",
                        help="persist queues and caches here (one sub-directory per CP)")
    parser.add_argument("--trace", type=Path, metavar="FILE", help="write trace records here")
    parser.add_argument("--ca", metavar="FILE", help="CA file for security profiles 2/3")
    parser.add_argument("--prefix", default="CB", help="charge point id prefix (default CB)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Entry point of ``chargebench sim``."""
    from chargebench.cli import UsageError

    try:
        template = json.loads(args.config.read_text("utf-8"))
        hardware = Hardware.from_yaml(args.hardware) if args.hardware else None
    except (OSError, ValueError, HardwareError) as error:
        raise UsageError(str(error)) from None
    if args.count < 1 or args.speed <= 0:
        raise UsageError("--count must be >= 1 and --speed > 0")
    try:
        return asyncio.run(_main(args, template, hardware))
    except ConfigError as error:
        raise UsageError(str(error)) from None


async def _main(args: argparse.Namespace, template: dict, hardware: Hardware | None) -> int:
    console = Console(stderr=True)
    trace = TraceWriter(args.trace) if args.trace else None
    fleet = Fleet(
        template, args.count, csms_url=args.csms, hardware=hardware, seed=args.seed,
        ramp=args.ramp, clock=Clock(args.speed), state_dir=args.state_dir, trace_sink=trace,
        tls=TlsFiles(args.ca) if args.ca else None, prefix=args.prefix,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await _connect(fleet, console, stop)
        if not stop.is_set():
            console.print(f"[green]{fleet.booted()}/{len(fleet)} booted[/]; Ctrl-C to stop")
            timeout = args.duration / args.speed if args.duration else None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await stop.wait()
    finally:
        console.print("stopping: open transactions are stopped, queues persisted")
        await fleet.stop()
        if trace is not None:
            trace.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    summary = fleet.summary()
    _print_summary(console, summary)
    return 0 if summary["booted"] == summary["charge_points"] else 1


async def _connect(fleet: Fleet, console: Console, stop: asyncio.Event) -> None:
    """Start the fleet with a progress bar of started and booted charge points."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        started = progress.add_task("connecting", total=len(fleet))
        booted = progress.add_task("booted", total=len(fleet))
        starting = asyncio.create_task(
            fleet.start(lambda n: progress.update(started, completed=n)))
        while not stop.is_set() and (not starting.done() or fleet.booted() < len(fleet)):
            progress.update(booted, completed=fleet.booted())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    await stop.wait()
            if starting.done() and starting.exception():
                raise starting.exception()  # type: ignore[misc]
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting


def _print_summary(console: Console, summary: dict[str, int]) -> None:
    table = Table(title="chargebench sim")
    table.add_column("")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)
