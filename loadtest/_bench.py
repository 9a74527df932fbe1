"""Process plumbing shared by the benchmarks: servers and load in separate processes."""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import resource
import signal
from collections.abc import Callable
from typing import Any

_spawn = mp.get_context("spawn")


def raise_fd_limit() -> None:
    """Thousands of sockets need more than the default soft limit of open files."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _run_server(start: Callable[..., Any], args: tuple, ready: Any, stop: Any) -> None:
    # A terminal's Ctrl-C reaches the whole process group: the parent stops this server
    # through `stop`, so the child must not die of it with a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise_fd_limit()

    async def main() -> None:
        port = await start(*args)
        ready.put(port)
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)

    asyncio.run(main())


class ServerProcess:
    """Runs `await start(*args) -> port` in its own process until `stop()`."""

    def __init__(self, start: Callable[..., Any], *args: Any) -> None:
        self._ready = _spawn.Queue()
        self._stop = _spawn.Event()
        self.process = _spawn.Process(
            target=_run_server, args=(start, args, self._ready, self._stop), daemon=True
        )

    def __enter__(self) -> ServerProcess:
        self.process.start()
        self.port: int = self._ready.get(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def run_in_process(target: Callable[..., Any], *args: Any) -> Any:
    """Call `target(*args)` in a fresh process and return its (picklable) result."""
    with _spawn.Pool(1) as pool:
        return pool.apply(target, args)


def libocpp_template(meter_interval: int, **core: Any) -> dict:
    """ChargeBench's default charge-point configuration (libocpp 1.6 format) for a benchmark
    fleet: no clock-aligned values, quick reconnects
    after a refused handshake during the ramp, sampled MeterValues every `meter_interval` s
    (0: none); `core` sets more Core keys."""
    from sim.config import DEFAULT_CONFIG  # only the fleet benchmarks need the simulator

    data = json.loads(DEFAULT_CONFIG.read_text())
    data.setdefault("Internal", {}).update(
        {"RetryBackoffWaitMinimum": 1, "RetryBackoffRandomRange": 1})
    data.setdefault("Core", {}).update(
        {"ClockAlignedDataInterval": 0, "MeterValueSampleInterval": meter_interval, **core})
    return data


def v201_settings(meter_interval: int) -> dict[str, str]:
    """The same for a fleet of 2.0.1 stations (`sim.fleet.Fleet(ocpp="2.0.1", settings=...)`
    on ChargeBench's default component_config): no clock-aligned values, quick reconnects,
    TransactionEvent Updated every `meter_interval` s (J02) with the measurands the 1.6
    template samples (its MeterValuesSampledData): a 2.0.1/1.6 ratio compares the same
    sampled values, not 2.0.1's longer default list."""
    from sim.config import DEFAULT_CONFIG

    sampled = json.loads(DEFAULT_CONFIG.read_text())["Core"]["MeterValuesSampledData"]
    return {"AlignedDataInterval": "0", "RetryBackOffWaitMinimum": "1",
            "RetryBackOffRandomRange": "1", "TxUpdatedInterval": str(meter_interval),
            "TxUpdatedMeasurands": sampled}


async def charge_all(fleet: Any, spread_s: float) -> None:
    """Plug in and present the tag on connector 1 of every charge point of a `sim.fleet.Fleet`,
    the starts spread evenly over `spread_s`: evenly phased MeterValues, as chargers plugged in
    at random times are, instead of the whole fleet sampling in the same second."""
    gate = asyncio.Semaphore(200)
    count = len(fleet.charge_points)

    async def charge(n: int, cp: Any, identity: Any) -> None:
        await asyncio.sleep(n * spread_s / count)
        async with gate:
            await cp.plug_in(1)
            await cp.present_id_tag(identity.id_tags[0], 1)

    await asyncio.gather(*(charge(n, cp, i) for n, (cp, i) in enumerate(
        zip(fleet.charge_points, fleet.identities, strict=True))))


def side_by_side(baseline: dict[str, str], other: dict[str, str],
                 labels: tuple[str, str, str]) -> list[str]:
    """`metric BASELINE OTHER RATIO` lines, `labels` naming the three columns (e.g. "sqlite",
    "postgresql", "pg/sqlite"): each figure of two measurements made in the same run, and
    other / baseline where both are numbers ("-" where not)."""
    width = max(len(key) for key in baseline)
    base_label, other_label, ratio_label = labels
    lines = [f"{'metric':<{width}}  {base_label:>10}  {other_label:>10}  {ratio_label:>9}"]
    for key, base in baseline.items():
        value = other.get(key, "")
        try:
            ratio = f"{float(value) / float(base):.2f}"
        except (ValueError, ZeroDivisionError):
            ratio = "-"
        lines.append(f"{key:<{width}}  {base:>10}  {value:>10}  {ratio:>9}")
    return lines
