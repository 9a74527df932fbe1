"""``chargebench sim --config DIR``: 2.0.1 charging stations from a libocpp component_config.

`sim.cli` hands over here when `--config` names a folder (a file stays a 1.6 key file). The
folder is loaded and validated once (`DeviceModel.load`; a problem is one `FILE:
Component.variable: reason` line, exit 2); each of the `--count` stations gets its own device
model on that template; with `--state-dir`, its changed values and its queue of
TransactionEvents are kept in `--state-dir/ID/`. The run
prints a plain status line every few seconds, stops at `--duration` or on SIGINT/SIGTERM, and
prints a summary (`--json`: one JSON object on stdout). Exit codes as for 1.6: 0 all booted,
1 some did not, 2 a bad argument, 130/143 after a signal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from chargebench.clock import Clock
from chargebench.trace import TraceWriter
from sim.features.connection import TlsFiles
from sim.hardware import Hardware, HardwareError
from sim.v201.device_model import DeviceModel, DeviceModelError
from sim.v201.station import ChargingStation

__all__ = ["check_options", "run"]

STATUS_EVERY = 5.0
_SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: 1.6-only options: refused with a folder rather than silently ignored
_NOT_YET = (("ui", "--ui"),)


def check_options(args: argparse.Namespace) -> tuple[DeviceModel, Hardware | None]:
    """Validate before anything connects; UsageError (exit 2, one line) names the problem."""
    from chargebench.cli import UsageError, check_csms_url

    check_csms_url(args.csms)
    ca = getattr(args, "ca", None)
    if ca is not None and not Path(ca).is_file():
        raise UsageError(f"--ca {ca}: no such file")
    if args.csms.startswith("wss://") and ca is None:
        # a station has no CSMSRootCertificate before the CSMS installs one (M05)
        raise UsageError("wss:// needs --ca FILE (the CA that signed the CSMS certificate)")
    for name, option in _NOT_YET:
        if getattr(args, name, None) is not None:
            raise UsageError(f"{option} is not supported with a 2.0.1 --config folder yet")
    if args.count < 1 or args.speed <= 0:
        raise UsageError("--count must be >= 1 and --speed > 0")
    if args.duration is not None and args.duration <= 0:
        raise UsageError("--duration must be > 0")
    if args.trace is not None and args.trace.exists() and not args.trace.is_dir():
        raise UsageError(f"--trace takes a folder; {args.trace} is a file")
    try:
        model = DeviceModel.load(args.config)
        hardware = Hardware.from_yaml(args.hardware) if args.hardware else None
    except (DeviceModelError, HardwareError, OSError, ValueError) as error:
        first = str(error).strip().splitlines() or [type(error).__name__]
        raise UsageError(first[0]) from None
    return model, hardware


def run(args: argparse.Namespace) -> int:
    """Entry point of ``chargebench sim --config DIR``."""
    model, hardware = check_options(args)
    return asyncio.run(_main(args, model, hardware))


def _stations(args: argparse.Namespace, model: DeviceModel, hardware: Hardware | None,
              trace: TraceWriter | None) -> list[ChargingStation]:
    from sim.fleet import station_201  # one home for building a station on a template

    clock = Clock(args.speed)
    ca = getattr(args, "ca", None)
    tls = TlsFiles(str(ca)) if ca is not None else None  # A00: the CA of profiles 2 and 3
    out = []
    for n in range(1, args.count + 1):
        station_id = f"{args.prefix}{n:05d}"
        folder = None if args.state_dir is None else Path(args.state_dir) / station_id
        out.append(station_201(model, station_id, hardware, csms_url=args.csms, clock=clock,
                               state_dir=folder, trace_sink=trace, tls=tls))
    return out


async def _main(args: argparse.Namespace, model: DeviceModel, hardware: Hardware | None
                ) -> int:
    trace = TraceWriter(args.trace / "sim-trace.jsonl") if args.trace else None
    stations = _stations(args, model, hardware, trace)
    stop = asyncio.Event()
    stopped_by = ["duration"]
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        stopped_by[0] = sig.name
        stop.set()

    for sig in _SIGNAL_EXIT:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)
    started = time.monotonic()
    out = sys.stderr if args.json else sys.stdout
    try:
        for station in stations:
            await station.start()
        deadline = args.duration / args.speed if args.duration else None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline):
                while not stop.is_set():
                    print(_status(stations, time.monotonic() - started), file=out, flush=True)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(STATUS_EVERY):
                            await stop.wait()
        print(_status(stations, time.monotonic() - started), file=out, flush=True)
    finally:
        for station in stations:
            await station.stop()
        if trace is not None:
            trace.close()
        for sig in _SIGNAL_EXIT:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    summary = _summary(stations, time.monotonic() - started, stopped_by[0])
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        for key, value in summary.items():
            print(f"{key.replace('_', ' ')}: {value}", file=out)
    by_name = {sig.name: code for sig, code in _SIGNAL_EXIT.items()}
    code = 0 if summary["booted"] == summary["stations"] else 1
    return by_name.get(stopped_by[0], code)


def _status(stations: list[ChargingStation], elapsed: float) -> str:
    booted = sum(1 for s in stations if s.link.booted.is_set())
    line = f"sim 2.0.1: {elapsed:.0f}s booted {booted}/{len(stations)}"
    failures = Counter(s.link.failure for s in stations
                       if not s.link.booted.is_set() and s.link.failure)
    if failures:
        line += " | not booted: " + ", ".join(f"{k} {v}" for k, v in failures.items())
    return line


def _summary(stations: list[ChargingStation], elapsed: float, stopped_by: str
             ) -> dict[str, Any]:
    return {
        "ocpp": "2.0.1",
        "stations": len(stations),
        "booted": sum(1 for s in stations if s.link.booted.is_set()),
        "not_booted": dict(Counter(s.link.failure or "connecting" for s in stations
                                   if not s.link.booted.is_set())),
        "transactions_open": sum(1 for s in stations for e in s.evses if e.tx is not None),
        "elapsed_s": round(elapsed, 2),
        "stopped_by": stopped_by,
    }
