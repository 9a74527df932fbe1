"""One virtual charge point: the composition root of the simulator's parts.

Build it from a libocpp configuration (`sim.config.ChargePointConfig`) and a hardware section
(`sim.hardware.Hardware`), `await cp.start()`, `await cp.wait_booted()`, then drive it the way a
user or a fault would (`sim.control`: `plug_in()`, `present_id_tag()`, `ev_full()`, `fault()`,
`plug_out()`, `go_offline()` / `go_online()`, `power_loss()`). `await cp.stop()` stops open
transactions and leaves the transaction queue on disk.

Where the behaviour lives: `sim.features.online` (connection loop, boot, heartbeat),
`sim.features.transactions` (transactions and meter values), `sim.features.core` (Core
commands) and `sim.features.wiring`, which holds the per-charge-point objects of every other
feature profile (local list, reservations, smart charging, firmware, diagnostics, security) as
`cp.features`.
Every connector status change goes through `sim.connector.Connector` and is sent as a
StatusNotification (1.6 §4.9); every transaction-related message goes through
`sim.offline_queue.OfflineQueue` (1.6 §3.7).

Which handler answers a CSMS CALL is the table of the version agreed in the handshake
(`sim.dispatch`, `sim.v16.handlers`), shared by every charge point; the registration guard of
1.6 §4.2 applies to all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from chargebench.clock import Clock, iso
from chargebench.ocppj import CallFailed, OcppVersion
from chargebench.trace import TraceRecord
from sim import dispatch, tasks
from sim.config import ChargePointConfig
from sim.connector import Connector, ConnectorError, ConnectorStatus
from sim.control import ControlSurface
from sim.ev import EV
from sim.features import auth, lock, online, reserving, transactions, wiring
from sim.features.connection import Link, LinkedSender, TlsFiles
from sim.features.faults import FaultPlan
from sim.features.transactions import Port, Transaction
from sim.hardware import Hardware
from sim.offline_queue import OfflineQueue, QueuedMessage
from sim.v16.local_list import LocalAuthorization

__all__ = ["ChargePoint", "Port", "Transaction"]


class ChargePoint(LinkedSender, ControlSurface):
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
        fault_plan: FaultPlan | None = None,
    ) -> None:
        """`csms_url` overrides CentralSystemURI (the ChargePointId is appended); `state_dir`
        keeps the transaction queue, local authorization, reservations, profiles, certificates
        and the message log across restarts; `ev_factory(n)` makes the EV plugged into
        connector n (default: a 60 kWh EV at 20 %); `fault_plan` makes it misbehave
        (`sim.features.faults`)."""
        self.config = config
        self.id: str = config.charge_point_id
        n = config.number_of_connectors or (hardware.connectors if hardware else 1)
        self.hardware = hardware or Hardware(connectors=n)
        self.clock = clock or Clock()
        self.csms_url = csms_url
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.trace_sink = trace_sink
        self.tls, self.ssl_context = tls, ssl_context
        self.ev_factory = ev_factory or _default_ev
        self.rng = rng or random.Random()
        self.call_timeout = call_timeout
        self.fault_plan = fault_plan
        self.connector0 = Connector(0)
        self.ports = [Port(i, self.hardware) for i in range(1, n + 1)]
        self.queue = OfflineQueue(
            self.state_dir,
            attempts=lambda: config.transaction_message_attempts or 1,
            retry_interval=lambda: config.transaction_message_retry_interval or 10,
            sleep=self.clock.sleep,
            on_delivered=self._on_delivered,
        )
        #: the connection lifecycle (session, registration, reconnects...): changed by
        #: `sim.features.online`, asked by the control surface
        self.link = Link(self.handlers_for(dispatch.versions()[0]))
        #: StatusNotifications not sent while offline, and what the CSMS last heard per
        #: connector (1.6 §4.9 "after having been offline")
        self._missed: list[Any] = []
        self._reported: dict[int, tuple[ConnectorStatus, ConnectorError]] = {}
        self._drain: asyncio.Task | None = None
        # a list: a set that once held five tasks keeps a 32-slot table (0.7 kB) for good
        self._tasks: list[asyncio.Task] = []
        #: the one ordered sender of our CALLs (`send`), made on first use
        self._sender: asyncio.Lock | None = None
        lock.configure(config, self.hardware)
        config.subscribe(self._config_changed)
        self.features: wiring.Features = wiring.attach(self)

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on: connect, boot and keep the connection up (in a background task)."""
        link = self.link
        link.online_wanted.set()
        link.booted.clear()
        link.stopping = False
        link.main = tasks.background(online.run(self), self.id)

    async def wait_booted(self, timeout: float | None = None) -> None:
        """Wait until the CSMS accepted our BootNotification (1.6 §4.2)."""
        assert self.link.main is not None, "call start() first"
        async with asyncio.timeout(timeout):
            await self.link.booted.wait()

    async def stop(self) -> None:
        """Shut down: stop open transactions (reason Other), deliver what can be
        delivered quickly, close the connection; undelivered messages stay on disk."""
        for port in self.ports:
            if port.tx is not None:
                await transactions.stop(self, port, "Other")
        if self.link.online and self.queue:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    drain = self.flush_queue()
                    if drain is not None:
                        await drain
        self.link.stopping = True
        self.features.close()
        await self._shutdown_tasks()
        self.queue.close()

    async def _shutdown_tasks(self) -> None:
        link = self.link
        tasks = [t for t in (link.main, link.ticker, self._drain, *self._tasks) if t]
        for port in self.ports:
            tasks.extend(port.tasks())
        current = asyncio.current_task()
        tasks = [t for t in tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        if link.session is not None:
            with contextlib.suppress(Exception):
                await link.session.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    def spawn(self, coro: Coroutine) -> asyncio.Task:
        """Run `coro` in the background; it is cancelled by `stop()`. Its outcome is always
        collected here: a failure is logged once under this charge point's id, never left as
        "Task exception was never retrieved"."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task) -> None:
        self._tasks.remove(task)
        tasks.reap(task, self.id)

    def request_reboot(self, reason: str) -> None:
        """Close the connection and boot again (Reset, power loss)."""
        link = self.link
        link.reboot_reason = reason
        if link.session is not None:
            self.spawn(link.session.close())

    def handlers_for(self, version: OcppVersion) -> dispatch.HandlerTable:
        """The handler table of `version`, bound to this charge point (`sim.dispatch`)."""
        return dispatch.HandlerTable(self, version)

    def _config_changed(self, key: str, _value: Any) -> None:
        link = self.link
        if key in ("HeartbeatInterval", "ClockAlignedDataInterval") and link.ticker:
            online.stop_ticker(link)
            if link.session is not None:
                online.restart_ticker(self)

    # Sending ---------------------------------------------------------------------------------

    async def notify(self, change: Any) -> None:
        """StatusNotification for a change. Offline it is kept for `announce_missed()`, which
        the connection loop calls after a reconnect without reboot (a reboot announces every
        connector anyway, errata 3.22)."""
        session = self.link.session
        if session is None or not self.link.accepted:
            self._missed.append(change)
            return
        payload = change.to_payload()
        payload["timestamp"] = iso(change.timestamp or self.clock.now())
        with contextlib.suppress(CallFailed):
            await self.send(session, "StatusNotification", payload)
            self._reported[change.connector_id] = (change.status, change.error_code)

    async def announce_missed(self) -> None:
        """After a reconnect, tell the CSMS what changed while offline (1.6 §4.9): the current
        status of each connector whose status changed (rule 1, SHOULD), and errors that came
        and went (rule 2, MAY), no other historical change (rule 3), in the order they
        happened (rule 4)."""
        missed, self._missed = self._missed, []
        current = {c.connector_id: c for c in (self.connector0, *(p.connector for p in self.ports))}
        latest = {change.connector_id: change for change in missed}
        due = [change for change in missed
               if change.error_code != ConnectorError.no_error
               and change is not latest[change.connector_id]]
        for connector_id, change in latest.items():
            connector = current.get(connector_id)
            if connector is None:
                continue
            now = (connector.status, connector.error_code)
            errors = any(c.connector_id == connector_id for c in due)
            if errors or self._reported.get(connector_id) != now:  # never end on a past error
                due.append(connector.snapshot(change.timestamp or self.clock.now()))
        due.sort(key=lambda change: change.timestamp or self.clock.now())
        for change in due:
            await self.notify(change)

    def forget_missed(self) -> None:
        """A reboot announces every connector (errata 3.22): nothing missed remains to tell."""
        self._missed.clear()

    async def set_status(
        self, port: Port | Connector, status: ConnectorStatus,
        error_code: ConnectorError = ConnectorError.no_error,
    ) -> None:
        """Move a connector through its state machine and notify the CSMS (1.6 §4.9)."""
        connector = port.connector if isinstance(port, Port) else port
        if connector.status == status and connector.error_code == error_code:
            return
        change = connector.transition(status, error_code, timestamp=self.clock.now())
        if status in (ConnectorStatus.faulted, ConnectorStatus.unavailable):
            reserving.release(self, connector.connector_id)  # 1.6 §5.13 (3)
        await self.notify(change)

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
            self._drain = self.spawn(self.queue.deliver(self.call))
            self._drain.add_done_callback(self._drained)
        return self._drain

    def _drained(self, task: asyncio.Task) -> None:
        # a finished delivery task keeps its coroutine frame: not worth 0.3 kB per charger
        if self._drain is task:
            self._drain = None

    def _on_delivered(self, msg: QueuedMessage, reply: dict | None) -> None:
        transactions.on_delivered(self, msg, reply)

    # Authorization -----------------------------------------------------------------------------

    @property
    def auth(self) -> LocalAuthorization:
        """Local authorization: the Local Authorization List and the Authorization Cache."""
        return self.features.auth

    async def authorize(self, id_tag: str) -> bool:
        """1.6 §4.1 / §3.5: Authorize online (or pre-authorize from the list/cache); offline
        rules otherwise."""
        now = self.clock.now()
        if auth.pre_authorized(self.config, self.auth, id_tag, now):
            return True
        if self.online:
            try:
                reply = await self.call("Authorize", {"idTag": id_tag})
            except CallFailed:
                return auth.offline_decision(self.config, self.auth, id_tag, now)
            self.remember_tag(id_tag, reply["idTagInfo"])
            return reply["idTagInfo"]["status"] == auth.ACCEPTED
        return auth.offline_decision(self.config, self.auth, id_tag, now)

    def remember_tag(self, id_tag: str, id_tag_info: dict) -> None:
        """Keep the IdTagInfo the CSMS sent (1.6 §3.5.1); a contradiction of the local list
        is reported as LocalListConflict (§3.5.2)."""
        self.auth.remember(id_tag, id_tag_info)

    # Transactions (the flows live in sim.features.transactions) --------------------------------

    async def start_transaction(self, port: Port, id_tag: str) -> Transaction | None:
        """1.6 §4.8: start charging on `port` for `id_tag` (queued when offline)."""
        return await transactions.start(self, port, id_tag)

    async def stop_transaction(self, port: Port, reason: str, id_tag: str | None = None) -> None:
        """1.6 §4.10: stop the transaction on `port` (no-op when none runs)."""
        await transactions.stop(self, port, reason, id_tag)

    async def settle(self, port: Port) -> None:
        """The status after a transaction or a cancelled preparation (Finishing, Available,
        Reserved or Unavailable: `sim.features.transactions.settle`)."""
        await transactions.settle(self, port)

    # Observing -------------------------------------------------------------------------------

    def port(self, connector: int) -> Port:
        """Connector `connector` (1-based)."""
        if not 1 <= connector <= len(self.ports):
            raise ValueError(f"{self.id} has no connector {connector}")
        return self.ports[connector - 1]

    def snapshot(self) -> dict[str, Any]:
        """Where each connector is, for summaries and assertions."""
        return {
            "id": self.id, "registration": self.registration, "online": self.online,
            "queued": len(self.queue),
            "connectors": {p.id: p.status.value for p in self.ports},
            "transactions": {p.id: p.tx.local_id for p in self.ports if p.tx},
            "locked": {p.id: p.lock.locked for p in self.ports},
        }

    def now(self) -> datetime:
        return self.clock.now()


def _default_ev(_connector: int) -> EV:
    return EV()
