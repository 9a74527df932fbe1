"""Run one loaded scenario end to end: CSMS, charge points, steps, verdict, trace.

    result = await run_scenario(load_scenario("library/cold_boot.yaml"), RunOptions(speed=60))

`RunOptions` are the command line's overrides (`--csms`, `--speed`, `--trace`); the scenario's
own values apply otherwise. One `Clock` is shared by the built-in CSMS and every charge point,
so heartbeats, meter intervals, boot retries and `wait:` all run at the same speed.

On the built-in CSMS a scenario runs on a `VirtualTimeLoop` (chargebench.clock): time advances by
events, not by the wall clock, so the verdict does not depend on how busy the machine is. Called
from an ordinary loop, `run_scenario` runs such a scenario on a virtual loop in a worker thread.
Against an external CSMS, time is the wall clock accelerated by `speed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from chargebench.clock import Clock, VirtualTimeLoop, is_virtual, iso, loop_clock, settle
from chargebench.trace import TraceRecord, TraceWriter
from scenarios.backends import BuiltinBackend, make_backend
from scenarios.features import missing
from scenarios.files import FileServers
from scenarios.model import Scenario
from scenarios.results import FAILED, PASSED, SKIPPED, ScenarioResult, StepResult
from scenarios.stations import Station, build_stations
from scenarios.steps import Executor, Timing
from sim.v201 import evse as evse_flows
from sim.v201.station import ChargingStation

__all__ = ["RunOptions", "run_scenario"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True, kw_only=True)
class RunOptions:
    """Overrides from the command line; None keeps the scenario's value."""

    # Where
    csms_url: str | None = None  # an external CSMS instead of the scenario's `csms:`
    csms_api: str | None = None  # its HTTP API, for `command:` steps
    csms_token: str | None = None
    workdir: Path | None = None  # built-in CSMS database, logs, charge point state
    trace_dir: Path | None = None
    # Time
    speed: float | None = None
    min_wait: float = 2.0  # wall seconds an expectation waits at least, whatever the speed
    # Progress: called with (scenario name, step result) after each top-level step
    on_step: Callable[[str, StepResult], None] | None = None
    # A built-in CSMS the caller started and shares between scenarios (the demo); its clock
    # sets the speed and the scenario's own `csms:` section is ignored
    backend: BuiltinBackend | None = None
    # The fleet UI (`--ui`): called with the scenario's stations once they are built, on the
    # scenario's loop, and with {} when it ends
    on_stations: Callable[[dict[str, Station]], None] | None = None


def on_builtin_csms(scenario: Scenario, options: RunOptions) -> bool:
    """Does the scenario run against the built-in CSMS (in this process)?"""
    return options.backend is not None or (scenario.csms.builtin and not options.csms_url)


def run_virtual(main: Callable[[], Any]) -> Any:
    """`asyncio.run(main())` on a `VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


async def run_scenario(scenario: Scenario, options: RunOptions | None = None) -> ScenarioResult:
    """Run `scenario` and return its verdict; never raises for a failed expectation."""
    options = options or RunOptions()
    if options.backend is None and on_builtin_csms(scenario, options) and not is_virtual():
        # deterministic time needs a loop of its own: the caller's loop keeps the wall clock
        # (a shared backend stays on the caller's loop: the caller chose that loop)
        return await asyncio.to_thread(run_virtual, lambda: _run(scenario, options))
    return await _run(scenario, options)


async def _run(scenario: Scenario, options: RunOptions) -> ScenarioResult:
    speed = options.speed or scenario.speed
    result = ScenarioResult(scenario.name, scenario.source, speed=speed)
    lacking = missing(scenario.requires)
    if lacking:
        result.status = SKIPPED
        result.reason = f"requires {', '.join(lacking)} (not available yet)"
        return result
    csms = scenario.csms
    if options.csms_url:
        csms = dataclasses.replace(csms, builtin=False, url=options.csms_url,
                                   api_url=options.csms_api or csms.api_url,
                                   api_token=options.csms_token or csms.api_token)
    scratch = None if options.workdir else Path(tempfile.mkdtemp(prefix="chargebench-run-"))
    workdir = (options.workdir or scratch) / _slug(scenario.name)
    workdir.mkdir(parents=True, exist_ok=True)
    shared = options.backend
    if shared is not None:
        clock = shared.clock
    else:
        clock = loop_clock(speed) if csms.builtin else Clock(speed)
    result.speed = clock.speed
    backend = shared or make_backend(csms, clock, workdir)
    writer = None
    if options.trace_dir is not None:
        result.trace = options.trace_dir / f"{_slug(scenario.name)}.jsonl"
        result.trace.unlink(missing_ok=True)
        writer = TraceWriter(result.trace)
    sink: Callable[[TraceRecord], None] = writer if writer is not None else _ignore
    started = time.monotonic()
    simulated_start = clock.monotonic()  # a shared CSMS's clock has run through earlier scenarios
    before: dict[str, Any] = {}
    stations = {}
    files = None if scenario.files is None else FileServers(workdir / "files", scenario.files)
    try:
        if shared is None:
            await backend.start()
        else:
            before = backend.summary()
        if files is not None:
            await files.start()
        stations = build_stations(
            scenario.fleet, csms, url=backend.url(), clock=clock, state_dir=workdir / "cp",
            trace_sink=sink, ca_file=backend.ca_file(),
        )
        if options.on_stations is not None:
            options.on_stations(stations)
        timing = Timing(clock, scenario.timeout, min_wait=options.min_wait)
        executor = Executor(scenario, backend, stations, timing, files)
        executor.globals.update(backend.variables())
        # the CSMS's OCPP base URL (what a 2.0.1 SetNetworkProfile's ocppCsmsUrl names)
        executor.globals["csms.url"] = backend.url().rstrip("/")
        executor.globals.update(files.variables() if files is not None else {})
        executor.globals["now"] = lambda offset: iso(clock.now() + timedelta(seconds=offset))
        for _ in range(scenario.repeat):
            for step in scenario.steps:
                step_result = await executor.run(step, {})
                result.steps.append(step_result)
                if options.on_step is not None:
                    options.on_step(scenario.name, step_result)
                if step_result.status == FAILED:
                    break
            if result.failure() is not None:
                break
        result.status = FAILED if result.failure() is not None else PASSED
        result.simulated_seconds = clock.monotonic() - simulated_start
        # The figures are read after the teardown: a transaction still open at the end is
        # stopped there (reason Other) and is this scenario's, not the next one's or nobody's
        await _power_off(stations)
        await settle()  # what the last steps set going (a bill after a stop) counts as theirs
        with contextlib.suppress(Exception):
            result.summary = _since(before, backend.summary())
    except Exception as error:  # the run itself broke: a verdict with the reason, not a crash
        log.debug("scenario %s broke", scenario.name, exc_info=True)
        result.status = FAILED
        result.reason = f"{type(error).__name__}: {error}"
    finally:
        if options.on_stations is not None:
            options.on_stations({})
        await _power_off(stations)  # after a broken run; a no-op after a finished one
        if shared is None:
            await backend.close()
        if files is not None:
            await files.close()
        if writer is not None:
            writer.close()
        if scratch is not None:  # nobody asked to keep the files
            shutil.rmtree(scratch, ignore_errors=True)
        result.seconds = time.monotonic() - started
    return result


async def _power_off(stations: dict[str, Station]) -> None:
    """The teardown: every charge point that was started stops its open transactions (1.6
    §4.10, reason Other; 2.0.1: Ended, stoppedReason Other, as a station ends one itself),
    delivers what it can and disconnects. Once per station."""
    for station in stations.values():
        if station.started:
            station.started = False
            cp = station.cp
            if isinstance(cp, ChargingStation):  # its stop() leaves transactions to the queue
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(5):
                        for evse in cp.evses:
                            await evse_flows.ended_by(cp, evse, "AbnormalCondition", "Other")
            with contextlib.suppress(Exception):
                await cp.stop()


def _since(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """This scenario's own figures: a shared CSMS's totals now, less those before it ran."""
    if not before:
        return after
    mine = dict(after)
    for key in ("transactions", "billed"):
        if key in after:
            mine[key] = after[key] - before.get(key, 0)
    if "energy_kwh" in after:
        mine["energy_kwh"] = round(after["energy_kwh"] - before.get("energy_kwh", 0), 3)
    return mine


def _ignore(_record: TraceRecord) -> None:
    pass


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "scenario"
