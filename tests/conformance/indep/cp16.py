"""An independent OCPP 1.6J charge point for the suite's own tests (issue 13, point 3).

Built on the `ocpp` package's `ocpp.v16.ChargePoint` (routing, schema validation and RPC
matching written by other people) over `websockets`, with nothing of ChargeBench's simulator,
CSMS or session core. It exposes the operator control surface the cp-role cases drive
(`conformance.operator.INSTRUCTIONS`: plug_in, present_id_tag, power_loss, go_offline, ...).

`Options` switches legal variants (other choices the spec allows) and illegal ones (each breaks
exactly one rule); `VARIANTS` names the ones the verdict tables run. One connector; the
charger's clock runs `speed` times as fast as the wall so that timers of minutes take seconds.

Message flow: every CALL to the CSMS goes through one FIFO outbox, sent by one pump per
connection, so the order of StatusNotification, Authorize and StartTransaction is the order
things happened. Transaction-related messages stay queued while offline (1.6 §3.7 / §4.7);
the others are dropped then (a reconnect reports the current status, §4.9).
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import ftplib
import io
import json
import logging
import re
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import Any

from jsonschema.exceptions import best_match
from ocpp.exceptions import (
    FormationViolationError,
    NotSupportedError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.messages import get_validator
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect

from tests.conformance.indep import schedule16

logging.getLogger("ocpp").setLevel(logging.CRITICAL)

# Variants


@dataclass(frozen=True)
class Options:
    """What this charger chooses where OCPP 1.6 leaves a choice, and which rule it breaks."""

    # Legal choices
    optional_fields: bool = True  # False: every optional field the schema allows is omitted
    optional_keys: bool = True  # False: only the required keys of 1.6 §9
    auth_cache: bool = True  # Authorization Cache (§3.5.1); its key exists only when True
    reserve_connector_zero: bool = True  # ReserveConnectorZeroSupported (§9.3.1)
    local_list_enabled: bool = True  # initial LocalAuthListEnabled (§9.2.1)
    local_list_enabled_writable: bool = True
    authorize_remote_writable: bool = True  # AuthorizeRemoteTxRequests R or RW (§9.1.3)
    fixed_cable: bool = False  # UnlockConnector answers NotSupported (§5.18)
    reset_backoff: float = 0.0  # seconds before reconnecting after a Reset
    backoff_on_wall_clock: bool = False  # reset_backoff in wall seconds, not charger seconds
    stop_after_reboot: bool = False  # hard reset: StopTransaction after the reboot (§5.14)
    trigger_unknown_connector: str = "Rejected"  # or "Accepted" (connector ignored, §5.17)
    firmware: bool = True  # FirmwareManagement profile
    # Illegal: each breaks one rule
    starts_without_cable: bool = False  # RemoteStart starts before the cable is in (§5.11)
    unknown_action_not_supported: bool = False  # NotSupported instead of NotImplemented
    remote_start_never_starts: bool = False  # RemoteStart Accepted, nothing follows (§5.11)
    ignores_change_availability: bool = False  # Accepted, availability unchanged (§5.2)
    missing_required_key: str | None = None  # a required key of §9.1 is absent
    call_before_boot_accepted: bool = False  # StatusNotification while Pending (§4.2)
    ignores_reservation: bool = False  # ReserveNow Accepted, not kept (§5.13)
    no_stop_on_hard_reset: bool = False  # transaction forgotten on a hard reset (§5.14)
    ignores_connection_timeout: bool = False  # ConnectionTimeOut never ends Preparing (§9.1.6)
    unlock_keeps_transaction: bool = False  # UnlockConnector does not stop it (§5.18)


LEGAL_MINIMAL = Options(
    optional_fields=False, optional_keys=False, auth_cache=False, reserve_connector_zero=False,
    local_list_enabled=False, authorize_remote_writable=False, fixed_cable=True,
    reset_backoff=60.0, stop_after_reboot=True, trigger_unknown_connector="Accepted",
)
VARIANTS: dict[str, Options] = {
    "legal-full": Options(),
    # a real charger's 60 s back-off after a reset, on the wall clock (issue 13 class 9)
    "legal-slow-reconnect": Options(reset_backoff=60.0, backoff_on_wall_clock=True),
    "legal-minimal": LEGAL_MINIMAL,
    # legal: features present but switched off, read-only
    "legal-disabled": Options(
        auth_cache=False, reserve_connector_zero=False, local_list_enabled=False,
        local_list_enabled_writable=False, firmware=False,
    ),
    "starts-without-cable": Options(starts_without_cable=True),
    "unknown-action-not-supported": Options(unknown_action_not_supported=True),
    "remote-start-never-starts": Options(remote_start_never_starts=True),
    "ignores-change-availability": Options(ignores_change_availability=True),
    "missing-stop-on-ev-disconnect": Options(
        missing_required_key="StopTransactionOnEVSideDisconnect"),
    "call-before-boot-accepted": Options(call_before_boot_accepted=True),
    "ignores-reservation": Options(ignores_reservation=True),
    "no-stop-on-hard-reset": Options(no_stop_on_hard_reset=True),
    "ignores-connection-timeout": Options(ignores_connection_timeout=True),
    "unlock-keeps-transaction": Options(unlock_keeps_transaction=True),
}

# Clock


class Clock:
    """The charger's clock: wall time at creation, then `speed` times as fast."""

    def __init__(self, speed: float) -> None:
        self.speed, self._t0, self._wall0 = speed, monotonic(), datetime.now(UTC)

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=(monotonic() - self._t0) * self.speed)

    def iso(self, at: datetime | None = None) -> str:
        return (at or self.now()).isoformat(timespec="seconds").replace("+00:00", "Z")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0) / self.speed)


# Configuration (1.6 §9)

BOOL, INT, CSL, TEXT = "bool", "int", "csl", "text"
MEASURANDS = frozenset({
    "Energy.Active.Import.Register", "Energy.Active.Export.Register", "Power.Active.Import",
    "Current.Import", "Current.Offered", "Voltage", "SoC", "Temperature", "Frequency",
})


def _keys(o: Options) -> dict[str, tuple[str, bool, str]]:
    """key -> (value, readonly, type): the required keys of §9.1-§9.4 for the profiles this
    charger supports, and the optional ones its options add."""
    profiles = ["Core", "LocalAuthListManagement", "Reservation", "RemoteTrigger",
                "SmartCharging"] + (["FirmwareManagement"] if o.firmware else [])
    keys: dict[str, tuple[str, bool, str]] = {
        "AuthorizeRemoteTxRequests": ("false", not o.authorize_remote_writable, BOOL),
        "ClockAlignedDataInterval": ("0", False, INT),
        # short, because the suite's idle restore waits this long on the wall clock
        "ConnectionTimeOut": ("20", False, INT),
        "ConnectorPhaseRotation": ("1.RST", False, TEXT),
        "GetConfigurationMaxKeys": ("50", True, INT),
        "HeartbeatInterval": ("86400", False, INT),
        "LocalAuthorizeOffline": ("true", False, BOOL),
        "LocalPreAuthorize": ("false", False, BOOL),
        "MeterValuesAlignedData": ("Energy.Active.Import.Register", False, CSL),
        "MeterValuesSampledData": ("Energy.Active.Import.Register", False, CSL),
        "MeterValueSampleInterval": ("0", False, INT),
        "NumberOfConnectors": ("1", True, INT),
        "ResetRetries": ("1", False, INT),
        "StopTransactionOnEVSideDisconnect": ("true", False, BOOL),
        "StopTransactionOnInvalidId": ("true", False, BOOL),
        "StopTxnAlignedData": ("", False, CSL),
        "StopTxnSampledData": ("", False, CSL),
        "SupportedFeatureProfiles": (",".join(profiles), True, TEXT),
        "TransactionMessageAttempts": ("3", False, INT),
        "TransactionMessageRetryInterval": ("5", False, INT),
        "UnlockConnectorOnEVSideDisconnect": ("true", False, BOOL),
        # §9.2 Local Auth List Management
        "LocalAuthListEnabled": (str(o.local_list_enabled).lower(),
                                 not o.local_list_enabled_writable, BOOL),
        "LocalAuthListMaxLength": ("100", True, INT),
        "SendLocalListMaxLength": ("100", True, INT),
        # §9.4 Smart Charging
        "ChargeProfileMaxStackLevel": ("8", True, INT),
        "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True, TEXT),
        "ChargingScheduleMaxPeriods": ("24", True, INT),
        "MaxChargingProfilesInstalled": ("16", True, INT),
    }
    if o.optional_keys:
        keys["AllowOfflineTxForUnknownId"] = ("false", False, BOOL)
        if o.firmware:
            keys["SupportedFileTransferProtocols"] = ("FTP,HTTP", True, TEXT)
    if o.optional_keys or not o.auth_cache:
        if o.auth_cache:
            keys["AuthorizationCacheEnabled"] = ("true", False, BOOL)
        elif o.optional_keys:  # the feature exists and is off for good
            keys["AuthorizationCacheEnabled"] = ("false", True, BOOL)
    if o.optional_keys:
        keys["ReserveConnectorZeroSupported"] = (str(o.reserve_connector_zero).lower(), True,
                                                 BOOL)
    if o.missing_required_key:
        keys.pop(o.missing_required_key)
    return keys


def capabilities(o: Options) -> dict[str, Any]:
    """What the charger declares to the suite (`--cb-capabilities`)."""
    profiles = ["core", "ocppj", "localauth", "reservation", "remotetrigger", "smartcharging"]
    if o.firmware:
        profiles.append("firmware")
    keys = _keys(o)
    return {"profiles": profiles, "connectors": 1, "fixed_cable": o.fixed_cable,
            "config_keys": [k for k in ("StopTransactionOnEVSideDisconnect",
                                        "UnlockConnectorOnEVSideDisconnect") if k in keys]}


# State


@dataclass
class Tx:
    connector: int
    tag: str
    parent: str | None
    meter_start: int
    started: datetime
    reservation_id: int | None = None
    id: int | None = None  # from StartTransaction.conf (None while offline)
    next_sample: datetime | None = None


@dataclass
class Pending:
    """An authorized start waiting for the cable (or a cable waiting for nothing)."""

    tag: str
    parent: str | None
    deadline: datetime
    remote: bool = False
    profile: dict | None = None
    reservation_id: int | None = None


@dataclass
class Reservation:
    id: int
    tag: str
    parent: str | None
    expiry: datetime


@dataclass
class Connector:
    plugged: bool = False
    operative: bool = True
    scheduled: bool | None = None  # operative-to-be once the transaction ends (§5.2)
    fault: str | None = None
    jammed: bool = False
    ev_full: bool = False
    finishing: bool = False
    locked_after_ev_disconnect: bool = False
    tx: Tx | None = None
    pending: Pending | None = None
    reservation: Reservation | None = None


@dataclass
class Msg:
    build: Callable[[], Any]  # -> an ocpp.v16.call payload, or None to skip
    tx: bool = False
    then: Callable[[Any], Any] | None = None
    reply: asyncio.Future | None = None


# The charger


class IndependentChargePoint:
    """`start()`, drive it through the control surface, `stop()`."""

    def __init__(self, url: str, cp_id: str, options: Options = Options(), *,
                 speed: float = 20.0, connectors: int = 1) -> None:  # fmt: skip
        self.url, self.cp_id, self.o = url.rstrip("/") + "/" + cp_id, cp_id, options
        self.clock = Clock(speed)
        self.config = {k: [v, ro, t] for k, (v, ro, t) in _keys(options).items()}
        self.connectors = {n: Connector() for n in range(1, connectors + 1)}
        self.charger_operative = True
        self.outbox: deque[Msg] = deque()
        self.wake = asyncio.Event()
        self.link: Link | None = None  # the connection, once booted: CALLs go there
        self.connection: Link | None = None
        self.booted = False  # accepted on this power cycle
        self.power_cycles = 0
        self.online = True
        self.reported: dict[int, str] = {}
        self.cache: dict[str, dict] = {}
        self.local_list: dict[str, dict] = {}
        self.list_version = 0
        self.profiles: list[tuple[int, dict]] = []
        self.cp_reservation: Reservation | None = None
        self.firmware_version = "1.0"
        self.fail_install = False
        self.energy = 1000
        self.backoff = 0.0
        self.tasks: set[asyncio.Task] = set()
        self._main: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._next_aligned: datetime | None = None
        self._next_heartbeat: datetime | None = None

    # Lifecycle

    def start(self) -> IndependentChargePoint:
        loop = asyncio.get_running_loop()
        self._main = loop.create_task(self._run())
        self._ticker = loop.create_task(self._tick())
        return self

    async def stop(self) -> None:
        for task in (self._main, self._ticker, *self.tasks):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._main, self._ticker, *self.tasks) if t),
                             return_exceptions=True)

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def now(self) -> datetime:
        return self.clock.now()

    # Configuration helpers

    def get(self, key: str, default: str = "") -> str:
        return self.config[key][0] if key in self.config else default

    def flag(self, key: str) -> bool:
        return self.get(key, "false").lower() == "true"

    def seconds(self, key: str) -> int:
        return int(self.get(key, "0") or 0)

    # Connection (OCPP-J 1.6 §3, §5)

    async def _run(self) -> None:
        while True:
            if self.backoff and self.o.backoff_on_wall_clock:
                await asyncio.sleep(self.backoff)
            else:
                await self.clock.sleep(max(self.backoff, 1.0))
            self.backoff = 0.0
            if not self.online:
                continue
            try:
                ws = await connect(self.url, subprotocols=["ocpp1.6"], compression=None,
                                   open_timeout=5, proxy=None)
            except Exception:
                continue
            if ws.subprotocol != "ocpp1.6":  # OCPP-J 1.6 §3.2: no session without it
                await ws.close(1002, "ocpp1.6 not agreed")
                continue
            with contextlib.suppress(Exception):
                await self._session(ws)
            with contextlib.suppress(Exception):
                await ws.close()

    async def _session(self, ws: Any) -> None:
        link = self.connection = Link(self.cp_id, ws, self)
        reader = asyncio.get_running_loop().create_task(link.start())
        pump: asyncio.Task | None = None
        try:
            if not self.booted:
                await self._boot(link)
            self.link = link
            self._report(force=not self.reported)
            pump = asyncio.get_running_loop().create_task(self._pump(link))
            await reader
        finally:
            if self.link is link:
                self.link = None
            if self.connection is link:
                self.connection = None
            # 1.6 §4.9: back online the current status is reported, not the history
            for msg in self.outbox:
                if not msg.tx and msg.reply is not None and not msg.reply.done():
                    msg.reply.set_result(None)
            self.outbox = deque(m for m in self.outbox if m.tx)
            for task in (reader, pump):
                if task is not None:
                    task.cancel()

    async def _boot(self, link: Link) -> None:
        """1.6 §4.2: BootNotification until Accepted; nothing else is sent before."""
        cycle = self.power_cycles
        while True:
            extra = {}
            if self.o.optional_fields or self.firmware_version != "1.0":
                extra["firmware_version"] = self.firmware_version
            if self.o.optional_fields:
                extra["charge_point_serial_number"] = "INDEP-0001"
            reply = await link.call(call.BootNotification(
                charge_point_model="Indep16", charge_point_vendor="ocpp-package", **extra))
            if reply is None or cycle != self.power_cycles:
                raise ConnectionError("BootNotification not answered on this power cycle")
            if reply.status == "Accepted":
                self.booted = True
                self.reported = {}
                self.config["HeartbeatInterval"][0] = str(reply.interval)
                self._next_heartbeat = None
                return
            if self.o.call_before_boot_accepted:
                await link.call(call.StatusNotification(
                    connector_id=1, error_code="NoError", status=self.status_of(1)))
            await self.clock.sleep(reply.interval or 10)

    async def _pump(self, link: Link) -> None:
        """Send the outbox in order on `link` until it is no longer the live connection (a
        cancelled wait_for may swallow the cancellation on Python 3.11: check, do not trust)."""
        while self.link is link:
            if not self.outbox:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), 0.5)
                continue
            msg = self.outbox[0]
            payload = msg.build()
            reply = None
            if payload is not None:
                reply = await link.call(payload, deferred=True)
                if reply is None and link.closed:
                    return  # kept: transaction messages go on the next connection
            if self.outbox and self.outbox[0] is msg:
                self.outbox.popleft()
            if msg.then is not None:
                msg.then(reply)
            if msg.reply is not None and not msg.reply.done():
                msg.reply.set_result(reply)
            link.settle()

    def post(self, build: Callable[[], Any], *, tx: bool = False,
             then: Callable[[Any], Any] | None = None) -> None:  # fmt: skip
        """Queue a CALL; a message unrelated to transactions is dropped while offline."""
        if not tx and self.link is None:
            return
        self.outbox.append(Msg(build, tx, then))
        self.wake.set()

    async def request(self, payload: Any, timeout: float = 10.0) -> Any:
        """A CALL whose answer we need now (Authorize); None while offline or unanswered."""
        if self.link is None:
            return None
        future = asyncio.get_running_loop().create_future()
        self.outbox.append(Msg(lambda: payload, reply=future))
        self.wake.set()
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None

    async def drained(self, limit: float = 5.0) -> None:
        """Wait (at most `limit` wall seconds) until the outbox is sent."""
        end = monotonic() + limit
        while self.outbox and self.link is not None and monotonic() < end:
            await asyncio.sleep(0.02)

    def _reboot(self, reason: str | None, *, backoff: float = 0.0) -> None:
        """Power cycle or reset: running transactions end with `reason` after the boot (None:
        forgotten), volatile state goes, the connection drops (1.6 §4.2, §5.14)."""
        for n, c in self.connectors.items():
            if c.tx is not None:
                if reason is None:
                    c.tx = None
                else:
                    self._stop(n, reason, after_reboot=True)
            c.pending, c.finishing, c.ev_full, c.locked_after_ev_disconnect = (
                None, False, False, False)
            if c.scheduled is not None:
                c.operative, c.scheduled = c.scheduled, None
        self.outbox = deque(m for m in self.outbox if m.tx)
        self.booted, self.backoff, self.reported = False, backoff, {}
        self.power_cycles += 1
        self._drop()

    def _drop(self) -> None:
        """The connection is gone now, booted or not: nothing more is posted to it."""
        self.link = None
        if self.connection is not None:
            self.connection.drop()

    # Status (1.6 §4.9)

    def status_of(self, n: int) -> str:
        if n == 0:
            return "Available" if self.charger_operative else "Unavailable"
        c = self.connectors[n]
        if c.fault:
            return "Faulted"
        if c.tx is not None:
            if not c.plugged or c.ev_full:
                return "SuspendedEV"
            return "Charging"
        if c.finishing:
            return "Finishing"
        if not (c.operative and self.charger_operative):
            return "Unavailable"
        if c.reservation is not None:
            return "Reserved"
        if c.plugged or c.pending is not None:
            return "Preparing"
        return "Available"

    def _report(self, force: bool = False, only: int | None = None) -> None:
        if self.link is None:
            return
        for n in [0, *self.connectors] if only is None else [only]:
            status = self.status_of(n)
            if force or self.reported.get(n) != status:
                self.reported[n] = status
                self.post(self._status_payload(n, status))

    def _status_payload(self, n: int, status: str) -> Callable[[], Any]:
        c = self.connectors.get(n)
        code = "NoError"
        if c is not None and c.fault:
            code = c.fault
        extra = {"timestamp": self.clock.iso()} if self.o.optional_fields else {}
        return lambda: call.StatusNotification(connector_id=n, error_code=code, status=status,
                                               **extra)

    # Meter (1.6 §4.7)

    def _read(self) -> int:
        self.energy += 10
        return self.energy

    def _sample(self, context: str, measurands: str | None = None) -> dict:
        names = [m for m in (measurands or "Energy.Active.Import.Register").split(",") if m]
        values = []
        for name in names or ["Energy.Active.Import.Register"]:
            value: dict[str, Any] = {"value": str(self._read())}
            # §7.40 SampledValue: context Sample.Periodic, measurand Energy.Active.Import.
            # Register and unit Wh are the defaults, so a minimal charger leaves them out
            if self.o.optional_fields or context != "Sample.Periodic":
                value["context"] = context
            if self.o.optional_fields or name != "Energy.Active.Import.Register":
                value["measurand"] = name
            if self.o.optional_fields and name.startswith("Energy"):
                value["unit"] = "Wh"
            values.append(value)
        return {"timestamp": self.clock.iso(), "sampled_value": values}

    async def _tick(self) -> None:
        """Every charger second: heartbeats, meter values, timeouts, expiries."""
        while True:
            await self.clock.sleep(1.0)
            with contextlib.suppress(Exception):
                self._on_tick(self.now())

    def _on_tick(self, now: datetime) -> None:
        if self.link is not None and self.booted:
            interval = self.seconds("HeartbeatInterval")
            if interval > 0:
                self._next_heartbeat = self._next_heartbeat or now + timedelta(seconds=interval)
                if now >= self._next_heartbeat:
                    self._next_heartbeat = now + timedelta(seconds=interval)
                    self.post(call.Heartbeat)
        aligned = self.seconds("ClockAlignedDataInterval")
        if aligned > 0:
            if self._next_aligned is None:
                epoch = int(now.timestamp())
                self._next_aligned = datetime.fromtimestamp(
                    epoch - epoch % aligned + aligned, UTC)
            if now >= self._next_aligned:
                self._next_aligned = None
                for n in self.connectors:
                    sample = self._sample("Sample.Clock", self.get("MeterValuesAlignedData"))
                    tx = self.connectors[n].tx
                    self.post(self._meter_payload(n, tx, sample), tx=tx is not None)
        else:
            self._next_aligned = None
        sample_every = self.seconds("MeterValueSampleInterval")
        for n, c in self.connectors.items():
            tx = c.tx
            if tx is not None and sample_every > 0:
                tx.next_sample = tx.next_sample or now + timedelta(seconds=sample_every)
                if now >= tx.next_sample:
                    tx.next_sample = now + timedelta(seconds=sample_every)
                    sample = self._sample("Sample.Periodic", self.get("MeterValuesSampledData"))
                    self.post(self._meter_payload(n, tx, sample), tx=True)
            if c.pending is not None and now >= c.pending.deadline and not (
                    self.o.ignores_connection_timeout):
                c.pending = None  # §9.1.6 ConnectionTimeOut
                self._report()
            if c.reservation is not None and now >= c.reservation.expiry:
                c.reservation = None  # §5.13: the reservation expires
                self._report()
        if self.cp_reservation is not None and now >= self.cp_reservation.expiry:
            self.cp_reservation = None

    def _meter_payload(self, n: int, tx: Tx | None, sample: dict) -> Callable[[], Any]:
        def build() -> Any:
            if tx is not None and tx.id is None:
                return None
            return call.MeterValues(connector_id=n, meter_value=[sample],
                                    transaction_id=tx.id if tx is not None else None)
        return build

    # Authorization (1.6 §3.5, §4.1)

    def _local_info(self, tag: str) -> dict | None:
        """The local list first, then the cache (§3.5.3)."""
        if self.flag("LocalAuthListEnabled") and tag in self.local_list:
            return self.local_list[tag]
        if self.o.auth_cache and self.flag("AuthorizationCacheEnabled") and tag in self.cache:
            return self.cache[tag]
        return None

    def _remember(self, tag: str, info: dict | None) -> None:
        if info is not None and self.o.auth_cache and self.flag("AuthorizationCacheEnabled"):
            self.cache[tag] = info

    async def authorize(self, tag: str) -> dict:
        """idTagInfo (snake_case) for `tag`: local when allowed, else Authorize, else the
        offline rules (§3.5.4, §9.1.1)."""
        local = self._local_info(tag)
        online = self.link is not None
        if local is not None and local.get("status") == "Accepted" and (
                (online and self.flag("LocalPreAuthorize"))
                or (not online and self.flag("LocalAuthorizeOffline"))):
            return local
        if online:
            reply = await self.request(call.Authorize(id_tag=tag))
            if reply is not None:
                self._remember(tag, reply.id_tag_info)
                return reply.id_tag_info
        if local is not None and self.flag("LocalAuthorizeOffline"):
            return local
        if self.flag("AllowOfflineTxForUnknownId"):
            return {"status": "Accepted"}
        return {"status": "Invalid"}

    # Transactions (1.6 §4.8, §4.10)

    def _reservation_for(self, n: int) -> Reservation | None:
        return self.connectors[n].reservation or self.cp_reservation

    def _start(self, n: int, p: Pending) -> None:
        c = self.connectors[n]
        if c.jammed:  # §4.9: the cable could not be locked
            c.pending, c.fault = None, "ConnectorLockFailure"
            self._report()
            return
        tx = Tx(n, p.tag, p.parent, self._read(), self.now(), p.reservation_id)
        c.tx, c.pending = tx, None
        reservation = self._reservation_for(n)
        if reservation is not None and reservation.id == p.reservation_id:
            c.reservation = None if c.reservation is reservation else c.reservation
            if self.cp_reservation is reservation:
                self.cp_reservation = None
        if p.profile is not None:
            self._install(n, p.profile)
        extra = {"reservation_id": p.reservation_id} if p.reservation_id is not None else {}

        def started(reply: Any) -> None:
            if reply is None:
                return
            tx.id = reply.transaction_id
            info = reply.id_tag_info
            self._remember(tx.tag, info)
            tx.parent = info.get("parent_id_tag", tx.parent)
            if info.get("status") != "Accepted" and c.tx is tx and self.flag(
                    "StopTransactionOnInvalidId"):
                self._stop(n, "DeAuthorized")  # §4.8, §9.1.24

        self.post(lambda: call.StartTransaction(
            connector_id=n, id_tag=tx.tag, meter_start=tx.meter_start,
            timestamp=self.clock.iso(tx.started), **extra), tx=True, then=started)
        self._report()  # Charging after StartTransaction

    def _stop(self, n: int, reason: str, tag: str | None = None, *,
              after_reboot: bool = False) -> None:  # fmt: skip
        c = self.connectors[n]
        tx, c.tx = c.tx, None
        if tx is None:
            return
        meter, stamp = self._read(), self.clock.iso()
        c.ev_full = False
        c.finishing = c.plugged and not after_reboot
        self.profiles = [(k, p) for k, p in self.profiles
                         if not (k == n and p["charging_profile_purpose"] == "TxProfile")]
        if c.scheduled is not None:
            c.operative, c.scheduled = c.scheduled, None
        extra: dict[str, Any] = {}
        # §6.49: reason is optional and "Local" when absent
        if self.o.optional_fields or reason != "Local":
            extra["reason"] = reason
        if tag is not None:
            extra["id_tag"] = tag
        if self.o.optional_fields:
            extra["transaction_data"] = [self._sample("Transaction.End")]

        def build() -> Any:
            if tx.id is None:
                return None  # its StartTransaction was never answered
            return call.StopTransaction(meter_stop=meter, timestamp=stamp, transaction_id=tx.id,
                                        **extra)

        self.post(build, tx=True)
        if not after_reboot:
            self._report()

    # Control surface (conformance.operator)

    async def plug_in(self, connector: int = 1) -> None:
        c = self.connectors[connector]
        c.plugged = True
        if c.tx is not None:
            c.ev_full = False
        elif c.pending is not None and c.operative and not c.fault:
            self._report()
            self._start(connector, c.pending)
            return
        self._report()

    async def plug_out(self, connector: int = 1) -> None:
        c = self.connectors[connector]
        c.plugged = False
        if c.tx is not None:
            if self.flag("StopTransactionOnEVSideDisconnect"):  # §9.1.23
                # §9.1.33: unlocked at once, or held until the driver's card
                c.locked_after_ev_disconnect = not self.flag("UnlockConnectorOnEVSideDisconnect")
                self._stop(connector, "EVDisconnected")
                c.finishing = c.locked_after_ev_disconnect
                self._report()
                return
        else:
            c.finishing = c.locked_after_ev_disconnect = False
            if c.pending is not None and not c.pending.remote:
                c.pending = None
        self._report()

    async def present_id_tag(self, tag: str, connector: int = 1) -> None:
        c = self.connectors[connector]
        if c.locked_after_ev_disconnect:
            c.locked_after_ev_disconnect = c.finishing = False  # the card releases the cable
            self._report()
            return
        if c.tx is not None:
            if tag == c.tx.tag:
                self._stop(connector, "Local", tag)
                return
            info = await self.authorize(tag)  # §4.10: the same parentIdTag may stop it
            parent = info.get("parent_id_tag")
            if info.get("status") == "Accepted" and parent and parent == c.tx.parent:
                self._stop(connector, "Local", tag)
            return
        if c.fault or not (c.operative and self.charger_operative):
            return
        info = await self.authorize(tag)
        if info.get("status") != "Accepted":
            return
        reservation = self._reservation_for(connector)
        reservation_id = None
        if reservation is not None:
            if tag != reservation.tag and not (
                    reservation.parent and info.get("parent_id_tag") == reservation.parent):
                return  # §5.13: reserved for someone else
            reservation_id = reservation.id
        pending = Pending(tag, info.get("parent_id_tag"), self._timeout(),
                          reservation_id=reservation_id)
        if c.plugged:
            self._start(connector, pending)
        else:
            c.pending = pending
            self._report()

    def _timeout(self) -> datetime:
        return self.now() + timedelta(seconds=self.seconds("ConnectionTimeOut"))

    async def ev_full(self, connector: int = 1) -> None:
        self.connectors[connector].ev_full = True
        self._report()

    async def power_loss(self) -> None:
        self._reboot("PowerLoss")

    async def fault(self, connector: int = 1, error_code: str = "OtherError") -> None:
        self.connectors[connector].fault = error_code
        self._report()

    async def clear_fault(self, connector: int = 1) -> None:
        self.connectors[connector].fault = None
        self._report()

    async def jam_lock(self, connector: int = 1, jammed: bool = True) -> None:
        self.connectors[connector].jammed = jammed

    async def go_offline(self) -> None:
        self.online = False
        self._drop()

    async def go_online(self) -> None:
        self.online = True

    async def fail_firmware_install(self, fail: bool = True) -> None:
        self.fail_install = fail

    # CSMS-initiated (1.6 §5), called by `Link`

    def change_availability(self, connector_id: int, type: str) -> str:
        operative = type == "Operative"
        if connector_id not in (0, *self.connectors):
            return "Rejected"
        if self.o.ignores_change_availability:
            return "Accepted"
        targets = list(self.connectors) if connector_id == 0 else [connector_id]
        busy = [n for n in targets if self.connectors[n].tx is not None]
        for n in targets:
            if n in busy:
                self.connectors[n].scheduled = operative  # §5.2: after the transaction
            else:
                self.connectors[n].operative = operative
        if connector_id == 0:
            self.charger_operative = operative or bool(busy)
        self._report()
        return "Scheduled" if busy else "Accepted"

    def change_configuration(self, key: str, value: str) -> str:
        if key not in self.config:
            return "NotSupported"
        _, readonly, kind = self.config[key]
        if readonly:
            return "Rejected"
        if kind == INT and not re.fullmatch(r"\d{1,9}", value):
            return "Rejected"
        if kind == BOOL and value.lower() not in ("true", "false"):
            return "Rejected"
        if kind == CSL and not set(filter(None, value.split(","))) <= MEASURANDS:
            return "Rejected"
        self.config[key][0] = value.lower() if kind == BOOL else value
        if key in ("HeartbeatInterval",):
            self._next_heartbeat = None
        if key == "ClockAlignedDataInterval":
            self._next_aligned = None
        return "Accepted"

    def get_configuration(self, keys: list[str] | None) -> tuple[list[dict], list[str]]:
        wanted = keys or list(self.config)
        found = [{"key": k, "readonly": self.config[k][1], "value": self.config[k][0]}
                 for k in wanted if k in self.config]
        return found, [k for k in wanted if k not in self.config]

    def remote_start(self, id_tag: str, connector_id: int | None,
                     charging_profile: dict | None) -> str:  # fmt: skip
        n = connector_id if connector_id is not None else 1
        if n not in self.connectors:
            return "Rejected"  # 0 or unknown (§5.11: connectorId > 0)
        c = self.connectors[n]
        if c.tx is not None or c.fault or not (c.operative and self.charger_operative):
            return "Rejected"
        if charging_profile is not None and (
                charging_profile.get("charging_profile_purpose") != "TxProfile"
                or "transaction_id" in charging_profile):
            return "Rejected"  # §5.11: only a TxProfile without transactionId
        reservation = self._reservation_for(n)
        if reservation is not None and reservation.tag != id_tag:
            return "Rejected"
        return "Accepted"

    async def after_remote_start(self, id_tag: str, connector_id: int | None,
                                 charging_profile: dict | None) -> None:  # fmt: skip
        if self.o.remote_start_never_starts:
            return
        n = connector_id or 1
        parent = None
        if self.flag("AuthorizeRemoteTxRequests"):  # §5.11, §9.1.3
            info = await self.authorize(id_tag)
            if info.get("status") != "Accepted":
                return
            parent = info.get("parent_id_tag")
        reservation = self._reservation_for(n)
        pending = Pending(id_tag, parent, self._timeout(), remote=True,
                          profile=charging_profile,
                          reservation_id=reservation.id if reservation is not None else None)
        c = self.connectors[n]
        if c.plugged or self.o.starts_without_cable:
            self._start(n, pending)
        else:
            c.pending = pending
            self._report()

    def remote_stop(self, transaction_id: int) -> int | None:
        for n, c in self.connectors.items():
            if c.tx is not None and c.tx.id == transaction_id:
                return n
        return None

    def unlock(self, connector_id: int) -> str:
        if connector_id not in self.connectors or self.o.fixed_cable:
            return "NotSupported"  # §5.18: unknown connector, or no lock to open
        c = self.connectors[connector_id]
        if c.jammed:
            return "UnlockFailed"
        return "Unlocked"

    def after_unlock(self, connector_id: int) -> None:
        c = self.connectors.get(connector_id)
        if c is None or self.o.fixed_cable or c.jammed:
            return
        if c.tx is not None and not self.o.unlock_keeps_transaction:
            self._stop(connector_id, "UnlockCommand")  # §5.18: stop first

    def reserve(self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int,
                parent_id_tag: str | None) -> str:  # fmt: skip
        expiry = schedule16.parse(expiry_date)
        r = Reservation(reservation_id, id_tag, parent_id_tag, expiry)
        if connector_id == 0:
            if not (self.o.reserve_connector_zero and self.o.optional_keys):
                return "Rejected"  # §5.13: ReserveConnectorZeroSupported absent or false
            targets = list(self.connectors)
        elif connector_id in self.connectors:
            targets = [connector_id]
        else:
            return "Rejected"
        states = [self._reservable(n, reservation_id) for n in targets]
        if "Accepted" not in states:
            order = ("Faulted", "Unavailable", "Occupied")
            return next(s for s in order if s in states)
        if self.o.ignores_reservation:
            return "Accepted"
        if connector_id == 0:
            self.cp_reservation = r
        else:
            self.connectors[connector_id].reservation = r
        self._report()
        return "Accepted"

    def _reservable(self, n: int, reservation_id: int) -> str:
        c = self.connectors[n]
        if c.fault:
            return "Faulted"
        if not (c.operative and self.charger_operative):
            return "Unavailable"
        if c.tx is not None or c.plugged or c.pending is not None or (
                c.reservation is not None and c.reservation.id != reservation_id):
            return "Occupied"
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> str:
        if self.cp_reservation is not None and self.cp_reservation.id == reservation_id:
            self.cp_reservation = None
            return "Accepted"
        for c in self.connectors.values():
            if c.reservation is not None and c.reservation.id == reservation_id:
                c.reservation = None
                self._report()
                return "Accepted"
        return "Rejected"

    def send_local_list(self, list_version: int, update_type: str,
                        local_authorization_list: list[dict]) -> str:  # fmt: skip
        """1.6 §5.15."""
        if not self.flag("LocalAuthListEnabled"):
            return "Failed"
        if len(local_authorization_list) > self.seconds("SendLocalListMaxLength"):
            return "Failed"
        if update_type == "Differential" and list_version <= self.list_version:
            return "VersionMismatch"
        entries = {} if update_type == "Full" else dict(self.local_list)
        for entry in local_authorization_list:
            if entry.get("id_tag_info") is None:
                entries.pop(entry["id_tag"], None)
            else:
                entries[entry["id_tag"]] = entry["id_tag_info"]
        if len(entries) > self.seconds("LocalAuthListMaxLength"):
            return "Failed"
        self.local_list, self.list_version = entries, list_version
        return "Accepted"

    def set_profile(self, connector_id: int, profile: dict) -> str:
        """1.6 §5.16, §3.13."""
        purpose = profile["charging_profile_purpose"]
        schedule = profile["charging_schedule"]
        allowed = {"Current": "A", "Power": "W"}
        units = {allowed[u] for u in self.get("ChargingScheduleAllowedChargingRateUnit").split(",")}
        if (connector_id not in (0, *self.connectors)
                or profile["stack_level"] > self.seconds("ChargeProfileMaxStackLevel")
                or schedule["charging_rate_unit"] not in units
                or len(schedule["charging_schedule_period"]) > self.seconds(
                    "ChargingScheduleMaxPeriods")):
            return "Rejected"
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return "Rejected"
        if purpose == "TxProfile":
            tx = self.connectors[connector_id].tx if connector_id else None
            if tx is None or profile.get("transaction_id", tx.id) != tx.id:
                return "Rejected"  # §3.13.3: only for a running transaction
        self._install(connector_id, profile)
        return "Accepted"

    def _install(self, connector_id: int, profile: dict) -> None:
        """§5.16: the same id, or the same purpose and stackLevel, is replaced."""
        def replaced(k: int, p: dict) -> bool:
            return p["charging_profile_id"] == profile["charging_profile_id"] or (
                k == connector_id and p["stack_level"] == profile["stack_level"]
                and p["charging_profile_purpose"] == profile["charging_profile_purpose"])

        self.profiles = [(k, p) for k, p in self.profiles if not replaced(k, p)]
        self.profiles.append((connector_id, profile))

    def clear_profiles(self, id: int | None, connector_id: int | None, purpose: str | None,
                       stack_level: int | None) -> str:  # fmt: skip
        def matches(k: int, p: dict) -> bool:
            if id is not None:
                return p["charging_profile_id"] == id
            return ((connector_id is None or k == connector_id)
                    and (purpose is None or p["charging_profile_purpose"] == purpose)
                    and (stack_level is None or p["stack_level"] == stack_level))

        kept = [(k, p) for k, p in self.profiles if not matches(k, p)]
        found = len(kept) != len(self.profiles)
        self.profiles = kept
        return "Accepted" if found else "Unknown"

    def composite(self, connector_id: int, duration: int, unit: str | None) -> dict:
        if connector_id not in (0, *self.connectors):
            return {"status": "Rejected"}
        unit = {"W": "W", "A": "A"}.get(unit or "A", "A")
        now = self.now().replace(microsecond=0)
        tx = self.connectors[connector_id].tx if connector_id else None
        periods = schedule16.composite(self.profiles, connector_id or 1, now, duration, tx, unit)
        return {"status": "Accepted", "connector_id": connector_id,
                "schedule_start": self.clock.iso(now),
                "charging_schedule": {"duration": duration, "start_schedule": self.clock.iso(now),
                                      "charging_rate_unit": unit,
                                      "charging_schedule_period": periods}}

    def trigger(self, message: str, connector_id: int | None) -> str:
        if connector_id is not None and connector_id not in (0, *self.connectors) and (
                self.o.trigger_unknown_connector == "Rejected"):
            return "Rejected"
        return "Accepted"

    def after_trigger(self, message: str, connector_id: int | None) -> None:
        """§5.17: send the requested message (an unknown connector counts as none given)."""
        if connector_id not in (0, *self.connectors):
            connector_id = None
        if message == "BootNotification":
            self.post(lambda: call.BootNotification(charge_point_model="Indep16",
                                                    charge_point_vendor="ocpp-package"))
        elif message == "Heartbeat":
            self.post(call.Heartbeat)
        elif message == "StatusNotification":
            for n in [connector_id] if connector_id is not None else [0, *self.connectors]:
                self.post(self._status_payload(n, self.status_of(n)))
        elif message == "MeterValues":
            for n in [connector_id] if connector_id else list(self.connectors):
                tx = self.connectors[n].tx
                self.post(self._meter_payload(n, tx, self._sample("Trigger")))
        elif message == "DiagnosticsStatusNotification":
            self.post(lambda: call.DiagnosticsStatusNotification(status="Idle"))
        elif message == "FirmwareStatusNotification":
            self.post(lambda: call.FirmwareStatusNotification(status="Idle"))

    async def reset(self, kind: str) -> None:
        """1.6 §5.14: Soft stops transactions (SoftReset) then reboots; Hard reboots and ends
        them with HardReset, before going down or (stop_after_reboot) after the reboot."""
        await asyncio.sleep(0.05)  # the CALLRESULT goes first
        backoff = self.o.reset_backoff
        if kind == "Hard" and self.o.no_stop_on_hard_reset:
            self._reboot(None, backoff=backoff)
            return
        if kind == "Soft" or not self.o.stop_after_reboot:
            for n, c in self.connectors.items():
                if c.tx is not None:
                    self._stop(n, f"{kind}Reset")
            await self.drained()
        self._reboot(f"{kind}Reset", backoff=backoff)

    # Firmware Management (1.6 §4.4, §4.5, §5.9, §5.19)

    async def update_firmware(self, location: str, retrieve_date: str, retries: int | None,
                              retry_interval: int | None) -> None:  # fmt: skip
        wait = (schedule16.parse(retrieve_date) - self.now()).total_seconds()
        await self.clock.sleep(wait)

        def status(value: str) -> None:
            self.post(lambda: call.FirmwareStatusNotification(status=value))

        image = None
        for attempt in range(1 + (retries or 0)):
            status("Downloading")
            try:
                image = await asyncio.to_thread(_fetch, location)
                break
            except Exception:
                if attempt < (retries or 0):
                    await self.clock.sleep(retry_interval or 10)
        if image is None:
            status("DownloadFailed")
            return
        status("Downloaded")
        status("Installing")
        found = re.match(rb"CBFW (\S+)", image)
        if self.fail_install or found is None:
            status("InstallationFailed")
            return
        status("Installed")
        await self.drained()
        self.firmware_version = found.group(1).decode()
        self._reboot("Reboot")

    async def upload_diagnostics(self, location: str, name: str, retries: int | None) -> None:
        self.post(lambda: call.DiagnosticsStatusNotification(status="Uploading"))
        data = f"indep16 diagnostics {self.clock.iso()}\n".encode()
        for attempt in range(1 + (retries or 0)):
            try:
                await asyncio.to_thread(_upload, location, name, data)
                self.post(lambda: call.DiagnosticsStatusNotification(status="Uploaded"))
                return
            except Exception:
                if attempt < (retries or 0):
                    await self.clock.sleep(5)
        self.post(lambda: call.DiagnosticsStatusNotification(status="UploadFailed"))


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def _upload(location: str, name: str, data: bytes) -> None:
    parts = urllib.parse.urlsplit(location)
    if parts.scheme == "ftp":
        with ftplib.FTP() as ftp:
            ftp.connect(parts.hostname or "", parts.port or 21, timeout=5)
            ftp.login(parts.username or "anonymous", parts.password or "")
            if parts.path.strip("/"):
                ftp.cwd(parts.path)
            ftp.storbinary(f"STOR {name}", io.BytesIO(data))
        return
    request = urllib.request.Request(location.rstrip("/") + "/" + name, data=data, method="PUT")
    urllib.request.urlopen(request, timeout=5).close()


# The `ocpp` package's side: routing and schema validation


class Link(OcppChargePoint):
    """One connection: the `ocpp` package's ChargePoint, its handlers delegating to `cp`."""

    def __init__(self, cp_id: str, ws: Any, cp: IndependentChargePoint) -> None:
        super().__init__(cp_id, ws, response_timeout=10)
        self.cp, self.ws = cp, ws
        #: per CALL of ours: set once the charger has taken its reply in
        self.settled: dict[str, asyncio.Event] = {}
        self.waiting: str | None = None

    @property
    def closed(self) -> bool:
        return self.ws.state.name in ("CLOSING", "CLOSED")

    def drop(self) -> None:
        """The network is gone (power loss, offline): no closing handshake."""
        self.ws.transport.abort()

    async def call(self, payload: Any, *, deferred: bool = False) -> Any:
        """The package's call; None when unanswered or answered with a CALLERROR. `deferred`:
        the caller calls `settle()` once it has acted on the reply (the pump does)."""
        self.waiting = str(uuid.uuid4())
        self.settled[self.waiting] = asyncio.Event()
        try:
            return await super().call(payload, unique_id=self.waiting)
        except Exception:
            deferred = False
            return None
        finally:
            if not deferred:
                self.settle()

    def settle(self) -> None:
        """The reply to our last CALL is taken in: the reader may go on."""
        event = self.settled.pop(self.waiting or "", None)
        if event is not None:
            event.set()

    async def route_message(self, raw_msg: str) -> None:
        """The package routes the frame; before, `_frame_fault` answers the framing faults it
        lets through; after, a reply to our CALL is taken in by the charger before the next
        frame is read (a RemoteStop right after StartTransaction.conf knows the id)."""
        try:
            frame = json.loads(raw_msg)
        except ValueError:
            frame = None  # the id cannot be read: the package ignores it, no CALLERROR names one
        fault = _frame_fault(frame, self.route_map, self.cp.o)
        if fault is not None:
            await self._send(json.dumps([4, *fault, {}]))
            return
        try:
            await super().route_message(raw_msg)
        except Exception as error:  # the package lets some through: answer them
            if isinstance(frame, list) and len(frame) == 4 and frame[0] == 2:
                await self._send(json.dumps([4, frame[1], "InternalError", str(error)[:100], {}]))
            return
        if isinstance(frame, list) and len(frame) > 1 and frame[0] in (3, 4):
            event = self.settled.get(frame[1]) if isinstance(frame[1], str) else None
            if event is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 2)

    async def _handle_call(self, msg: Any) -> Any:
        fault = _payload_fault(msg.action, msg.payload)
        if fault is not None:
            raise fault
        return await super()._handle_call(msg)

    # Core

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str) -> Any:
        return call_result.ChangeAvailability(self.cp.change_availability(connector_id, type))

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> Any:
        return call_result.ChangeConfiguration(self.cp.change_configuration(key, value))

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list | None = None) -> Any:
        found, unknown = self.cp.get_configuration(key)
        return call_result.GetConfiguration(configuration_key=found, unknown_key=unknown or None)

    @on(Action.clear_cache)
    def on_clear_cache(self) -> Any:
        if not (self.cp.o.auth_cache and "AuthorizationCacheEnabled" in self.cp.config):
            return call_result.ClearCache("Rejected")  # §5.4: no cache to clear
        self.cp.cache.clear()
        return call_result.ClearCache("Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return call_result.DataTransfer("UnknownVendorId")  # §5.6

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None,
                        charging_profile: dict | None = None) -> Any:  # fmt: skip
        self._remote_ok = self.cp.remote_start(id_tag, connector_id, charging_profile)
        return call_result.RemoteStartTransaction(self._remote_ok)

    @after(Action.remote_start_transaction)
    async def after_remote_start(self, id_tag: str, connector_id: int | None = None,
                                 charging_profile: dict | None = None) -> None:  # fmt: skip
        if self._remote_ok == "Accepted":
            await self.cp.after_remote_start(id_tag, connector_id, charging_profile)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> Any:
        found = self.cp.remote_stop(transaction_id)
        return call_result.RemoteStopTransaction("Rejected" if found is None else "Accepted")

    @after(Action.remote_stop_transaction)
    def after_remote_stop(self, transaction_id: int) -> None:
        found = self.cp.remote_stop(transaction_id)
        if found is not None:
            self.cp._stop(found, "Remote")  # §5.12

    @on(Action.reset)
    def on_reset(self, type: str) -> Any:
        return call_result.Reset("Accepted")

    @after(Action.reset)
    async def after_reset(self, type: str) -> None:
        await self.cp.reset(type)

    @on(Action.unlock_connector)
    def on_unlock(self, connector_id: int) -> Any:
        return call_result.UnlockConnector(self.cp.unlock(connector_id))

    @after(Action.unlock_connector)
    def after_unlock(self, connector_id: int) -> None:
        self.cp.after_unlock(connector_id)

    # Local Auth List Management (1.6 §5.10, §5.15)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self) -> Any:
        return call_result.GetLocalListVersion(self.cp.list_version)

    @on(Action.send_local_list)
    def on_send_local_list(self, list_version: int, update_type: str,
                           local_authorization_list: list | None = None) -> Any:  # fmt: skip
        return call_result.SendLocalList(self.cp.send_local_list(
            list_version, update_type, local_authorization_list or []))

    # Reservation (1.6 §5.1, §5.13)

    @on(Action.reserve_now)
    def on_reserve_now(self, connector_id: int, expiry_date: str, id_tag: str,
                       reservation_id: int, parent_id_tag: str | None = None) -> Any:  # fmt: skip
        return call_result.ReserveNow(self.cp.reserve(
            connector_id, expiry_date, id_tag, reservation_id, parent_id_tag))

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> Any:
        return call_result.CancelReservation(self.cp.cancel_reservation(reservation_id))

    # Remote Trigger (1.6 §5.17)

    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, connector_id: int | None = None) -> Any:
        self._trigger_ok = self.cp.trigger(requested_message, connector_id)
        return call_result.TriggerMessage(self._trigger_ok)

    @after(Action.trigger_message)
    def after_trigger(self, requested_message: str, connector_id: int | None = None) -> None:
        if self._trigger_ok == "Accepted":
            self.cp.after_trigger(requested_message, connector_id)

    # Smart Charging (1.6 §5.5, §5.7, §5.16)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict) -> Any:
        return call_result.SetChargingProfile(
            self.cp.set_profile(connector_id, cs_charging_profiles))

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id: int | None = None, connector_id: int | None = None,
                                  charging_profile_purpose: str | None = None,
                                  stack_level: int | None = None) -> Any:  # fmt: skip
        return call_result.ClearChargingProfile(self.cp.clear_profiles(
            id, connector_id, charging_profile_purpose, stack_level))

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int,
                                  charging_rate_unit: str | None = None) -> Any:  # fmt: skip
        return call_result.GetCompositeSchedule(
            **self.cp.composite(connector_id, duration, charging_rate_unit))

    # Firmware Management (1.6 §5.9, §5.19)

    @on(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, retries: int | None = None,
                           retry_interval: int | None = None) -> Any:  # fmt: skip
        if not self.cp.o.firmware:
            raise NotSupportedError("FirmwareManagement is not supported")
        self.cp.spawn(self.cp.update_firmware(location, retrieve_date, retries, retry_interval))
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, retries: int | None = None, **_: Any) -> Any:
        if not self.cp.o.firmware:
            raise NotSupportedError("FirmwareManagement is not supported")
        name = f"indep16-{self.cp.now():%Y%m%d%H%M%S}.txt"
        self.cp.spawn(self.cp.upload_diagnostics(location, name, retries))
        return call_result.GetDiagnostics(file_name=name)


#: OCPP-J 1.6 §4.2.3 Table 7, per JSON-schema keyword that failed (the package's own mapping
#: says FormatViolation, OCPP 2.0.1's name, and TypeConstraintViolation for a too-long string)
DECIMAL_ACTIONS = frozenset({"SetChargingProfile", "RemoteStartTransaction"})
SCHEMA_FAULTS = {"type": "TypeConstraintViolation", "required": "ProtocolError",
                 "additionalProperties": "FormationViolation"}


def _payload_fault(action: str, payload: Any) -> OCPPError | None:
    """The CALLERROR a CALL's payload earns against the package's 1.6 schema, or None."""
    try:
        if action in DECIMAL_ACTIONS:  # the package caches one validator per action: its way
            validator = get_validator(2, action, "1.6", parse_float=decimal.Decimal)
            payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
        else:
            validator = get_validator(2, action, "1.6")
    except Exception:  # no schema: the package answers NotImplemented
        return None
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return None
    code = SCHEMA_FAULTS.get(str(error.validator), "PropertyConstraintViolation")
    return _ERRORS[code](description=error.message[:200])


_ERRORS: dict[str, type[OCPPError]] = {
    e.code: e for e in (TypeConstraintViolationError, ProtocolError, FormationViolationError,
                        PropertyConstraintViolationError)
}
CP_ACTIONS = frozenset(a.value for a in Action)


def _frame_fault(frame: Any, routes: dict, o: Options) -> tuple[str, str, str] | None:
    """(id, code, description) for a CALL frame the package would let through unanswered or
    misjudge (OCPP-J 1.6 §4.1.3, §4.2.1, §4.2.3 Table 7); None for everything else."""
    if not isinstance(frame, list) or not frame or frame[0] != 2:
        return None  # not a CALL: replies go to the package, unknown types are ignored (§4.1.3)
    message_id = str(frame[1]) if len(frame) > 1 else "-1"
    if len(frame) != 4 or not isinstance(frame[1], str) or len(frame[1]) > 36:
        return message_id, "FormationViolation", "not a CALL: [2, id (<= 36 chars), action, {}]"
    if not isinstance(frame[2], str) or not isinstance(frame[3], dict):
        return message_id, "FormationViolation", "action must be a string, payload an object"
    if frame[2] not in CP_ACTIONS:
        code = "NotSupported" if o.unknown_action_not_supported else "NotImplemented"
        return message_id, code, f"unknown action {frame[2][:40]}"
    if frame[2] not in routes:
        return message_id, "NotSupported", f"{frame[2]} is not handled by a charge point"
    return None


__all__ = ["VARIANTS", "IndependentChargePoint", "Options", "capabilities"]
