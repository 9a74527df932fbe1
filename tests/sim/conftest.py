"""A scripted Central System for simulator tests: real websockets on 127.0.0.1.

Built on `chargebench.ocppj.serve` + `Session` (not the project's CSMS), so a simulator test
depends only on the session core. It answers every charge-point CALL with a sensible default,
lets a test script replies per action (`csms.script("BootNotification", {...}, {...})`), records
every message in order, and sends CSMS-initiated CALLs with `await csms.call(cp_id, ...)`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from chargebench.clock import Clock
from chargebench.ocppj import OcppSession, Role, Session, serve

#: libocpp's real 1.6 config files: the team's ../shared beside the project, else the machine's.
_SHARED = [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]
LIBOCPP_DIR = next((d for d in _SHARED if d.is_dir()), _SHARED[-1]) / "everest-libocpp" / "v16"
#: Simulated seconds per wall-clock second in tests.
SPEED = 200.0
#: Wall-clock seconds a test waits for an expected message.
WAIT = 5.0


@dataclass(frozen=True, slots=True)
class Message:
    """One message the CSMS saw: a CALL from the charge point, or one it sent."""

    cp_id: str
    dir: str  # "cp->cs" (the charge point's CALL) or "cs->cp"
    action: str
    payload: dict


Reply = dict | Callable[[str, dict], dict]


class ScriptedCsms:
    """Answers charge points from a script and records the conversation."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.sessions: dict[str, Session] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.url = ""
        self._scripts: dict[str, list[Reply]] = {}
        self._tx_ids = itertools.count(1001)
        self._changed = asyncio.Event()
        self.server: Any = None

    # Scripting

    def script(self, action: str, *replies: Reply) -> None:
        """Queue replies for `action`, used in order before falling back to the default."""
        self._scripts.setdefault(action, []).extend(replies)

    def default(self, cp_id: str, action: str, payload: dict) -> dict:
        now = Clock().iso_now()
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": now, "interval": 300}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            return {"idTagInfo": {"status": "Accepted"}}
        if action == "StartTransaction":
            return {"transactionId": next(self._tx_ids), "idTagInfo": {"status": "Accepted"}}
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}} if "idTag" in payload else {}
        if action == "DataTransfer":
            return {"status": "Accepted"}
        return {}

    def _reply(self, cp_id: str, action: str, payload: dict) -> dict:
        self._record(Message(cp_id, "cp->cs", action, payload))
        queued = self._scripts.get(action)
        reply: Reply = queued.pop(0) if queued else self.default(cp_id, action, payload)
        return reply(cp_id, payload) if callable(reply) else reply

    # CSMS-initiated

    async def call(self, cp_id: str, action: str, payload: dict | None = None) -> dict:
        """Send a CSMS-initiated CALL to a connected charge point and return its reply."""
        self._record(Message(cp_id, "cs->cp", action, payload or {}))
        return await self.sessions[cp_id].call(action, payload or {})

    async def drop(self, cp_id: str) -> None:
        """Close a charge point's connection from the CSMS side."""
        await self.sessions[cp_id].close()

    # Observing

    def actions(self, cp_id: str | None = None, *, dir: str = "cp->cs") -> list[str]:
        """Actions the charge point(s) sent, in order."""
        return [
            m.action for m in self.messages
            if m.dir == dir and (cp_id is None or m.cp_id == cp_id)
        ]

    def sent(self, action: str, cp_id: str | None = None) -> list[dict]:
        """Payloads of every `action` CALL the charge point(s) sent."""
        return [
            m.payload for m in self.messages
            if m.dir == "cp->cs" and m.action == action and (cp_id is None or m.cp_id == cp_id)
        ]

    def statuses(self, cp_id: str | None = None, connector: int | None = None) -> list[str]:
        """StatusNotification statuses in order (for one connector when given)."""
        return [
            p["status"] for p in self.sent("StatusNotification", cp_id)
            if connector is None or p["connectorId"] == connector
        ]

    async def wait_for(
        self, predicate: Callable[[ScriptedCsms], Any], timeout: float = WAIT
    ) -> Any:
        """Wait until `predicate(self)` is truthy; returns its value."""
        async with asyncio.timeout(timeout):
            while not (result := predicate(self)):
                self._changed.clear()
                await self._changed.wait()
            return result

    async def wait_sent(self, action: str, count: int = 1, cp_id: str | None = None,
                        timeout: float = WAIT) -> list[dict]:
        """Wait until the charge point(s) sent `count` `action` CALLs; returns their payloads."""
        return await self.wait_for(
            lambda c: (found := c.sent(action, cp_id)) and len(found) >= count and found,
            timeout,
        )

    def _record(self, message: Message) -> None:
        self.messages.append(message)
        self._changed.set()

    # Server

    async def _handler(self, ws: ServerConnection) -> None:
        cp_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        self.headers[cp_id] = dict(ws.request.headers)
        core = OcppSession(Role.CENTRAL_SYSTEM)
        handlers = {
            action: (lambda payload, a=action: self._reply(cp_id, a, payload))
            for action in core.version.cp_initiated
        }
        session = Session(ws, core, handlers)
        self.sessions[cp_id] = session
        self._record(Message(cp_id, "connect", "", {}))
        try:
            await session.run()
        finally:
            if self.sessions.get(cp_id) is session:
                del self.sessions[cp_id]
            self._record(Message(cp_id, "disconnect", "", {}))

    def connections(self, cp_id: str) -> int:
        return sum(1 for m in self.messages if m.cp_id == cp_id and m.dir == "connect")

    async def start(self, **options: Any) -> ScriptedCsms:
        self.server = await serve(self._handler, "127.0.0.1", 0, **options)
        port = self.server.sockets[0].getsockname()[1]
        scheme = "wss" if options.get("ssl") else "ws"
        self.url = f"{scheme}://127.0.0.1:{port}/ocpp"
        return self

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def csms():
    """A scripted CSMS on 127.0.0.1 (random port); `csms.url` is the OCPP base URL."""
    server = await ScriptedCsms().start()
    yield server
    await server.close()


@pytest.fixture
def clock() -> Clock:
    """An accelerated clock: SPEED simulated seconds per second."""
    return Clock(SPEED)


def libocpp_config(name: str = "config.json", **overrides: Any) -> dict:
    """One of EVerest's real libocpp config files, with `Profile.Key=value` style overrides
    given as {"Core": {...}} dicts merged in."""
    data = json.loads((LIBOCPP_DIR / name).read_text())
    for profile, values in overrides.items():
        data.setdefault(profile, {}).update(values)
    return data


def make_config(cp_id: str = "CP1", name: str = "config.json", **profiles: dict):
    """A `ChargePointConfig` from a real libocpp file, quick timers, overrides per profile."""
    from sim.config import ChargePointConfig

    base = {
        "Internal": {"ChargePointId": cp_id, "RetryBackoffWaitMinimum": 1,
                     "RetryBackoffRandomRange": 1, "RetryBackoffRepeatTimes": 2},
        "Core": {"HeartbeatInterval": 3600, "ClockAlignedDataInterval": 0},
    }
    for profile, values in profiles.items():
        base.setdefault(profile, {}).update(values)
    return ChargePointConfig.from_dict(libocpp_config(name, **base), source=name)


@pytest.fixture
async def make_cp(csms, clock, tmp_path):
    """Factory for started charge points against `csms`; all are stopped at teardown."""
    from sim.chargepoint import ChargePoint

    started: list[ChargePoint] = []

    async def factory(cp_id: str = "CP1", *, start: bool = True, state_dir=None,
                      config=None, hardware=None, **profiles: dict) -> ChargePoint:
        cfg = config or make_config(cp_id, **profiles)
        cp = ChargePoint(cfg, hardware, csms_url=csms.url, clock=clock,
                         state_dir=state_dir or tmp_path / cp_id)
        if start:
            await cp.start()
            started.append(cp)
        return cp

    yield factory
    for cp in started:
        await cp.stop()


async def until(predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll `predicate()` until truthy (state of the simulator, not of the CSMS)."""
    async with asyncio.timeout(timeout):
        while not (result := predicate()):
            await asyncio.sleep(0.005)
        return result
