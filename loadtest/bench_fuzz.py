"""The long fuzz run against the CSMS (issue 15): 100,000 seeded frames of every bad-input class
over ~2,000 connections, then a normal charger. Prints reply violations, handler tracebacks in
the CSMS's log and its RSS before and after (a ratio against the baseline of the same run).

    python -m loadtest.bench_fuzz                       # 100,000 frames, 50 per connection
    python -m loadtest.bench_fuzz --frames 5000 --seed 3 --per-connection 20 --ids 100

The CSMS runs as its own process (`python -m chargebench csms`, port 0, a fresh SQLite file and
log directory in a temporary folder), exactly as a user starts it; its stderr is the log read
for tracebacks. Exit status: 0 clean, 1 violations or tracebacks, 2 usage or environment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from chargebench.ocppj.fuzz import FuzzReport, fuzz_frames, run_fuzz
from csms.testing import ScriptedChargePoint

#: lines of the CSMS log that mean a handler (or a task) broke
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "exception was never retrieved")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
    return kib / 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--per-connection", type=int, default=50,
                        help="frames per connection before it closes and another opens")
    parser.add_argument("--parallel", type=int, default=4, help="connections at a time")
    parser.add_argument("--ids", type=int, default=500, help="distinct charge point ids")
    args = parser.parse_args(argv)
    if min(args.frames, args.per_connection, args.parallel, args.ids) < 1:
        parser.error("--frames, --per-connection, --parallel and --ids must be positive")
    return args


async def start_csms(workdir: Path, log) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "csms", "--port", "0",
        "--db", str(workdir / "csms.db"), "--log-dir", str(workdir / "logs"),
        stdout=asyncio.subprocess.PIPE, stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    async with asyncio.timeout(30):
        line = (await process.stdout.readline()).decode()
    if not line.startswith("OCPP endpoint: "):
        raise RuntimeError(f"the CSMS did not start: {line!r}")
    return process, line.removeprefix("OCPP endpoint: ").strip().removesuffix("{chargePointId}")


async def fuzz(base: str, args: argparse.Namespace) -> tuple[FuzzReport, int]:
    # one seeded stream per connection: message ids are unique per connection (OCPP-J 1.6
    # §4.1.4), so a "duplicate" must repeat an id of its own connection
    sizes = [min(args.per_connection, args.frames - first)
             for first in range(0, args.frames, args.per_connection)]  # fmt: skip
    chunks = [list(fuzz_frames(seed=args.seed * 1_000_003 + index, count=size))
              for index, size in enumerate(sizes)]  # fmt: skip
    total = FuzzReport()
    queue: asyncio.Queue = asyncio.Queue()
    for index, chunk in enumerate(chunks):
        queue.put_nowait((index, chunk))

    async def worker() -> None:
        while not queue.empty():
            index, chunk = queue.get_nowait()
            report = await run_fuzz(base + f"FUZZ{index % args.ids}", chunk)
            total.sent += report.sent
            total.replies += report.replies
            total.closed_by_peer += report.closed_by_peer
            total.violations.extend(report.violations)
            total.kinds.update(report.kinds)

    await asyncio.gather(*(worker() for _ in range(args.parallel)))
    return total, len(chunks)


async def normal_charger(base: str) -> bool:
    async with await ScriptedChargePoint.connect(base + "NORMAL", "NORMAL") as cp:
        boot = await cp.boot()
        start = await cp.start_transaction("NORMAL-TAG")
        await cp.stop_transaction(start["transactionId"], 100)
        return boot["status"] == "Accepted"


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench_fuzz_") as tmp:
        workdir = Path(tmp)
        log_path = workdir / "csms.stderr"
        with log_path.open("wb") as log:
            process, base = await start_csms(workdir, log)
            try:
                # baseline: the CSMS after one ordinary charger, in this run
                await normal_charger(base)
                await asyncio.sleep(1)
                before = rss_mib(process.pid)
                started = time.perf_counter()
                report, connections = await fuzz(base, args)
                elapsed = time.perf_counter() - started
                served = await normal_charger(base)
                await asyncio.sleep(2)
                after = rss_mib(process.pid)
            finally:
                process.terminate()
                async with asyncio.timeout(15):
                    await process.wait()
        text = log_path.read_text(encoding="utf-8", errors="replace")
    tracebacks = sum(text.count(marker) for marker in TRACEBACK_MARKERS)
    print(f"frames: {report.sent} over {connections} connections in {elapsed:.1f} s "
          f"({report.sent / elapsed:.0f}/s), seed {args.seed}")  # fmt: skip
    print(f"replies: {report.replies}; connections closed by the CSMS: {report.closed_by_peer}")
    print(f"violations: {len(report.violations)}")
    by_kind = Counter(case.kind for case, _ in report.violations)
    for kind, count in by_kind.most_common():
        print(f"  {kind}: {count}")
    for case, problem in report.violations[:10]:
        print(f"  e.g. {case.kind} #{case.seq} {case.text[:60]!r}: {problem}")
    print(f"tracebacks in the CSMS log: {tracebacks}")
    print(f"normal charger served afterwards: {'yes' if served else 'NO'}")
    print(f"CSMS RSS: {before:.1f} MiB before, {after:.1f} MiB after ({after / before:.2f}x)")
    return 0 if not report.violations and not tracebacks and served else 1


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.path.isdir("/proc/self"):
        print("bench_fuzz: needs /proc to read the CSMS's RSS", file=sys.stderr)
        return 2
    try:
        return asyncio.run(main(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(run())
