"""Transactions and their meter values on the charge point side.

1.6 §4.8 StartTransaction, §4.10 StopTransaction (with transactionData), §3.16.1 sampled and
§3.16.2 clock-aligned meter values, the Preparing state with ConnectionTimeOut, and what a
StartTransaction.conf that is not Accepted does (§3.5.4). Every transaction-related message goes
through the charge point's offline queue (§3.7), so order and retries hold online and offline.

Functions take the charge point as their first argument, like the handlers of `core`: a fleet of
10 000 charge points shares this code instead of holding a bound object per charge point. The
charge point gives them its ports, clock, config, queue, `spawn`, `set_status` and `enqueue`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chargebench.clock import iso
from chargebench.ocppj import CallFailed
from sim.connector import Connector, ConnectorError, ConnectorStatus
from sim.ev import EV, Meter
from sim.features import limits, lock, reserving
from sim.features.auth import ACCEPTED
from sim.features.context import Clocked, LimitsContext, SmartFeatures, StatusSetter, TransactionIds
from sim.features.metering import TransactionMeter, aligned_instant, meter_value
from sim.features.reserving import ReservationFeatures, ReservingContext
from sim.hardware import Hardware
from sim.measures import ReadingContext

if TYPE_CHECKING:
    from sim.offline_queue import QueuedMessage

__all__ = ["Port", "Transaction", "TransactionsContext", "port_of_csms_tx", "prepare", "settle",
           "start", "stop"]

_S = ConnectorStatus
#: room left in MaxMessageSize for the rest of StopTransaction.req and its frame
_STOP_ENVELOPE = 1000


@dataclass(slots=True)
class Transaction:
    """A transaction as the charge point knows it; `local_id` until the CSMS's id is known."""

    local_id: int
    id_tag: str
    connector_id: int
    meter_start: int
    #: the StartTransaction.req timestamp: where Relative charging schedules begin (7.13)
    began: datetime
    meter: TransactionMeter = field(default_factory=TransactionMeter)
    #: the timer of the next periodic sample (a handle, not a task: see Clock.call_later)
    sampler: asyncio.Handle | None = None


class Port:
    """One connector: its status machine, meter, cable lock, plug and transaction state."""

    __slots__ = (
        "authorized_tag", "connector", "ev", "last_advance", "lock", "meter", "operative",
        "plugged", "scheduled_operative", "timeout", "tx",
    )

    def __init__(self, connector_id: int, hardware: Hardware) -> None:
        self.connector = Connector(connector_id)
        self.meter = Meter(hardware)
        self.lock = lock.ConnectorLock(hardware)
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
    def status(self) -> ConnectorStatus:
        return self.connector.status

    def tasks(self) -> list[asyncio.Task]:
        """Stop this connector's background work (the charge point stops): the sample timer
        is cancelled here, the tasks returned are for the caller to cancel and await."""
        if self.tx is not None and self.tx.sampler is not None:
            self.tx.sampler.cancel()
        return [self.timeout] if self.timeout else []


class TransactionFeatures(SmartFeatures, ReservationFeatures, Protocol):
    """The profile store and the reservations a transaction consults, and their timers."""


class TransactionQueue(TransactionIds, Protocol):
    """The offline queue (1.6 §3.7) as the transaction flow uses it."""

    def new_local_tx(self) -> int: ...

    def put(self, action: str, payload: dict, *, local_tx: int | None = None
            ) -> QueuedMessage: ...

    def csms_tx_id(self, local_tx: int | None) -> int | None: ...


class TransactionsContext(LimitsContext, ReservingContext, Protocol):
    """What the transaction flow uses: what smart charging and reservations use (a transaction
    starts and ends both), the offline queue and the transaction-related sending through it
    (`enqueue`, `send_transactional`), and `remember_tag` for the IdTagInfo replies."""

    @property
    def features(self) -> TransactionFeatures: ...

    @property
    def queue(self) -> TransactionQueue: ...

    def enqueue(self, action: str, payload: dict, local_tx: int | None) -> QueuedMessage: ...

    async def send_transactional(self, action: str, payload: dict, local_tx: int
                                 ) -> dict | None: ...


# Start and stop ------------------------------------------------------------------------------


async def start(ctx: TransactionsContext, port: Port, id_tag: str) -> Transaction | None:
    """1.6 §4.8: lock the cable, energize and send StartTransaction (queued when offline).
    A jammed cable lock starts nothing: Faulted with ConnectorLockFailure (§4.9, §7.6)."""
    cancel_timeout(port)
    port.authorized_tag = None
    if port.lock.present and port.lock.jammed:
        await ctx.set_status(port, _S.faulted, ConnectorError.connector_lock_failure)
        return None
    if port.status in (_S.finishing, _S.reserved):
        # F2: ConnectionTimeOut expired while the tag was being authorized, the user restarts
        # the session; G2: the reservation's identity is presented. Neither may go straight to
        # Charging in the §4.9 table.
        await ctx.set_status(port, _S.preparing)
    reservation_id = reserving.claim(ctx, port, id_tag)
    advance(ctx, port)
    tx = Transaction(ctx.queue.new_local_tx(), id_tag, port.id, port.meter.meter_wh,
                     ctx.clock.now(), transaction_meter(ctx))
    port.tx = tx
    port.lock.engage()
    port.meter.close_contactor()
    tx.meter.keep(reading(ctx, port, ctx.config.stop_txn_sampled_data,
                          ReadingContext.transaction_begin))
    payload = {
        "connectorId": port.id, "idTag": id_tag, "meterStart": tx.meter_start,
        "timestamp": iso(tx.began),
    }
    if reservation_id is not None:
        payload["reservationId"] = reservation_id  # §5.13 (1)
    await ctx.send_transactional("StartTransaction", payload, tx.local_id)
    if port.tx is tx:
        limits.started(ctx, port)  # after StartTransaction.req: Charging follows it
        await sync_energized(ctx, port)
        _schedule_sample(ctx, port, tx)
    return tx


async def stop(ctx: TransactionsContext, port: Port, reason: str, id_tag: str | None = None
               ) -> None:
    """1.6 §4.10: de-energize, send StopTransaction with transactionData, release the cable
    lock as the reason allows (§4.10 UnlockConnectorOnEVSideDisconnect), then Finishing
    (user action still needed) or Available/Unavailable."""
    tx = _end(ctx, port)
    if tx is None:
        return
    tx.meter.end(reading(ctx, port, ctx.config.stop_txn_sampled_data,
                         ReadingContext.transaction_end))
    payload = _stop_payload(ctx, port, tx, reason)
    if id_tag:
        payload["idTag"] = id_tag
    if tx.meter:
        payload["transactionData"] = tx.meter.data
    lock.after_stop(ctx.config, port, reason, tx.id_tag)
    await ctx.send_transactional("StopTransaction", payload, tx.local_id)
    await settle(ctx, port)


def cut_power(ctx: TransactionsContext, port: Port) -> None:
    """Power loss: the transaction ends with reason PowerLoss, queued for after the reboot."""
    tx = _end(ctx, port)
    if tx is not None:
        ctx.queue.put("StopTransaction", _stop_payload(ctx, port, tx, "PowerLoss"),
                     local_tx=tx.local_id)


def _end(ctx: TransactionsContext, port: Port) -> Transaction | None:
    """Detach the transaction from the connector and de-energize it."""
    tx, port.tx = port.tx, None
    if tx is None:
        return None
    if tx.sampler is not None:
        tx.sampler.cancel()
    advance(ctx, port)
    port.meter.open_contactor()
    port.meter.set_limit()
    limits.stopped(ctx, port)
    return tx


def transaction_meter(ctx: TransactionsContext) -> TransactionMeter:
    """The transactionData buffer of a new transaction, bounded as the config says: at most
    StopTxnDataMaxReadings readings, encoded within MaxMessageSize less the envelope."""
    config = ctx.config
    return TransactionMeter(config.stop_txn_data_max_readings or 48,
                            (config.max_message_size or 65000) - _STOP_ENVELOPE)


def _stop_payload(ctx: TransactionsContext, port: Port, tx: Transaction, reason: str
                  ) -> dict[str, Any]:
    return {"transactionId": tx.local_id, "meterStop": port.meter.meter_wh,
            "timestamp": iso(ctx.clock.now()), "reason": reason}


async def settle(ctx: TransactionsContext, port: Port) -> None:
    """Status after a transaction or a cancelled preparation: Finishing while the cable is
    plugged or kept locked for its user, else Available; Unavailable when a ChangeAvailability
    was scheduled (C8/F8; from Preparing through Available, B1 then A8: §4.9 has no B8)."""
    if port.scheduled_operative is not None and port.tx is None:
        port.operative, port.scheduled_operative = port.scheduled_operative, None
    if not port.operative and port.status is not _S.preparing:
        await ctx.set_status(port, _S.unavailable)
    elif port.plugged or (port.lock.locked and port.lock.held_for is not None):
        # §4.10 UnlockConnectorOnEVSideDisconnect false: the cable stays locked for its user,
        # so the connector is not available to a new one until that user unlocks it
        await ctx.set_status(port, _S.finishing)
    else:
        await reserving.rest(ctx, port)


async def sync_energized(ctx: StatusSetter, port: Port) -> None:
    """Charging / SuspendedEV / SuspendedEVSE as the meter says (1.6 §4.9)."""
    if port.tx is None or port.status is _S.faulted:
        return
    status = port.meter.charging_status() or _S.suspended_ev
    await ctx.set_status(port, status)


def on_delivered(ctx: TransactionsContext, msg: QueuedMessage, reply: dict | None) -> None:
    """Act on the reply to a queued message (or on its being skipped, reply None)."""
    if reply is None or "idTagInfo" not in reply:
        return
    if msg.action == "StartTransaction":
        port = next((p for p in ctx.ports if p.tx and p.tx.local_id == msg.local_tx), None)
        if port is not None:  # TxProfiles may now name the transactionId (§5.16.2)
            limits.started(ctx, port)
    info = reply["idTagInfo"]
    tag = msg.payload.get("idTag")
    if tag:
        ctx.remember_tag(tag, info)
    if msg.action == "StartTransaction" and info.get("status") != ACCEPTED:
        port = next((p for p in ctx.ports if p.tx and p.tx.local_id == msg.local_tx), None)
        if port is not None:
            # 1.6 §3.5.4 / §4.8: transaction not accepted while it runs
            ctx.spawn(_deauthorize(ctx, port))


async def _deauthorize(ctx: TransactionsContext, port: Port) -> None:
    if ctx.config.stop_transaction_on_invalid_id:
        await stop(ctx, port, "DeAuthorized")
    else:  # only stop energy delivery (C5)
        port.meter.set_limit(amps=0, watts=0)
        await sync_energized(ctx, port)


def port_of_csms_tx(ctx: TransactionsContext, transaction_id: int) -> Port | None:
    """The connector running the transaction the CSMS calls `transaction_id`."""
    for port in ctx.ports:
        if port.tx and ctx.queue.csms_tx_id(port.tx.local_id) == transaction_id:
            return port
    return None


# Meter values --------------------------------------------------------------------------------


def advance(ctx: Clocked, port: Port) -> None:
    """Let the meter catch up with simulated time."""
    now = ctx.clock.monotonic()
    port.meter.advance(max(0.0, now - port.last_advance))
    port.last_advance = now


def reading(ctx: Clocked, port: Port, measurands: list[str] | None, context: str,
            at: datetime | None = None) -> dict | None:
    """One MeterValue of `measurands` now (stamped `at` when given), or None when none are
    configured."""
    if not measurands:
        return None
    return meter_value(port.meter, measurands, context, at or ctx.clock.now())


def _schedule_sample(ctx: TransactionsContext, port: Port, tx: Transaction) -> None:
    """1.6 §3.16.1: MeterValues every MeterValueSampleInterval seconds of the transaction
    (read again each time, so a ChangeConfiguration applies from the next sample)."""
    interval = ctx.config.meter_value_sample_interval or 0
    tx.sampler = None
    if interval > 0 and port.tx is tx:
        tx.sampler = ctx.clock.call_later(interval, _sample_due, ctx, port, tx)


def _sample_due(ctx: TransactionsContext, port: Port, tx: Transaction) -> None:
    tx.sampler = None
    if port.tx is tx:
        ctx.spawn(_sample(ctx, port, tx))


async def _sample(ctx: TransactionsContext, port: Port, tx: Transaction) -> None:
    config = ctx.config
    if port.tx is tx:
        advance(ctx, port)
        sampled = reading(ctx, port, config.meter_values_sampled_data,
                          ReadingContext.sample_periodic)
        if sampled is not None:
            payload = {"connectorId": port.id, "transactionId": tx.local_id,
                       "meterValue": [sampled]}
            ctx.enqueue("MeterValues", payload, tx.local_id)
        tx.meter.keep(reading(ctx, port, config.stop_txn_sampled_data,
                              ReadingContext.sample_periodic))
        await sync_energized(ctx, port)
        _schedule_sample(ctx, port, tx)


def aligned_sample(ctx: TransactionsContext) -> None:
    """1.6 §3.16.2: clock-aligned values; transaction-related ones go through the queue,
    the others are sent only when online (nothing to deliver later)."""
    config = ctx.config
    # stamped with the boundary they stand for, not the moment the timer ran
    at = aligned_instant(ctx.clock.now(), config.clock_aligned_data_interval or 1)
    for port in ctx.ports:
        advance(ctx, port)
        tx = port.tx
        aligned = reading(ctx, port, config.meter_values_aligned_data,
                          ReadingContext.sample_clock, at)
        if tx is not None:
            tx.meter.keep(reading(ctx, port, config.stop_txn_aligned_data,
                                  ReadingContext.sample_clock, at))
            if aligned is not None:
                ctx.enqueue("MeterValues", {"connectorId": port.id, "transactionId": tx.local_id,
                                           "meterValue": [aligned]}, tx.local_id)
        elif aligned is not None and ctx.online:
            ctx.spawn(_call_quietly(ctx, "MeterValues",
                                   {"connectorId": port.id, "meterValue": [aligned]}))


async def _call_quietly(ctx: TransactionsContext, action: str, payload: dict) -> None:
    with contextlib.suppress(CallFailed):
        await ctx.call(action, payload)


# Preparation and ConnectionTimeOut -----------------------------------------------------------


async def prepare(ctx: TransactionsContext, port: Port) -> None:
    """Usage initiated (A2): Preparing, and wait ConnectionTimeOut for the other half."""
    await ctx.set_status(port, _S.preparing)
    cancel_timeout(port)
    timeout = ctx.config.connection_timeout or 0
    if timeout > 0:
        port.timeout = ctx.spawn(_expire_preparation(ctx, port, timeout))


async def _expire_preparation(ctx: TransactionsContext, port: Port, timeout: float) -> None:
    await ctx.clock.sleep(timeout)
    port.timeout = None
    if port.tx is None and port.status is _S.preparing:
        port.authorized_tag = None
        limits.stopped(ctx, port)  # a remote start's TxProfile goes with it
        # B1 (tag first, no cable) / B6 (cable in, no tag: errata 3.20)
        if port.plugged:
            await ctx.set_status(port, _S.finishing)
        else:
            await reserving.rest(ctx, port)


def cancel_timeout(port: Port) -> None:
    """Forget a pending ConnectionTimeOut (the other half of the preparation happened)."""
    if port.timeout is not None and port.timeout is not asyncio.current_task():
        port.timeout.cancel()
    port.timeout = None
