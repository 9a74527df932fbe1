"""Memory per virtual charge point, every one connected and booted (or charging) in one process.

    python -m loadtest.bench_sim_memory --cps 10000 [--tracemalloc]
    python -m loadtest.bench_sim_memory --cps 2000 --charging [--meter-interval 60] [--tracemalloc]

A trivial CSMS (the session core answering BootNotification, StatusNotification and Heartbeat)
runs in its own process on 127.0.0.1, so its memory is not counted. This process imports
everything, measures its RSS (the baseline), builds a `sim.fleet.Fleet` from ChargeBench's
default configuration (libocpp 1.6 format), connects it at `--ramp` per second and waits until
every charge point is booted and has announced its connectors. `sim_rss_kb_per_cp` is the RSS
growth over the baseline divided by `--cps`; `built_kb_per_cp` the share of building the fleet
before any connection. Target (load-test issue): at most 40 kB per charge point at 10 000.

`--charging` then plugs an EV into connector 1 of every charge point and presents its id tag
(starts spread over one `--meter-interval`, MeterValueSampleInterval), waits until every one
has a transaction and one more interval so each has sampled, and reports
`sim_rss_kb_per_cp` there instead (`idle_rss_kb_per_cp` is the booted figure): the issue's
steady state, every charger charging.

`--ocpp 2.0.1` measures 2.0.1 charging stations instead (`Fleet(ocpp="2.0.1")` on ChargeBench's
default component_config; with `--charging`, TransactionEvent Updated every `--meter-interval`):
target (issue 19) at most 45 kB per station at 10 000. `--ocpp both` measures 1.6 and then
2.0.1, each in a fresh process of its own (RSS a process has grown is not given back), and
prints them side by side with the ratio 2.0.1 / 1.6.

`--tracemalloc` also prints the Python allocations per charge point by source line (slower,
and tracemalloc's own bookkeeping inflates RSS: read its table, not that run's RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import multiprocessing as mp
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

import psutil

from loadtest._bench import (
    ServerProcess,
    charge_all,
    libocpp_template,
    raise_fd_limit,
    side_by_side,
    v201_settings,
)

HOST = "127.0.0.1"
_spawn = mp.get_context("spawn")
#: 40 kB per charge point at 10 000 in one process (load-test issue); 45 kB per 2.0.1
#: charging station (issue 19).
TARGETS_KB = {"1.6": 40.0, "2.0.1": 45.0}
TARGET_KB = TARGETS_KB["1.6"]


async def start_trivial_csms(heartbeat_interval: int) -> int:
    """A CSMS that accepts every charge point and answers what an idle one sends."""
    from chargebench.clock import iso
    from chargebench.ocppj import OcppSession, Role, Session, serve
    from chargebench.ocppj.versions import VERSIONS

    tx_ids = itertools.count(1)

    def now() -> str:
        return iso(datetime.now(UTC))

    handlers = {
        "BootNotification": lambda p: {"status": "Accepted", "currentTime": now(),
                                       "interval": heartbeat_interval},
        "StatusNotification": lambda p: {},
        "Heartbeat": lambda p: {"currentTime": now()},
        "Authorize": lambda p: {"idTagInfo": {"status": "Accepted"}},
        "StartTransaction": lambda p: {"transactionId": next(tx_ids),
                                       "idTagInfo": {"status": "Accepted"}},
        "MeterValues": lambda p: {},
        "StopTransaction": lambda p: {},
    }
    handlers_201 = {  # the same for a 2.0.1 station (B01, G01, G02, C01, E01-E07)
        "BootNotification": handlers["BootNotification"],
        "StatusNotification": lambda p: {},
        "Heartbeat": handlers["Heartbeat"],
        "Authorize": lambda p: {"idTokenInfo": {"status": "Accepted"}},
        "TransactionEvent": lambda p: ({"idTokenInfo": {"status": "Accepted"}}
                                       if "idToken" in p else {}),
        "MeterValues": lambda p: {},
        "NotifyEvent": lambda p: {},
        "SecurityEventNotification": lambda p: {},
    }

    async def handler(ws) -> None:
        version = VERSIONS[ws.subprotocol]
        await Session(ws, OcppSession(Role.CENTRAL_SYSTEM, version=version),
                      handlers if version.name == "1.6" else handlers_201).run()

    server = await serve(handler, HOST, 0, backlog=4096)
    return server.sockets[0].getsockname()[1]


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


async def measure(url: str, cps: int, ramp: float, timeout: float, trace: bool,
                  charging: bool = False, meter_interval: int = 60, ocpp: str = "1.6"
                  ) -> dict:  # fmt: skip
    """Build, connect and boot `cps` charge points of version `ocpp` (and start a transaction
    on each); RSS figures in bytes."""
    from sim.fleet import Fleet

    interval = meter_interval if charging else 0
    options: dict = ({"template": libocpp_template(interval)} if ocpp == "1.6" else
                     {"template": None, "ocpp": ocpp, "settings": v201_settings(interval)})
    # warm up lazily built tables (schemas, validators, Faker, the device-model template)
    Fleet(count=1, **options)
    if trace:
        tracemalloc.start(1)
    baseline = rss()
    snapshot0 = tracemalloc.take_snapshot() if trace else None
    fleet = Fleet(count=cps, csms_url=url, ramp=ramp, prefix="MEM", **options)
    built = rss()
    started = time.monotonic()
    await fleet.start()
    await fleet.wait_booted(timeout)
    while any(cp.session is None or cp.session.core.outstanding is not None
              for cp in fleet.charge_points):
        await asyncio.sleep(0.2)  # the last StatusNotifications are still on their way
    boot_s = time.monotonic() - started
    await asyncio.sleep(1.0)
    result = {"baseline": baseline, "built": built, "booted": rss(), "boot_s": boot_s}
    if charging:
        snapshot_booted = tracemalloc.take_snapshot() if trace else None
        started = time.monotonic()
        await charge_all(fleet, meter_interval)
        async with asyncio.timeout(timeout):
            while fleet.summary()["open_transactions"] < cps:
                await asyncio.sleep(0.2)
        result["charging_s"] = time.monotonic() - started
        await asyncio.sleep(meter_interval + 1.0)  # every charger has sampled once more
        result["charging"] = rss()
        if snapshot_booted is not None:
            print("charging, over booted:")
            _print_top(tracemalloc.take_snapshot().compare_to(snapshot_booted, "lineno"), cps)
            print("charging, over the baseline:")
    if trace and snapshot0 is not None:
        _print_top(tracemalloc.take_snapshot().compare_to(snapshot0, "lineno"), cps)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, _context: None)
    await fleet.stop()
    return result


def _print_top(stats: list, cps: int, lines: int = 25) -> None:
    for stat in stats[:lines]:
        frame = stat.traceback[0]
        print(f"  {stat.size_diff / cps:8.0f} B/cp  {stat.count_diff / cps:6.1f} obj/cp  "
              f"{frame.filename.rsplit('/', 2)[-2:]}:{frame.lineno}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_sim_memory",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--cps", type=int, default=10000)
    parser.add_argument("--ramp", type=float, default=1000.0, help="connections per second")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--heartbeat", type=int, default=300, help="interval the CSMS gives")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--charging", action="store_true",
                        help="measure with a transaction on every charge point")
    parser.add_argument("--meter-interval", type=int, default=60,
                        help="MeterValueSampleInterval with --charging (s, default 60)")
    parser.add_argument("--ocpp", default="1.6", choices=("1.6", "2.0.1", "both"),
                        help="the stations' OCPP version (default 1.6); both: 1.6, then 2.0.1 "
                        "in a fresh process, side by side")
    args = parser.parse_args(argv)
    if args.cps < 1:
        parser.error("--cps must be positive")
    if args.meter_interval < 1:
        parser.error("--meter-interval must be >= 1")
    versions = ["1.6", "2.0.1"] if args.ocpp == "both" else [args.ocpp]
    if len(versions) == 1:
        for key, value in run(args, args.ocpp).items():
            print(f"{key}={value}")
        return
    v16, v201 = (_in_fresh_process(args, version) for version in versions)
    for line in side_by_side(v16, v201, ("1.6", "2.0.1", "2.0.1/1.6")):
        print(line, flush=True)


def _in_fresh_process(args: argparse.Namespace, ocpp: str) -> dict[str, str]:
    """`run(args, ocpp)` in a new process (not a pool's: a pool worker may not start the CSMS
    process), so each version's RSS grows from its own baseline."""
    results = _spawn.Queue()
    process = _spawn.Process(target=_run_into, args=(args, ocpp, results))
    process.start()
    try:
        return results.get(timeout=2 * args.timeout + 120)
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()


def _run_into(args: argparse.Namespace, ocpp: str, results: Any) -> None:
    results.put(run(args, ocpp))


def run(args: argparse.Namespace, ocpp: str) -> dict[str, str]:
    """One measurement in this process: its printed figures."""
    raise_fd_limit()
    with ServerProcess(start_trivial_csms, args.heartbeat) as server:
        url = f"ws://{HOST}:{server.port}/ocpp"
        r = asyncio.run(measure(url, args.cps, args.ramp, args.timeout, args.tracemalloc,
                                args.charging, args.meter_interval, ocpp))
    per_cp = (r["booted"] - r["baseline"]) / args.cps / 1024
    out = {"ocpp": ocpp, "cps": str(args.cps), "boot_s": f"{r['boot_s']:.1f}",
           "baseline_rss_mb": f"{r['baseline'] / 2**20:.1f}",
           "built_kb_per_cp": f"{(r['built'] - r['baseline']) / args.cps / 1024:.1f}"}
    if args.charging:
        out["idle_rss_kb_per_cp"] = f"{per_cp:.1f}"
        out["charging_s"] = f"{r['charging_s']:.1f}"
        out["meter_interval_s"] = str(args.meter_interval)
        per_cp = (r["charging"] - r["baseline"]) / args.cps / 1024
    out["sim_rss_kb_per_cp"] = f"{per_cp:.1f}"
    target = TARGETS_KB[ocpp]
    out["target_kb_per_cp"] = f"{target:.0f} {'ok' if per_cp <= target else 'ABOVE'}"
    return out

if __name__ == "__main__":
    main()
