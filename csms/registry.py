"""The live connections of the CSMS: at most one per charge point id.

A second connection for an id replaces the first (a charger that rebooted, or whose old TCP
connection is half open: OCPP-J 1.6 errata §3.11); `remove()` of the replaced one then does
nothing, so the newer connection stays registered and the charger stays online.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chargebench.ocppj import Session


@dataclass(slots=True, eq=False)
class ChargerConnection:
    """One charge point's open connection and what the CSMS knows about it."""

    cp_id: str
    session_id: str
    session: Session
    #: security profile this connection achieved (0-3)
    profile: int
    #: BootNotification status that applies to this connection; None until one was decided
    registration: str | None
    connected_at: datetime
    #: protocol-clock time (Clock.monotonic) of the last frame received
    last_seen: float
    remote: Any = None
    #: set when this connection was marked offline for a late heartbeat
    stale: bool = False
    #: resolves when the Pong to our last WebSocket Ping arrives (csms.server.KeepAlive)
    pong: asyncio.Future | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """May the charger send CALLs other than BootNotification? (OCPP-J errata §3.10)"""
        return self.registration == "Accepted"

    def summary(self) -> dict[str, Any]:
        """JSON-ready live status for the API."""
        return {
            "id": self.cp_id,
            "session": self.session_id,
            "profile": self.profile,
            "registration": self.registration,
            "connected_at": self.connected_at.isoformat(),
            "stale": self.stale,
            "remote": None if self.remote is None else str(self.remote),
        }


#: what a listener of `Registry.publish` receives: {"kind": ..., "cp_id": ..., ...}
Listener = Callable[[dict[str, Any]], None]


class Registry:
    """cp_id -> live connection; also lets a caller wait until a charger connects, and
    listeners (the operator UI's server-sent events) hear what changed: connections here,
    statuses and transactions from csms.handlers (`publish`)."""

    def __init__(self) -> None:
        self._live: dict[str, ChargerConnection] = {}
        self._waiters: dict[str, list[asyncio.Future]] = {}
        self.listeners: set[Listener] = set()

    def publish(self, event: dict[str, Any]) -> None:
        """Tell every listener (synchronous and non-blocking: a listener only queues it)."""
        for listener in list(self.listeners):
            listener(event)

    def add(self, conn: ChargerConnection) -> ChargerConnection | None:
        """Register `conn`; return the connection it replaces (the caller closes it)."""
        old = self._live.get(conn.cp_id)
        self._live[conn.cp_id] = conn
        self.publish({"kind": "connection", "cp_id": conn.cp_id, "online": True})
        for future in self._waiters.pop(conn.cp_id, []):
            if not future.done():
                future.set_result(conn)
        return old

    def remove(self, conn: ChargerConnection) -> bool:
        """Unregister `conn` if it is still the current one; False if it was replaced."""
        if self._live.get(conn.cp_id) is conn:
            del self._live[conn.cp_id]
            self.publish({"kind": "connection", "cp_id": conn.cp_id, "online": False})
            return True
        return False

    def get(self, cp_id: str) -> ChargerConnection | None:
        return self._live.get(cp_id)

    def __contains__(self, cp_id: object) -> bool:
        return cp_id in self._live

    def __iter__(self) -> Iterator[ChargerConnection]:
        return iter(list(self._live.values()))

    def __len__(self) -> int:
        return len(self._live)

    async def wait_for(self, cp_id: str, timeout: float | None = None) -> ChargerConnection:
        """Return the charger's connection once it is registered."""
        conn = self._live.get(cp_id)
        if conn is not None:
            return conn
        future = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(cp_id, [])
        waiters.append(future)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            # a caller that gave up (timeout, cancel) leaves nothing behind for an id that
            # may never connect (issue 15 point 3: nothing kept per id that comes and goes)
            if future in waiters:
                waiters.remove(future)
            if not waiters and self._waiters.get(cp_id) is waiters:
                del self._waiters[cp_id]
