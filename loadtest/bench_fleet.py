"""The built-in CSMS against the asyncio fleet: boot storm, memory per charger, steady state.

    python -m loadtest.bench_fleet --cps 1000

The CSMS (`csms.central.CentralSystem`, SQLite with synchronous=NORMAL, id tags seeded) and the
fleet (`sim.fleet.Fleet`, EVerest's libocpp config.json as template) run in separate processes
on 127.0.0.1. Every charge point connects at once (ramp 0) and boots; `boot_storm_s` runs from
the first connect to the last BootNotification Accepted. Then each plugs in and presents its tag,
so all are in a transaction sending MeterValues every `--meter-interval` s; over `--steady-s`
seconds of that, `steady_msgs_s` counts the fleet's CALLs answered per second, `p99_ms` is their
round trip (from the fleet's trace records), `csms_cpu_pct` the CSMS process's CPU (100 = one
core). RSS per charger: each process's growth (psutil) over its own baseline, the CSMS's before
any connection, the fleet's after imports and before building the fleet.
When `csms` does not import, the scripted CSMS stands in and the output says `csms=scripted`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import psutil
import yaml

from loadtest._bench import raise_fd_limit
from loadtest.servers import csms_server

_spawn = mp.get_context("spawn")
#: EVerest libocpp's stock OCPP 1.6 configuration, the template the simulator's tests use too.
LIBOCPP_CONFIG = Path("/work/shared/everest-libocpp/v16/config.json")
PREFIX = "BF"


def fleet_template(path: Path, meter_interval: int) -> dict:
    """libocpp config with sampled MeterValues every `meter_interval` s and no other timers."""
    data = json.loads(path.read_text())
    data.setdefault("Internal", {}).update(
        {"RetryBackoffWaitMinimum": 1, "RetryBackoffRandomRange": 1})
    data.setdefault("Core", {}).update({
        "HeartbeatInterval": 3600, "ClockAlignedDataInterval": 0,
        "MeterValueSampleInterval": meter_interval,
    })
    return data


def p99(samples: list[float]) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run_fleet(url: str, cps: int, template: dict, steady_s: float, timeout: float,
              report: mp.Queue, go: mp.Event, release: mp.Event) -> None:
    """Fleet process: baseline RSS, boot storm, transactions, then a counted window."""
    raise_fd_limit()
    import asyncio
    import gc

    from sim.fleet import Fleet

    async def main() -> None:
        latencies: list[float] = []
        counting = False

        def sink(record) -> None:
            # replies to the fleet's CALLs carry their round trip
            if counting and record.dir == "cs->cp" and record.latency_ms is not None:
                latencies.append(record.latency_ms)

        gc.collect()
        report.put(("baseline", psutil.Process().memory_info().rss))
        fleet = Fleet(template, cps, csms_url=url, ramp=0, trace_sink=sink, prefix=PREFIX)
        started = time.monotonic()
        await fleet.start()
        await fleet.wait_booted(timeout)
        report.put(("booted", time.monotonic() - started))
        gate = asyncio.Semaphore(200)

        async def charge(cp, identity) -> None:
            async with gate:
                await cp.plug_in(1)
                await cp.present_id_tag(identity.id_tags[0], 1)

        await asyncio.gather(*(charge(cp, i) for cp, i in zip(fleet.charge_points,
                                                               fleet.identities, strict=True)))
        deadline = time.monotonic() + timeout
        while fleet.summary()["open_transactions"] < cps and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        report.put(("charging", fleet.summary()["open_transactions"]))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, go.wait)
        counting = True
        window_start = time.monotonic()
        await asyncio.sleep(steady_s)
        counting = False
        elapsed = time.monotonic() - window_start
        report.put(("window", len(latencies) / elapsed, p99(latencies)))
        # Torn down with the CSMS still up or already gone: lost connections are expected now.
        loop.set_exception_handler(lambda _loop, _context: None)
        await loop.run_in_executor(None, release.wait, timeout)

    asyncio.run(main())


def _expect(report: mp.Queue, kind: str, timeout: float) -> tuple:
    message = report.get(timeout=timeout)
    if message[0] != kind:
        raise RuntimeError(f"fleet sent {message!r}, expected {kind}")
    return message[1:]


def measure(cps: int, meter_interval: int, steady_s: float, timeout: float) -> dict[str, str]:
    """Run both processes and return the printed key=values."""
    from sim.fleet import identities  # what the fleet will present: seed the same tags

    workdir = Path(tempfile.mkdtemp(prefix="chargebench-bench-fleet-"))
    seed = workdir / "seed.yaml"
    tags = [{"id_tag": i.id_tags[0], "status": "Accepted"} for i in identities(cps, 0, PREFIX)]
    seed.write_text(yaml.safe_dump({"id_tags": tags}))
    template = fleet_template(LIBOCPP_CONFIG, meter_interval)
    server, label = csms_server(True, workdir, seed)
    with server:
        csms = psutil.Process(server.process.pid)
        time.sleep(0.5)
        csms_before = csms.memory_info().rss
        report, go, release = _spawn.Queue(), _spawn.Event(), _spawn.Event()
        url = f"ws://127.0.0.1:{server.port}/ocpp"
        fleet = _spawn.Process(target=run_fleet, args=(url, cps, template, steady_s, timeout,
                                                      report, go, release))
        fleet.start()
        try:
            (fleet_before,) = _expect(report, "baseline", 60)
            (boot_storm_s,) = _expect(report, "booted", timeout + 60)
            (charging,) = _expect(report, "charging", 2 * timeout)
            if charging < cps:
                raise RuntimeError(f"only {charging}/{cps} charge points got a transaction")
            time.sleep(2 * meter_interval)  # let the first samples of every transaction land
            csms_after = csms.memory_info().rss
            fleet_after = psutil.Process(fleet.pid).memory_info().rss
            cpu_before, wall_before = csms.cpu_times(), time.monotonic()
            go.set()
            msgs_s, p99_ms = _expect(report, "window", steady_s + 60)
            cpu_after, wall = csms.cpu_times(), time.monotonic() - wall_before
        finally:
            release.set()
            fleet.join(10)
            if fleet.is_alive():
                fleet.kill()
    cpu_s = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    return {
        "csms": label,
        "cps": str(cps),
        "boot_storm_s": f"{boot_storm_s:.2f}",
        "csms_rss_kb_per_cp": f"{(csms_after - csms_before) / 1024 / cps:.1f}",
        "sim_rss_kb_per_cp": f"{(fleet_after - fleet_before) / 1024 / cps:.1f}",
        "steady_msgs_s": f"{msgs_s:.0f}",
        "p99_ms": f"{p99_ms:.1f}",
        "csms_cpu_pct": f"{100 * cpu_s / wall:.0f}",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_fleet",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--cps", type=int, default=1000, help="charge points (default 1000)")
    parser.add_argument("--meter-interval", type=int, default=1,
                        help="MeterValueSampleInterval in seconds (default 1)")
    parser.add_argument("--steady-s", type=float, default=10.0,
                        help="seconds of steady state measured (default 10)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed for booting and for starting transactions")
    args = parser.parse_args(argv)
    if not 1 <= args.cps <= 15000:
        parser.error("--cps must be between 1 and 15000 (ulimit -n is 20000)")
    if args.meter_interval < 1 or not 0 < args.steady_s <= 600:
        parser.error("--meter-interval must be >= 1 and --steady-s in (0, 600]")
    if not LIBOCPP_CONFIG.exists():
        parser.error(f"{LIBOCPP_CONFIG} (the fleet template) is missing")
    for key, value in measure(args.cps, args.meter_interval, args.steady_s, args.timeout).items():
        print(f"{key}={value}", flush=True)


if __name__ == "__main__":
    main()
