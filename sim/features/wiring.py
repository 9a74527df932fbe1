"""How the feature modules plug into one charge point.

`attach(host)` is called once by `ChargePoint.__init__`: it registers the SecurityProfile
certificate check and the configuration listener. The per-charge-point feature objects live in
`Features` and are built on first use, each from the few things it needs (configuration,
clock, state directory, a `notify` callback...), never from the whole charge point. An idle
charge point of a 10 000-strong fleet that never sees a reservation or a firmware update never
holds those objects (loadtest/bench_sim_memory.py). The handlers that reach them are the
table of the version agreed in the handshake (`sim.v16.handlers`, chosen by `sim.dispatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Protocol

from chargebench.trace import TraceRecord
from sim.connector import Connector, ConnectorError
from sim.features import core, reserving, security
from sim.features.certificates import CertificateStore
from sim.features.connection import Link
from sim.features.context import Clocked, Equipped, Spawner, StatusSetter
from sim.features.reserving import ReservingContext
from sim.features.security import SecurityContext
from sim.features.security_events import SecurityEvents
from sim.state import write_text
from sim.v16.diagnostics import Diagnostics
from sim.v16.firmware import FirmwareFaults, FirmwareUpdater
from sim.v16.local_list import LocalAuthorization
from sim.v16.pnc import PlugAndCharge
from sim.v16.reservation import Reservations
from sim.v16.smart_charging import SmartCharging

__all__ = ["Features", "Host", "TraceFeatures", "TraceSource", "attach", "trace_sink"]

#: The charge point's own message log rolls over (older half dropped) beyond this size.
LOG_MAX_BYTES = 512 * 1024


class Host(ReservingContext, SecurityContext, Equipped, Protocol):
    """What the features are built from (the charge point): reservations and the connection's
    security take their own contexts from it; the rest gets single values and callbacks
    (configuration, clock, state directory, `call`, `request_reboot`...)."""

    @property
    def link(self) -> Link: ...

    @property
    def features(self) -> Features: ...

    def request_reboot(self, reason: str) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


class Features:
    """The feature objects of one charge point, each built when first needed."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self.firmware_faults = FirmwareFaults()
        self._timers: dict[str, asyncio.Task] = {}

    def built(self, name: str) -> bool:
        """Whether feature `name` exists already (no need to build it just to tell it)."""
        return name in self.__dict__

    # Authorization (1.6 §3.5) --------------------------------------------------------------

    @cached_property
    def auth(self) -> LocalAuthorization:
        """The local list and the Authorization Cache: the one local authorization source."""
        host = self._host
        return LocalAuthorization(host.config, state_dir=host.state_dir,
                                  on_conflict=partial(_local_list_conflict, host))

    @cached_property
    def reservations(self) -> Reservations:
        return reserving.build(self._host)

    @cached_property
    def smart(self) -> SmartCharging:
        """The charge point's profile store, persisted in its state directory (errata 3.37);
        `sim.features.limits` puts its limits on the meters."""
        host = self._host
        return SmartCharging.for_hardware(host.config, host.hardware, now=host.clock.now,
                                          state_dir=host.state_dir)

    # Firmware, diagnostics (1.6 §4.4, §4.5; whitepaper L01, N01) ----------------------------

    @cached_property
    def firmware(self) -> FirmwareUpdater:
        host = self._host
        ports = host.ports
        return FirmwareUpdater(
            host.config, clock=host.clock, notify=host.call,
            reboot=partial(_reboot_into, host), idle=lambda: all(p.tx is None for p in ports),
            manufacturer_roots=lambda: self.certs.manufacturer_roots(),
            security_event=partial(security.security_event, host), faults=self.firmware_faults,
        )

    @cached_property
    def diagnostics(self) -> Diagnostics:
        host = self._host
        return Diagnostics(host.config, clock=host.clock, notify=host.call,
                           log_path=self.log_path, security_log_path=self.events.log_path,
                           report=partial(_own_report, host))

    @property
    def log_path(self) -> Path | None:
        """The charge point's own message log (JSON Lines trace records), for GetDiagnostics."""
        state_dir = self._host.state_dir
        return state_dir / "ocpp.log" if state_dir is not None else None

    # Security (whitepaper A01-A05, M03-M05, PnC) --------------------------------------------

    @cached_property
    def events(self) -> SecurityEvents:
        host = self._host
        return SecurityEvents(host.config, clock=host.clock, state_dir=host.state_dir)

    @cached_property
    def certs(self) -> CertificateStore:
        host = self._host
        return CertificateStore(host.config, clock=host.clock, state_dir=host.state_dir,
                                security_event=partial(security.security_event, host))

    @cached_property
    def pnc(self) -> PlugAndCharge:
        host = self._host
        return PlugAndCharge(host.config, self.certs, clock=host.clock, notify=host.call,
                             other=partial(core.data_transfer, host))

    @cached_property
    def profile_state(self) -> security.ProfileState:
        return security.ProfileState()

    # Timers and shutdown ---------------------------------------------------------------------

    def schedule(self, name: str, when: datetime | None, action: Callable[[], Any]) -> None:
        """Run `action()` at simulated time `when`, replacing timer `name`; None cancels it."""
        old = self._timers.pop(name, None)
        if old is not None and old is not asyncio.current_task():
            old.cancel()
        if when is not None:
            self._timers[name] = self._host.spawn(self._at(name, when, action))

    async def _at(self, name: str, when: datetime, action: Callable[[], Any]) -> None:
        clock = self._host.clock
        await clock.sleep(max(0.0, (when - clock.now()).total_seconds()))
        if self._timers.get(name) is asyncio.current_task():
            del self._timers[name]
        action()

    def close(self) -> None:
        """Stop what runs outside the charge point's own tasks (uploads, updates)."""
        if self.built("firmware"):
            self.firmware.cancel()
        if self.built("diagnostics"):
            self.diagnostics.cancel()


class Reporter(Clocked, Protocol):
    """Who the charge point is and where its connectors are, for `_own_report`."""

    @property
    def link(self) -> Link: ...

    def snapshot(self) -> dict[str, Any]: ...


def _own_report(ctx: Reporter) -> bytes:
    """What a charge point without a message log on disk uploads for GetDiagnostics/GetLog: one
    JSON line (the log's format) with who it is and where each connector is; its message
    log is kept in the state directory (`--state-dir`)."""
    record = {"ts": ctx.clock.iso_now(),
              "kind": "report", "note": "no message log on disk: run with a state directory",
              **ctx.snapshot(), "connections": ctx.link.connects}
    return (json.dumps(record, default=str) + "\n").encode("utf-8")


class ConflictReporter(Spawner, StatusSetter, Protocol):
    """Connector 0's status, to report a LocalListConflict on."""

    @property
    def connector0(self) -> Connector: ...


def _local_list_conflict(ctx: ConflictReporter, _id_tag: str, _info: dict) -> None:
    """1.6 §3.5.2: the CSMS's answer contradicts the local list: StatusNotification on
    connector 0 with errorCode LocalListConflict."""
    connector0 = ctx.connector0
    ctx.spawn(ctx.set_status(connector0, connector0.status,
                             ConnectorError.local_list_conflict))


def _reboot_into(ctx: Host, version: str) -> None:
    """After Installed: the next BootNotification carries the new FirmwareVersion (§4.5)."""
    ctx.config.set_value("FirmwareVersion", version)
    ctx.request_reboot("FirmwareUpdate")


def attach(host: Host) -> Features:
    """Wire every feature into `host` (the charge point being built); returns its
    `Features`."""
    features = Features(host)
    host.config.add_check("SecurityProfile", partial(_profile_check, features))
    host.config.subscribe(partial(security.config_changed, host))
    return features


def _profile_check(features: Features, value: Any, _config: Any) -> str | None:
    """A05.FR.03/04: profiles 2/3 need the certificates installed first."""
    return features.certs.check_security_profile(value)


# The charge point's own log ----------------------------------------------------------------


class TraceFeatures(Protocol):
    """The charge point's own message log, if it has a state directory."""

    @property
    def log_path(self) -> Path | None: ...


class TraceSource(Protocol):
    """Where a connection's trace records go: the caller's sink and the message log."""

    @property
    def trace_sink(self) -> Callable[[TraceRecord], None] | None: ...

    @property
    def features(self) -> TraceFeatures: ...


def trace_sink(ctx: TraceSource) -> Callable[[TraceRecord], None] | None:
    """Where the session's trace records go: the caller's sink and the charge point's own log
    (the file GetDiagnostics uploads), whichever exist."""
    sinks = [s for s in (ctx.trace_sink, _file_sink(ctx.features.log_path)) if s is not None]
    if not sinks:
        return None
    if len(sinks) == 1:
        return sinks[0]

    def fan_out(record: TraceRecord) -> None:
        for sink in sinks:
            sink(record)

    return fan_out


def _file_sink(path: Path | None) -> Callable[[TraceRecord], None] | None:
    if path is None:
        return None

    def write(record: TraceRecord) -> None:
        with contextlib.suppress(OSError):
            try:
                fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed just below)
            except FileNotFoundError:  # its folder only then: a mkdir per frame was measurable
                path.parent.mkdir(parents=True, exist_ok=True)
                fh = open(path, "a", encoding="utf-8")  # noqa: SIM115
            with fh:
                fh.write(record.to_json() + "\n")
                size = fh.tell()  # append mode: the position is the file's size
            if size > LOG_MAX_BYTES:
                lines = path.read_text("utf-8").splitlines(keepends=True)
                write_text(path, "".join(lines[len(lines) // 2:]))

    return write

