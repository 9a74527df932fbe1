"""An OCPP 2.0.1 CSMS that ChargeBench did not write, to judge the 2.0.1 csms-role verdicts
against: the `ocpp` package's `ocpp.v201.ChargePoint` (one per connection, server side) over
`websockets` 17. Nothing here comes from ChargeBench's CSMS, session core or simulator. Test
code only: never shipped.

`Variant` switches its behaviour: legal variants take another choice the spec leaves open
(statusInfo given, another heartbeat interval), illegal ones break exactly one rule the boot
cases check.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol


@dataclass(frozen=True)
class Variant:
    name: str = "default"
    legal: bool = True
    #: BootNotificationResponse.status (B01: Accepted for a registered station)
    boot_status: str = "Accepted"
    interval: int = 300
    #: statusInfo in the BootNotificationResponse (optional, 2.0.1 BootNotificationResponse)
    status_info: bool = False
    #: answer StatusNotification (False: the library's CALLERROR NotImplemented)
    answers_status: bool = True


VARIANTS = {v.name: v for v in (
    Variant(),
    Variant("verbose", status_info=True, interval=30),
    Variant("rejected", legal=False, boot_status="Rejected"),
    Variant("pending", legal=False, boot_status="Pending"),
    Variant("no_status", legal=False, answers_status=False),
)}


def _station(variant: Variant) -> type[ChargePoint]:
    class Station(ChargePoint):
        @on(Action.boot_notification)
        async def boot(self, charging_station: dict, reason: str, **_: Any):
            extra: dict[str, Any] = {}
            if variant.status_info:
                extra["status_info"] = {"reason_code": "NoError"}
            return call_result.BootNotification(
                current_time=datetime.now(UTC).isoformat(), interval=variant.interval,
                status=variant.boot_status, **extra)

        @on(Action.notify_event)
        async def notify_event(self, **_: Any):
            return call_result.NotifyEvent()

        @on(Action.heartbeat)
        async def heartbeat(self, **_: Any):
            return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

    if variant.answers_status:
        async def status(self: ChargePoint, **_: Any) -> call_result.StatusNotification:
            return call_result.StatusNotification()

        Station.status = on(Action.status_notification)(status)
    return Station


class IndependentCsms201:
    """`await IndependentCsms201(variant).start()`, then `url`; `close()`."""

    def __init__(self, variant: Variant = Variant()) -> None:
        self.variant = variant
        self._server: Any = None

    async def start(self) -> IndependentCsms201:
        self._server = await serve(self._on_connect, "127.0.0.1", 0,
                                   subprotocols=[Subprotocol("ocpp2.0.1")], compression=None)
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/ocpp"

    async def _on_connect(self, ws: ServerConnection) -> None:
        if ws.subprotocol is None:  # OCPP-J 2.0.1 §3.1.2: no session without ocpp2.0.1
            await ws.close(1002, "ocpp2.0.1 required")
            return
        assert ws.request is not None  # set once the handshake is done
        station = _station(self.variant)(ws.request.path.rstrip("/").rsplit("/", 1)[-1], ws)
        with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
            await station.start()

    async def close(self) -> None:
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)
