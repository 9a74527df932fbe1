"""Locust entry point: OCPP 1.6 charge points (or 2.0.1 charging stations) against a CSMS.

    locust -f loadtest/locustfile.py --headless -u 100 -r 20 -t 60s \\
        --host ws://127.0.0.1:9000/ocpp [--ocpp 2.0.1|both]

`--host` is the CSMS's OCPP endpoint without the charge point id; each user appends its own
(`LT-<worker index>-<n>`). Our options (`--meter-interval`, `--heartbeat-interval`,
`--cp-prefix`, `--mix`, `--ocpp`...) are listed under `locust -f loadtest/locustfile.py --help`.
`--ocpp` keeps the user classes of that version (`loadtest.users`, `loadtest.users201`); both
kinds speak through the same gevent transport (`loadtest.transport`) and report each action (and
each TransactionEvent eventType) as its own row of Locust's statistics.
"""

from __future__ import annotations

import sys

from locust import events

from loadtest.options import OCPP_CHOICES, MixError, add_arguments, read_mix
from loadtest.users import BootStormCharger, ChargingCharger, IdleCharger
from loadtest.users201 import BootStormStation201, ChargingStation201, IdleStation201

__all__ = ["BootStormCharger", "BootStormStation201", "ChargingCharger", "ChargingStation201",
           "IdleCharger", "IdleStation201"]


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    add_arguments(parser)


@events.init.add_listener
def _apply_mix(environment, **_kwargs) -> None:
    """The classes of `--ocpp`'s version and the weights from `--mix`, set on master and
    workers alike (both must agree on classes)."""
    chosen = OCPP_CHOICES.get(getattr(environment.parsed_options, "ocpp", "1.6"),
                              OCPP_CHOICES["1.6"])
    environment.user_classes = [cls for cls in environment.user_classes
                                if cls.__name__ in chosen]
    path = getattr(environment.parsed_options, "mix", "")
    if not path:
        return
    try:
        weights = read_mix(path, chosen)
    except MixError as error:
        print(f"locustfile: {error}", file=sys.stderr)
        raise SystemExit(2) from None  # Locust logs and ignores an Exception from a listener
    by_name = {cls.__name__: cls for cls in environment.user_classes}
    for name, weight in weights.items():
        if name in by_name:  # Locust may have been told to run only some classes
            by_name[name].weight = weight
    environment.user_classes = [cls for cls in environment.user_classes if cls.weight > 0]
