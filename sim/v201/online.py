"""The connection of a 2.0.1 station: connect with back-off, boot, heartbeat, clock-aligned
readings, reboot (B01-B04, G02, J01).

`run(st)` is the station's one long-lived task (`ChargingStation.start`). Each connection gets
a session core speaking 2.0.1 with the station's handler table (`sim.dispatch`); the station
boots until Accepted (B01-B03), reports its connectors (B01.FR.05, B04), delivers its queue
(E04) and runs a heartbeat and a clock-aligned task until the connection ends. The lifecycle's
state is the station's `Link` (`sim.features.connection`), shared with the 1.6 charge point,
whose own loop (`sim.features.online`) still boots and secures the 1.6 way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import TYPE_CHECKING, Any

from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.ocppj import (
    CallErrorReply,
    CallFailed,
    InvalidReply,
    OcppSession,
    Role,
    Session,
    connect,
)
from chargebench.ocppj.versions import OCPP201
from chargebench.trace import make_tracer
from sim import dispatch
from sim.features import wiring
from sim.features.connection import failure_reason
from sim.features.metering import aligned_instant, seconds_to_next_aligned
from sim.features.online import attempted
from sim.v201 import evse as flows
from sim.v201 import metering, security

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["DEFAULT_BOOT_RETRY", "aligned", "backoff", "boot", "boot_payload", "heartbeat",
           "power_cycle", "restart_aligned", "run"]

log = logging.getLogger(__name__)

#: B02.FR.07, B03.FR.05: interval 0 with Pending/Rejected: "choose a waiting interval on its own"
DEFAULT_BOOT_RETRY = 30
#: ValueError: the profile's credentials are missing (no password, no certificate)
_CONNECT_ERRORS = (OSError, InvalidHandshake, InvalidStatus, TimeoutError, ConnectionError,
                   ValueError)


async def run(st: ChargingStation) -> None:
    """Connect, stay online while wanted, reconnect with back-off, reboot when asked."""
    attempt = 0
    security.power_cycle(st, st.network)
    while not st.link.stopping:
        await st.link.online_wanted.wait()
        try:
            ws, slot, profile = await _dial(st)
        except _CONNECT_ERRORS as error:
            attempt += 1
            st.link.failure = failure_reason(error)
            log.debug("%s: connect failed (%s), attempt %d", st.id, error, attempt)
            security.connect_failed(st, st.network, error)
            attempted(st.link)  # a paced fleet start (`sim.fleet.Fleet`) moves on
            await st.clock.sleep(backoff(st, attempt))
            continue
        attempt = 0
        st.link.connects += 1
        security.connected(st, st.network, slot, profile, ws)
        try:
            await _connection(st, ws)
        except Exception:  # our bug: logged, and the station reconnects instead of dying
            log.exception("%s: connection failed unexpectedly; reconnecting", st.id)
            with contextlib.suppress(Exception):
                await ws.close(1011, "internal error")
        if st.link.reboot_reason is not None:
            power_cycle(st)
        elif not st.link.stopping and st.link.online_wanted.is_set():
            await st.clock.sleep(backoff(st, 1))


async def _dial(st: ChargingStation) -> tuple[Any, int | None, int]:
    """Connect through the network profile to dial now (B10): (websocket, its slot, its
    securityProfile). The profile's data is not kept: a fleet holds a connection per station."""
    slot, data = security.current(st, st.network)
    url, options = security.connect_options(st, data)
    ws = await connect(url, subprotocols=dispatch.subprotocols([OCPP201]), ping_interval=None,
                       **options)
    return ws, slot, int(data.get("securityProfile", 0))


def power_cycle(st: ChargingStation) -> None:
    """Reboot: this power cycle's registration and authorizations are gone (B01.FR.03: boot
    again); cables stay in, transactions were ended before."""
    st.boot_reason, st.link.reboot_reason = st.link.reboot_reason or "PowerUp", None
    st.link.registration = None
    st.link.booted.clear()
    apply_pending = getattr(st.settings.dm, "apply_pending", None)
    if apply_pending is not None:
        apply_pending()  # the RebootRequired values take effect (B05.FR.xx, B10.FR.01)
    security.power_cycle(st, st.network)  # B10.FR.04: the first entry of the priority
    for evse in st.evses:
        flows.cancel_timer(evse)
        evse.authorized, evse.token, evse.remote_start_id = False, None, None


def backoff(st: ChargingStation, attempt: int) -> float:
    """Seconds before reconnect attempt `attempt` (1-based), as the OCPPCommCtrlr variables
    describe it (appendices, OCPPCommCtrlr): RetryBackOffWaitMinimum the first time,
    doubled per attempt at most RetryBackOffRepeatTimes times, plus a random
    0..RetryBackOffRandomRange s."""
    s = st.settings
    doublings = min(max(0, attempt - 1), s.int("RetryBackOffRepeatTimes"))
    jitter = st.rng.uniform(0, s.int("RetryBackOffRandomRange"))
    return s.int("RetryBackOffWaitMinimum") * 2.0 ** doublings + jitter


async def _connection(st: ChargingStation, ws: Any) -> None:
    """One connection: boot if this power cycle was not accepted yet, report connector
    statuses, deliver the queue, heartbeat until the connection ends."""
    tracer = None
    # with a state directory the station keeps its own message log (what GetLog uploads, N01)
    sink = st.trace_sink if st.state_dir is None else wiring.trace_sink(st)
    if sink is not None:
        tracer = make_tracer(sink, st.id, secrets.token_hex(4), st.clock.now)
    module = dispatch.module_for(OCPP201)
    core = OcppSession(Role.CHARGE_POINT, version=OCPP201, accept=module.ACCEPT,
                       supported_profiles=module.session_profiles(st.settings),
                       call_timeout=st.call_timeout, tracer=tracer)
    session = Session(ws, core, st.handlers)
    reader = session.start()
    st.link.session = session
    aligned_task: asyncio.Task | None = None
    try:
        if st.registration != "Accepted":
            await boot(st, session)
        else:
            # B04.FR.01/02: every connector after a long offline period, else the changed
            offline_s = st.clock.monotonic() - (st.offline_since or 0.0)
            long = offline_s > st.settings.int("OfflineThreshold")
            await st.report_statuses(changed_only=not long)
            st.deliver_security_events()
            security.renew_if_due(st)
        st.link.ticker = st.spawn(heartbeat(st))
        st.link.aligned = aligned_task = st.spawn(aligned(st))
        st.flush_queue()
        await reader
    except CallFailed as error:
        # a malformed or refused reply is the CSMS's fault: said once, then a new
        # connection; a lost connection or a timeout is ordinary
        level = logging.WARNING if isinstance(error, (InvalidReply, CallErrorReply)) \
            else logging.DEBUG
        log.log(level, "%s: %s", st.id, error)
        if st.registration != "Accepted":
            st.link.failure = f"boot: {type(error).__name__}"
        await session.close()
    finally:
        attempted(st.link)
        st.link.session = None
        st.offline_since = st.clock.monotonic()
        if aligned_task is not None:
            aligned_task.cancel()
        if st.link.aligned is not None:  # restarted by a new interval (`restart_aligned`)
            st.link.aligned.cancel()
            st.link.aligned = None
        if st.link.ticker is not None:
            st.link.ticker.cancel()
            st.link.ticker = None
        st.queue.defer_all()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def boot(st: ChargingStation, session: Session) -> None:
    """B01-B03: BootNotification until Accepted; Pending and Rejected wait `interval`
    (B02.FR.08, B03.FR.06) or our own when it is 0 (B02.FR.07, B03.FR.05), sending nothing
    else meanwhile (B02.FR.02, B03.FR.02) and keeping the connection (B02.FR.06)."""
    while True:
        reply = await st.send(session, "BootNotification", boot_payload(st))
        st.link.registration = reply["status"]
        accepted = reply["status"] == "Accepted"
        st.link.failure = None if accepted else f"boot {reply['status']}"
        attempted(st.link)
        if reply["status"] == "Accepted":
            if reply["interval"] > 0:
                st.settings.set("HeartbeatInterval", reply["interval"])  # B01.FR.04
            break
        await _wait_to_boot(st, reply["interval"] or DEFAULT_BOOT_RETRY)
    reason, st.boot_reason = st.boot_reason, "PowerUp"
    await st.report_statuses(changed_only=False)  # B01.FR.05
    st.link.booted.set()
    if st.rebooted is not None:  # the new firmware runs: the updater sends Installed (L01.FR.32)
        st.rebooted.set()
        st.rebooted = None
    # A04.FR.01: a start-up and a reset are critical security events (part 2 appendix 1)
    st.features.events.record("StartupOfTheDevice" if reason == "PowerUp" else "ResetOrReboot",
                              None, critical=True)
    st.deliver_security_events()
    security.renew_if_due(st)


async def _wait_to_boot(st: ChargingStation, interval: float) -> None:
    """The wait before the next BootNotification, cut short by a TriggerMessage for one
    (B02.FR.04: "unless requested to do so with TriggerMessageRequest")."""
    st.boot_now = asyncio.Event()
    waits = [asyncio.ensure_future(st.clock.sleep(interval)),
             asyncio.ensure_future(st.boot_now.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        st.boot_now = None


def boot_payload(st: ChargingStation) -> dict:
    """BootNotificationRequest (B01.FR.01, B01.FR.09: with its reason)."""
    s = st.settings
    station: dict[str, Any] = {"vendorName": s.text("VendorName"), "model": s.text("Model")}
    for key, name in (("serialNumber", "SerialNumber"), ("firmwareVersion", "FirmwareVersion")):
        if s.text(name):
            station[key] = s.text(name)
    modem = {key: s.text(name) for key, name in (("iccid", "ICCID"), ("imsi", "IMSI"))
             if s.text(name)}
    if modem:
        station["modem"] = modem
    return {"reason": st.boot_reason, "chargingStation": station}


async def heartbeat(st: ChargingStation) -> None:
    """G02: Heartbeat every HeartbeatInterval s (the boot's interval, B01.FR.04)."""
    while True:
        interval = st.settings.int("HeartbeatInterval")
        if interval <= 0:
            return
        await st.clock.sleep(interval)
        with contextlib.suppress(CallFailed):
            await st.call("Heartbeat", {})


def restart_aligned(st: ChargingStation) -> None:
    """A new AlignedDataCtrlr.Interval applies from the next aligned time (part 2 J01,
    AlignedDataCtrlr.Interval), not after the sleep the old interval began: the task of the
    connection starts over."""
    if st.link.aligned is None:
        return
    st.link.aligned.cancel()
    st.link.aligned = st.spawn(aligned(st))


async def aligned(st: ChargingStation) -> None:
    """J01: every AlignedDataCtrlr.Interval s, at the multiples of it from midnight, the
    AlignedDataCtrlr.Measurands at context Sample.Clock: an EVSE without transaction in a
    MeterValuesRequest (J01.FR.02/14), one with a transaction in its TransactionEvent
    Updated, triggerReason MeterValueClock (J01.FR.22), or nothing when SendDuringIdle
    (J01.FR.19)."""
    while True:
        interval = st.settings.int("AlignedDataInterval")
        if interval <= 0:
            return
        await st.clock.sleep(seconds_to_next_aligned(st.clock.now(), interval))
        when = aligned_instant(st.clock.now(), interval)
        idle_only = st.settings.bool("AlignedDataSendDuringIdle")
        for evse in st.evses:
            evse.advance(st.clock.monotonic())
            reading = st.readings(evse, "AlignedDataMeasurands", metering.CLOCK, when)
            if reading is None or (evse.tx is not None and idle_only):
                continue
            if evse.tx is not None:
                await st.transaction_event(evse, "Updated", "MeterValueClock",
                                             meter_values=reading)
            else:
                with contextlib.suppress(CallFailed):
                    await st.call("MeterValues", {"evseId": evse.id,
                                                    "meterValue": [reading]})
