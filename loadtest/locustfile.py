"""Locust entry point: OCPP 1.6 charge points against a CSMS.

    locust -f loadtest/locustfile.py --headless -u 100 -r 20 -t 60s \\
        --host ws://127.0.0.1:9000/ocpp

`--host` is the CSMS's OCPP endpoint without the charge point id; each user appends its own
(`LT-<worker index>-<n>`). Our options (`--meter-interval`, `--heartbeat-interval`,
`--cp-prefix`, `--mix`...) are listed under `locust -f loadtest/locustfile.py --help`.
"""

from __future__ import annotations

import sys

from locust import events

from loadtest.options import MixError, add_arguments, read_mix
from loadtest.users import BootStormCharger, ChargingCharger, IdleCharger

__all__ = ["BootStormCharger", "ChargingCharger", "IdleCharger"]


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    add_arguments(parser)


@events.init.add_listener
def _apply_mix(environment, **_kwargs) -> None:
    """Weights from `--mix`, set on master and workers alike (both must agree on classes)."""
    path = getattr(environment.parsed_options, "mix", "")
    if not path:
        return
    try:
        weights = read_mix(path)
    except MixError as error:
        print(f"locustfile: {error}", file=sys.stderr)
        raise SystemExit(2) from None  # Locust logs and ignores an Exception from a listener
    by_name = {cls.__name__: cls for cls in environment.user_classes}
    for name, weight in weights.items():
        if name in by_name:  # Locust may have been told to run only some classes
            by_name[name].weight = weight
    environment.user_classes = [cls for cls in environment.user_classes if cls.weight > 0]
