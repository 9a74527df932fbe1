"""Locustfile of `loadtest.bench_locust`: charge points that send Heartbeats back to back.

Counts OCPP requests after `--warmup` and prints `BENCH ocpp_req_s=... failed=...` on quitting,
so the benchmark reads a steady-state rate rather than Locust's whole-run average.
"""

from __future__ import annotations

import time

from locust import constant, events, task

from loadtest.users import OcppUser, recorded

_counter = {"since": 0.0, "ok": 0, "failed": 0}


class HeartbeatFlood(OcppUser):
    """A charge point that sends the next Heartbeat as soon as the last one is answered."""

    wait_time = constant(0)

    @task
    @recorded
    def heartbeat(self) -> None:
        self.online()
        self.client.call("Heartbeat")


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not counted")


@events.test_start.add_listener
def _start(environment, **_kwargs) -> None:
    _counter["since"] = time.monotonic() + environment.parsed_options.warmup


@events.request.add_listener
def _count(request_type, exception, **_kwargs) -> None:
    if request_type == "OCPP" and time.monotonic() >= _counter["since"]:
        _counter["failed" if exception else "ok"] += 1


@events.quitting.add_listener
def _report(**_kwargs) -> None:
    seconds = time.monotonic() - _counter["since"]
    print(f"BENCH ocpp_req_s={_counter['ok'] / seconds:.0f} failed={_counter['failed']}",
          flush=True)
