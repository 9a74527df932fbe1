"""Firmware updates: UpdateFirmware (1.6 §5.19, §4.5, errata 3.47-3.49, 3.63) and
SignedUpdateFirmware (security whitepaper L01).

The work is an async procedure that reports through `notify(action, payload)` (pass the
session's `call`), so the charge point only wires the handlers and a `reboot(version)` callback:

    fw = FirmwareUpdater(config, clock=clock, notify=session.call, reboot=reboot_into,
                         manufacturer_roots=certs.manufacturer_roots)

(`sim.features.wiring` builds it so; the version's handler table reaches its `on_*` methods).

UpdateFirmware: wait for retrieveDate, Downloading, (retries x retryInterval) Downloaded or
DownloadFailed, wait until `idle()` (errata 3.49), Installing, Installed or InstallationFailed,
then `reboot(new_version)`: the charge point reboots and boots with the new FirmwareVersion.

SignedUpdateFirmware: the signing certificate is checked against the installed manufacturer
roots before answering (L01.FR.23-25); then the same flow with SignedFirmwareStatusNotification
and requestId (L01.FR.10), DownloadScheduled / InstallScheduled for future dates (L01.FR.13/16),
the signature over the whole file verified with SHA-256 (L01.FR.04), InvalidSignature plus a
security event (L01.FR.03), InstallRebooting before the reboot (L01.FR.15). A 2.0.1 station
(`installed_after_reboot`) sends Installed after the reboot, from the new firmware (2.0.1
L01.FR.32 (a)); 1.6 keeps Installed before it.

A firmware "image" is any file; `make_image(version)` writes one whose first line names the
version it installs ("CBFW <version>"), otherwise the version is the file name's stem.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import posixpath
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from ocpp.v16.enums import FirmwareStatus, UpdateFirmwareStatus

from chargebench.clock import Clock, parse_iso
from chargebench.ocppj.errors import OcppCallError
from sim import transfer
from sim.tasks import background, owner_of

__all__ = [
    "FirmwareFaults",
    "FirmwareUpdater",
    "Notify",
    "make_image",
    "notify_quietly",
    "parse_image_version",
    "verify_firmware_signature",
    "verify_signing_certificate",
]

log = logging.getLogger(__name__)

#: `session.call`-like: send a CALL, return its CALLRESULT payload.
Notify = Callable[[str, dict], Awaitable[Any]]

_IMAGE_MAGIC = b"CBFW "
_FS = FirmwareStatus


async def notify_quietly(notify: Notify, action: str, payload: dict) -> None:
    """Send a status notification; a failed CALL (offline, CALLERROR) must not stop the work."""
    try:
        await notify(action, payload)
    except Exception as exc:  # CallFailed, ConnectionLost...: the status is informative only
        log.warning("%s %s not delivered: %s", action, payload, exc)


def make_image(version: str, body: bytes = b"") -> bytes:
    """A firmware file that installs `version` (for tests, demos and the CSMS's store)."""
    return _IMAGE_MAGIC + version.encode("utf-8") + b"\n" + body


def parse_image_version(data: bytes, location: str) -> str:
    """The version a file installs: its "CBFW <version>" line, else the URL's file stem."""
    if data.startswith(_IMAGE_MAGIC):
        return data[len(_IMAGE_MAGIC):].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    name = posixpath.basename(urlsplit(location).path)
    return posixpath.splitext(name)[0] or "unknown"


@dataclass
class FirmwareFaults:
    """Injected failures (DESIGN: "fail downloads/installs"): every download attempt fails,
    or the installation fails after Installing."""

    download_failed: bool = False
    installation_failed: bool = False


# Signature checks (whitepaper L01) ----------------------------------------------------------


def verify_signing_certificate(
    signing_pem: str, roots_pem: Iterable[str], now: datetime
) -> str | None:
    """Why the Firmware Signing certificate is not valid (L01.FR.12: X.509 rules, issued
    directly by a Manufacturer root, no intermediates), or None when it is."""
    try:
        cert = x509.load_pem_x509_certificate(signing_pem.encode("ascii"))
    except ValueError as exc:
        return f"not a PEM certificate: {exc}"
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        return "outside its validity period"
    roots = []
    for pem in roots_pem:
        with contextlib.suppress(ValueError):
            roots.append(x509.load_pem_x509_certificate(pem.encode("ascii")))
    if not roots:
        return "no ManufacturerRootCertificate installed"
    for root in roots:
        try:
            cert.verify_directly_issued_by(root)
            return None
        except (ValueError, TypeError, InvalidSignature):
            continue
    return "not issued by an installed ManufacturerRootCertificate"


def verify_firmware_signature(data: bytes, signature_b64: str, signing_pem: str) -> bool:
    """L01.FR.04: the signature over the entire file, SHA-256, ECDSA or RSA-PSS (PKCS#1 v1.5
    is also accepted from RSA signers)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key = x509.load_pem_x509_certificate(signing_pem.encode("ascii")).public_key()
    except ValueError:
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            return True
        if isinstance(key, rsa.RSAPublicKey):
            for pad in (padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO),
                        padding.PKCS1v15()):
                try:
                    key.verify(signature, data, pad, hashes.SHA256())
                    return True
                except InvalidSignature:
                    continue
    except InvalidSignature:
        return False
    return False


# The updater --------------------------------------------------------------------------------


class FirmwareUpdater:
    """Answers UpdateFirmware and SignedUpdateFirmware and runs one update at a time."""

    def __init__(
        self,
        config: Any,
        *,
        clock: Clock,
        notify: Notify,
        reboot: Callable[[str], Any] | None = None,
        idle: Callable[[], bool] | None = None,
        manufacturer_roots: Callable[[], Iterable[str]] | None = None,
        security_event: Callable[[str, str], Any] | None = None,
        faults: FirmwareFaults | None = None,
        # Timing (simulated seconds)
        install_seconds: float = 5.0,
        default_retries: int = 1,
        default_retry_interval: float = 30.0,
        idle_poll_seconds: float = 10.0,
        # Behaviour
        signed_only: bool = False,
        verify_tls: bool | str = True,
        signed_status_action: str = "SignedFirmwareStatusNotification",
        signature_required: bool = True,
        installed_after_reboot: bool = False,
    ) -> None:
        """`reboot(version)` is called after Installed (before it with `installed_after_reboot`;
        may be a coroutine function);
        `idle()` says no transaction is running; `security_event(type, techInfo)` queues a
        SecurityEventNotification (see `security_events.SecurityEvents`).

        The signed procedure is also OCPP 2.0.1's UpdateFirmware (L01, the whitepaper's
        backport): a 2.0.1 station reports it in `signed_status_action`
        FirmwareStatusNotification, and with `signature_required` False takes a request
        without signingCertificate and signature (both optional in 2.0.1's FirmwareType):
        nothing to verify, no SignatureVerified.

        `installed_after_reboot` is 2.0.1's L01.FR.32 option (a): InstallRebooting, then
        `reboot(version)`, which must return once the new firmware runs (booted again), then
        Installed and the FirmwareUpdated event (L01.FR.31) from the new firmware. Without it
        (1.6 and the whitepaper) the sequence is InstallRebooting, Installed, then the reboot."""
        self.config = config
        self.clock = clock
        self.notify = notify
        self.reboot = reboot
        self.idle = idle or (lambda: True)
        self.manufacturer_roots = manufacturer_roots or (lambda: [])
        self.security_event = security_event
        self.faults = faults or FirmwareFaults()
        self.install_seconds = install_seconds
        self.default_retries = default_retries
        self.default_retry_interval = default_retry_interval
        self.idle_poll_seconds = idle_poll_seconds
        self.signed_only = signed_only
        self.verify_tls = verify_tls
        self.signed_status_action = signed_status_action
        self.signature_required = signature_required
        self.installed_after_reboot = installed_after_reboot
        self.status: FirmwareStatus = _FS.idle
        self.last_signed_status: FirmwareStatus = _FS.idle
        self._last_request_id: int | None = None
        self.installed_version: str | None = None
        self._task: asyncio.Task | None = None

    @property
    def handlers(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "UpdateFirmware": self.on_update_firmware,
            "SignedUpdateFirmware": self.on_signed_update_firmware,
        }

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def wait(self) -> None:
        """Wait for the running update (tests, orderly shutdown)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def cancel(self) -> None:
        if self.busy:
            assert self._task is not None
            self._task.cancel()

    # UpdateFirmware (1.6 §5.19) ----------------------------------------------------------

    def on_update_firmware(self, payload: dict) -> dict:
        """UpdateFirmware.req handler: answers at once, the update runs as a task."""
        if self.signed_only:
            # L01.FR.20: a charge point doing secure firmware update refuses the 1.6 message
            raise OcppCallError("NotSupported", "use SignedUpdateFirmware (L01.FR.20)")
        self.cancel()
        self._start(self.update_firmware(payload))
        return {}

    async def update_firmware(self, request: dict) -> FirmwareStatus:
        """The UpdateFirmware procedure; returns the final status."""
        await self._wait_until(parse_iso(request["retrieveDate"]))
        data = await self._download(request, "FirmwareStatusNotification", None)
        if data is None:
            return _FS.download_failed
        await self._report("FirmwareStatusNotification", _FS.downloaded, None)
        return await self._install(request["location"], data, "FirmwareStatusNotification", None)

    # SignedUpdateFirmware (whitepaper L01) -----------------------------------------------

    def on_signed_update_firmware(self, payload: dict) -> dict:
        """SignedUpdateFirmware.req handler (L01.FR.23-27)."""
        firmware = payload["firmware"]
        reason = None
        if self.signature_required or "signingCertificate" in firmware:
            reason = verify_signing_certificate(
                firmware.get("signingCertificate", ""), self.manufacturer_roots(),
                self.clock.now())
        if reason is not None:
            log.info("SignedUpdateFirmware refused: signing certificate %s", reason)
            self._security_event("InvalidFirmwareSigningCertificate", reason)  # L01.FR.02
            return {"status": UpdateFirmwareStatus.invalid_certificate.value}
        status = UpdateFirmwareStatus.accepted
        if self.busy:
            self.cancel()  # L01.FR.26
            status = UpdateFirmwareStatus.accepted_canceled
        self._start(self.signed_update_firmware(payload))
        return {"status": status.value}

    async def signed_update_firmware(self, request: dict) -> FirmwareStatus:
        """The L01 procedure; returns the final status."""
        action, request_id = self.signed_status_action, request["requestId"]
        firmware = request["firmware"]
        retrieve = parse_iso(firmware["retrieveDateTime"])
        if retrieve > self.clock.now():
            await self._report(action, _FS.download_scheduled, request_id)  # L01.FR.13
            await self._wait_until(retrieve)
        data = await self._download(
            {**request, "location": firmware["location"]}, action, request_id
        )
        if data is None:
            return _FS.download_failed
        await self._report(action, _FS.downloaded, request_id)
        if self.signature_required or "signature" in firmware:
            if not verify_firmware_signature(data, firmware.get("signature", ""),
                                             firmware.get("signingCertificate", "")):
                # L01.FR.03; logged first, so the security log has it once the CSMS hears
                self._security_event("InvalidFirmwareSignature", firmware["location"])
                await self._report(action, _FS.invalid_signature, request_id)
                return _FS.invalid_signature
            await self._report(action, _FS.signature_verified, request_id)
        install_at = firmware.get("installDateTime")
        if install_at and parse_iso(install_at) > self.clock.now():
            await self._report(action, _FS.install_scheduled, request_id)  # L01.FR.16
            await self._wait_until(parse_iso(install_at))
        return await self._install(firmware["location"], data, action, request_id)

    # Steps -------------------------------------------------------------------------------

    async def _download(self, request: dict, action: str, request_id: int | None) -> bytes | None:
        """Downloading, then the file, retrying `retries` times `retryInterval` apart."""
        retries = request.get("retries", self.default_retries)
        interval = request.get("retryInterval", self.default_retry_interval)
        location = request["location"]
        protocols = self.config.get_list("FirmwareManagement", "SupportedFileTransferProtocols",
                                         "FTP,FTPS,HTTP,HTTPS")
        await self._report(action, _FS.downloading, request_id)
        for attempt in range(retries + 1):
            if attempt:
                await self.clock.sleep(interval)
            try:
                if self.faults.download_failed:
                    raise transfer.TransferError("injected DownloadFailed")
                if not transfer.scheme_supported(location, protocols):
                    raise transfer.TransferError(f"protocol of {location} not supported")
                return await transfer.download(location, verify=self.verify_tls)
            except transfer.TransferError as exc:
                log.info("firmware download attempt %d failed: %s", attempt + 1, exc)
        await self._report(action, _FS.download_failed, request_id)
        return None

    async def _install(
        self, location: str, data: bytes, action: str, request_id: int | None
    ) -> FirmwareStatus:
        while not self.idle():  # errata 3.49 / L01.FR.06: wait for transactions to end
            await self.clock.sleep(self.idle_poll_seconds)
        await self._report(action, _FS.installing, request_id)
        await self.clock.sleep(self.install_seconds)
        if self.faults.installation_failed:
            await self._report(action, _FS.installation_failed, request_id)
            return _FS.installation_failed
        version = parse_image_version(data, location)
        self.installed_version = version
        if request_id is not None and self.installed_after_reboot and self.reboot is not None:
            # 2.0.1 L01.FR.32 (a): InstallRebooting before the reboot (L01.FR.15), Installed
            # sent by the newly activated firmware, so the CSMS knows it runs
            await self._report(action, _FS.install_rebooting, request_id)
            await self._reboot(version)
            await self._report(action, _FS.installed, request_id)  # L01.FR.28
            self._security_event("FirmwareUpdated", version)  # L01.FR.31
            return _FS.installed
        if request_id is not None:
            await self._report(action, _FS.install_rebooting, request_id)  # L01.FR.15
        await self._report(action, _FS.installed, request_id)
        self._security_event("FirmwareUpdated", version)
        if self.reboot is not None:
            await self._reboot(version)
        return _FS.installed

    async def _reboot(self, version: str) -> None:
        assert self.reboot is not None
        result = self.reboot(version)
        if asyncio.iscoroutine(result):
            await result

    async def _report(self, action: str, status: FirmwareStatus, request_id: int | None) -> None:
        self.status = status
        payload: dict[str, Any] = {"status": status.value}
        if request_id is not None:
            payload["requestId"] = request_id
            self.last_signed_status, self._last_request_id = status, request_id
        await notify_quietly(self.notify, action, payload)

    async def _wait_until(self, moment: datetime) -> None:
        delay = (moment - self.clock.now()).total_seconds()
        if delay > 0:
            await self.clock.sleep(delay)

    def _security_event(self, kind: str, info: str) -> None:
        if self.security_event is not None:
            self.security_event(kind, info)

    def _start(self, procedure: Awaitable[FirmwareStatus]) -> None:
        self._task = background(procedure, owner_of(self.config))  # type: ignore[arg-type]

    def triggered_status(self) -> dict:
        """SignedFirmwareStatusNotification for ExtendedTriggerMessage (L01.FR.28/29)."""
        status = self.last_signed_status
        if status in (_FS.installed, _FS.idle):
            return {"status": _FS.idle.value}
        return {"status": status.value, "requestId": self._last_request_id}  # L01.FR.21
