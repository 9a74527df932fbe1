"""Being online: connect with back-off, boot, announce, tick, reboot (1.6 §4.2, §4.6, §3.16.2).

`run(cp)` is the charge point's one long-lived task: it connects (security profile and back-off
from `connection`), boots until Accepted, announces every connector (errata 3.22), delivers the
offline queue and runs one ticker per connection for Heartbeat and clock-aligned meter values.
An idle charge point therefore costs one connection, its reader task, this task and the ticker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ocpp.v16.enums import ChargePointStatus
from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.ocppj import (
    CallErrorReply,
    CallFailed,
    CallTimeout,
    ConnectionLost,
    OcppSession,
    Role,
    Session,
    connect,
)
from chargebench.ocppj.versions import version_for
from chargebench.trace import make_tracer
from sim import dispatch
from sim.connector import Connector
from sim.features import connection, security, transactions, wiring
from sim.features.context import Configured, Equipped
from sim.features.metering import seconds_to_next_aligned
from sim.features.transactions import TransactionsContext

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint

log = logging.getLogger(__name__)

_S = ChargePointStatus
#: BootNotification.conf interval 0: "the Charge Point chooses a waiting interval" (1.6 §4.2).
DEFAULT_BOOT_RETRY = 30
#: ValueError: the security profile's credentials are missing (no CA, no client certificate)
_CONNECT_ERRORS = (OSError, InvalidHandshake, InvalidStatus, TimeoutError, ConnectionError,
                   ValueError)


async def run(cp: ChargePoint) -> None:
    """Connect, stay online while wanted, reconnect with back-off, reboot when asked."""
    attempt = 0
    security.security_event(cp, "StartupOfTheDevice")  # whitepaper §8
    while not cp.stopping:
        await cp.online_wanted.wait()
        try:
            ws = await connect(connection.endpoint(cp.config, cp.csms_url),
                               subprotocols=dispatch.subprotocols(),
                               **security.connect_options(cp))
        except _CONNECT_ERRORS as e:
            attempt += 1
            log.debug("%s: connect failed (%s), attempt %d", cp.id, e, attempt)
            cp.failure = connection.failure_reason(e)
            attempted(cp)
            security.connect_failed(cp, e)
            await cp.clock.sleep(connection.backoff_delay(cp.config, attempt, cp.rng))
            continue
        attempt = 0
        # nothing reads the handshake's headers again, and they are 3 kB a charger in a fleet
        # (websockets keeps `response` itself: it marks the handshake as done)
        ws.request = None
        if ws.response is not None:  # set by the handshake that just succeeded
            ws.response.headers.clear()
        cp.connects += 1
        security.connected(cp, ws)
        try:
            await _online(cp, ws)
        except Exception:  # our bug: logged, and the charger reconnects instead of dying
            log.exception("%s: connection failed unexpectedly; reconnecting", cp.id)
            with contextlib.suppress(Exception):
                await ws.close(1011, "internal error")
        if cp.reboot_reason is not None:
            power_cycle(cp)
        elif not cp.stopping and cp.online_wanted.is_set():
            # connection dropped by the network or the CSMS: back off before reconnecting
            attempt = 1
            await cp.clock.sleep(connection.backoff_delay(cp.config, attempt, cp.rng))


async def _online(cp: ChargePoint, ws: Any) -> None:
    """One connection: boot if this power cycle has not been accepted yet, announce the
    connector statuses, deliver the queue, keep the ticker until the connection ends."""
    tracer = None
    sink = wiring.trace_sink(cp)
    if sink is not None:
        tracer = make_tracer(sink, cp.id, secrets.token_hex(4), cp.clock.now)
    version = version_for(getattr(ws, "subprotocol", None))  # the one agreed (OCPP-J 1.6 §3.2)
    core_session = OcppSession(
        Role.CHARGE_POINT, version=version,
        supported_profiles=dispatch.module_for(version).session_profiles(cp.config),
        call_timeout=cp.call_timeout, tracer=tracer,
    )
    cp.handlers = dispatch.HandlerTable(cp, version)
    session = Session(ws, core_session, cp.handlers)
    reader = session.start()
    cp.session = session
    try:
        if cp.registration != "Accepted":
            await _boot(cp, session)
        else:
            await cp.announce_missed()  # 1.6 §4.9: a reconnect, not a reboot
        cp.restart_ticker()
        cp.flush_queue()
        cp.spawn(security.deliver_events(cp))  # A04.FR.02: what was raised while offline
        await reader
    except CallFailed as error:
        log.debug("%s: %s", cp.id, error)
        if cp.registration != "Accepted":
            cp.failure = _boot_failure(error)
        await session.close()
    finally:
        if cp.registration != "Accepted" and cp.failure is None:
            cp.failure = "closed before BootNotification was accepted"
        attempted(cp)
        cp.session = None
        cp.stop_ticker()
        cp.queue.defer_all()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _boot(cp: ChargePoint, session: Session) -> None:
    """1.6 §4.2: BootNotification until Accepted; Pending/Rejected wait `interval` first."""
    while True:
        reply = await cp.send(session, "BootNotification", boot_payload(cp))
        cp.registration = reply["status"]
        cp.failure = None if reply["status"] == "Accepted" else f"boot {reply['status']}"
        attempted(cp)
        if reply["status"] == "Accepted":
            if reply["interval"] > 0:
                cp.config.set_value("HeartbeatInterval", reply["interval"], persist=False)
            break
        # Rejected: SHALL NOT send anything until the interval expired, nor answer the CSMS
        # (the handler table stays silent); Pending: the CSMS may configure us meanwhile.
        await cp.clock.sleep(reply["interval"] or DEFAULT_BOOT_RETRY)
    # errata 3.22: after an Accepted BootNotification, one StatusNotification per connector
    cp.forget_missed()
    await cp.notify(cp.connector0.snapshot(cp.clock.now()))
    for port in cp.ports:
        await cp.notify(port.connector.snapshot(cp.clock.now()))
    cp.booted.set()


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


def power_cycle(cp: ChargePoint) -> None:
    """Reboot: volatile state is lost, RebootRequired changes take effect (1.6 §5.3)."""
    reason, cp.reboot_reason = cp.reboot_reason, None
    log.debug("%s: rebooting (%s)", cp.id, reason)
    if reason != "PowerLoss":
        security.security_event(cp, "ResetOrReboot", reason)
    security.security_event(cp, "StartupOfTheDevice")
    cp.config.apply_pending()
    cp.registration = None
    cp.booted.clear()
    for port in cp.ports:
        if port.timeout is not None:
            port.timeout.cancel()
        port.authorized_tag = None
        operative = port.operative if port.scheduled_operative is None \
            else port.scheduled_operative
        port.operative, port.scheduled_operative = operative, None
        port.connector = Connector(port.id, _S.available if operative else _S.unavailable)
        if port.plugged and operative:
            port.connector = Connector(port.id, _S.preparing)
