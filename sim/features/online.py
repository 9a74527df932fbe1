"""Being online: connect with back-off, boot, announce, tick, reboot (1.6 §4.2, §4.6, §3.16.2).

`run(ctx)` is the charge point's one long-lived task: it connects (security profile and back-off
from `connection`), boots until Accepted, announces every connector (errata 3.22), delivers the
offline queue and runs one ticker per connection for Heartbeat and clock-aligned meter values.
An idle charge point therefore costs one connection, its reader task, this task and the ticker.
What the loop changes lives in the charge point's `Link` (`ctx.link`); the rest it reads
through `OnlineContext`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.ocppj import (
    CallErrorReply,
    CallFailed,
    CallTimeout,
    ConnectionLost,
    OcppSession,
    OcppVersion,
    Role,
    Session,
    connect,
)
from chargebench.ocppj.versions import version_for
from chargebench.trace import make_tracer
from sim import dispatch
from sim.connector import Connector, ConnectorStatus
from sim.features import connection, security, transactions, wiring
from sim.features.connection import Handlers, Link
from sim.features.context import Configured, Equipped
from sim.features.metering import seconds_to_next_aligned
from sim.features.security import SecurityContext, SecurityFeatures
from sim.features.transactions import (
    TransactionFeatures,
    TransactionQueue,
    TransactionsContext,
)

if TYPE_CHECKING:
    from sim.connector import StatusChange

log = logging.getLogger(__name__)

_S = ConnectorStatus
#: BootNotification.conf interval 0: "the Charge Point chooses a waiting interval" (1.6 §4.2).
DEFAULT_BOOT_RETRY = 30
#: ValueError: the security profile's credentials are missing (no CA, no client certificate)
_CONNECT_ERRORS = (OSError, InvalidHandshake, InvalidStatus, TimeoutError, ConnectionError,
                   ValueError)


class OnlineFeatures(TransactionFeatures, SecurityFeatures, wiring.TraceFeatures, Protocol):
    """The feature objects the connection loop reaches (through the transaction flow, the
    connection's security and the charge point's own message log)."""


class OnlineQueue(TransactionQueue, Protocol):
    """The transaction queue, as far as a lost connection concerns it (1.6 §3.7)."""

    def defer_all(self) -> None: ...


class OnlineContext(TransactionsContext, SecurityContext, wiring.TraceSource, Equipped,
                    Protocol):
    """What the connection loop uses: the `Link` it changes; who the charge point is and how
    it connects (configuration, security, the CSMS URL, randomness for the back-off, the
    call timeout); its handler table per version; the one ordered sender and the
    StatusNotifications missed while offline; the transaction queue to deliver or defer; the
    connectors to announce and reset on a reboot."""

    @property
    def link(self) -> Link: ...

    @property
    def id(self) -> str: ...

    @property
    def rng(self) -> random.Random: ...

    @property
    def call_timeout(self) -> float: ...

    @property
    def connector0(self) -> Connector: ...

    @property
    def features(self) -> OnlineFeatures: ...

    @property
    def queue(self) -> OnlineQueue: ...

    def handlers_for(self, version: OcppVersion) -> Handlers: ...

    async def send(self, session: Session, action: str, payload: dict) -> dict: ...

    async def notify(self, change: StatusChange) -> None: ...

    async def announce_missed(self) -> None: ...

    def forget_missed(self) -> None: ...

    def flush_queue(self) -> asyncio.Task | None: ...


async def run(ctx: OnlineContext) -> None:
    """Connect, stay online while wanted, reconnect with back-off, reboot when asked."""
    link = ctx.link
    attempt = 0
    security.security_event(ctx, "StartupOfTheDevice")  # whitepaper §8
    while not link.stopping:
        await link.online_wanted.wait()
        try:
            ws = await connect(connection.endpoint(ctx.config, ctx.csms_url),
                               subprotocols=dispatch.subprotocols(),
                               **security.connect_options(ctx))
        except _CONNECT_ERRORS as e:
            attempt += 1
            log.debug("%s: connect failed (%s), attempt %d", ctx.id, e, attempt)
            link.failure = connection.failure_reason(e)
            attempted(link)
            security.connect_failed(ctx, e)
            await ctx.clock.sleep(connection.backoff_delay(ctx.config, attempt, ctx.rng))
            continue
        attempt = 0
        # nothing reads the handshake's headers again, and they are 3 kB a charger in a fleet
        # (websockets keeps `response` itself: it marks the handshake as done)
        ws.request = None
        if ws.response is not None:  # set by the handshake that just succeeded
            ws.response.headers.clear()
        link.connects += 1
        security.connected(ctx, ws)
        try:
            await _online(ctx, ws)
        except Exception:  # our bug: logged, and the charger reconnects instead of dying
            log.exception("%s: connection failed unexpectedly; reconnecting", ctx.id)
            with contextlib.suppress(Exception):
                await ws.close(1011, "internal error")
        if link.reboot_reason is not None:
            power_cycle(ctx)
        elif not link.stopping and link.online_wanted.is_set():
            # connection dropped by the network or the CSMS: back off before reconnecting
            attempt = 1
            await ctx.clock.sleep(connection.backoff_delay(ctx.config, attempt, ctx.rng))


async def _online(ctx: OnlineContext, ws: Any) -> None:
    """One connection: boot if this power cycle has not been accepted yet, announce the
    connector statuses, deliver the queue, keep the ticker until the connection ends."""
    link = ctx.link
    tracer = None
    sink = wiring.trace_sink(ctx)
    if sink is not None:
        tracer = make_tracer(sink, ctx.id, secrets.token_hex(4), ctx.clock.now)
    version = version_for(getattr(ws, "subprotocol", None))  # the one agreed (OCPP-J 1.6 §3.2)
    core_session = OcppSession(
        Role.CHARGE_POINT, version=version,
        supported_profiles=dispatch.module_for(version).session_profiles(ctx.config),
        call_timeout=ctx.call_timeout, tracer=tracer,
    )
    link.handlers = ctx.handlers_for(version)
    session = Session(ws, core_session, link.handlers)
    reader = session.start()
    link.session = session
    try:
        if not link.accepted:
            await _boot(ctx, session)
        else:
            await ctx.announce_missed()  # 1.6 §4.9: a reconnect, not a reboot
        restart_ticker(ctx)
        ctx.flush_queue()
        ctx.spawn(security.deliver_events(ctx))  # A04.FR.02: what was raised while offline
        await reader
    except CallFailed as error:
        log.debug("%s: %s", ctx.id, error)
        if not link.accepted:
            link.failure = _boot_failure(error)
        await session.close()
    finally:
        if not link.accepted and link.failure is None:
            link.failure = "closed before BootNotification was accepted"
        attempted(link)
        link.session = None
        stop_ticker(link)
        ctx.queue.defer_all()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _boot(ctx: OnlineContext, session: Session) -> None:
    """1.6 §4.2: BootNotification until Accepted; Pending/Rejected wait `interval` first."""
    link = ctx.link
    while True:
        reply = await ctx.send(session, "BootNotification", boot_payload(ctx))
        link.registration = reply["status"]
        link.failure = None if link.accepted else f"boot {reply['status']}"
        attempted(link)
        if link.accepted:
            if reply["interval"] > 0:
                ctx.config.set_value("HeartbeatInterval", reply["interval"], persist=False)
            break
        # Rejected: SHALL NOT send anything until the interval expired, nor answer the CSMS
        # (the handler table stays silent); Pending: the CSMS may configure us meanwhile.
        await ctx.clock.sleep(reply["interval"] or DEFAULT_BOOT_RETRY)
    # errata 3.22: after an Accepted BootNotification, one StatusNotification per connector
    ctx.forget_missed()
    await ctx.notify(ctx.connector0.snapshot(ctx.clock.now()))
    for port in ctx.ports:
        await ctx.notify(port.connector.snapshot(ctx.clock.now()))
    link.booted.set()


class Ticking(TransactionsContext, Protocol):
    """What the ticker needs: the transaction flow's context (Heartbeat, aligned samples)
    and the `Link` holding the ticker's task."""

    @property
    def link(self) -> Link: ...


def restart_ticker(ctx: Ticking) -> None:
    """(Re)start the one Heartbeat / clock-aligned task of this connection (after a boot or
    reconnect, or a changed HeartbeatInterval / ClockAlignedDataInterval)."""
    stop_ticker(ctx.link)
    ctx.link.ticker = ctx.spawn(tick(ctx))


def stop_ticker(link: Link) -> None:
    if link.ticker is not None:
        link.ticker.cancel()
        link.ticker = None


class Paced(Protocol):
    """Who paces a fleet's handshakes waits on this callback (`Fleet.start`)."""

    on_attempt: Callable[[], None] | None


def attempted(ctx: Paced) -> None:
    """The first connection attempt of this start ended (booted, refused, failed): tell
    whoever paces the fleet's handshakes (`Fleet.start`), once."""
    callback, ctx.on_attempt = ctx.on_attempt, None
    if callback is not None:
        callback()


def _boot_failure(error: CallFailed) -> str:
    """Why BootNotification got no usable reply, as a short label."""
    if isinstance(error, CallErrorReply):
        return f"boot CALLERROR {error.code}"
    if isinstance(error, CallTimeout):
        return "boot: no reply in time"
    if isinstance(error, ConnectionLost):
        return "closed before BootNotification was accepted"
    return "boot: invalid reply"


class BootSource(Configured, Equipped, Protocol):
    """What BootNotification.req is made of: the configuration and the hardware."""


def boot_payload(ctx: BootSource) -> dict:
    """BootNotification.req (1.6 §6.3) from the configuration and the hardware's meter."""
    cfg = ctx.config
    payload = {
        "chargePointVendor": cfg.charge_point_vendor,
        "chargePointModel": cfg.charge_point_model,
        "chargeBoxSerialNumber": cfg.charge_box_serial_number,
        "chargePointSerialNumber": cfg.charge_point_serial_number,
        "firmwareVersion": cfg.firmware_version,
        "iccid": cfg.iccid,
        "imsi": cfg.imsi,
        "meterType": cfg.meter_type or ctx.hardware.meter_type,
        "meterSerialNumber": cfg.meter_serial_number or ctx.hardware.meter_serial,
    }
    return {key: value for key, value in payload.items() if value}


async def tick(ctx: TransactionsContext) -> None:
    """Heartbeat (1.6 §4.6) and clock-aligned meter values (§3.16.2) from one task."""
    clock, config = ctx.clock, ctx.config
    next_beat = clock.monotonic() + (config.heartbeat_interval or 0)
    aligned = config.clock_aligned_data_interval or 0
    next_aligned = clock.monotonic() + seconds_to_next_aligned(clock.now(), aligned) \
        if aligned > 0 else None
    while True:
        beat = config.heartbeat_interval or 0
        dues = [t for t in (next_beat if beat > 0 else None, next_aligned) if t is not None]
        if not dues:
            return
        await clock.sleep(min(dues) - clock.monotonic())
        now_mono = clock.monotonic()
        if next_aligned is not None and now_mono >= next_aligned - 1e-6:
            next_aligned += aligned
            transactions.aligned_sample(ctx)
        if beat > 0 and now_mono >= next_beat - 1e-6:
            next_beat = now_mono + beat
            with contextlib.suppress(CallFailed):
                await ctx.call("Heartbeat", {})


def power_cycle(ctx: OnlineContext) -> None:
    """Reboot: volatile state is lost, RebootRequired changes take effect (1.6 §5.3)."""
    link = ctx.link
    reason, link.reboot_reason = link.reboot_reason, None
    log.debug("%s: rebooting (%s)", ctx.id, reason)
    if reason != "PowerLoss":
        security.security_event(ctx, "ResetOrReboot", reason)
    security.security_event(ctx, "StartupOfTheDevice")
    ctx.config.apply_pending()
    link.registration = None
    link.booted.clear()
    for port in ctx.ports:
        if port.timeout is not None:
            port.timeout.cancel()
        port.authorized_tag = None
        operative = port.operative if port.scheduled_operative is None \
            else port.scheduled_operative
        port.operative, port.scheduled_operative = operative, None
        port.connector = Connector(port.id, _S.available if operative else _S.unavailable)
        if port.plugged and operative:
            port.connector = Connector(port.id, _S.preparing)
