"""Small, correct peers on the session core, for `chargebench conform --self` until the built-in
CSMS and the simulator take over, and for the suite's own tests.

`wrap` lets a test put a mutating proxy around the websocket (the suite must fail against a
peer that answers with the wrong code, or not at all).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection

from chargebench.aiotasks import cancel_and_wait
from chargebench.ocppj import (
    OcppSession,
    Role,
    Session,
    connect,
    serve,
)
from chargebench.ocppj.registration import BootGate, boot_gate
from chargebench.ocppj.testing import happy_handlers
from chargebench.ocppj.versions import version_for
from chargebench.security import basic_auth_header, check_basic_auth
from conformance.endpoints import BOOT_PAYLOAD

Wrap = Callable[[Any], Any]


def _identity(ws: Any) -> Any:
    return ws


class ReferenceCsms:
    """A CSMS that follows OCPP-J 1.6 §3-§4: 404 for unknown ids, 401 for bad Basic auth,
    SecurityError before BootNotification is accepted (errata §3.10), strict framing."""

    def __init__(
        self, *, known_ids: Iterable[str] = ("CB-CONFORM-1",), password: str | None = None,
        wrap: Wrap = _identity, host: str = "127.0.0.1", port: int = 0,
    ) -> None:
        self.known_ids = set(known_ids)
        self.password = password
        self.wrap = wrap
        self.host, self._port = host, port
        self.sessions: dict[str, Session] = {}
        self._server: Any = None

    async def start(self) -> ReferenceCsms:
        self._server = await serve(
            self._handler, self.host, self._port, process_request=self._admit
        )
        return self

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ocpp"

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def send(self, cp_id: str, action: str, payload: dict) -> dict:
        """Send a CSMS-initiated CALL to a connected charge point (the trigger hook)."""
        return await self.sessions[cp_id].call(action, payload)

    def _admit(self, connection: ServerConnection, request: Any) -> Any:
        cp_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        if cp_id not in self.known_ids:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown charge point\n")
        if self.password is not None and not check_basic_auth(
            request.headers.get("Authorization"), cp_id, self.password
        ):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        if ws.subprotocol is None:  # OCPP-J 1.6 §3.2: complete the handshake, then close
            await ws.close(1002, "no OCPP subprotocol agreed")
            return
        cp_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        version = version_for(ws.subprotocol)
        core = OcppSession(Role.CENTRAL_SYSTEM, version=version)
        session = Session(self.wrap(ws), core, _gated(boot_gate(version, Role.CENTRAL_SYSTEM)))
        self.sessions[cp_id] = session
        await session.run()


def _gated(gate: BootGate) -> dict:
    """The default CSMS answers, refusing everything but BootNotification until one was
    accepted (the core's `BootGate`: OCPP-J errata §3.10)."""
    handlers = happy_handlers(Role.CENTRAL_SYSTEM, gate.version)
    registration: list[str | None] = [None]
    boot = handlers["BootNotification"]

    def booting(payload: dict) -> dict:
        reply = boot(payload)
        registration[0] = reply["status"]
        return reply

    def guard(action: str, handler: Callable) -> Callable:
        def guarded(payload: dict) -> Any:
            gate.check(action, registration[0])
            return handler(payload)

        return guarded

    gated = {action: guard(action, handler) for action, handler in handlers.items()}
    gated[gate.version.boot_action] = booting
    return gated


class ReferenceChargePoint:
    """A charge point that connects, boots, reports its connectors, answers the Core CSMS
    commands, and reconnects after a close or a Reset (OCPP 1.6 §5.13, OCPP-J §5.4)."""

    def __init__(
        self, url: str, cp_id: str = "CB-CONFORM-1", *, password: str | None = None,
        wrap: Wrap = _identity, retry: float = 0.2, connectors: int = 1,
    ) -> None:
        self.url = url.rstrip("/") + "/" + cp_id
        self.cp_id = cp_id
        self.password = password
        self.wrap = wrap
        self.retry = retry
        self.connectors = connectors
        self.boots = 0
        self._ws: Any = None
        self._task: asyncio.Task | None = None

    def start(self) -> ReferenceChargePoint:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def power_loss(self) -> None:
        """Control surface: drop the connection; the charge point reboots and reconnects."""
        if self._ws is not None:
            await self._ws.close()

    async def _run(self) -> None:
        headers = {}
        if self.password is not None:
            headers["Authorization"] = basic_auth_header(self.cp_id, self.password)
        while True:
            try:
                ws = await connect(self.url, additional_headers=headers, open_timeout=5)
            except (OSError, ConnectionError, TimeoutError, Exception):
                await asyncio.sleep(self.retry)
                continue
            self._ws = ws
            await self._session(ws)
            await asyncio.sleep(self.retry)

    async def _session(self, ws: Any) -> None:
        handlers = happy_handlers(Role.CHARGE_POINT, version_for(ws.subprotocol))

        def reset(_: dict) -> dict:
            # OCPP 1.6 §5.13: accept, then reboot (close and reconnect)
            asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(ws.close()))
            return {"status": "Accepted"}

        handlers["Reset"] = reset
        core = OcppSession(Role.CHARGE_POINT, version=version_for(ws.subprotocol))
        session = Session(self.wrap(ws), core, handlers)
        reader = session.start()
        with contextlib.suppress(Exception):
            reply = await session.call("BootNotification", BOOT_PAYLOAD)
            if reply["status"] == "Accepted":
                self.boots += 1
                for connector in range(self.connectors + 1):
                    await session.call("StatusNotification", {
                        "connectorId": connector, "errorCode": "NoError", "status": "Available",
                    })
        with contextlib.suppress(Exception):
            await reader


__all__ = ["ReferenceChargePoint", "ReferenceCsms"]
