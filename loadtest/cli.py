"""``chargebench load``: a headless Locust run of OCPP 1.6 charge points, with a verdict.

    chargebench load --csms ws://csms.example:9000/ocpp -u 500 -r 50 -t 2m --max-p95-ms 200
    chargebench load --builtin-csms -u 50 -t 15s --csv out/run -- --meter-interval 2

Runs ``locust -f LOCUSTFILE --headless`` (the shipped locustfile unless ``--locustfile``) as a
subprocess (its output goes to ``PREFIX.log``), writes Locust's CSV stats under ``--csv PREFIX``,
prints one line per action and exits 0; 1 when a charger could not connect, no request succeeded,
the failure ratio exceeds --max-failure-ratio (default 0.01) or p95 exceeds --max-p95-ms, with the
first failure reasons; 2 on usage errors; 130 on Ctrl-C, 143 on SIGTERM (after the stats so far).
Arguments after ``--`` go to Locust as they are (``--mix``, ``--heartbeat-interval``,
``--master --expect-workers 2``...).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chargebench.cli import (
    Terminated,
    UsageError,
    check_csms_url,
    deprecated_alias,
    writable_file,
)
from loadtest.options import OCPP_CHOICES, USER_CLASSES, MixError, read_mix

__all__ = ["add_parser", "run_load"]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
#: default of --max-failure-ratio: a load test with 1 % failed requests is not a pass
MAX_FAILURE_RATIO = 0.01
#: failure reasons printed with a failed verdict (all of them are in PREFIX_failures.csv)
SHOWN_FAILURES = 5
#: seconds Locust gets after Ctrl-C to stop its users (--stop-timeout 5) and write its CSV
STOP_GRACE = 8.0
_RUN_TIME = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def run_seconds(text: str) -> int:
    """Locust's run-time syntax (``90``, ``30s``, ``2m``, ``1h30m``) in seconds."""
    if text.isdigit():
        return int(text)
    match = _RUN_TIME.match(text)
    if not text or match is None:
        raise UsageError(f"--run-time {text!r}: expected e.g. 30s, 2m, 1h30m")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``load`` on the root CLI's ``subparsers``."""
    load = subparsers.add_parser(
        "load", help="load-test a CSMS with Locust charge points (headless, with a verdict)",
        description=__doc__.split("\n\n")[2].replace("``", ""),
    )
    target = load.add_argument_group("target")
    target.add_argument("--csms", metavar="URL",
                        help="OCPP endpoint without the charge point id, e.g. ws://HOST:PORT/ocpp")
    deprecated_alias(target, "--host", new="--csms", dest="csms")
    target.add_argument("--builtin-csms", action="store_true",
                        help="start the built-in CSMS on 127.0.0.1 (the scripted one if the "
                        "csms package is missing) and load it")
    shape = load.add_argument_group("load shape")
    shape.add_argument("-u", "--users", type=int, default=10, help="charge points (default: 10)")
    shape.add_argument("-r", "--spawn-rate", type=float, default=10.0,
                       help="charge points started per second (default: 10)")
    shape.add_argument("-t", "--run-time", default="30s", help="duration (default: 30s)")
    output = load.add_argument_group("output and verdict")
    output.add_argument("--csv", metavar="PREFIX",
                        help="write PREFIX_stats.csv etc. (default: a temporary directory)")
    output.add_argument("--max-p95-ms", type=float, metavar="X",
                        help="fail when the aggregate p95 exceeds X ms")
    output.add_argument("--max-failure-ratio", type=float, metavar="Y",
                        default=MAX_FAILURE_RATIO,
                        help=f"fail when failed/all requests exceeds Y (default: "
                        f"{MAX_FAILURE_RATIO:g})")
    load.add_argument("--locustfile", type=Path, metavar="FILE", default=LOCUSTFILE,
                      help="Locust users to run (default: the shipped one, "
                      "`chargebench paths locustfile`)")
    load.add_argument("locust_args", nargs=argparse.REMAINDER,
                      help="after --: more arguments for locust")
    load.set_defaults(func=run_load)
    return load


def _check(args: argparse.Namespace) -> list[str]:
    """Usage errors found after parsing; returns the extra locust arguments."""
    if bool(args.csms) == bool(args.builtin_csms):
        raise UsageError("give exactly one of --csms URL and --builtin-csms")
    if args.csms:
        check_csms_url(args.csms)
    if not args.locustfile.is_file():
        raise UsageError(f"--locustfile {args.locustfile}: no such file")
    if args.users < 1 or args.spawn_rate <= 0:
        raise UsageError("--users and --spawn-rate must be positive")
    if run_seconds(args.run_time) < 1:
        raise UsageError("--run-time must be at least 1 s")
    if args.max_failure_ratio is not None and not 0 <= args.max_failure_ratio <= 1:
        raise UsageError("--max-failure-ratio must be between 0 and 1")
    extra = list(args.locust_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    mix = _mix_path(extra)
    if mix:
        try:
            read_mix(mix, OCPP_CHOICES.get(_option(extra, "--ocpp") or "1.6", USER_CLASSES))
        except MixError as error:
            raise UsageError(str(error)) from None
    return extra


def _mix_path(locust_args: list[str]) -> str | None:
    """The `--mix FILE` (or `--mix=FILE`) among the arguments passed on to Locust."""
    return _option(locust_args, "--mix")


def _option(locust_args: list[str], name: str) -> str | None:
    """The value of `name VALUE` (or `name=VALUE`) among the arguments passed on to Locust."""
    for n, arg in enumerate(locust_args):
        if arg == name and n + 1 < len(locust_args):
            return locust_args[n + 1]
        if arg.startswith(name + "="):
            return arg.removeprefix(name + "=")
    return None


def _follow(locust: subprocess.Popen, history: Path, seconds: int) -> None:
    """Wait for Locust, showing elapsed time and the run so far on stderr (when it is a
    terminal); raises TimeoutExpired when it outlives the run time by 5 minutes."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from loadtest.report import read_so_far

    deadline = time.monotonic() + seconds + 300
    columns = (TextColumn("load"), BarColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task("starting", total=seconds)
        started = time.monotonic()
        while locust.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(locust.args, seconds + 300)
            so_far = read_so_far(history)
            bar.update(task, completed=min(seconds, time.monotonic() - started),
                       description=so_far.describe() if so_far else "starting")
            time.sleep(0.5)


def _stop(locust: subprocess.Popen, grace: float) -> None:
    """End Locust if it still runs: first `grace` seconds to stop by itself (a terminal's
    Ctrl-C reached it too, and it is writing its CSV), then SIGTERM (its own graceful quit),
    then SIGKILL; another Ctrl-C meanwhile goes straight to SIGKILL."""
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            locust.wait(grace)
        if locust.poll() is None:
            locust.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                locust.wait(10)
    except KeyboardInterrupt:
        pass
    if locust.poll() is None:
        locust.kill()
        locust.wait()


def run_load(args: argparse.Namespace) -> int:
    """Run the load test; exit code 0 passed, 1 failed verdict or crashed run, 130/143 when
    interrupted (after printing the stats so far)."""
    from loadtest import report
    from loadtest.servers import csms_server

    extra = _check(args)
    seconds = run_seconds(args.run_time)
    if args.csv:
        writable_file(args.csv + "_stats.csv", "--csv")
    with contextlib.ExitStack() as stack:
        # every temporary folder (stats, the built-in CSMS's database) goes when the run ends
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chargebench-")))
        prefix = args.csv or str(scratch / "load")
        Path(prefix).parent.mkdir(parents=True, exist_ok=True)
        host = args.csms
        if args.builtin_csms:
            server, label = csms_server(True, workdir=scratch)
            stack.enter_context(server)
            host = f"ws://127.0.0.1:{server.port}/ocpp"
            print(f"csms={label} url={host}", flush=True)
        command = [
            sys.executable, "-m", "locust", "-f", str(args.locustfile), "--headless",
            "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.run_time,
            "--host", host, "--csv", prefix, "--only-summary", "--exit-code-on-error", "0",
            "--stop-timeout", "5", *extra,
        ]
        log_path = Path(prefix + ".log")
        history, stats_path = Path(prefix + "_stats_history.csv"), Path(prefix + "_stats.csv")
        interrupted: KeyboardInterrupt | None = None
        with open(log_path, "w") as log:
            locust = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                _follow(locust, history, seconds)
            except subprocess.TimeoutExpired:
                _stop(locust, grace=0)
                print(f"chargebench load: locust did not finish; see {log_path}", file=sys.stderr)
                return 1
            except KeyboardInterrupt as interrupt:  # Terminated (SIGTERM) too
                interrupted = interrupt
                print("chargebench load: interrupted; Locust stops and writes the stats so far",
                      file=sys.stderr)
            # Ctrl-C in a terminal reached Locust too: give it time to write its CSV; a SIGTERM
            # (or a signal sent to us alone) is passed on at once as Locust's graceful quit
            grace = STOP_GRACE if interrupted is not None and not isinstance(
                interrupted, Terminated) else 0
            _stop(locust, grace=grace)
        code = 143 if isinstance(interrupted, Terminated) else 130
        if interrupted and not stats_path.exists():
            print(f"chargebench load: no stats were written; see {log_path}", file=sys.stderr)
            return code
        if not interrupted and (locust.returncode != 0 or not stats_path.exists()):
            tail = log_path.read_text().splitlines()[-20:]
            print("\n".join(tail), file=sys.stderr)
            print(f"chargebench load: locust exited {locust.returncode}", file=sys.stderr)
            return 2 if locust.returncode == 2 else 1
        rows = report.read_stats(stats_path)
        print(report.format_table(rows))
        reasons = report.verdict(rows, max_p95_ms=args.max_p95_ms,
                                 max_failure_ratio=args.max_failure_ratio)
        failures = report.read_failures(prefix + "_failures.csv")
        if args.csv:
            print(f"stats: {stats_path}  log: {log_path}")
    if interrupted:
        print("INTERRUPTED: no verdict")
        return code
    if reasons:
        print("FAIL: " + "; ".join(reasons))
        for failure in failures[:SHOWN_FAILURES]:
            print(f"  {failure}")
        if len(failures) > SHOWN_FAILURES:
            print(f"  ... {len(failures) - SHOWN_FAILURES} more distinct failures"
                  + ("" if not args.csv else f" in {prefix}_failures.csv"))
        return 1
    print("PASS")
    return 0
