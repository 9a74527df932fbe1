"""Public helpers for testing code built on the session core (structlog's `testing` is the model).

- `happy_handlers(role)`: the cooperative answers of the peer playing `role`, per version;
- `RecordingHandlers`: a handler table that records every CALL it answers, with per-action
  replies a test sets (`replies["Reset"] = {"status": "Rejected"}`);
- `RecordingPeer`: a sans-I/O peer (core + recording handlers): feed it the frames your code
  sends, write back what it returns; every frame both ways is kept in `wire`;
- `FrozenClock`: a clock for the core that moves only when told (`advance()`);
- `payloads`: builders of valid requests of the version (`payloads().boot_notification()`).

    peer = RecordingPeer(Role.CENTRAL_SYSTEM)
    core = OcppSession(Role.CHARGE_POINT, clock=FrozenClock())
    core.send_call("BootNotification", payloads().boot_notification())
    for frame in core.data_to_send():
        for reply in peer.receive(frame):
            core.receive_text(reply)
    assert peer.calls == [("BootNotification", {...})]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any

from chargebench.ocppj import events as ev
from chargebench.ocppj.core import OcppSession
from chargebench.ocppj.errors import NoReply, OcppCallError
from chargebench.ocppj.faults import Fault
from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion, Role

Handler = Callable[[dict], Any]
Reply = dict | Handler

__all__ = [
    "FrozenClock",
    "RecordingHandlers",
    "RecordingPeer",
    "happy_handlers",
    "payloads",
]


def payloads(version: OcppVersion = DEFAULT_VERSION) -> ModuleType:
    """The version's happy-path module: its handler tables and payload builders
    (`chargebench.ocppj.v16.happy` for 1.6)."""
    package = "v" + version.name.replace(".", "")
    return importlib.import_module(f"chargebench.ocppj.{package}.happy")


def happy_handlers(role: Role, version: OcppVersion = DEFAULT_VERSION, **options: Any
                   ) -> dict[str, Handler]:
    """A fresh table of cooperative answers of the side playing `role` (`options`: the
    version module's, e.g. `heartbeat_interval` for the central system, `config` for the
    charge point)."""
    module = payloads(version)
    if role is Role.CENTRAL_SYSTEM:
        return module.csms_handlers(**options)
    return module.charge_point_handlers(**options)


class FrozenClock:
    """A monotonic clock for `OcppSession(clock=...)` that moves only when told."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class RecordingHandlers(Mapping[str, Handler]):
    """A handler table answering from `replies` (a payload, or a callable taking the request),
    falling back to `base`; every CALL answered is appended to `calls` as (action, payload)."""

    def __init__(self, base: Mapping[str, Handler] | None = None,
                 replies: Mapping[str, Reply] | None = None,
                 on_call: Callable[[str, dict], None] | None = None) -> None:
        self.base: dict[str, Handler] = dict(base or {})
        self.replies: dict[str, Reply] = dict(replies or {})
        self.calls: list[tuple[str, dict]] = []
        self.on_call = on_call

    def __getitem__(self, action: str) -> Handler:
        if action not in self.replies and action not in self.base:
            raise KeyError(action)

        def answer(payload: dict) -> Any:
            self.calls.append((action, payload))
            if self.on_call is not None:
                self.on_call(action, payload)
            reply = self.replies.get(action)
            if reply is None:
                return self.base[action](payload)
            return reply(payload) if callable(reply) else reply

        return answer

    def __iter__(self) -> Iterator[str]:
        return iter({**self.base, **self.replies})

    def __len__(self) -> int:
        return len({**self.base, **self.replies})


class RecordingPeer:
    """The other side of a connection, sans-I/O: it answers CALLs from `handlers` (happy by
    default), records every event and frame, and returns the frames to send back."""

    def __init__(self, role: Role, version: OcppVersion = DEFAULT_VERSION, *,
                 replies: Mapping[str, Reply] | None = None, **options: Any) -> None:
        self.core = OcppSession(role, version=version, **options)
        self.handlers = RecordingHandlers(happy_handlers(role, version), replies)
        self.events: list[ev.Event] = []
        self.wire: list[tuple[str, str]] = []

    @property
    def calls(self) -> list[tuple[str, dict]]:
        return self.handlers.calls

    def receive(self, text: str) -> list[str]:
        """Take one frame; answer it if it is a CALL; the frames to send back."""
        self.wire.append(("in", text))
        for event in self.core.receive_text(text):
            self.events.append(event)
            if isinstance(event, ev.CallReceived):
                self._answer(event)
        out = self.core.data_to_send()
        self.wire.extend(("out", frame) for frame in out)
        return out

    def _answer(self, event: ev.CallReceived) -> None:
        try:
            handler = self.handlers[event.action]
        except KeyError:
            self.core.reject(event.message_id, Fault.UNSUPPORTED_ACTION, event.action)
            return
        try:
            self.core.send_result(event.message_id, handler(event.payload))
        except NoReply:
            self.core.ignore(event.message_id)
        except OcppCallError as error:
            self.core.send_error(event.message_id, error.code, error.description, error.details)
