"""One virtual charge point: connection loop, boot, heartbeat, charging flows, control surface.

Build it from a libocpp configuration (`sim.config.ChargePointConfig`) and a hardware section
(`sim.hardware.Hardware`), `await cp.start()`, `await cp.wait_booted()`, then drive it the way a
user or a fault would: `plug_in()`, `present_id_tag()`, `ev_full()`, `fault()`, `plug_out()`,
`go_offline()` / `go_online()`, `power_loss()`. `await cp.stop()` stops open transactions and
leaves the transaction queue on disk.

Every connector status change goes through `sim.connector.Connector` and is sent as a
StatusNotification (1.6 §4.9); every transaction-related message goes through
`sim.offline_queue.OfflineQueue` (1.6 §3.7); handlers for CSMS-initiated commands live in
`sim.features` (one module per feature profile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, ReadingContext
from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.clock import Clock, iso
from chargebench.ocppj import (
    CallFailed,
    ConnectionLost,
    OcppSession,
    Role,
    Session,
    connect,
)
from chargebench.trace import TraceRecord, make_tracer
from sim.config import ChargePointConfig
from sim.connector import Connector
from sim.ev import EV, Meter
from sim.features import auth, connection, core
from sim.features.connection import TlsFiles
from sim.features.metering import TransactionMeter, meter_value, seconds_to_next_aligned
from sim.hardware import Hardware
from sim.offline_queue import OfflineQueue, QueuedMessage

log = logging.getLogger(__name__)

_S = ChargePointStatus
#: Statuses of a connector with an energized transaction; the meter decides which one.
_ENERGIZED = frozenset({_S.charging, _S.suspended_ev, _S.suspended_evse})
#: BootNotification.conf interval 0: "the Charge Point chooses a waiting interval" (1.6 §4.2).
_DEFAULT_BOOT_RETRY = 30


@dataclass(slots=True)
class Transaction:
    """A transaction as the charge point knows it; `local_id` until the CSMS's id is known."""

    local_id: int
    id_tag: str
    connector_id: int
    meter_start: int
    meter: TransactionMeter = field(default_factory=TransactionMeter)
    sampler: asyncio.Task | None = None


class Port:
    """One connector: its status machine, meter, plug and transaction state."""

    __slots__ = (
        "authorized_tag", "connector", "ev", "last_advance", "meter", "operative",
        "plugged", "scheduled_operative", "timeout", "tx",
    )

    def __init__(self, connector_id: int, hardware: Hardware) -> None:
        self.connector = Connector(connector_id)
        self.meter = Meter(hardware)
        self.ev: EV | None = None
        self.plugged = False
        self.tx: Transaction | None = None
        self.authorized_tag: str | None = None  # authorize-first: waiting for the plug
        self.timeout: asyncio.Task | None = None  # ConnectionTimeOut
        self.operative = True
        self.scheduled_operative: bool | None = None  # ChangeAvailability Scheduled (§5.2)
        self.last_advance = 0.0

    @property
    def id(self) -> int:
        return self.connector.connector_id

    @property
    def status(self) -> ChargePointStatus:
        return self.connector.status


class ChargePoint:
    """A simulated OCPP 1.6J charge point modelled on EVerest libocpp."""

    def __init__(
        self,
        config: ChargePointConfig,
        hardware: Hardware | None = None,
        *,
        csms_url: str | None = None,
        clock: Clock | None = None,
        state_dir: str | Path | None = None,
        trace_sink: Callable[[TraceRecord], None] | None = None,
        # Security profiles 2/3
        tls: TlsFiles | None = None,
        ssl_context: ssl.SSLContext | None = None,
        # Simulation
        ev_factory: Callable[[int], EV] | None = None,
        rng: random.Random | None = None,
        call_timeout: float = 30.0,
    ) -> None:
        """`csms_url` overrides CentralSystemURI (the ChargePointId is appended); `state_dir`
        keeps the transaction queue and authorization cache across restarts; `ev_factory(n)`
        makes the EV plugged into connector n (default: a 60 kWh EV at 20 %)."""
        self.config = config
        self.id: str = config.charge_point_id
        n = config.number_of_connectors or (hardware.connectors if hardware else 1)
        self.hardware = hardware or Hardware(connectors=n)
        self.clock = clock or Clock()
        self.csms_url = csms_url
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.trace_sink = trace_sink
        self.tls, self.ssl_context = tls, ssl_context
        self.ev_factory = ev_factory or (lambda _n: EV())
        self.rng = rng or random.Random()
        self.call_timeout = call_timeout
        self.connector0 = Connector(0)
        self.ports = [Port(i, self.hardware) for i in range(1, n + 1)]
        self.queue = OfflineQueue(
            self.state_dir,
            attempts=lambda: config.transaction_message_attempts or 1,
            retry_interval=lambda: config.transaction_message_retry_interval or 10,
            sleep=self.clock.sleep,
            on_delivered=self._on_delivered,
        )
        self.cache = auth.AuthCache(self.state_dir)
        self.handlers = core.handlers(self)
        #: BootNotification.conf status of this power cycle (None: not booted yet)
        self.registration: str | None = None
        self.session: Session | None = None
        self._online_wanted: asyncio.Event | None = None
        self._booted: asyncio.Event | None = None
        self._main: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._drain: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._reboot: str | None = None
        self._stopping = False
        self.connects = 0
        config.subscribe(self._config_changed)

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on: connect, boot and keep the connection up (in a background task)."""
        self._online_wanted = asyncio.Event()
        self._online_wanted.set()
        self._booted = asyncio.Event()
        self._stopping = False
        self._main = asyncio.get_running_loop().create_task(self._run(), name=f"cp-{self.id}")

    async def wait_booted(self, timeout: float | None = None) -> None:
        """Wait until the CSMS accepted our BootNotification (1.6 §4.2)."""
        assert self._booted is not None, "call start() first"
        async with asyncio.timeout(timeout):
            await self._booted.wait()

    async def stop(self) -> None:
        """Shut down: stop open transactions (reason Other), deliver what can be
        delivered quickly, close the connection; undelivered messages stay on disk."""
        for port in self.ports:
            if port.tx is not None:
                await self.stop_transaction(port, "Other")
        if self.session is not None and self.registration == "Accepted" and self.queue:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    drain = self.flush_queue()
                    if drain is not None:
                        await drain
        self._stopping = True
        await self._shutdown_tasks()
        self.queue.close()

    async def _shutdown_tasks(self) -> None:
        tasks = [t for t in (self._main, self._ticker, self._drain, *self._tasks) if t]
        for port in self.ports:
            tasks.extend(t for t in (port.timeout, port.tx and port.tx.sampler) if t)
        current = asyncio.current_task()
        tasks = [t for t in tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    def spawn(self, coro: Coroutine) -> asyncio.Task:
        """Run `coro` in the background; it is cancelled by `stop()`."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # Connection loop -------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            assert self._online_wanted is not None
            await self._online_wanted.wait()
            try:
                ws = await connect(
                    connection.endpoint(self.config, self.csms_url),
                    **connection.connect_options(self.config, self.tls, self.ssl_context),
                )
            except (OSError, InvalidHandshake, InvalidStatus, TimeoutError, ConnectionError) as e:
                attempt += 1
                log.debug("%s: connect failed (%s), attempt %d", self.id, e, attempt)
                await self.clock.sleep(connection.backoff_delay(self.config, attempt, self.rng))
                continue
            attempt = 0
            self.connects += 1
            await self._online(ws)
            if self._reboot is not None:
                await self._power_cycle()
            elif not self._stopping and self._online_wanted.is_set():
                # connection dropped by the network or the CSMS: back off before reconnecting
                attempt = 1
                await self.clock.sleep(connection.backoff_delay(self.config, attempt, self.rng))

    async def _online(self, ws: Any) -> None:
        """One connection: boot if this power cycle has not been accepted yet, announce the
        connector statuses, deliver the queue, keep the heartbeat until the connection ends."""
        tracer = None
        if self.trace_sink is not None:
            tracer = make_tracer(self.trace_sink, self.id, secrets.token_hex(4), self.clock.now)
        profiles = self.config.supported_feature_profiles or ["Core"]
        core_session = OcppSession(
            Role.CHARGE_POINT, supported_profiles=profiles, call_timeout=self.call_timeout,
            tracer=tracer,
        )
        session = Session(ws, core_session, self.handlers)
        reader = session.start()
        self.session = session
        try:
            if self.registration != "Accepted":
                await self._boot(session)
            self._ticker = self.spawn(self._tick())
            self.flush_queue()
            await reader
        except CallFailed as error:
            log.debug("%s: %s", self.id, error)
            await session.close()
        finally:
            self.session = None
            if self._ticker is not None:
                self._ticker.cancel()
            self.queue.defer_all()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _boot(self, session: Session) -> None:
        """1.6 §4.2: BootNotification until Accepted; Pending/Rejected wait `interval` first."""
        while True:
            reply = await session.call("BootNotification", self._boot_payload())
            self.registration = reply["status"]
            if reply["status"] == "Accepted":
                if reply["interval"] > 0:
                    self.config.set_value("HeartbeatInterval", reply["interval"], persist=False)
                break
            # Rejected: SHALL NOT send anything until the interval expired; Pending: the CSMS
            # may configure us meanwhile (the handler table refuses what Pending forbids).
            await self.clock.sleep(reply["interval"] or _DEFAULT_BOOT_RETRY)
        # errata 3.22: after an Accepted BootNotification, one StatusNotification per connector
        await self._notify(self.connector0.snapshot(self.clock.now()))
        for port in self.ports:
            await self._notify(port.connector.snapshot(self.clock.now()))
        assert self._booted is not None
        self._booted.set()

    def _boot_payload(self) -> dict:
        cfg = self.config
        payload = {
            "chargePointVendor": cfg.charge_point_vendor,
            "chargePointModel": cfg.charge_point_model,
            "chargeBoxSerialNumber": cfg.charge_box_serial_number,
            "chargePointSerialNumber": cfg.charge_point_serial_number,
            "firmwareVersion": cfg.firmware_version,
            "iccid": cfg.iccid,
            "imsi": cfg.imsi,
            "meterType": cfg.meter_type or self.hardware.meter_type,
            "meterSerialNumber": cfg.meter_serial_number or self.hardware.meter_serial,
        }
        return {key: value for key, value in payload.items() if value}

    async def _tick(self) -> None:
        """Heartbeat (1.6 §4.6) and clock-aligned meter values (§3.16.2) from one task."""
        next_beat = self.clock.monotonic() + (self.config.heartbeat_interval or 0)
        aligned = self.config.clock_aligned_data_interval or 0
        now = self.clock.now()
        next_aligned = self.clock.monotonic() + seconds_to_next_aligned(now, aligned) \
            if aligned > 0 else None
        while True:
            beat = self.config.heartbeat_interval or 0
            dues = [t for t in (next_beat if beat > 0 else None, next_aligned) if t is not None]
            if not dues:
                return
            await self.clock.sleep(min(dues) - self.clock.monotonic())
            now_mono = self.clock.monotonic()
            if next_aligned is not None and now_mono >= next_aligned - 1e-6:
                next_aligned += aligned
                self._aligned_sample()
            if beat > 0 and now_mono >= next_beat - 1e-6:
                next_beat = now_mono + beat
                with contextlib.suppress(CallFailed):
                    await self.call("Heartbeat", {})

    def _config_changed(self, key: str, _value: Any) -> None:
        if key in ("HeartbeatInterval", "ClockAlignedDataInterval") and self._ticker:
            self._ticker.cancel()
            if self.session is not None:
                self._ticker = self.spawn(self._tick())

    async def _power_cycle(self) -> None:
        """Reboot: volatile state is lost, RebootRequired changes take effect (1.6 §5.3)."""
        reason, self._reboot = self._reboot, None
        log.debug("%s: rebooting (%s)", self.id, reason)
        self.config.apply_pending()
        self.registration = None
        assert self._booted is not None
        self._booted.clear()
        for port in self.ports:
            if port.timeout is not None:
                port.timeout.cancel()
            port.authorized_tag = None
            operative = port.operative if port.scheduled_operative is None \
                else port.scheduled_operative
            port.operative, port.scheduled_operative = operative, None
            port.connector = Connector(port.id, _S.available if operative else _S.unavailable)
            if port.plugged and operative:
                port.connector = Connector(port.id, _S.preparing)

    def request_reboot(self, reason: str) -> None:
        """Close the connection and boot again (Reset, power loss)."""
        self._reboot = reason
        if self.session is not None:
            self.spawn(self.session.close())

    # Sending ---------------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        """Connected and accepted by the CSMS: messages can go out now."""
        return self.session is not None and self.registration == "Accepted"

    async def call(self, action: str, payload: dict) -> dict:
        """Send a non-transaction CALL now; raises ConnectionLost when offline."""
        session = self.session
        if session is None or self.registration != "Accepted":
            raise ConnectionLost("offline", action=action, message_id="")
        return await session.call(action, payload)

    async def _notify(self, change: Any) -> None:
        """StatusNotification for a change (dropped when offline: the state is announced again
        after the next boot; a reconnect without reboot announces it too)."""
        if self.session is None or self.registration != "Accepted":
            return
        payload = change.to_payload()
        payload["timestamp"] = iso(change.timestamp or self.clock.now())
        with contextlib.suppress(CallFailed):
            await self.session.call("StatusNotification", payload)

    async def set_status(
        self, port: Port | Connector, status: ChargePointStatus,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
    ) -> None:
        """Move a connector through its state machine and notify the CSMS (1.6 §4.9)."""
        connector = port.connector if isinstance(port, Port) else port
        if connector.status == status and connector.error_code == error_code:
            return
        await self._notify(connector.transition(status, error_code, timestamp=self.clock.now()))

    def enqueue(self, action: str, payload: dict, local_tx: int | None) -> QueuedMessage:
        """Queue a transaction-related message and start delivering (1.6 §3.7)."""
        msg = self.queue.put(action, payload, local_tx=local_tx)
        self.flush_queue()
        return msg

    async def send_transactional(self, action: str, payload: dict, local_tx: int) -> dict | None:
        """Queue and, when online, wait for its reply; None when it was deferred."""
        msg = self.enqueue(action, payload, local_tx)
        if not self.online:
            return None
        return await self.queue.waiter(msg)

    def flush_queue(self) -> asyncio.Task | None:
        """Start delivering the transaction queue if online; await the task to wait for it."""
        if not self.online or not self.queue:
            return None
        if self._drain is None or self._drain.done():
            self._drain = self.spawn(self.queue.deliver(self._queue_send))
        return self._drain

    async def _queue_send(self, action: str, payload: dict) -> dict:
        return await self.call(action, payload)

    def _on_delivered(self, msg: QueuedMessage, reply: dict | None) -> None:
        """Act on the reply to a queued message (or on its being skipped, reply None)."""
        if reply is None or "idTagInfo" not in reply:
            return
        info = reply["idTagInfo"]
        tag = msg.payload.get("idTag")
        if tag and auth.cache_enabled(self.config):
            self.cache.update(tag, info)
        if msg.action == "StartTransaction" and info.get("status") != auth.ACCEPTED:
            port = self._port_of_tx(msg.local_tx)
            if port is not None:
                # 1.6 §3.5.4 / §4.8: transaction not accepted while it runs
                self.spawn(self._deauthorize(port))

    async def _deauthorize(self, port: Port) -> None:
        if self.config.stop_transaction_on_invalid_id:
            await self.stop_transaction(port, "DeAuthorized")
        else:  # only stop energy delivery (C5)
            port.meter.set_limit(amps=0, watts=0)
            await self._sync_energized(port)

    # Authorization -----------------------------------------------------------------------------

    async def authorize(self, id_tag: str) -> bool:
        """1.6 §4.1 / §3.5: Authorize online (or pre-authorize from the cache); offline rules
        otherwise."""
        now = self.clock.now()
        if auth.pre_authorized(self.config, self.cache, id_tag, now):
            return True
        if self.online:
            try:
                reply = await self.call("Authorize", {"idTag": id_tag})
            except CallFailed:
                return auth.offline_decision(self.config, self.cache, id_tag, now)
            if auth.cache_enabled(self.config):
                self.cache.update(id_tag, reply["idTagInfo"])
            return reply["idTagInfo"]["status"] == auth.ACCEPTED
        return auth.offline_decision(self.config, self.cache, id_tag, now)

    # Transactions ----------------------------------------------------------------------------

    async def start_transaction(self, port: Port, id_tag: str) -> Transaction:
        """1.6 §4.8: energize and send StartTransaction (queued when offline)."""
        self._cancel_timeout(port)
        port.authorized_tag = None
        self._advance(port)
        tx = Transaction(self.queue.new_local_tx(), id_tag, port.id, port.meter.meter_wh)
        port.tx = tx
        port.meter.close_contactor()
        tx.meter.keep(self._reading(port, self.config.stop_txn_sampled_data,
                                    ReadingContext.transaction_begin))
        payload = {
            "connectorId": port.id, "idTag": id_tag, "meterStart": tx.meter_start,
            "timestamp": iso(self.clock.now()),
        }
        await self.send_transactional("StartTransaction", payload, tx.local_id)
        if port.tx is tx:
            await self._sync_energized(port)
            tx.sampler = self.spawn(self._sample_loop(port, tx))
        return tx

    async def stop_transaction(self, port: Port, reason: str, id_tag: str | None = None) -> None:
        """1.6 §4.10: de-energize, send StopTransaction with transactionData, then Finishing
        (user action still needed) or Available/Unavailable."""
        tx = port.tx
        if tx is None:
            return
        port.tx = None
        if tx.sampler is not None and tx.sampler is not asyncio.current_task():
            tx.sampler.cancel()
        self._advance(port)
        port.meter.open_contactor()
        port.meter.set_limit()
        tx.meter.keep(self._reading(port, self.config.stop_txn_sampled_data,
                                    ReadingContext.transaction_end))
        payload: dict[str, Any] = {
            "transactionId": tx.local_id, "meterStop": port.meter.meter_wh,
            "timestamp": iso(self.clock.now()), "reason": reason,
        }
        if id_tag:
            payload["idTag"] = id_tag
        if tx.meter.data:
            payload["transactionData"] = tx.meter.data
        await self.send_transactional("StopTransaction", payload, tx.local_id)
        await self.settle(port)

    async def settle(self, port: Port) -> None:
        """Status after a transaction or a cancelled preparation: Finishing while the cable is
        plugged, else Available; Unavailable when a ChangeAvailability was scheduled (C8/F8)."""
        if port.scheduled_operative is not None and port.tx is None:
            port.operative, port.scheduled_operative = port.scheduled_operative, None
        if not port.operative:
            await self.set_status(port, _S.unavailable)
        elif port.plugged:
            await self.set_status(port, _S.finishing)
        else:
            await self.set_status(port, _S.available)

    async def _sync_energized(self, port: Port) -> None:
        """Charging / SuspendedEV / SuspendedEVSE as the meter says (1.6 §4.9)."""
        if port.tx is None or port.status is _S.faulted:
            return
        status = port.meter.charging_status() or _S.suspended_ev
        await self.set_status(port, status)

    def _advance(self, port: Port) -> None:
        """Let the meter catch up with simulated time."""
        now = self.clock.monotonic()
        port.meter.advance(max(0.0, now - port.last_advance))
        port.last_advance = now

    def _reading(self, port: Port, measurands: list[str] | None, context: str) -> dict | None:
        if not measurands:
            return None
        return meter_value(port.meter, measurands, context, self.clock.now())

    async def _sample_loop(self, port: Port, tx: Transaction) -> None:
        """1.6 §3.16.1: MeterValues every MeterValueSampleInterval seconds of the transaction."""
        while port.tx is tx:
            interval = self.config.meter_value_sample_interval or 0
            if interval <= 0:
                return
            await self.clock.sleep(interval)
            if port.tx is not tx:
                return
            self._advance(port)
            sampled = self._reading(port, self.config.meter_values_sampled_data,
                                    ReadingContext.sample_periodic)
            if sampled is not None:
                payload = {"connectorId": port.id, "transactionId": tx.local_id,
                           "meterValue": [sampled]}
                self.enqueue("MeterValues", payload, tx.local_id)
            tx.meter.keep(self._reading(port, self.config.stop_txn_sampled_data,
                                        ReadingContext.sample_periodic))
            await self._sync_energized(port)

    def _aligned_sample(self) -> None:
        """1.6 §3.16.2: clock-aligned values; transaction-related ones go through the queue."""
        for port in self.ports:
            self._advance(port)
            tx = port.tx
            aligned = self._reading(port, self.config.meter_values_aligned_data,
                                    ReadingContext.sample_clock)
            if tx is not None:
                tx.meter.keep(self._reading(port, self.config.stop_txn_aligned_data,
                                            ReadingContext.sample_clock))
                if aligned is not None:
                    self.enqueue("MeterValues", {"connectorId": port.id,
                                                 "transactionId": tx.local_id,
                                                 "meterValue": [aligned]}, tx.local_id)
            elif aligned is not None and self.online:
                payload = {"connectorId": port.id, "meterValue": [aligned]}
                self.spawn(self._call_quietly("MeterValues", payload))

    async def _call_quietly(self, action: str, payload: dict) -> None:
        with contextlib.suppress(CallFailed):
            await self.call(action, payload)

    def _port_of_tx(self, local_id: int | None) -> Port | None:
        return next((p for p in self.ports if p.tx and p.tx.local_id == local_id), None)

    def port_of_csms_tx(self, transaction_id: int) -> Port | None:
        """The connector running the transaction the CSMS calls `transaction_id`."""
        for port in self.ports:
            if port.tx and self.queue.csms_tx_id(port.tx.local_id) == transaction_id:
                return port
        return None

    # Preparation and ConnectionTimeOut -------------------------------------------------------

    async def prepare(self, port: Port) -> None:
        """Usage initiated (A2): Preparing, and wait ConnectionTimeOut for the other half."""
        await self.set_status(port, _S.preparing)
        self._cancel_timeout(port)
        timeout = self.config.connection_timeout or 0
        if timeout > 0:
            port.timeout = self.spawn(self._expire_preparation(port, timeout))

    async def _expire_preparation(self, port: Port, timeout: float) -> None:
        await self.clock.sleep(timeout)
        port.timeout = None
        if port.tx is None and port.status is _S.preparing:
            port.authorized_tag = None
            # B1 (tag first, no cable) / B6 (cable in, no tag: errata 3.20)
            await self.set_status(port, _S.finishing if port.plugged else _S.available)

    def _cancel_timeout(self, port: Port) -> None:
        if port.timeout is not None and port.timeout is not asyncio.current_task():
            port.timeout.cancel()
        port.timeout = None

    # Control surface -------------------------------------------------------------------------

    def port(self, connector: int) -> Port:
        """Connector `connector` (1-based)."""
        if not 1 <= connector <= len(self.ports):
            raise ValueError(f"{self.id} has no connector {connector}")
        return self.ports[connector - 1]

    async def plug_in(self, connector: int = 1) -> None:
        """The user plugs an EV in: start if already authorized, else Preparing."""
        port = self.port(connector)
        if port.plugged:
            return
        port.plugged = True
        port.ev = self.ev_factory(connector)
        port.meter.plug_in(port.ev)
        self._advance(port)
        if port.tx is not None:  # EV came back (StopTransactionOnEVSideDisconnect false)
            port.meter.close_contactor()
            await self._sync_energized(port)
        elif port.authorized_tag is not None:
            await self.start_transaction(port, port.authorized_tag)
        elif port.operative and port.status in (_S.available, _S.finishing):
            await self.prepare(port)

    async def plug_out(self, connector: int = 1) -> None:
        """The cable is removed at the EV side (1.6 §9.1 StopTransactionOnEVSideDisconnect)."""
        port = self.port(connector)
        if not port.plugged:
            return
        self._advance(port)
        port.plugged = False
        port.meter.unplug()
        port.ev = None
        if port.tx is not None:
            if self.config.stop_transaction_on_ev_side_disconnect is not False:
                await self.stop_transaction(port, "EVDisconnected")
            else:
                await self.set_status(port, _S.suspended_ev)  # C4: waits for the EV to return
            return
        self._cancel_timeout(port)
        if port.status in (_S.preparing, _S.finishing):
            port.authorized_tag = None
            await self.settle(port)

    async def present_id_tag(self, tag: str, connector: int | None = None) -> bool:
        """An RFID card is presented: stops the own transaction, else authorizes and starts
        (or waits for the plug). Returns whether the tag was accepted."""
        port = self._port_for_tag(tag, connector)
        if port is None:
            return False
        if port.tx is not None:
            if port.tx.id_tag != tag and not await self.authorize(tag):
                return False
            await self.stop_transaction(port, "Local", tag)
            return True
        if not await self.authorize(tag):
            return False
        if port.plugged:
            await self.start_transaction(port, tag)
        else:
            port.authorized_tag = tag
            await self.prepare(port)
        return True

    def _port_for_tag(self, tag: str, connector: int | None) -> Port | None:
        if connector is not None:
            return self.port(connector)
        candidates = (
            [p for p in self.ports if p.tx and p.tx.id_tag == tag]
            + [p for p in self.ports if p.tx is None and p.plugged and p.status is _S.preparing]
            + [p for p in self.ports if p.tx is None and p.status is _S.available]
        )
        return candidates[0] if candidates else None

    async def ev_full(self, connector: int = 1) -> None:
        """The EV's battery reached its target: SuspendedEV (C4)."""
        port = self.port(connector)
        self._advance(port)
        if port.ev is not None:
            port.ev.soc = port.ev.target_soc
        await self._sync_energized(port)

    async def fault(self, connector: int, error_code: str = "OtherError") -> None:
        """A fault prevents charging (A9..H9); connector 0 faults the whole charge point."""
        code = ChargePointErrorCode(error_code)
        if connector == 0:
            await self.set_status(self.connector0, _S.faulted, code)
            return
        port = self.port(connector)
        self._advance(port)
        port.meter.open_contactor()
        await self.set_status(port, _S.faulted, code)

    async def clear_fault(self, connector: int) -> None:
        """The fault is resolved: back to the pre-fault state (I1..I8)."""
        conn = self.connector0 if connector == 0 else self.port(connector).connector
        back = conn.pre_fault_status or _S.available
        if connector != 0 and self.port(connector).tx is not None:
            self.port(connector).meter.close_contactor()
        await self.set_status(conn, back)

    async def go_offline(self) -> None:
        """Drop the connection and stay offline until `go_online()`."""
        assert self._online_wanted is not None
        self._online_wanted.clear()
        if self.session is not None:
            await self.session.close()

    async def go_online(self) -> None:
        """Allow reconnecting (at once, no back-off)."""
        assert self._online_wanted is not None
        self._online_wanted.set()

    async def power_loss(self) -> None:
        """Power is cut and comes back: open transactions end with reason PowerLoss (queued
        for delivery after the reboot), volatile state is lost, the charge point boots again."""
        for port in self.ports:
            if port.tx is not None:
                tx, port.tx = port.tx, None
                if tx.sampler is not None:
                    tx.sampler.cancel()
                self._advance(port)
                port.meter.open_contactor()
                self.queue.put("StopTransaction", {
                    "transactionId": tx.local_id, "meterStop": port.meter.meter_wh,
                    "timestamp": iso(self.clock.now()), "reason": "PowerLoss",
                }, local_tx=tx.local_id)
        self._reboot = "PowerLoss"
        if self.session is not None:
            await self.session.close()

    def snapshot(self) -> dict[str, Any]:
        """Where each connector is, for summaries and assertions."""
        return {
            "id": self.id, "registration": self.registration, "online": self.online,
            "queued": len(self.queue),
            "connectors": {p.id: p.status.value for p in self.ports},
            "transactions": {p.id: p.tx.local_id for p in self.ports if p.tx},
        }

    def now(self) -> datetime:
        return self.clock.now()
