"""``chargebench sim``: run a fleet of virtual charge points against a CSMS.

``chargebench sim --csms URL [--count N] [--config FILE|DIR] [--hardware FILE] [--random-seed N]
[--ramp PER_SECOND | --max-handshakes N] [--speed X] [--duration SECONDS] [--state-dir DIR]
[--trace DIR] [--ca FILE] [--json] [--ui PORT [--admin-token TOKEN]]``

Starts the fleet as fast as the CSMS accepts it (at most ``--max-handshakes`` first attempts in
flight) and tells what happens while it runs: started and booted charge points and, for those
not accepted, why (connection refused, HTTP 401/404, TLS, timeout, wss without ``--ca``, boot
Rejected...). On a terminal that is a live progress display; otherwise one plain status line
every few seconds. ``--duration`` counts from the start, connecting included. On Ctrl-C,
SIGTERM or the end of ``--duration`` open transactions are stopped, queues persisted and a
summary printed (``--json``: one JSON object on stdout). ``--ui PORT`` serves the fleet's page and
control API (`sim.ui`) on 127.0.0.1 while it runs, behind the admin token (``--admin-token``,
$CHARGEBENCH_ADMIN_TOKEN, else a generated one); the link that logs in is printed once.

``--config DIR`` (a libocpp 2.0.1 component_config folder) runs OCPP 2.0.1 charging stations
instead (`sim.v201.run`; `--ui` is 1.6 only for now).

Exit codes: 0 every charge point booted, 1 some did not, 2 a bad file or argument (one line),
130 after SIGINT and 143 after SIGTERM (the summary is printed first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from chargebench.clock import Clock
from chargebench.trace import TraceWriter
from sim.config import DEFAULT_CONFIG, ChargePointConfig, ConfigError
from sim.features.connection import TlsFiles, security_profile
from sim.fleet import Fleet
from sim.hardware import Hardware, HardwareError

if TYPE_CHECKING:
    from sim.ui import UiServer

__all__ = ["DEFAULT_CONFIG", "add_parser", "add_ui_options", "run",
           "scenario_ui", "ui_token"]

#: Seconds between two plain status lines when stdout is not a terminal.
STATUS_EVERY = 5.0
#: Exit codes after a signal (128 + its number), once the summary is out.
_SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``sim`` subcommand."""
    parser = subparsers.add_parser("sim", help="run virtual charge points against a CSMS")
    parser.add_argument("--csms", required=True, metavar="URL",
                        help="CSMS base URL, e.g. ws://127.0.0.1:9000/ocpp (id appended)")
    parser.add_argument("--count", type=int, default=1, metavar="N", help="charge points")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, metavar="FILE|DIR",
                        help="a libocpp 1.6 JSON configuration file used as template (default: "
                        "ChargeBench's own), or a libocpp 2.0.1 component_config folder: "
                        "OCPP 2.0.1 charging stations")
    parser.add_argument("--hardware", type=Path, metavar="FILE", help="hardware YAML")
    parser.add_argument("--random-seed", type=int, default=None, metavar="N",
                        help="seed of the generated identities (same seed, same fleet; "
                        "default 0)")
    parser.add_argument("--seed", type=int, dest="legacy_seed", help=argparse.SUPPRESS)
    # Pace
    parser.add_argument("--ramp", type=float, default=None, metavar="PER_SECOND",
                        help="start this many charge points per second instead of as fast "
                        "as the CSMS accepts them (0: all at once)")
    parser.add_argument("--max-handshakes", type=int, default=200, metavar="N",
                        help="first connection attempts in flight at once (default 200)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="simulated seconds per wall-clock second")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="stop this many simulated seconds after the start, connecting "
                        "included (default: until Ctrl-C)")
    # Files
    parser.add_argument("--state-dir", type=Path, metavar="DIR",
                        help="persist queues, caches and each charger's OCPP log here")
    parser.add_argument("--trace", type=Path, metavar="DIR",
                        help="write the fleet's trace records (JSON Lines) into this folder")
    parser.add_argument("--ca", type=Path, metavar="FILE",
                        help="CA file that signed the CSMS certificate (wss://, profiles 2/3)")
    parser.add_argument("--prefix", default="CB", help="charge point id prefix (default CB)")
    parser.add_argument("--json", action="store_true",
                        help="print the summary as one JSON object on stdout")
    add_ui_options(parser)
    parser.set_defaults(func=run)
    return parser


def add_ui_options(parser: argparse.ArgumentParser) -> None:
    """`--ui PORT` and `--admin-token`: the fleet's page and control API (`sim.ui`); also
    registered by `chargebench run` and `demo`."""
    from chargebench.cli import ADMIN_TOKEN_ENV, port_number

    parser.add_argument("--ui", type=port_number, default=None, metavar="PORT",
                        help="serve the fleet's page and control API on 127.0.0.1:PORT "
                        "(0: any free port; off by default)")
    if not any("--admin-token" in action.option_strings for action in parser._actions):
        parser.add_argument("--admin-token", default=None, metavar="TOKEN",
                            help=f"token of the --ui page and API (default: ${ADMIN_TOKEN_ENV}, "
                            "else one is generated and printed)")


def ui_token(args: argparse.Namespace) -> str:
    """The token of `--ui`: `--admin-token`, $CHARGEBENCH_ADMIN_TOKEN, else a new one."""
    from chargebench.cli import admin_token_from_env
    from sim.ui import new_token

    return args.admin_token or admin_token_from_env() or new_token()


@contextlib.contextmanager
def scenario_ui(args: argparse.Namespace) -> Iterator[Callable[[dict], None] | None]:
    """`--ui` of `chargebench run` and `demo`: the fleet UI in a thread of its own, showing the
    running scenario's charge points (`RunOptions.on_stations`, given here; None without
    `--ui`). A port in use is a UsageError."""
    from chargebench.cli import UsageError
    from sim.ui import FleetView, UiThread

    if args.ui is None:
        yield None
        return
    view = FleetView(lambda: (), ui_token(args))
    try:
        ui = UiThread(view, args.ui).start()
    except OSError as error:
        raise UsageError(f"--ui {args.ui}: {error.strerror or error}") from None
    print(f"fleet UI: {ui.ui.login_url()}", file=sys.stderr, flush=True)

    def on_stations(stations: dict) -> None:
        view.show([station.cp for station in stations.values()], asyncio.get_running_loop())

    try:
        yield on_stations
    finally:
        ui.close()


def _options(args: argparse.Namespace) -> tuple[dict, Hardware | None, TlsFiles | None]:
    """Validate every argument before anything connects; UsageError names the first problem."""
    from chargebench.cli import UsageError, check_csms_url

    check_csms_url(args.csms)
    if args.count < 1 or args.speed <= 0 or args.max_handshakes < 1:
        raise UsageError("--count and --max-handshakes must be >= 1 and --speed > 0")
    if (args.ramp is not None and args.ramp < 0) or (args.duration is not None
                                                     and args.duration <= 0):
        raise UsageError("--ramp must be >= 0 and --duration > 0")
    if args.legacy_seed is not None:
        print("chargebench sim: --seed is deprecated, use --random-seed", file=sys.stderr)
        if args.random_seed is None:
            args.random_seed = args.legacy_seed
    if args.trace is not None and args.trace.exists() and not args.trace.is_dir():
        raise UsageError(f"--trace takes a folder; {args.trace} is a file")
    try:
        template = json.loads(args.config.read_text("utf-8"))
        hardware = Hardware.from_yaml(args.hardware) if args.hardware else None
        profile = security_profile(ChargePointConfig.from_dict(template, source=str(args.config)))
    except (OSError, ValueError, HardwareError, ConfigError) as error:
        raise UsageError(str(error)) from None
    if args.ca is not None and not args.ca.is_file():
        raise UsageError(f"--ca {args.ca}: no such file")
    if args.ca is None and (args.csms.startswith("wss://") or profile >= 2):
        why = "wss://" if args.csms.startswith("wss://") else f"SecurityProfile {profile}"
        raise UsageError(f"{why} needs --ca FILE (the CA that signed the CSMS certificate)")
    # wss:// at profile 0/1 is TLS all the same (sim.features.connection.uses_tls): the profile
    # only decides Basic auth and client certificates
    return template, hardware, TlsFiles(str(args.ca)) if args.ca else None


def run(args: argparse.Namespace) -> int:
    """Entry point of ``chargebench sim``: a folder as `--config` runs 2.0.1 stations
    (`sim.v201.run`), a file 1.6 charge points."""
    if args.config.is_dir():
        from sim.v201 import run as run201

        return run201.run(args)
    template, hardware, tls = _options(args)
    return asyncio.run(_main(args, template, hardware, tls))


class _Run:
    """What one `chargebench sim` run saw: when it started, what stopped it, when all booted."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.started = time.monotonic()
        self.stop = asyncio.Event()
        self.stopped_by = "duration"
        self.boot_s: float | None = None
        self.all_booted = asyncio.Event()
        self.launched = 0

    async def watch_boots(self) -> None:
        """Record when the last charge point was accepted (the boot time `--json` reports)."""
        await self.fleet.wait_booted()
        self.boot_s = self.elapsed()
        self.all_booted.set()

    def on_signal(self, sig: signal.Signals) -> None:
        self.stopped_by = sig.name
        self.stop.set()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def status(self) -> str:
        """One plain line: elapsed, started, booted, and the reasons of the rest."""
        fleet = self.fleet
        booted = fleet.booted()
        line = (f"sim: {self.elapsed():.0f}s started {self.launched}/{len(fleet)} "
                f"booted {booted}/{len(fleet)}")
        failures = {k: v for k, v in fleet.failures().items() if k != "connecting"}
        if failures:
            line += " | not booted: " + ", ".join(f"{k} {v}" for k, v in failures.items())
        return line


async def _main(args: argparse.Namespace, template: dict, hardware: Hardware | None,
                tls: TlsFiles | None) -> int:
    console = Console(stderr=True)
    trace = TraceWriter(args.trace / "sim-trace.jsonl") if args.trace else None
    fleet = Fleet(
        template, args.count, csms_url=args.csms, hardware=hardware,
        seed=args.random_seed or 0, ramp=args.ramp, max_handshakes=args.max_handshakes,
        clock=Clock(args.speed), state_dir=args.state_dir, trace_sink=trace, tls=tls,
        prefix=args.prefix,
    )
    state = _Run(fleet)
    ui = _ui(args, fleet)
    if ui is not None:
        await ui.start()
        print(f"fleet UI: {ui.login_url()}", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    for sig in _SIGNAL_EXIT:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, state.on_signal, sig)
    out: TextIO = sys.stderr if args.json else sys.stdout
    starting = loop.create_task(fleet.start(lambda n: setattr(state, "launched", n)))
    watching = loop.create_task(state.watch_boots())
    try:
        deadline = args.duration / args.speed if args.duration else None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline):
                if out.isatty():
                    await _live(state, console)
                else:
                    await _plain(state, out)
        print(state.status(), file=out, flush=True)  # where the run stopped
        failures = fleet.failures()
    finally:
        for task in (starting, watching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        console.print("stopping: open transactions are stopped, queues persisted")
        if ui is not None:
            await ui.close()
        await fleet.stop()
        if trace is not None:
            trace.close()
        for sig in _SIGNAL_EXIT:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    summary = _summary(state, failures)
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        _print_summary(console, summary)
    code = 0 if summary["booted"] == summary["charge_points"] else 1
    by_name = {sig.name: exit_code for sig, exit_code in _SIGNAL_EXIT.items()}
    return by_name.get(state.stopped_by, code)


def _ui(args: argparse.Namespace, fleet: Fleet) -> UiServer | None:
    """The `--ui` server, its socket bound (a port in use: UsageError), or None."""
    from chargebench.cli import UsageError
    from sim.ui import FleetView, UiServer

    if args.ui is None:
        return None
    try:
        return UiServer(FleetView.of_fleet(fleet, ui_token(args)), args.ui)
    except OSError as error:
        raise UsageError(f"--ui {args.ui}: {error.strerror or error}") from None


async def _plain(state: _Run, out: TextIO) -> None:
    """A status line now and every STATUS_EVERY seconds until stopped."""
    announced = False
    while True:
        print(state.status(), file=out, flush=True)
        if state.all_booted.is_set() and not announced:
            announced = True
            print(f"sim: all {len(state.fleet)} booted in {state.boot_s:.1f}s; "
                  "Ctrl-C to stop", file=out, flush=True)
        waits = [state.stop.wait()] + ([] if announced else [state.all_booted.wait()])
        await _first(waits, STATUS_EVERY)
        if state.stop.is_set():
            return


async def _first(waits: list, timeout: float) -> None:
    """Wait until the first of `waits` (coroutines) is done, or `timeout` seconds."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _live(state: _Run, console: Console) -> None:
    """The same status, redrawn five times a second on the terminal."""
    with Live(state.status(), console=console, transient=True) as live:
        while not state.stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    await state.stop.wait()
            live.update(state.status())


def _summary(state: _Run, failures: dict[str, int]) -> dict[str, Any]:
    fleet = state.fleet
    return {
        **fleet.summary(),
        "not_booted": {k: v for k, v in failures.items()},
        "elapsed_s": round(state.elapsed(), 2),
        "boot_s": None if state.boot_s is None else round(state.boot_s, 2),
        "stopped_by": state.stopped_by,
    }


def _print_summary(console: Console, summary: dict[str, Any]) -> None:
    table = Table(title="chargebench sim")
    table.add_column("")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        if key == "not_booted":
            for reason, count in value.items():
                table.add_row(f"not booted: {reason}", str(count))
        else:
            table.add_row(key.replace("_", " "), "-" if value is None else str(value))
    console.print(table)
