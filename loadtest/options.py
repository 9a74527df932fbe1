"""Load-test options: Locust custom arguments plus an optional YAML mix of charger kinds.

Locust owns the command line (`-u`, `-r`, `-t`, `--host`, `--master`...); ours are added to its
parser, so they also work in a Locust config file and reach every worker in distributed runs:

    locust -f loadtest/locustfile.py --headless -u 100 -r 20 -t 60s \\
        --host ws://127.0.0.1:9000/ocpp --meter-interval 5 --mix loadtest/mix.yaml

The mix file gives the weight of each user class (0 leaves the class out):

    IdleCharger: 6
    ChargingCharger: 3
    BootStormCharger: 1

`--ocpp 2.0.1` runs OCPP 2.0.1 charging stations instead (`loadtest.users201`: IdleStation201,
ChargingStation201, BootStormStation201, weighed the same way), `--ocpp both` both kinds on
the one CSMS; the default is 1.6.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from chargebench.yamlpos import YamlFileError, load_file, schema_violations

#: The user classes of `loadtest.users` a mix can weigh (kept here: importing them patches
#: the process with gevent, which `chargebench load` must not do to itself).
USER_CLASSES_16 = ("IdleCharger", "ChargingCharger", "BootStormCharger")
#: Those of `loadtest.users201` (OCPP 2.0.1 charging stations)
USER_CLASSES_201 = ("IdleStation201", "ChargingStation201", "BootStormStation201")
USER_CLASSES = USER_CLASSES_16 + USER_CLASSES_201
#: `--ocpp` value -> the user classes it runs
OCPP_CHOICES: dict[str, tuple[str, ...]] = {
    "1.6": USER_CLASSES_16, "2.0.1": USER_CLASSES_201, "both": USER_CLASSES}
_MIX_VALIDATOR = Draft202012Validator({
    "type": "object",
    "properties": {name: {"type": "integer", "minimum": 0} for name in USER_CLASSES},
    "additionalProperties": False,
})


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
    ocpp: str = "1.6"

    @classmethod
    def of(cls, parsed: Any) -> LoadOptions:
        """Options from Locust's `environment.parsed_options` (None when used as a library)."""
        if parsed is None:
            return cls()
        return cls(**{f.name: getattr(parsed, f.name, f.default) for f in fields(cls)})


def add_arguments(parser: Any) -> None:
    """Register our options on Locust's parser (an `init_command_line_parser` listener)."""
    group = parser.add_argument_group("ChargeBench OCPP charge points (1.6 and 2.0.1)")
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
    group.add_argument("--ocpp", default=defaults.ocpp, choices=sorted(OCPP_CHOICES),
                       help="the OCPP version of the charge points: 1.6 (default), 2.0.1 or "
                       "both")


class MixError(ValueError):
    """The mix file is unusable; one `FILE:LINE:COL: field: reason` line per problem."""


def read_mix(path: str | Path, classes: Sequence[str] = USER_CLASSES_16) -> dict[str, int]:
    """Weights from a mix file; raises MixError naming every bad entry and where it is, or
    when every one of `classes` (those the run's `--ocpp` chooses) would weigh 0."""
    try:
        data, positions = load_file(path)
    except YamlFileError as exc:
        raise MixError(str(exc)) from None
    data = {} if data is None else data
    found = schema_violations(_MIX_VALIDATOR, data, positions, str(path))
    if found:
        raise MixError("\n".join(message for _, _, message in found))
    if not any(data.get(name, 1) for name in classes):
        raise MixError(f"{path}:1:1: (root): every weight is 0, no charger would start")
    return data
