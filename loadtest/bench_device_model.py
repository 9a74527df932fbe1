"""Memory of a station's configuration: the 2.0.1 device model beside the 1.6 configuration.

    python -m loadtest.bench_device_model [--stations 10000]

Builds `--stations` 2.0.1 device models (`sim.v201.device_model.DeviceModel`) from ChargeBench's
default component_config, each with its own identity written locally (ChargePointId, serial
numbers, vendor, model, SecurityCtrlr.Identity: the values a fleet sets per station), and, in
the same run, as many 1.6 configurations (`sim.config.ChargePointConfig`) from the default 1.6
config the way `sim.fleet` builds them (`share_profiles` + `config_for`). Both count the Python
allocations (tracemalloc) the stations add once their shared template exists; the shared parts
(template, folder read once) are printed apart. `dm201_vs_cfg16` is the ratio of the two per
station figures: the 2.0.1 station's whole memory target (issue 19: <= 45 kB per station at
10 000) leaves the device model a small part of it.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def _allocated(build: Callable[[], Any]) -> tuple[Any, int]:
    """What `build` returns and the bytes it left allocated (tracemalloc)."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    made = build()
    gc.collect()
    return made, tracemalloc.get_traced_memory()[0] - before


def measure(stations: int) -> dict[str, float]:
    from sim.config import DEFAULT_CONFIG
    from sim.fleet import config_for, identities, share_profiles
    from sim.v201.device_model import DeviceModel, default_config_dir
    from sim.v201.device_model_loader import load_template

    people = identities(stations)
    tracemalloc.start()
    try:
        template, template_bytes = _allocated(
            lambda: load_template(default_config_dir(), cached=False))

        def models() -> list[DeviceModel]:
            out = []
            for who in people:
                dm = DeviceModel(template)
                for component, variable, value in (
                        ("InternalCtrlr", "ChargePointId", who.cp_id),
                        ("SecurityCtrlr", "Identity", who.cp_id),
                        ("InternalCtrlr", "ChargePointSerialNumber", who.serial),
                        ("InternalCtrlr", "ChargeBoxSerialNumber", who.box_serial),
                        ("InternalCtrlr", "ChargePointVendor", who.vendor),
                        ("InternalCtrlr", "ChargePointModel", who.model)):
                    dm.set_local(component, variable, value, persist=False)
                out.append(dm)
            return out

        dms, dm_bytes = _allocated(models)
        shared, shared16_bytes = _allocated(
            lambda: share_profiles(json.loads(DEFAULT_CONFIG.read_text("utf-8"))))
        configs, cfg_bytes = _allocated(lambda: [config_for(shared, who) for who in people])
    finally:
        tracemalloc.stop()
    assert len(dms) == len(configs) == stations
    assert dms[-1].get("SecurityCtrlr", "Identity") == people[-1].cp_id
    return {
        "stations": stations,
        "dm201_template_kb": template_bytes / 1024,
        "dm201_variables": len(template.variables),
        "dm201_bytes_per_station": dm_bytes / stations,
        "cfg16_template_kb": shared16_bytes / 1024,
        "cfg16_bytes_per_station": cfg_bytes / stations,
        "dm201_vs_cfg16": dm_bytes / cfg_bytes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_device_model",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=10000)
    args = parser.parse_args(argv)
    if not 1 <= args.stations <= 100000:
        parser.error("--stations must be between 1 and 100000")
    started = time.monotonic()
    try:
        figures = measure(args.stations)
    except KeyboardInterrupt:
        print("bench_device_model: interrupted", file=sys.stderr)
        return 130
    for name, value in figures.items():
        print(f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}")
    print(f"seconds={time.monotonic() - started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
