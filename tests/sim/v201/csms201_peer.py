"""An independent OCPP 2.0.1 CSMS for the station's tests (issue 19 point 6).

Built on the `ocpp` package's `ocpp.v201.ChargePoint` used server side (routing, schema
validation and RPC matching written by other people, `@on` handlers) over plain `websockets`,
with nothing of ChargeBench's session core, CSMS or simulator: when it and our station agree, two
implementations agree. Each connection is one `Csms`; its answers come from a `Script`, so a test
picks the legal variant (Pending before Accepted, optional fields left out) or an illegal one
(a subclass whose handler skips the package's own schema check and answers a malformed payload).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as dt
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

logging.getLogger("ocpp").setLevel(logging.CRITICAL)

SUBPROTOCOL = "ocpp2.0.1"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Script:
    """What the CSMS answers, shared by every connection of a test."""

    #: BootNotificationResponse (status, interval), used in order; then Accepted, 300 s
    boots: list[tuple[str, int]] = field(default_factory=list)
    #: a TransactionEventResponse carries idTokenInfo for an event with an idToken (False: the
    #: response leaves out every optional field)
    token_info: bool = True
    #: how many BootNotifications were answered so far
    answered_boots: int = 0
    #: SignCertificateResponse status
    sign_status: str = "Accepted"


class Csms(ChargePoint):
    """The CSMS end of one station connection. `received` holds every station CALL as
    (action, snake_case payload), in order; `call()` sends `ocpp.v201.call` dataclasses."""

    def __init__(self, cp_id: str, connection: Any, script: Script) -> None:
        super().__init__(cp_id, connection)
        self.script = script
        self.received: list[tuple[str, dict]] = []

    def _got(self, action: str, payload: dict) -> None:
        self.received.append((action, payload))

    def actions(self, *skip: str) -> list[str]:
        return [action for action, _ in self.received if action not in skip]

    @on("BootNotification")
    def on_boot_notification(self, **payload: Any) -> Any:
        self._got("BootNotification", payload)
        script = self.script
        status, interval = (script.boots.pop(0) if script.boots else ("Accepted", 300))
        script.answered_boots += 1
        return result201.BootNotification(current_time=now(), interval=interval, status=status)

    @on("Heartbeat")
    def on_heartbeat(self, **payload: Any) -> Any:
        self._got("Heartbeat", payload)
        return result201.Heartbeat(current_time=now())

    @on("StatusNotification")
    def on_status_notification(self, **payload: Any) -> Any:
        self._got("StatusNotification", payload)
        return result201.StatusNotification()

    @on("Authorize")
    def on_authorize(self, **payload: Any) -> Any:
        self._got("Authorize", payload)
        return result201.Authorize(id_token_info=dt.IdTokenInfoType(status="Accepted"))

    @on("TransactionEvent")
    def on_transaction_event(self, **payload: Any) -> Any:
        self._got("TransactionEvent", payload)
        if self.script.token_info and payload.get("id_token"):
            return result201.TransactionEvent(
                id_token_info=dt.IdTokenInfoType(status="Accepted"))
        return result201.TransactionEvent()  # every field optional (E01.FR.12 aside)

    @on("ReservationStatusUpdate")
    def on_reservation_status_update(self, **payload: Any) -> Any:
        self._got("ReservationStatusUpdate", payload)
        return result201.ReservationStatusUpdate()

    @on("MeterValues")
    def on_meter_values(self, **payload: Any) -> Any:
        self._got("MeterValues", payload)
        return result201.MeterValues()

    @on("NotifyReport")
    def on_notify_report(self, **payload: Any) -> Any:
        self._got("NotifyReport", payload)
        return result201.NotifyReport()

    # A, K, L, N, O, P, M: what the station sends on its own or after a CSMS request,
    # recorded and answered minimally (every optional field left out; `_recorded`)


def _recorded(action: str, answer: Callable[[Csms, dict], Any]) -> Any:
    """An `@on(action)` handler that records the CALL and answers `answer(csms, payload)`."""

    def handler(self: Csms, **payload: Any) -> Any:
        self._got(action, payload)
        return answer(self, payload)

    # `on` routes by the function's name (the `ocpp` package's `routables`): named first
    handler.__name__ = f"on_{action}"
    return on(action)(handler)


#: action -> its answer: the `ocpp` package's call_result dataclasses
_ANSWERS: dict[str, Callable[[Csms, dict], Any]] = {
    "SecurityEventNotification": lambda _cs, _p: result201.SecurityEventNotification(),
    "SignCertificate": lambda cs, _p: result201.SignCertificate(status=cs.script.sign_status),
    "FirmwareStatusNotification": lambda _cs, _p: result201.FirmwareStatusNotification(),
    "LogStatusNotification": lambda _cs, _p: result201.LogStatusNotification(),
    "ReportChargingProfiles": lambda _cs, _p: result201.ReportChargingProfiles(),
    "NotifyChargingLimit": lambda _cs, _p: result201.NotifyChargingLimit(),
    "ClearedChargingLimit": lambda _cs, _p: result201.ClearedChargingLimit(),
    "NotifyEVChargingNeeds": lambda _cs, _p: result201.NotifyEVChargingNeeds(status="Rejected"),
    "NotifyDisplayMessages": lambda _cs, _p: result201.NotifyDisplayMessages(),
    "NotifyCustomerInformation": lambda _cs, _p: result201.NotifyCustomerInformation(),
    "DataTransfer": lambda _cs, p: result201.DataTransfer(status="Accepted",
                                                          data={"echo": p.get("data")}),
    "Get15118EVCertificate": lambda _cs, _p: result201.Get15118EVCertificate(
        status="Failed", exi_response=""),
    "GetCertificateStatus": lambda _cs, _p: result201.GetCertificateStatus(status="Failed"),
    "NotifyEvent": lambda _cs, _p: result201.NotifyEvent(),
    "NotifyMonitoringReport": lambda _cs, _p: result201.NotifyMonitoringReport(),
    "NotifyEVChargingSchedule": lambda _cs, _p: result201.NotifyEVChargingSchedule(
        status="Accepted"),
}
for _action, _answer in _ANSWERS.items():
    setattr(Csms, f"on_{_action}", _recorded(_action, _answer))


class MalformedBoot(Csms):
    """Answers the first BootNotification with a payload its own schema forbids (status
    "Maybe", no interval); the later ones as `Csms` does."""

    @on("BootNotification", skip_schema_validation=True)
    def on_boot_notification(self, **payload: Any) -> Any:
        if self.script.answered_boots == 0:
            self._got("BootNotification", payload)
            self.script.answered_boots += 1
            return result201.BootNotification(current_time=now(), interval=None,  # type: ignore[arg-type]
                                              status="Maybe")
        return super().on_boot_notification(**payload)


class MalformedTransactionEvent(Csms):
    """Answers each TransactionEvent with an idTokenInfo without its required status."""

    @on("TransactionEvent", skip_schema_validation=True)
    def on_transaction_event(self, **payload: Any) -> Any:
        self._got("TransactionEvent", payload)
        return result201.TransactionEvent(id_token_info={"language1": "en"})  # type: ignore[arg-type]


class Server:
    """The running CSMS: `url` to connect to, `peers[station id]` its latest connection."""

    def __init__(self, factory: Callable[[str, Any, Script], Csms], script: Script) -> None:
        self.factory = factory
        self.script = script
        self.peers: dict[str, Csms] = {}
        self.connections = 0
        self.url = ""

    async def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        cp_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        peer = self.factory(cp_id, ws, self.script)
        self.peers[cp_id] = peer
        self.connections += 1
        with contextlib.suppress(ConnectionClosed):
            await peer.start()

    async def peer(self, cp_id: str, timeout: float = 5.0) -> Csms:
        """The connection of `cp_id`, once there is one."""
        async with asyncio.timeout(timeout):
            while cp_id not in self.peers:
                await asyncio.sleep(0.01)
        return self.peers[cp_id]


@contextlib.asynccontextmanager
async def csms201(factory: Callable[[str, Any, Script], Csms] = Csms,
                  script: Script | None = None) -> AsyncIterator[Server]:
    """A 2.0.1-only CSMS on 127.0.0.1, an ephemeral port."""
    server = Server(factory, script or Script())
    async with serve(server.handle, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL],
                     compression=None) as ws_server:  # fmt: skip
        port = next(iter(ws_server.sockets)).getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}/ocpp"
        yield server
