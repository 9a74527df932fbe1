"""How the feature modules plug into one charge point.

`attach(cp)` is called once by `ChargePoint.__init__`: it registers the SecurityProfile
certificate check and the configuration listener. The per-charge-point feature objects live in
`Features` and are built on first use: an idle charge point of a 10 000-strong fleet that never
sees a reservation or a firmware update never holds those objects
(loadtest/bench_sim_memory.py). The handlers that reach them are the table of the version agreed
in the handshake (`sim.v16.handlers`, chosen by `sim.dispatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocpp.v16.enums import ChargePointErrorCode

from chargebench.trace import TraceRecord
from sim.features import core, reserving, security
from sim.features.certificates import CertificateStore
from sim.features.diagnostics import Diagnostics
from sim.features.firmware import FirmwareFaults, FirmwareUpdater
from sim.features.local_list import LocalAuthorization
from sim.features.pnc import PlugAndCharge
from sim.features.reservation import Reservations
from sim.features.security_events import SecurityEvents
from sim.features.smart_charging import SmartCharging
from sim.state import write_text

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint

__all__ = ["Features", "attach", "trace_sink"]

#: The charge point's own message log rolls over (older half dropped) beyond this size.
LOG_MAX_BYTES = 512 * 1024


class Features:
    """The feature objects of one charge point, each built when first needed."""

    def __init__(self, cp: ChargePoint) -> None:
        self.cp = cp
        self.firmware_faults = FirmwareFaults()
        self._timers: dict[str, asyncio.Task] = {}

    def built(self, name: str) -> bool:
        """Whether feature `name` exists already (no need to build it just to tell it)."""
        return name in self.__dict__

    # Authorization (1.6 §3.5) --------------------------------------------------------------

    @cached_property
    def auth(self) -> LocalAuthorization:
        """The local list and the Authorization Cache: the one local authorization source."""
        cp = self.cp
        return LocalAuthorization(cp.config, state_dir=cp.state_dir,
                                  on_conflict=partial(_local_list_conflict, cp))

    @cached_property
    def reservations(self) -> Reservations:
        return reserving.build(self.cp)

    @cached_property
    def smart(self) -> SmartCharging:
        """The charge point's profile store, persisted in its state directory (errata 3.37);
        `sim.features.limits` puts its limits on the meters."""
        cp = self.cp
        return SmartCharging.for_hardware(cp.config, cp.hardware, now=cp.clock.now,
                                          state_dir=cp.state_dir)

    # Firmware, diagnostics (1.6 §4.4, §4.5; whitepaper L01, N01) ----------------------------

    @cached_property
    def firmware(self) -> FirmwareUpdater:
        cp = self.cp
        return FirmwareUpdater(
            cp.config, clock=cp.clock, notify=cp.call, reboot=partial(_reboot_into, cp),
            idle=lambda: all(p.tx is None for p in cp.ports),
            manufacturer_roots=lambda: self.certs.manufacturer_roots(),
            security_event=partial(security.security_event, cp), faults=self.firmware_faults,
        )

    @cached_property
    def diagnostics(self) -> Diagnostics:
        cp = self.cp
        return Diagnostics(cp.config, clock=cp.clock, notify=cp.call, log_path=self.log_path,
                           security_log_path=self.events.log_path,
                           report=partial(_own_report, cp))

    @property
    def log_path(self) -> Path | None:
        """The charge point's own message log (JSON Lines trace records), for GetDiagnostics."""
        return self.cp.state_dir / "ocpp.log" if self.cp.state_dir is not None else None

    # Security (whitepaper A01-A05, M03-M05, PnC) --------------------------------------------

    @cached_property
    def events(self) -> SecurityEvents:
        return SecurityEvents(self.cp.config, clock=self.cp.clock, state_dir=self.cp.state_dir)

    @cached_property
    def certs(self) -> CertificateStore:
        cp = self.cp
        return CertificateStore(cp.config, clock=cp.clock, state_dir=cp.state_dir,
                                security_event=partial(security.security_event, cp))

    @cached_property
    def pnc(self) -> PlugAndCharge:
        cp = self.cp
        return PlugAndCharge(cp.config, self.certs, clock=cp.clock, notify=cp.call,
                             other=partial(core.data_transfer, cp))

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
            self._timers[name] = self.cp.spawn(self._at(name, when, action))

    async def _at(self, name: str, when: datetime, action: Callable[[], Any]) -> None:
        await self.cp.clock.sleep(max(0.0, (when - self.cp.clock.now()).total_seconds()))
        if self._timers.get(name) is asyncio.current_task():
            del self._timers[name]
        action()

    def close(self) -> None:
        """Stop what runs outside the charge point's own tasks (uploads, updates)."""
        if self.built("firmware"):
            self.firmware.cancel()
        if self.built("diagnostics"):
            self.diagnostics.cancel()


def _own_report(cp: ChargePoint) -> bytes:
    """What a charge point without a message log on disk uploads for GetDiagnostics/GetLog: one
    JSON line (the log's format) with who it is and where each connector is; its message
    log is kept in the state directory (`--state-dir`)."""
    record = {"ts": cp.clock.iso_now(),
              "kind": "report", "note": "no message log on disk: run with a state directory",
              **cp.snapshot(), "connections": cp.connects}
    return (json.dumps(record, default=str) + "\n").encode("utf-8")


def _local_list_conflict(cp: ChargePoint, _id_tag: str, _info: dict) -> None:
    """1.6 §3.5.2: the CSMS's answer contradicts the local list: StatusNotification on
    connector 0 with errorCode LocalListConflict."""
    cp.spawn(cp.set_status(cp.connector0, cp.connector0.status,
                           ChargePointErrorCode.local_list_conflict))


def _reboot_into(cp: ChargePoint, version: str) -> None:
    """After Installed: the next BootNotification carries the new FirmwareVersion (§4.5)."""
    cp.config.set_value("FirmwareVersion", version)
    cp.request_reboot("FirmwareUpdate")


def attach(cp: ChargePoint) -> Features:
    """Wire every feature into `cp`; returns its `Features`."""
    features = Features(cp)
    cp.config.add_check("SecurityProfile", partial(_profile_check, cp))
    cp.config.subscribe(partial(security.config_changed, cp))
    return features


def _profile_check(cp: ChargePoint, value: Any, _config: Any) -> str | None:
    """A05.FR.03/04: profiles 2/3 need the certificates installed first."""
    return cp.features.certs.check_security_profile(value)


# The charge point's own log ----------------------------------------------------------------


def trace_sink(cp: ChargePoint) -> Callable[[TraceRecord], None] | None:
    """Where the session's trace records go: the caller's sink and the charge point's own log
    (the file GetDiagnostics uploads), whichever exist."""
    sinks = [s for s in (cp.trace_sink, _file_sink(cp.features.log_path)) if s is not None]
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

