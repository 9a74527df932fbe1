"""An OCPP 2.0.1 CSMS that ChargeBench did not write, to judge the 2.0.1 csms-role verdicts
against: the `ocpp` package's `ocpp.v201.ChargePoint` (one per connection, server side) over
`websockets` 17. Nothing here comes from ChargeBench's CSMS, session core or simulator. Test
code only: never shipped.

It answers every station-initiated message the csms-role cases send, judges id tokens by a
small table (`TOKENS`), and sends CSMS-initiated commands when asked (`send`, the cases'
trigger hook): with the `ocpp` package's call classes, so its schema check applies.

`Variant` switches its behaviour: legal variants take another choice the spec leaves open
(statusInfo given, another heartbeat interval, Invalid for an unknown token, Rejected for an
unknown vendor), illegal ones break exactly one rule some cases check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from ocpp.charge_point import camel_to_snake_case
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

#: the CSMS's id tokens (the suite's defaults: --cb-id-tag, capabilities blocked/expired)
TOKENS = {"CB-VALID-1": "Accepted", "CB-BLOCKED-1": "Blocked", "CB-EXPIRED-1": "Expired"}


@dataclass(frozen=True)
class Variant:
    name: str = "default"
    legal: bool = True
    #: BootNotificationResponse.status (B01: Accepted for a registered station)
    boot_status: str = "Accepted"
    interval: int | None = 300
    #: statusInfo in the BootNotificationResponse (optional, 2.0.1 BootNotificationResponse)
    status_info: bool = False
    #: answer StatusNotification (False: the library's CALLERROR NotImplemented)
    answers_status: bool = True
    #: the status of a token the CSMS has no record of (C01: Unknown or Invalid)
    unknown_token: str = "Unknown"
    #: DataTransfer of an unknown vendor (P01: UnknownVendorId, or Rejected)
    data_transfer: str = "UnknownVendorId"
    #: statuses the CSMS answers instead of the token's own (illegal: a blocked one Accepted)
    token_overrides: tuple[tuple[str, str], ...] = ()
    #: CSMS-initiated actions the CSMS never sends (illegal: the operator's request is lost)
    never_sends: tuple[str, ...] = ()
    #: fields the CSMS puts in a CSMS-initiated request over what it was asked (illegal: a
    #: Reset of another type than asked)
    rewrites: tuple[tuple[str, str, Any], ...] = ()


VARIANTS = {v.name: v for v in (
    Variant(),
    Variant("verbose", status_info=True, interval=30, unknown_token="Invalid",
            data_transfer="Rejected"),
    Variant("rejected", legal=False, boot_status="Rejected"),
    Variant("pending", legal=False, boot_status="Pending"),
    Variant("no_status", legal=False, answers_status=False),
    Variant("no_interval", legal=False, interval=None),
    Variant("blocked_accepted", legal=False, token_overrides=(("CB-BLOCKED-1", "Accepted"),)),
    Variant("no_remote_start", legal=False, never_sends=("RequestStartTransaction",)),
    Variant("reset_immediate", legal=False, rewrites=(("Reset", "type", "Immediate"),)),
)}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _station(variant: Variant) -> type[ChargePoint]:
    def token_info(id_token: dict | None) -> dict | None:
        if id_token is None:
            return None
        value = id_token["id_token"]
        status = dict(variant.token_overrides).get(value) or TOKENS.get(value,
                                                                        variant.unknown_token)
        return {"status": status}

    class Station(ChargePoint):
        #: the station's transactionId of the latest TransactionEvent (one EVSE)
        transaction_id = ""

        # B Provisioning
        @on(Action.boot_notification, skip_schema_validation=variant.interval is None)
        async def boot(self, charging_station: dict, reason: str, **_: Any):
            extra: dict[str, Any] = {}
            if variant.status_info:
                extra["status_info"] = {"reason_code": "NoError"}
            return call_result.BootNotification(
                current_time=_now(), interval=variant.interval,
                status=variant.boot_status, **extra)

        @on(Action.notify_event)
        async def notify_event(self, **_: Any):
            return call_result.NotifyEvent()

        @on(Action.notify_report)
        async def notify_report(self, **_: Any):
            return call_result.NotifyReport()

        @on(Action.heartbeat)
        async def heartbeat(self, **_: Any):
            return call_result.Heartbeat(current_time=_now())

        # C Authorization, E Transactions, J Meter values
        @on(Action.authorize)
        async def authorize(self, id_token: dict, **_: Any):
            return call_result.Authorize(id_token_info=token_info(id_token))

        @on(Action.transaction_event)
        async def transaction_event(self, transaction_info: dict, id_token: dict | None = None,
                                    **_: Any):
            self.transaction_id = transaction_info["transaction_id"]
            info = token_info(id_token)
            return call_result.TransactionEvent(**({} if info is None else
                                                   {"id_token_info": info}))

        # K15-K17 ISO 15118 smart charging: a TxProfile at the EV's maximum current
        @on(Action.notify_ev_charging_needs)
        async def charging_needs(self, evse_id: int, charging_needs: dict, **_: Any):
            limit = float(charging_needs["ac_charging_parameters"]["ev_max_current"])
            profile = call.SetChargingProfile(evse_id=evse_id, charging_profile={
                "id": 1, "stack_level": 0, "charging_profile_purpose": "TxProfile",
                "charging_profile_kind": "Relative", "transaction_id": self.transaction_id,
                "charging_schedule": [{"id": 1, "charging_rate_unit": "A",
                                       "charging_schedule_period": [
                                           {"start_period": 0, "limit": limit}]}]})
            task = asyncio.ensure_future(self.call(profile))
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            return call_result.NotifyEVChargingNeeds(status="Accepted")

        @on(Action.notify_ev_charging_schedule)
        async def charging_schedule(self, **_: Any):
            return call_result.NotifyEVChargingSchedule(status="Accepted")

        @on(Action.meter_values)
        async def meter_values(self, **_: Any):
            return call_result.MeterValues()

        # the reports and notifications that follow a command
        @on(Action.firmware_status_notification)
        async def firmware_status(self, **_: Any):
            return call_result.FirmwareStatusNotification()

        @on(Action.publish_firmware_status_notification)
        async def publish_status(self, **_: Any):
            return call_result.PublishFirmwareStatusNotification()

        @on(Action.log_status_notification)
        async def log_status(self, **_: Any):
            return call_result.LogStatusNotification()

        @on(Action.security_event_notification)
        async def security_event(self, **_: Any):
            return call_result.SecurityEventNotification()

        @on(Action.notify_customer_information)
        async def customer_information(self, **_: Any):
            return call_result.NotifyCustomerInformation()

        @on(Action.notify_monitoring_report)
        async def monitoring_report(self, **_: Any):
            return call_result.NotifyMonitoringReport()

        @on(Action.notify_display_messages)
        async def display_messages(self, **_: Any):
            return call_result.NotifyDisplayMessages()

        @on(Action.report_charging_profiles)
        async def charging_profiles(self, **_: Any):
            return call_result.ReportChargingProfiles()

        @on(Action.reservation_status_update)
        async def reservation_status(self, **_: Any):
            return call_result.ReservationStatusUpdate()

        @on(Action.notify_charging_limit)
        async def charging_limit(self, **_: Any):
            return call_result.NotifyChargingLimit()

        @on(Action.cleared_charging_limit)
        async def cleared_limit(self, **_: Any):
            return call_result.ClearedChargingLimit()

        @on(Action.data_transfer)
        async def data_transfer(self, **_: Any):
            return call_result.DataTransfer(status=variant.data_transfer)

    if variant.answers_status:
        async def status(self: ChargePoint, **_: Any) -> call_result.StatusNotification:
            return call_result.StatusNotification()

        Station.status = on(Action.status_notification)(status)
    return Station


class IndependentCsms201:
    """`await IndependentCsms201(variant).start()`, then `url`; `send()` is the trigger, also
    over HTTP at `actions_url` (`--cb-trigger-url`: the actions API shape the suite's
    `HttpActionsTrigger` posts to); `close()`."""

    def __init__(self, variant: Variant = Variant()) -> None:
        self.variant = variant
        self._server: Any = None
        self._http: asyncio.Server | None = None
        self.stations: dict[str, ChargePoint] = {}
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> IndependentCsms201:
        self._server = await serve(self._on_connect, "127.0.0.1", 0,
                                   subprotocols=[Subprotocol("ocpp2.0.1")], compression=None)
        self._http = await asyncio.start_server(self._on_http, "127.0.0.1", 0)
        return self

    @property
    def actions_url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.sockets[0].getsockname()[1]}"

    async def _on_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """`POST /api/chargers/{id}/actions/{Action}` with the request as JSON body: 202 once
        the CALL is on its way, 404 for a station that is not connected."""
        with contextlib.suppress(Exception):
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            length = next((int(line.split(":", 1)[1]) for line in head
                           if line.lower().startswith("content-length:")), 0)
            body = json.loads(await reader.readexactly(length) or b"{}")
            parts = unquote(head[0].split()[1]).strip("/").split("/")
            cp_id, action = parts[2], parts[4]
            status = "202 Accepted" if cp_id in self.stations else "404 Not Found"
            if cp_id in self.stations:
                await self.send(cp_id, action, body)
            writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n".encode())
            await writer.drain()
        writer.close()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/ocpp"

    async def _on_connect(self, ws: ServerConnection) -> None:
        if ws.subprotocol is None:  # OCPP-J 2.0.1 §3.1.2: no session without ocpp2.0.1
            await ws.close(1002, "ocpp2.0.1 required")
            return
        assert ws.request is not None  # set once the handshake is done
        cp_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        station = _station(self.variant)(cp_id, ws)
        station._response_timeout = 5
        self.stations[cp_id] = station
        with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
            await station.start()

    async def send(self, cp_id: str, action: str, payload: dict) -> None:
        """The trigger hook (`conformance.triggers.Trigger`): send `action` to the station in
        the background (the station answers on the connection the case waits on)."""
        if action in self.variant.never_sends:
            return
        request = dict(payload)
        for rewritten, name, value in self.variant.rewrites:
            if rewritten == action:
                request[name] = value
        message = getattr(call, action)(**camel_to_snake_case(request))
        task = asyncio.ensure_future(self.stations[cp_id].call(message))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # a timeout or a refused request: the case's verdict says it

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            self._http.close()
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)
