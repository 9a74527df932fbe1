"""Security events (whitepaper §3, A04 and §8): the security log and SecurityEventNotification.

Every security event, critical or not, is appended to the security log (A04.FR.04), a JSON Lines
file with a `ts` field so `Diagnostics.on_get_log` (N01, logType SecurityLog) cuts windows out
of it like any other log: pass `SecurityEvents.log_path` as its `security_log_path`. Critical
events (the table of §8) are also queued for a SecurityEventNotification.req with guaranteed
delivery (A04.FR.02): the queue is persisted and only shrinks when the CSMS has confirmed
(A04.FR.03), so a disconnection or a crash loses nothing.

The charge point wires it like this:

    events = SecurityEvents(config, clock=clock, state_dir=state_dir)
    events.record("StartupOfTheDevice")             # at every boot (critical)
    ...after BootNotification Accepted:  await events.deliver(session.call)
    ...after each new event while online: await events.deliver(session.call)

and passes `events` (a `(type, techInfo)` callable) as `security_event=` to the firmware
updater and to the certificate store.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from chargebench.clock import Clock, iso
from sim.state import read_json, state_file, write_json, write_text
from sim.tasks import LeanLock

__all__ = ["CRITICAL", "EVENT_TYPES", "SecurityEvents"]

log = logging.getLogger(__name__)

#: Security events of whitepaper §8, name -> critical (critical ones are pushed to the CSMS).
#: The names are the table's, typos included ("FailedToAuthenticationAtCentralSystem"): a CSMS
#: matches on them.
EVENT_TYPES: dict[str, bool] = {
    "FirmwareUpdated": True,
    "FailedToAuthenticationAtCentralSystem": False,
    "CentralSystemFailedToAuthentication": False,
    "SettingSystemTime": True,
    "StartupOfTheDevice": True,
    "ResetOrReboot": True,
    "SecurityLogWasCleared": True,
    "ReconfigurationOfSecurityParameters": False,
    "MemoryExhaustion": True,
    "InvalidMessages": False,
    "AttemptedReplayAttacks": False,
    "TamperDetectionActivated": True,
    "InvalidFirmwareSignature": False,
    "InvalidFirmwareSigningCertificate": False,
    "InvalidCentralSystemCertificate": False,
    "InvalidChargePointCertificate": False,
    "InvalidTLSVersion": False,
    "InvalidTLSCipherSuite": False,
}
CRITICAL = frozenset(name for name, critical in EVENT_TYPES.items() if critical)

_TYPE_MAX = 50  # SecurityEventNotification.req type: string[50] (§5.15)
_TECH_INFO_MAX = 255  # techInfo: string[0..255]

Notify = Callable[[str, dict], Awaitable[Any]]


class SecurityEvents:
    """The security log plus the persisted queue of SecurityEventNotification.req payloads."""

    LOG_NAME = "security.log"
    QUEUE_NAME = "security_events.json"

    def __init__(
        self,
        config: Any,
        *,
        clock: Clock,
        state_dir: str | os.PathLike[str] | None = None,
        max_log_bytes: int = 256 * 1024,
    ) -> None:
        """`max_log_bytes`: the log rolls over (the older half is dropped) beyond this size,
        the rolling format A04.FR.04 recommends."""
        self.config = config
        self.clock = clock
        self.log_path = state_file(state_dir, self.LOG_NAME)
        self.queue_path = state_file(state_dir, self.QUEUE_NAME)
        self.max_log_bytes = max_log_bytes
        self._queue: list[dict[str, Any]] = read_json(self.queue_path, [])
        self._memory_log: list[str] = []  # without a state directory
        self._lock = LeanLock()  # one per charge point of a fleet (`sim.tasks.LeanLock`)

    # Recording ---------------------------------------------------------------------------

    def __call__(self, kind: str, tech_info: str | None = None) -> dict[str, Any] | None:
        """Shorthand for `record`, so the store can be passed as a `security_event` callback."""
        return self.record(kind, tech_info)

    def record(
        self, kind: str, tech_info: str | None = None, *, critical: bool | None = None
    ) -> dict[str, Any] | None:
        """Log a security event; queue it for the CSMS when critical. Returns the queued
        SecurityEventNotification.req payload, or None when it is only logged.

        `critical` overrides the §8 table (unknown, vendor-specific types are not critical).
        Never put key material in `tech_info` (A01.FR.12).
        """
        payload: dict[str, Any] = {"type": kind[:_TYPE_MAX], "timestamp": iso(self.clock.now())}
        if tech_info:
            payload["techInfo"] = tech_info[:_TECH_INFO_MAX]
        is_critical = EVENT_TYPES.get(kind, False) if critical is None else critical
        self._append_log({"ts": payload["timestamp"], **payload, "critical": is_critical})
        if not is_critical:
            return None
        if self.config.get("Security", "DisableSecurityEventNotifications", False):
            return None  # libocpp key: logged, never sent
        self._queue.append(payload)  # A04.FR.01/02
        self._save()
        return payload

    def clear_log(self) -> None:
        """Empty the security log; the clearing itself is the first new entry (§8)."""
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
        self._memory_log.clear()
        self.record("SecurityLogWasCleared")

    def log_lines(self) -> list[dict[str, Any]]:
        """The security log, oldest first (tests, the dashboard)."""
        if self.log_path is None:
            lines = self._memory_log
        elif self.log_path.exists():
            lines = self.log_path.read_text("utf-8").splitlines()
        else:
            lines = []
        return [json.loads(line) for line in lines if line.strip()]

    def _append_log(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"))
        if self.log_path is None:
            self._memory_log.append(line)
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if self.log_path.stat().st_size > self.max_log_bytes:
            self._roll()

    def _roll(self) -> None:
        assert self.log_path is not None
        lines = self.log_path.read_text("utf-8").splitlines(keepends=True)
        write_text(self.log_path, "".join(lines[len(lines) // 2:]))

    # Delivery (A04.FR.02/03) -------------------------------------------------------------

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Queued SecurityEventNotification.req payloads, oldest first."""
        return list(self._queue)

    async def deliver(self, notify: Notify) -> int:
        """Send the queued notifications in order; each leaves the queue only once the CSMS
        confirmed it. Stops at the first failure (offline, CALLERROR): call again when back
        online. Returns how many were delivered."""
        sent = 0
        async with self._lock:  # one delivery at a time keeps the order
            while self._queue:
                payload = self._queue[0]
                try:
                    await notify("SecurityEventNotification", payload)
                except Exception as exc:  # ConnectionLost, CallFailed...: retry later
                    log.info("SecurityEventNotification %s not delivered: %s",
                             payload["type"], exc)
                    break
                self._queue.pop(0)
                self._save()
                sent += 1
        return sent

    def _save(self) -> None:
        if self.queue_path is not None:
            write_json(self.queue_path, self._queue)
