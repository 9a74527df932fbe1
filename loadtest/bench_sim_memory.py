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

`--tracemalloc` also prints the Python allocations per charge point by source line (slower,
and tracemalloc's own bookkeeping inflates RSS: read its table, not that run's RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import time
import tracemalloc
from datetime import UTC, datetime

import psutil

from loadtest._bench import ServerProcess, charge_all, libocpp_template, raise_fd_limit

HOST = "127.0.0.1"
#: 40 kB per charge point at 10 000 in one process (load-test issue).
TARGET_KB = 40.0


async def start_trivial_csms(heartbeat_interval: int) -> int:
    """A CSMS that accepts every charge point and answers what an idle one sends."""
    from chargebench.clock import iso
    from chargebench.ocppj import OcppSession, Role, Session, serve

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

    async def handler(ws) -> None:
        await Session(ws, OcppSession(Role.CENTRAL_SYSTEM), handlers).run()

    server = await serve(handler, HOST, 0, backlog=4096)
    return server.sockets[0].getsockname()[1]


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


async def measure(url: str, cps: int, ramp: float, timeout: float, trace: bool,
                  charging: bool = False, meter_interval: int = 60) -> dict:  # fmt: skip
    """Build, connect and boot `cps` charge points (and start a transaction on each);
    RSS figures in bytes."""
    from sim.fleet import Fleet

    Fleet(libocpp_template(0), 1)  # warm up lazily built tables (schemas, validators, Faker)
    if trace:
        tracemalloc.start(1)
    baseline = rss()
    snapshot0 = tracemalloc.take_snapshot() if trace else None
    fleet = Fleet(libocpp_template(meter_interval if charging else 0), cps,
                  csms_url=url, ramp=ramp, prefix="MEM")
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
    args = parser.parse_args(argv)
    if args.cps < 1:
        parser.error("--cps must be positive")
    if args.meter_interval < 1:
        parser.error("--meter-interval must be >= 1")
    raise_fd_limit()
    with ServerProcess(start_trivial_csms, args.heartbeat) as server:
        url = f"ws://{HOST}:{server.port}/ocpp"
        r = asyncio.run(measure(url, args.cps, args.ramp, args.timeout, args.tracemalloc,
                                args.charging, args.meter_interval))
    per_cp = (r["booted"] - r["baseline"]) / args.cps / 1024
    print(f"cps={args.cps}")
    print(f"boot_s={r['boot_s']:.1f}")
    print(f"baseline_rss_mb={r['baseline'] / 2**20:.1f}")
    print(f"built_kb_per_cp={(r['built'] - r['baseline']) / args.cps / 1024:.1f}")
    if args.charging:
        print(f"idle_rss_kb_per_cp={per_cp:.1f}")
        print(f"charging_s={r['charging_s']:.1f}")
        print(f"meter_interval_s={args.meter_interval}")
        per_cp = (r["charging"] - r["baseline"]) / args.cps / 1024
    print(f"sim_rss_kb_per_cp={per_cp:.1f}")
    print(f"target_kb_per_cp={TARGET_KB:.0f} {'ok' if per_cp <= TARGET_KB else 'ABOVE'}")


if __name__ == "__main__":
    main()
