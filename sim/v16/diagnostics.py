"""Diagnostics and logs: GetDiagnostics (1.6 §5.9, §4.4, errata 3.31, 3.50) and GetLog
(security whitepaper N01).

The charge point's own log is its trace file (JSON Lines with a `ts` field, DESIGN "Trace
records") or any text file whose lines start with an ISO-8601 time; the security log is a
second file, `SecurityEvents.log_path` (sim/features/security_events.py). `Diagnostics` cuts the
asked window out of it and uploads one file over HTTP(S) (PUT or POST) or FTP(S), reporting
through `notify(action, payload)` (the session's `call`):

- GetDiagnostics: DiagnosticsStatusNotification Uploading, then Uploaded or UploadFailed after
  `retries` retries `retryInterval` apart;
- GetLog: LogStatusNotification Uploading, then Uploaded or the failure's reason (N01.FR.08-10),
  each with the request's requestId (N01.FR.07); a new GetLog during an upload cancels it and
  answers AcceptedCanceled (N01.FR.11).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ocpp.v16.enums import DiagnosticsStatus, LogStatus, UploadLogStatus

from chargebench.clock import Clock, parse_iso
from sim import transfer
from sim.tasks import background, owner_of
from sim.v16.firmware import Notify, notify_quietly

__all__ = ["Diagnostics", "DiagnosticsFaults", "collect_log"]

log = logging.getLogger(__name__)


def _line_time(line: str) -> datetime | None:
    """The time of a log line: `ts` of a JSON record, else a leading ISO-8601 stamp."""
    text = line.strip()
    if not text:
        return None
    if text.startswith("{"):
        with contextlib.suppress(ValueError, TypeError, KeyError):
            return parse_iso(json.loads(text)["ts"])
    with contextlib.suppress(ValueError):
        return parse_iso(text.split()[0])
    return None


def collect_log(
    path: str | os.PathLike[str], start: datetime | None = None, stop: datetime | None = None
) -> bytes:
    """The lines of `path` within [start, stop] (§6.25 startTime/stopTime). Lines without a
    time (continuations, tracebacks) follow the line before them."""
    kept: list[str] = []
    keep = True
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            moment = _line_time(line)
            if moment is not None:
                keep = (start is None or moment >= start) and (stop is None or moment <= stop)
            if keep:
                kept.append(line)
    return "".join(kept).encode("utf-8")


@dataclass
class DiagnosticsFaults:
    """Injected failure: every upload attempt fails."""

    upload_failed: bool = False


class Diagnostics:
    """Answers GetDiagnostics and GetLog; uploads as a task."""

    def __init__(
        self,
        config: Any,
        *,
        clock: Clock,
        notify: Notify,
        log_path: str | os.PathLike[str] | None,
        security_log_path: str | os.PathLike[str] | None = None,
        faults: DiagnosticsFaults | None = None,
        report: Callable[[], bytes] | None = None,
        http_method: str = "PUT",
        default_retries: int = 1,
        default_retry_interval: float = 30.0,
        verify_tls: bool | str = True,
    ) -> None:
        self.config = config
        self.clock = clock
        self.notify = notify
        self.log_path = Path(log_path) if log_path else None
        self.security_log_path = Path(security_log_path) if security_log_path else None
        self.faults = faults or DiagnosticsFaults()
        #: what to upload while no log file exists yet (a fresh charge point, no state dir)
        self.report = report or (lambda: b"")
        self.http_method = http_method
        self.default_retries = default_retries
        self.default_retry_interval = default_retry_interval
        self.verify_tls = verify_tls
        self.diagnostics_status = DiagnosticsStatus.idle
        self.log_status = UploadLogStatus.idle
        self._log_request_id: int | None = None
        self._diag_task: asyncio.Task | None = None
        self._log_task: asyncio.Task | None = None
        #: the running upload already reported its final status (only the report's response
        #: is awaited): a new GetLog then cancels nothing (N01.FR.11 is about an upload
        #: in progress)
        self._log_final = False

    @property
    def handlers(self) -> dict[str, Callable[[dict], dict]]:
        return {"GetDiagnostics": self.on_get_diagnostics, "GetLog": self.on_get_log}

    async def wait(self) -> None:
        """Wait for running uploads (tests, orderly shutdown)."""
        for task in (self._diag_task, self._log_task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def cancel(self) -> None:
        """Stop running uploads (the charge point is shutting down)."""
        for task in (self._diag_task, self._log_task):
            if task is not None and not task.done():
                task.cancel()

    def _file_name(self, kind: str) -> str:
        cp_id = self.config.get("Internal", "ChargePointId", "cp")
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%SZ")
        return f"{cp_id}-{kind}-{stamp}.log"

    # GetDiagnostics (1.6 §5.9) -----------------------------------------------------------

    def on_get_diagnostics(self, payload: dict) -> dict:
        """GetDiagnostics.req handler: the file name (§6.26). A charge point always has
        something to report: its message log, or while it has none on disk, `report()`."""
        name = self._file_name("diagnostics")
        self._diag_task = background(self.get_diagnostics(payload, name), owner_of(self.config))
        return {"fileName": name}

    async def get_diagnostics(self, request: dict, file_name: str) -> DiagnosticsStatus:
        """Upload the window as `file_name`; returns the final status."""
        start, stop = _window(request.get("startTime"), request.get("stopTime"))
        data = self._collect(self.log_path, start, stop)
        await self._diag_report(DiagnosticsStatus.uploading)
        ok, _ = await self._upload(request, request["location"], file_name, data)
        final = DiagnosticsStatus.uploaded if ok else DiagnosticsStatus.upload_failed
        await self._diag_report(final)
        return final

    async def _diag_report(self, status: DiagnosticsStatus) -> None:
        self.diagnostics_status = status
        await notify_quietly(self.notify, "DiagnosticsStatusNotification",
                             {"status": status.value})

    # GetLog (whitepaper N01) -------------------------------------------------------------

    def on_get_log(self, payload: dict) -> dict:
        """GetLog.req handler (N01.FR.01, N01.FR.11)."""
        path = self.security_log_path if payload["logType"] == "SecurityLog" else self.log_path
        status = LogStatus.accepted
        if self._log_task is not None and not self._log_task.done() and not self._log_final:
            self._log_task.cancel()
            status = LogStatus.accepted_canceled
        self._log_final = False
        kind = "security" if payload["logType"] == "SecurityLog" else "diagnostics"
        name = self._file_name(kind)
        self._log_task = background(self.get_log(payload, path, name), owner_of(self.config))
        return {"status": status.value, "filename": name}

    async def get_log(self, request: dict, path: Path | None, file_name: str) -> UploadLogStatus:
        """Upload the log window; returns the final UploadLogStatus."""
        params = request["log"]
        start, stop = _window(params.get("oldestTimestamp"), params.get("latestTimestamp"))
        data = self._collect(path, start, stop)
        request_id = request["requestId"]
        await self._log_report(UploadLogStatus.uploading, request_id)
        ok, reason = await self._upload(request, params["remoteLocation"], file_name, data)
        final = UploadLogStatus.uploaded if ok else UploadLogStatus(reason)
        self._log_final = True
        await self._log_report(final, request_id)
        return final

    async def _log_report(self, status: UploadLogStatus, request_id: int) -> None:
        self.log_status, self._log_request_id = status, request_id
        await notify_quietly(self.notify, "LogStatusNotification",
                             {"status": status.value, "requestId": request_id})

    def triggered_log_status(self) -> dict:
        """LogStatusNotification for ExtendedTriggerMessage (N01.FR.12: Idle when no upload)."""
        if self._log_task is not None and not self._log_task.done():
            return {"status": UploadLogStatus.uploading.value, "requestId": self._log_request_id}
        return {"status": UploadLogStatus.idle.value}

    def _collect(self, path: Path | None, start: datetime | None, stop: datetime | None
                 ) -> bytes:
        """The log window, or the charge point's own report while no log file exists (an
        empty security log is an empty file: nothing happened yet)."""
        if path is not None and path.exists():
            return collect_log(path, start, stop)
        return b"" if path is not None and path == self.security_log_path else self.report()

    # Upload with retries -----------------------------------------------------------------

    async def _upload(
        self, request: dict, location: str, file_name: str, data: bytes
    ) -> tuple[bool, str]:
        """(uploaded, reason of the last failure) after 1 + `retries` attempts."""
        retries = request.get("retries", self.default_retries)
        interval = request.get("retryInterval", self.default_retry_interval)
        protocols = self.config.get_list("FirmwareManagement", "SupportedFileTransferProtocols",
                                         "FTP,FTPS,HTTP,HTTPS")
        if not transfer.scheme_supported(location, protocols):
            return False, UploadLogStatus.not_supported_operation.value
        reason = UploadLogStatus.upload_failure.value
        for attempt in range(retries + 1):
            if attempt:
                await self.clock.sleep(interval)
            try:
                if self.faults.upload_failed:
                    raise transfer.TransferError("injected UploadFailed")
                await transfer.upload(location, file_name, data, http_method=self.http_method,
                                      verify=self.verify_tls)
                return True, ""
            except transfer.TransferError as exc:
                reason = exc.reason
                log.info("upload attempt %d to %s failed: %s", attempt + 1, location, exc)
        return False, reason


def _window(start: str | None, stop: str | None) -> tuple[datetime | None, datetime | None]:
    return (parse_iso(start) if start else None, parse_iso(stop) if stop else None)

