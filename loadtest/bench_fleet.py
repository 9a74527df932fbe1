"""The built-in CSMS against the asyncio fleet: boot storm, memory per charger, steady state.

    python -m loadtest.bench_fleet --cps 10000 --meter-interval 60     # the load-test issue
    python -m loadtest.bench_fleet --cps 5000 --boot-only              # boot time only (issue 14)
    python -m loadtest.bench_fleet --cps 10000 --db postgresql://USER@HOST:PORT/DB   # issue 17
    python -m loadtest.bench_fleet --cps 20000 --workers 2 [--db postgresql://...]
    python -m loadtest.bench_fleet --cps 10000 --compare [--workers 2] [--db postgresql://...]

With `--db postgresql://...` the same measurement runs twice in one invocation, first with the
CSMS on SQLite (the baseline), then on PostgreSQL (in a scratch database `DB_bench_PID` created
on that server and dropped afterwards: USER needs CREATEDB), and the two are printed side by
side with their ratio, PostgreSQL / SQLite.

`--workers N`: the CSMS is `chargebench csms --workers N --no-charger-logs` (the command an
operator runs, in a subprocess) on PostgreSQL; its RSS and CPU are summed over the parent and its
N workers, so `csms_rss_kb_per_cp` is the whole CSMS's growth per charger. `--compare` prints
three runs side by side, each figure's ratio to the first: SQLite at `--cps`, PostgreSQL at
`--cps` (one process) and PostgreSQL with `--workers N` (default 2) at N x `--cps` (issue 17
point 6: 10 000 on SQLite and PostgreSQL, 20 000 on two workers). Without `--db`, `--workers`
and `--compare`, and `--db` given no URL, start a throw-away PostgreSQL for the run
(`postgres_server`). A fleet of more
than `FLEET_MAX` charge points runs in several fleet processes (one socket per charger, and
ulimit -n is 20000) that start their boot storms together: boot_storm_s is the slowest one's,
the latencies are pooled before their percentiles are taken.

The CSMS (`csms.central.CentralSystem`, SQLite with synchronous=NORMAL, id tags seeded), the
fleet (`sim.fleet.Fleet`, ChargeBench's default configuration as template) and a few probe charge
points run in three processes on 127.0.0.1. No clock is accelerated: every time and latency
below is wall-clock.

1. Boot storm: the fleet starts with its default pace, the one `chargebench sim` uses (as fast
   as the CSMS accepts, at most `Fleet.max_handshakes` first attempts in flight; `--ramp N`
   starts N per second instead, 0 all at once); `boot_storm_s` runs from the first start to the
   last BootNotification Accepted. `--boot-only` stops here.
2. Transactions: each plugs in and presents its tag. The starts are spread evenly over one
   `--meter-interval`, so the fleet's MeterValues are evenly phased (as chargers plugged in at
   random times are) instead of 10 000 arriving in the same second every interval; then one more
   interval passes so every charger has sent a sample before RSS is read.
3. Steady state, `--steady-s` (default 1.5 intervals, so every charger's MeterValues is seen):
   `steady_msgs_s` is the fleet's CALLs answered per second and `steady_cps_seen` how many
   chargers had a MeterValues answered.

Latency, three ways, because the fleet's own event loop (10 000 chargers' timers in one process)
adds to what its charge points measure:
- `p99_ms`: per CALL round trip as the fleet's charge points see it (send to reply, from their
  trace records); includes the fleet process's loop lag, reported as `sim_loop_lag_p99_ms`.
- `probe_p99_ms`: round trips of `--probes` charge points in a process of their own (an idle
  loop), each sending MeterValues every 0.5 s during the window: the CSMS as one charger sees it.
- `csms_handling_p99_ms`: CALL received to CALLRESULT queued, from the CSMS's message log.

RSS per charger: each process's growth (psutil) over its own baseline, the CSMS's before any
connection, the fleet's after imports and before building the fleet. `csms_cpu_pct` (100 = one
core) over the window, `csms_boot_cpu_pct` / `sim_boot_cpu_pct` over the boot storm.
`fleet_rss_mb` is the fleet process's whole RSS. `load_avg_start` / `load_avg_end`: the
machine's 1-minute load average when the measurement began and ended (on a shared machine the
figures mean little without it). No other simulator's figures are printed: a
comparison is measured in the same run on the same machine, or not made. Progress goes to
stderr.
When `csms` does not import, the scripted CSMS stands in and the output says `csms=scripted`.

`--ocpp 2.0.1`: the fleet is 2.0.1 charging stations (`Fleet(ocpp="2.0.1")` on ChargeBench's
default component_config, `loadtest._bench.v201_settings`): they boot, charge (TransactionEvent
Started, then Updated with the sampled meter values every `--meter-interval`, which the window
counts where 1.6 counts MeterValues) and the probes speak 2.0.1 MeterValues. `--ocpp both`
measures 1.6 and then 2.0.1 in one run and prints them side by side with the ratio 2.0.1 / 1.6
(issue 18: 2.0.1 within 20 % of 1.6). `python -m loadtest.bench_core --ocpp both` measures our
core alone the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import yaml

from loadtest._bench import (
    ServerProcess,
    charge_all,
    libocpp_template,
    raise_fd_limit,
    side_by_side,
    v201_settings,
)
from loadtest.servers import csms_server

_spawn = mp.get_context("spawn")
PREFIX = "BF"
PROBE_PREFIX = "BFPROBE"
#: seconds between two MeterValues of one probe charge point
PROBE_INTERVAL = 0.5
#: the fleet process's event-loop lag is sampled this often (seconds)
LAG_TICK = 0.05
#: what a charger's sampled meter values travel in, per version (1.6 §4.7, 2.0.1 J02)
METER_ACTIONS = {"MeterValues", "TransactionEvent"}


def log(message: str) -> None:
    print(f"[bench_fleet {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN without samples (printed as nan, never a fake 0)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p99(samples: list[float]) -> float:
    return percentile(samples, 0.99)


def run_fleet(url: str, cps: int, template: dict, spread_s: float, steady_s: float,
              timeout: float, report: mp.Queue, go: mp.Event, release: mp.Event,
              ramp: float | None = None, boot_only: bool = False, ocpp: str = "1.6",
              settings: dict[str, str] | None = None, prefix: str = PREFIX, seed: int = 0,
              begin: Any = None) -> None:
    """Fleet process: baseline RSS, boot storm, paced transactions, then a counted window
    (`boot_only`: the boot storm and its RSS only); `ocpp` "2.0.1": 2.0.1 stations with
    `settings` over the default device model. Several fleet processes (more chargers than one
    process has file descriptors) start their boot storms together at `begin`."""
    raise_fd_limit()
    import asyncio
    import gc

    from chargebench.ocppj.frames import Direction
    from sim.fleet import Fleet

    async def main() -> None:
        latencies: list[float] = []
        seen: set[str] = set()
        lags: list[float] = []
        counting = False

        def sink(record) -> None:
            # replies to the fleet's CALLs carry their round trip
            if counting and record.dir is Direction.CS_TO_CP and record.latency_ms is not None:
                latencies.append(record.latency_ms)
                if record.action in METER_ACTIONS:
                    seen.add(record.cp_id)

        async def watch_lag() -> None:
            """How late this loop wakes up: what every charger's own measurement includes."""
            loop = asyncio.get_running_loop()
            while True:
                due = loop.time() + LAG_TICK
                await asyncio.sleep(LAG_TICK)
                if counting:
                    lags.append(1000 * (loop.time() - due))

        gc.collect()
        report.put(("baseline", psutil.Process().memory_info().rss))
        fleet = Fleet(template, cps, csms_url=url, ramp=ramp, trace_sink=sink, prefix=prefix,
                      ocpp=ocpp, settings=settings, seed=seed)
        if begin is not None:
            await asyncio.get_running_loop().run_in_executor(None, begin.wait, 60)
        started = time.monotonic()
        starting = asyncio.get_running_loop().create_task(fleet.start())
        await fleet.wait_booted(timeout)
        report.put(("booted", time.monotonic() - started))
        await starting
        if boot_only:
            report.put(("rss", psutil.Process().memory_info().rss))
            asyncio.get_running_loop().set_exception_handler(lambda _loop, _context: None)
            await asyncio.get_running_loop().run_in_executor(None, release.wait, timeout)
            return
        await charge_all(fleet, spread_s)
        deadline = time.monotonic() + timeout
        while fleet.summary()["open_transactions"] < cps and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        report.put(("charging", fleet.summary()["open_transactions"]))
        lag_task = asyncio.get_running_loop().create_task(watch_lag())
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, go.wait)
        counting = True
        window_start = time.monotonic()
        await asyncio.sleep(steady_s)
        counting = False
        elapsed = time.monotonic() - window_start
        lag_task.cancel()
        report.put(("window", len(latencies) / elapsed, latencies, len(seen), lags))
        # Torn down with the CSMS still up or already gone: lost connections are expected now.
        loop.set_exception_handler(lambda _loop, _context: None)
        await loop.run_in_executor(None, release.wait, timeout)

    asyncio.run(main())


def run_probes(url: str, count: int, steady_s: float, report: mp.Queue, go: mp.Event,
               ocpp: str = "1.6") -> None:
    """Probe process: `count` charge points on an idle loop; MeterValues round trips (in
    `ocpp`'s version)."""
    import asyncio

    from chargebench.clock import iso
    from chargebench.ocppj import OcppSession, Role, Session, connect
    from chargebench.ocppj.versions import VERSIONS

    version = next(v for v in VERSIONS.values() if v.name == ocpp)

    def meter_values() -> dict:
        now = iso(datetime.now(UTC))
        if ocpp == "1.6":
            return {"connectorId": 1, "meterValue": [{"timestamp": now, "sampledValue": [{
                "value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}
        return {"evseId": 1, "meterValue": [{"timestamp": now, "sampledValue": [{  # J01
            "value": 1000.0, "measurand": "Energy.Active.Import.Register"}]}]}

    boot_payload = ({"chargePointVendor": "ChargeBench", "chargePointModel": "probe"}
                    if ocpp == "1.6" else  # 2.0.1 B01
                    {"reason": "PowerUp", "chargingStation": {"vendorName": "ChargeBench",
                                                              "model": "probe"}})

    async def probe(n: int, latencies: list[float], ready: asyncio.Event,
                    start: asyncio.Event) -> None:
        ws = await connect(f"{url}/{PROBE_PREFIX}{n:03d}", subprotocols=[version.subprotocol])
        session = Session(ws, OcppSession(Role.CHARGE_POINT, version=version))
        session.start()
        boot = await session.call("BootNotification", boot_payload)
        if boot["status"] != "Accepted":
            raise RuntimeError(f"probe {n} not accepted: {boot}")
        ready.set()
        await start.wait()
        loop = asyncio.get_running_loop()
        end = loop.time() + steady_s
        await asyncio.sleep(n * PROBE_INTERVAL / count)  # evenly phased, like the fleet
        while loop.time() < end:
            payload = meter_values()
            sent = time.perf_counter()
            await session.call("MeterValues", payload)
            latencies.append(1000 * (time.perf_counter() - sent))
            await asyncio.sleep(max(0.0, PROBE_INTERVAL - (time.perf_counter() - sent)))
        await session.close()

    async def main() -> None:
        latencies: list[float] = []
        readies = [asyncio.Event() for _ in range(count)]
        start = asyncio.Event()
        tasks = [asyncio.create_task(probe(n, latencies, readies[n], start))
                 for n in range(count)]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
        report.put(("probes_ready",))
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        start.set()
        await asyncio.gather(*tasks)
        report.put(("probes", p99(latencies), len(latencies)))

    asyncio.run(main())


def _expect(report: mp.Queue, kind: str, timeout: float) -> tuple:
    message = report.get(timeout=timeout)
    if message[0] != kind:
        raise RuntimeError(f"sent {message!r}, expected {kind}")
    return message[1:]


def csms_handling_p99(db: str, since: datetime, until: datetime) -> float:
    """p99 of CALL-received-to-CALLRESULT-queued in the CSMS's message log over a window."""
    from csms.store.opening import store_file

    path = store_file(db)
    if path is not None and not Path(path).exists():  # the scripted CSMS keeps no log
        return float("nan")
    from csms.store import open_store

    with open_store(db) as store:
        latencies = store.log_latencies(
            direction="cs->cp", type="CALLRESULT", since=since, until=until
        )
    return p99(latencies)


#: charge points per fleet process (each holds one socket per charger; ulimit -n is 20000)
FLEET_MAX = 10000
#: charge points one CSMS process is asked to hold (its sockets, the same limit)
CSMS_MAX = 15000


def fleet_prefixes(cps: int) -> list[tuple[str, int]]:
    """(id prefix, charge points) of each fleet process: one up to `FLEET_MAX`, else several of
    equal size with distinct prefixes (BF0..., BF1...); fleet process n's identities come from
    seed n (`sim.fleet.identities`: the same seed, the same id tags)."""
    count = -(-cps // FLEET_MAX)
    if count == 1:
        return [(PREFIX, cps)]
    sizes = [cps // count + (1 if n < cps % count else 0) for n in range(count)]
    return [(f"{PREFIX}{n}", size) for n, size in enumerate(sizes)]


class CsmsWorkers:
    """`chargebench csms --workers N` in a subprocess (the command an operator runs), on port 0,
    with the bench's seed and no charger log files (as the single-process CSMS of this bench);
    `processes()` is the parent and its workers, whose RSS and CPU are summed."""

    def __init__(self, db: str, workers: int, seed: Path, workdir: Path) -> None:
        self.db, self.workers, self.seed, self.workdir = db, workers, seed, workdir
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> CsmsWorkers:
        import re

        env = {**os.environ, "CHARGEBENCH_DB": self.db}  # never on a command line ps shows
        self.stderr = open(self.workdir / "csms.stderr", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chargebench", "csms", "--workers", str(self.workers),
             "--port", "0", "--seed-file", str(self.seed), "--no-charger-logs",
             "--heartbeat-interval", "3600"],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env)  # fmt: skip
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if match := re.match(r"OCPP endpoint: ws://[^:]+:(\d+)/", line):
                self.port = int(match[1])
            if line.startswith("workers:"):
                return self
        self.__exit__()
        tail = (self.workdir / "csms.stderr").read_text()[-2000:]
        raise RuntimeError(f"chargebench csms --workers {self.workers} did not start: {tail}")

    def processes(self) -> list[psutil.Process]:
        assert self.proc is not None
        parent = psutil.Process(self.proc.pid)
        return [parent, *parent.children(recursive=True)]

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                for process in self.processes()[::-1]:
                    with contextlib.suppress(psutil.Error):
                        process.kill()
                self.proc.wait(10)
        self.stderr.close()


def _rss(processes: list[psutil.Process]) -> int:
    return sum(process.memory_info().rss for process in processes)


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def measure(cps: int, meter_interval: int, steady_s: float | None = None, timeout: float = 300.0,
            *, probes: int = 10, ramp: float | None = None, boot_only: bool = False,
            db: str | None = None, ocpp: str = "1.6", workers: int | None = None,
            ) -> dict[str, str]:  # fmt: skip
    """Run the processes and return the printed key=values (see the module docstring); the
    CSMS's store is `db` (default: a SQLite file in a fresh folder); `workers`: the CSMS is
    `chargebench csms --workers N` on `db` (PostgreSQL); the fleet and the probes speak `ocpp`
    ("1.6" or "2.0.1")."""
    from sim.fleet import identities  # what the fleet will present: seed the same tags

    steady_s = steady_s if steady_s is not None else max(10.0, 1.5 * meter_interval)
    load_start = os.getloadavg()[0]  # a shared machine's load: said beside every figure
    workdir = Path(tempfile.mkdtemp(prefix="chargebench-bench-fleet-"))
    seed = workdir / "seed.yaml"
    parts = fleet_prefixes(cps)
    tags = {i.id_tags[0]: {"id_tag": i.id_tags[0], "status": "Accepted"}
            for n, (prefix, count) in enumerate(parts) for i in identities(count, n, prefix)}
    seed.write_text(yaml.safe_dump({"id_tags": list(tags.values())}))
    template = libocpp_template(meter_interval, HeartbeatInterval=3600) if ocpp == "1.6" else None
    settings = v201_settings(meter_interval) if ocpp == "2.0.1" else None
    db = db or str(workdir / "csms.db")
    if workers is None:
        server, label = csms_server(True, workdir, seed, db=db)
    else:
        server, label = CsmsWorkers(db, workers, seed, workdir), f"builtin_{workers}_workers"
    with server:
        csms = ([psutil.Process(server.process.pid)] if isinstance(server, ServerProcess)
                else server.processes())  # fmt: skip
        time.sleep(0.5)
        csms_before = _rss(csms)
        reports = [_spawn.Queue() for _ in parts]
        probe_report = _spawn.Queue()
        go, release, begin = _spawn.Event(), _spawn.Event(), _spawn.Event()
        url = f"ws://127.0.0.1:{server.port}/ocpp"
        fleets = [_spawn.Process(target=run_fleet, args=(
            url, count, template, meter_interval, steady_s, timeout, report, go, release, ramp,
            boot_only, ocpp, settings, prefix, n, begin))
            for n, ((prefix, count), report) in enumerate(zip(parts, reports, strict=True))]
        prober = _spawn.Process(target=run_probes, args=(url, probes, steady_s, probe_report, go,
                                                         ocpp))
        log(f"{cps} charge points (OCPP {ocpp}, {len(parts)} fleet process(es)), meter values "
            f"every {meter_interval} s, window {steady_s:.0f} s, CSMS {label}")
        for fleet in fleets:
            fleet.start()
        try:
            fleet_before = sum(_expect(report, "baseline", 60)[0] for report in reports)
            sim = [psutil.Process(fleet.pid) for fleet in fleets]
            time.sleep(0.5)  # every fleet built (the RSS baseline was read before)
            csms_cpu0, sim_cpu0 = _cpu(csms), _cpu(sim)
            begin.set()
            boot_storm_s = max(_expect(report, "booted", timeout + 60)[0] for report in reports)
            boot_cpu = {"csms": _cpu(csms) - csms_cpu0, "sim": _cpu(sim) - sim_cpu0}
            pace = "default pace" if ramp is None else f"ramp {ramp:g}/s"
            log(f"boot storm ({pace}) {boot_storm_s:.1f} s")
            if boot_only:
                fleet_after = sum(_expect(report, "rss", 60)[0] for report in reports)
                return {
                    "csms": label, "store": _backend(db), "ocpp": ocpp, "cps": str(cps),
                    "pace": pace.replace(" ", "_"),
                    "boot_storm_s": f"{boot_storm_s:.2f}",
                    "csms_boot_cpu_pct": f"{100 * boot_cpu['csms'] / boot_storm_s:.0f}",
                    "sim_boot_cpu_pct": f"{100 * boot_cpu['sim'] / boot_storm_s:.0f}",
                    "csms_rss_kb_per_cp": f"{(_rss(csms) - csms_before) / 1024 / cps:.1f}",
                    "fleet_rss_mb": f"{fleet_after / 2**20:.0f}",
                    "load_avg_start": f"{load_start:.1f}",
                    "load_avg_end": f"{os.getloadavg()[0]:.1f}",
                }
            log(f"starting transactions over {meter_interval} s")
            charging = sum(_expect(report, "charging", 2 * timeout + meter_interval)[0]
                           for report in reports)  # fmt: skip
            if charging < cps:
                raise RuntimeError(f"only {charging}/{cps} charge points got a transaction")
            prober.start()
            _expect(probe_report, "probes_ready", 60)
            log(f"all charging; settling {meter_interval} s so every charger has sampled")
            time.sleep(meter_interval)
            csms_after = _rss(csms)
            fleet_after = _rss(sim)
            cpu_before, wall_before = _cpu(csms), time.monotonic()
            since = datetime.now(UTC)
            log(f"steady window {steady_s:.0f} s")
            go.set()
            windows = [_expect(report, "window", steady_s + 60) for report in reports]
            cpu_s, wall = _cpu(csms) - cpu_before, time.monotonic() - wall_before
            until = datetime.now(UTC)
            probe_p99, probe_n = _expect(probe_report, "probes", 60)
            time.sleep(1.0)  # the CSMS writes its message log every 0.25 s
            handling_p99 = csms_handling_p99(db, since, until)
        finally:
            release.set()
            for process in (*fleets, prober):
                if process.pid is not None:
                    process.join(10)
                    if process.is_alive():
                        process.kill()
    log(f"done ({probe_n} probe round trips)")
    msgs_s = sum(window[0] for window in windows)
    latencies = [ms for window in windows for ms in window[1]]
    cps_seen = sum(window[2] for window in windows)
    lag_p99 = max(p99(window[3]) for window in windows)
    fleet_mb = fleet_after / 2**20
    return {
        "csms": label,
        "store": _backend(db),
        "ocpp": ocpp,
        "cps": str(cps),
        "meter_interval_s": str(meter_interval),
        "pace": "default_pace" if ramp is None else f"ramp_{ramp:g}/s",
        "boot_storm_s": f"{boot_storm_s:.2f}",
        "csms_boot_cpu_pct": f"{100 * boot_cpu['csms'] / boot_storm_s:.0f}",
        "sim_boot_cpu_pct": f"{100 * boot_cpu['sim'] / boot_storm_s:.0f}",
        "csms_rss_kb_per_cp": f"{(csms_after - csms_before) / 1024 / cps:.1f}",
        "sim_rss_kb_per_cp": f"{(fleet_after - fleet_before) / 1024 / cps:.1f}",
        "steady_s": f"{steady_s:.0f}",
        "steady_msgs_s": f"{msgs_s:.0f}",
        "steady_cps_seen": str(cps_seen),
        "p50_ms": f"{percentile(latencies, 0.5):.1f}",
        "p99_ms": f"{p99(latencies):.1f}",
        "sim_loop_lag_p99_ms": f"{lag_p99:.1f}",
        "probe_p99_ms": f"{probe_p99:.1f}",
        "csms_handling_p99_ms": f"{handling_p99:.1f}",
        "csms_cpu_pct": f"{100 * cpu_s / wall:.0f}",
        "fleet_rss_mb": f"{fleet_mb:.0f}",
        "load_avg_start": f"{load_start:.1f}",
        "load_avg_end": f"{os.getloadavg()[0]:.1f}",
    }


def _backend(db: str) -> str:
    from csms.store.opening import store_file

    return "sqlite" if store_file(db) is not None else "postgresql"


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new empty database `DB_bench_PID` on the server of `url`, dropped afterwards; its URL.
    (An existing database would carry the last run's chargers and message log.)"""
    import psycopg
    from psycopg import sql

    from csms.store.postgres import scrub

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'chargebench'}_bench_{os.getpid()}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SystemExit(f"bench_fleet: --db: cannot create a scratch database {name} "
                         f"({scrub(first, url)}); the user needs CREATEDB") from None
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[str]:
    """An admin URL of the PostgreSQL server to measure on: `url`, or else a throw-away server
    started for this run in a temporary folder (loadtest/pgserver.py: initdb + pg_ctl on
    127.0.0.1, deleted afterwards). It commits as the SQLite baseline does with
    synchronous=NORMAL: every COMMIT is written to the operating system before the reply
    (synchronous_commit=on: a crash of the database server loses nothing committed), without
    fsync (an OS crash may lose the last commits)."""
    if url is not None:
        yield url
        return
    from loadtest.pgserver import PgServer, PgUnavailable

    class BenchServer(PgServer):
        OPTIONS = ("-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=on"
                   " -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB")

    try:
        server = BenchServer.start()
    except PgUnavailable as error:
        raise SystemExit(f"bench_fleet: {error}") from None
    log("throw-away PostgreSQL started")
    with server:
        yield server.url


def table(columns: list[tuple[str, dict[str, str]]]) -> list[str]:
    """`metric A B C... B/A C/A...` lines: each figure of measurements made in the same run,
    the first column the baseline, and each other one's ratio to it ("-" where not numbers)."""
    (base_label, baseline), others = columns[0], columns[1:]
    width = max(len(key) for key in baseline)
    heads = [label for label, _ in columns] + [f"{label}/{base_label}" for label, _ in others]
    lines = [f"{'metric':<{width}}" + "".join(f"  {head:>12}" for head in heads)]
    for key, base in baseline.items():
        values = [result.get(key, "") for _, result in columns]
        ratios = []
        for value in values[1:]:
            try:
                ratios.append(f"{float(value) / float(base):.2f}")
            except (ValueError, ZeroDivisionError):
                ratios.append("-")
        lines.append(f"{key:<{width}}" + "".join(f"  {v:>12}" for v in values + ratios))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_fleet",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--cps", type=int, default=1000, help="charge points (default 1000)")
    parser.add_argument("--meter-interval", type=int, default=60,
                        help="MeterValueSampleInterval in seconds (default 60, the issue's)")
    parser.add_argument("--steady-s", type=float, default=None,
                        help="seconds of steady state measured (default 1.5 meter intervals)")
    parser.add_argument("--probes", type=int, default=10,
                        help="probe charge points in their own process (default 10)")
    parser.add_argument("--ramp", type=float, default=None, metavar="PER_SECOND",
                        help="start this many charge points per second (0: all at once; "
                        "default: the fleet's own pace, as `chargebench sim`)")
    parser.add_argument("--boot-only", action="store_true",
                        help="measure the boot storm only (no transactions, no window)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed for booting and for starting transactions")
    parser.add_argument("--db", metavar="postgresql://USER@HOST:PORT/DB", nargs="?", const="",
                        help="also measure the CSMS on this PostgreSQL server (a scratch "
                        "database; --db alone: a throw-away server), after SQLite in the same "
                        "run, and print both with ratios; with --workers or --compare: the "
                        "server those use (default: a throw-away one)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="the CSMS is `chargebench csms --workers N` on PostgreSQL (RSS and "
                        "CPU summed over its processes); alone: that run only; with --compare: "
                        "its third column (default 2)")
    parser.add_argument("--compare", action="store_true",
                        help="SQLite at --cps, PostgreSQL at --cps and PostgreSQL with --workers "
                        "N (default 2) at N x --cps, in one run, with ratios to SQLite")
    parser.add_argument("--ocpp", default="1.6", choices=("1.6", "2.0.1", "both"),
                        help="the fleet's OCPP version (default 1.6); both: 1.6 then 2.0.1 in "
                        "one run, side by side with the ratio 2.0.1/1.6")
    args = parser.parse_args(argv)
    postgres = args.db is not None or args.workers is not None or args.compare
    if args.ocpp == "both" and postgres:
        parser.error("--ocpp both and --db/--workers/--compare: one comparison per run (run "
                     "them one after the other)")
    if args.workers is not None and not 1 <= args.workers <= 8:
        parser.error("--workers must be between 1 and 8")
    workers = args.workers if args.workers is not None else (2 if args.compare else None)
    # charge points of the one-process CSMS runs, and of the --workers run
    single = args.cps if args.workers is None or args.compare else 0
    largest = args.cps * workers if args.compare and workers else args.cps
    spread = -(-largest // workers) if workers else 0
    if args.cps < 1 or single > CSMS_MAX or spread > CSMS_MAX or largest > 3 * FLEET_MAX:
        parser.error(f"--cps: at most {CSMS_MAX} charge points per CSMS process and "
                     f"{3 * FLEET_MAX} in all (ulimit -n is 20000)")
    if args.meter_interval < 1 or (args.steady_s is not None and not 0 < args.steady_s <= 600):
        parser.error("--meter-interval must be >= 1 and --steady-s in (0, 600]")
    if not 1 <= args.probes <= 100:
        parser.error("--probes must be between 1 and 100")
    if args.ramp is not None and args.ramp < 0:
        parser.error("--ramp must be >= 0")
    if args.db:
        from csms.store import StoreError
        from csms.store.opening import store_file

        try:
            if store_file(args.db) is not None:
                parser.error("--db takes a postgresql:// URL (SQLite is always measured)")
        except StoreError as error:
            parser.error(f"--db: {error}")
    options = {"probes": args.probes, "ramp": args.ramp, "boot_only": args.boot_only}
    common = (args.meter_interval, args.steady_s, args.timeout)
    if args.ocpp == "both":
        v16 = measure(args.cps, *common, **options)
        log("1.6 done; now 2.0.1")
        v201 = measure(args.cps, *common, ocpp="2.0.1", **options)
        for line in side_by_side(v16, v201, ("1.6", "2.0.1", "2.0.1/1.6")):
            print(line, flush=True)
        return
    if not postgres:
        result = measure(args.cps, *common, ocpp=args.ocpp, **options)
        for key, value in result.items():
            print(f"{key}={value}", flush=True)
        return
    from csms.store.postgres import redact

    with postgres_server(args.db or None) as server:
        if args.workers is not None and not args.compare:
            with scratch_database(server) as url:
                log(f"PostgreSQL ({redact(url)}), {workers} workers")
                result = measure(args.cps, *common, db=url, ocpp=args.ocpp, workers=workers,
                                 **options)  # fmt: skip
            for key, value in result.items():
                print(f"{key}={value}", flush=True)
            return
        columns = [("sqlite", measure(args.cps, *common, ocpp=args.ocpp, **options))]
        with scratch_database(server) as url:
            log(f"SQLite done; now PostgreSQL ({redact(url)})")
            columns.append(("pg", measure(args.cps, *common, db=url, ocpp=args.ocpp,
                                                  **options)))  # fmt: skip
        if args.compare:
            assert workers is not None
            with scratch_database(server) as url:
                log(f"now PostgreSQL with {workers} workers, {largest} charge points")
                columns.append((f"pg_{workers}w", measure(
                    largest, *common, db=url, ocpp=args.ocpp, workers=workers, **options)))
    if len(columns) == 2:
        for line in side_by_side(columns[0][1], columns[1][1], ("sqlite", "postgresql",
                                                                "pg/sqlite")):  # fmt: skip
            print(line, flush=True)
        return
    for line in table(columns):
        print(line, flush=True)


if __name__ == "__main__":
    main()
