"""Load-test options: Locust custom arguments plus an optional YAML mix of charger kinds.

Locust owns the command line (`-u`, `-r`, `-t`, `--host`, `--master`...); ours are added to its
parser, so they also work in a Locust config file and reach every worker in distributed runs:

    locust -f loadtest/locustfile.py --headless -u 100 -r 20 -t 60s \\
        --host ws://127.0.0.1:9000/ocpp --meter-interval 5 --mix loadtest/mix.yaml

The mix file gives the weight of each user class (0 leaves the class out):

    IdleCharger: 6
    ChargingCharger: 3
    BootStormCharger: 1
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """What the charger users read; defaults apply when Locust runs without our parser."""

    cp_prefix: str = "LT"
    heartbeat_interval: float = 60.0
    meter_interval: float = 10.0
    meter_values: int = 6
    reboot_interval: float = 5.0
    id_tag: str = "LOADTEST"
    call_timeout: float = 30.0
    mix: str = ""

    @classmethod
    def of(cls, parsed: Any) -> LoadOptions:
        """Options from Locust's `environment.parsed_options` (None when used as a library)."""
        if parsed is None:
            return cls()
        return cls(**{f.name: getattr(parsed, f.name, f.default) for f in fields(cls)})


def add_arguments(parser: Any) -> None:
    """Register our options on Locust's parser (an `init_command_line_parser` listener)."""
    group = parser.add_argument_group("ChargeBench OCPP 1.6 charge points")
    defaults = LoadOptions()
    group.add_argument("--cp-prefix", default=defaults.cp_prefix,
                       help="charge point ids are PREFIX-<worker index>-<n> (default: %(default)s)")
    group.add_argument("--heartbeat-interval", type=float, default=defaults.heartbeat_interval,
                       help="seconds between an idle charger's Heartbeats (default: %(default)s)")
    group.add_argument("--meter-interval", type=float, default=defaults.meter_interval,
                       help="seconds between MeterValues in a transaction (default: %(default)s)")
    group.add_argument("--meter-values", type=int, default=defaults.meter_values,
                       help="MeterValues per transaction (default: %(default)s)")
    group.add_argument("--reboot-interval", type=float, default=defaults.reboot_interval,
                       help="seconds between a boot-storm charger's reconnects (default: "
                       "%(default)s)")
    group.add_argument("--id-tag", default=defaults.id_tag,
                       help="idTag presented by charging users (default: %(default)s)")
    group.add_argument("--call-timeout", type=float, default=defaults.call_timeout,
                       help="seconds to wait for a CALL's reply (default: %(default)s)")
    group.add_argument("--mix", default="", metavar="YAML",
                       help="YAML file: user class name -> weight")


def read_mix(path: str | Path, known: set[str]) -> dict[str, int]:
    """Weights from a mix file; raises ValueError naming the bad entry."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of user class name to weight")
    weights = {}
    for name, weight in data.items():
        if name not in known:
            raise ValueError(f"{path}: unknown user class {name!r} (known: {sorted(known)})")
        if type(weight) is not int or weight < 0:
            raise ValueError(f"{path}: weight of {name} must be a non-negative integer")
        weights[name] = weight
    if not any(weights.get(name, 1) for name in known):
        raise ValueError(f"{path}: every weight is 0")
    return weights
