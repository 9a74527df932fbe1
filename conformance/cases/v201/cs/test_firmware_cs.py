"""OCPP 2.0.1 part 6 §2.12, L FirmwareManagement, with a Charging Station under test: the
secure firmware update (L01) installed at once, at a scheduled install or download time, or
replacing one in progress; and its refusals: a signing certificate of no installed
manufacturer root, a signature that does not verify, a firmware file that is not there. The
firmware is served by the harness's own HTTP server on 127.0.0.1 (`conformance.filehost`); the
signing certificate and its root are made for the run (`conformance.cases.cp.security.SecurityKit`).

Preparation of TC_L_01-03/06/07/10_CS: the run's manufacturer root is installed
(InstallCertificate ManufacturerRootCertificate, M05), as the OCTT's <Configured
signingCertificate> is one the station trusts; a station refusing it cannot run them (not
applicable, with its answer). What a case installed is deleted after it.

The successful installs (TC_L_01/02/03/10_CS) accept every reaction part 6 allows after
SignatureVerified (`_installed`): a reboot before the installation (Reusable State
RebootBeforeFirmwareInstallation, Installing then omitted, L01.FR.23), Installing, a reboot
before the activation (RebootBeforeFirmwareActivation, with or without InstallRebooting,
L01.FR.15), and Installed from the new firmware (L01.FR.32 (a)) or without a reboot (L01.FR.32
(b)); then SecurityEventNotification FirmwareUpdated (L01.FR.31). The optional connector
statuses (steps "notifies the CSMS about the current state of all connectors") are not
required. Not implemented yet: the cases with a transaction running (TC_L_12-16_CS).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from conformance.cases.cp.security import SecurityKit
from conformance.expect import Mismatch, one_of
from conformance.filehost import FileHost
from conformance.v201.states import Cs, next_id, rebooted

ROOT = "ManufacturerRootCertificate"
FIRMWARE = b"ChargeBench conformance firmware image\n" * 64
_INSTALLED = "cb_installed_roots"


@pytest.fixture(scope="session")
def kit() -> Iterator[SecurityKit]:
    """The run's firmware signer and its root (a fresh PKI, nobody's trust anchor)."""
    material = SecurityKit(None, None, "ChargeBench")
    yield material
    material.close()


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _roots_removed(cs: Cs) -> AsyncIterator[None]:
    yield
    for entry in cs.__dict__.get(_INSTALLED, ()):
        await cs.peer.call("DeleteCertificate", {"certificateHashData": entry})


async def _roots(cs: Cs) -> list[dict]:
    reply = await cs.call("GetInstalledCertificateIds", {"certificateType": [ROOT]})
    chain = (reply.payload or {}).get("certificateHashDataChain") or []
    return [c["certificateHashData"] for c in chain]


async def _trusted(cs: Cs, kit: SecurityKit) -> None:
    """The run's manufacturer root installed (Accepted), else the case is not applicable."""
    before = await _roots(cs)
    reply = await cs.call("InstallCertificate", {"certificateType": ROOT,
                                                 "certificate": kit.manufacturer_root})
    status = (reply.payload or {}).get("status") if reply.type == "CALLRESULT" else reply.type
    if status != "Accepted":
        pytest.skip(f"not applicable: the station answered {status} to installing the "
                    "run's ManufacturerRootCertificate (the case needs a signing certificate "
                    "it trusts)")
    cs.__dict__[_INSTALLED] = [h for h in await _roots(cs) if h not in before]


def _request(cs: Cs, kit: SecurityKit, location: str, signature: str, *,
             retrieve: float = -7200, install: float = -7200) -> dict:
    """UpdateFirmwareRequest; retrieveDateTime and installDateTime `retrieve` and `install`
    seconds from now on the station's clock (part 6: 2 hours ago unless the case says)."""
    return {"requestId": next_id(), "firmware": {
        "location": location, "retrieveDateTime": cs.time(retrieve),
        "installDateTime": cs.time(install), "signingCertificate": kit.signing_certificate,
        "signature": signature}}


#: <Configured Install Offset Period> / <Configured Download Offset Period>, station seconds
OFFSET = 30.0
#: the statuses after SignatureVerified that `_installed` follows
_INSTALL_STEPS = ("Installing", "InstallRebooting", "Installed", "InstallationFailed",
                  "InstallVerificationFailed")
#: reboots a station may take: before the installation and before the activation
_MOST_REBOOTS = 2


async def _good_update(cs: Cs, kit: SecurityKit, files: FileHost, **times: float) -> dict:
    """The run's root trusted, a signed image on the file host: the UpdateFirmwareRequest."""
    await _trusted(cs, kit)
    files.put("cb-firmware.bin", FIRMWARE)
    return _request(cs, kit, files.http_url("cb-firmware.bin"), kit.signature(FIRMWARE),
                    **times)


async def _downloaded(cs: Cs, request_id: int, *, timeout: float | None = None) -> None:
    """Downloading, Downloaded, SignatureVerified, each with the requestId (L01.FR.10,
    L01.FR.04); `timeout` for the first (a scheduled download starts later)."""
    await cs.expect("FirmwareStatusNotification",
                    {"status": "Downloading", "requestId": request_id}, timeout=timeout)
    for status in ("Downloaded", "SignatureVerified"):
        await cs.expect("FirmwareStatusNotification",
                        {"status": status, "requestId": request_id})


async def _installed(cs: Cs, request_id: int, *, timeout: float | None = None) -> None:
    """From SignatureVerified to Installed, every path part 6 allows: RebootBeforeFirmware-
    Installation (Installing may then be left out, L01.FR.23), Installing, InstallRebooting
    (L01.FR.15) and RebootBeforeFirmwareActivation, Installed from the new firmware
    (L01.FR.32 (a)) or without a reboot (L01.FR.32 (b)); then SecurityEventNotification
    FirmwareUpdated (L01.FR.31), on the connection of Installed or, when the station reboots
    after an unannounced (b) Installed, the next. Fails: a failure status, Installed on the
    connection that announced InstallRebooting (L01.FR.32 (a): the new firmware sends it), a
    connection that closes a third time. `timeout` for the first status (a scheduled
    installation)."""
    reboots, announced = 0, False
    while True:
        try:
            payload = await cs.expect("FirmwareStatusNotification", {
                "status": one_of(*_INSTALL_STEPS), "requestId": request_id}, timeout=timeout)
        except Mismatch as error:
            await _reboot_or_raise(cs, reboots, error)
            reboots, announced = reboots + 1, False
            continue
        timeout = None
        status = payload["status"]
        if status == "Installed" and announced:
            raise Mismatch("FirmwareStatusNotificationRequest Installed before the reboot that "
                           "InstallRebooting announced: L01.FR.32 (a) wants it sent by the new "
                           "firmware, after the reboot")
        if status == "Installed":
            break
        if status not in ("Installing", "InstallRebooting"):
            raise Mismatch(f"FirmwareStatusNotificationRequest status {status}: the signed "
                           "firmware was not installed")
        announced = announced or status == "InstallRebooting"
    try:
        await cs.expect("SecurityEventNotification", {"type": "FirmwareUpdated"})
    except Mismatch as error:
        await _reboot_or_raise(cs, reboots, error)
        await cs.expect("SecurityEventNotification", {"type": "FirmwareUpdated"})


async def _reboot_or_raise(cs: Cs, reboots: int, error: Mismatch) -> None:
    """`error` (a failed expectation) was a reboot cutting the connection: follow the station
    through its boot (Reusable States RebootBeforeFirmwareInstallation / -Activation); else
    it stands."""
    if not cs.peer.closed or reboots >= _MOST_REBOOTS:
        raise error
    await rebooted(cs)


@pytest.mark.octt("TC_L_01_CS")
async def test_installation_successful(cs: Cs, kit: SecurityKit, files: FileHost):
    """TC_L_01_CS: installDateTime and retrieveDateTime 2 hours ago: Accepted; Downloading,
    Downloaded, SignatureVerified, then the installation to Installed (`_installed`) and
    FirmwareUpdated, all with the requestId (L01.FR.10)."""
    request = await _good_update(cs, kit, files)
    await cs.ask("UpdateFirmware", request, {"status": "Accepted"})
    await _downloaded(cs, request["requestId"])
    await _installed(cs, request["requestId"])


@pytest.mark.octt("TC_L_02_CS")
async def test_install_scheduled(cs: Cs, kit: SecurityKit, files: FileHost):
    """TC_L_02_CS: installDateTime OFFSET s ahead: Accepted; Downloading, Downloaded,
    SignatureVerified, InstallScheduled (L01.FR.16), then at that time the installation to
    Installed and FirmwareUpdated."""
    request = await _good_update(cs, kit, files, install=OFFSET)
    await cs.ask("UpdateFirmware", request, {"status": "Accepted"})
    await _downloaded(cs, request["requestId"])
    await cs.expect("FirmwareStatusNotification",
                    {"status": "InstallScheduled", "requestId": request["requestId"]})
    await _installed(cs, request["requestId"], timeout=cs.settings.timeout + OFFSET)


@pytest.mark.octt("TC_L_03_CS")
async def test_download_scheduled(cs: Cs, kit: SecurityKit, files: FileHost):
    """TC_L_03_CS: retrieveDateTime OFFSET s ahead: Accepted; DownloadScheduled (L01.FR.13),
    then at that time Downloading, Downloaded, SignatureVerified and the installation to
    Installed and FirmwareUpdated."""
    request = await _good_update(cs, kit, files, retrieve=OFFSET)
    await cs.ask("UpdateFirmware", request, {"status": "Accepted"})
    await cs.expect("FirmwareStatusNotification",
                    {"status": "DownloadScheduled", "requestId": request["requestId"]})
    await _downloaded(cs, request["requestId"], timeout=cs.settings.timeout + OFFSET)
    await _installed(cs, request["requestId"])


@pytest.mark.octt("TC_L_10_CS")
async def test_accepted_canceled(cs: Cs, kit: SecurityKit, files: FileHost):
    """TC_L_10_CS: a second UpdateFirmwareRequest (the same firmware) while the first is busy
    downloading (the file host holds that download): AcceptedCanceled (L01.FR.24); from then
    on every status names the second request's requestId: Downloading, Downloaded,
    SignatureVerified, the installation to Installed and FirmwareUpdated."""
    first = await _good_update(cs, kit, files)
    held = files.hold("cb-firmware.bin")
    try:
        await cs.ask("UpdateFirmware", first, {"status": "Accepted"})
        await cs.expect("FirmwareStatusNotification",
                        {"status": "Downloading", "requestId": first["requestId"]})
        second = _request(cs, kit, files.http_url("cb-firmware.bin"), kit.signature(FIRMWARE))
        await cs.ask("UpdateFirmware", second, {"status": "AcceptedCanceled"})
    finally:
        held.set()
    await _downloaded(cs, second["requestId"])
    await _installed(cs, second["requestId"])


@pytest.mark.octt("TC_L_05_CS")
async def test_invalid_certificate(cs: Cs, kit: SecurityKit, files: FileHost):
    """TC_L_05_CS: a signing certificate of no installed root: InvalidCertificate or
    RevokedCertificate (L01.FR.02); SecurityEventNotification InvalidFirmwareSigningCertificate
    (L01.FR.02)."""
    files.put("cb-firmware.bin", FIRMWARE)
    await cs.ask("UpdateFirmware", _request(cs, kit, files.http_url("cb-firmware.bin"),
                                            kit.signature(FIRMWARE)),
                 {"status": one_of("InvalidCertificate", "RevokedCertificate")})
    await cs.expect("SecurityEventNotification", {"type": "InvalidFirmwareSigningCertificate"})


@pytest.mark.octt("TC_L_06_CS")
async def test_invalid_signature(cs: Cs, kit: SecurityKit, files: FileHost):
    """TC_L_06_CS: a real signature over other data: Accepted; Downloading, Downloaded,
    InvalidSignature (L01.FR.03) with the requestId (L01.FR.10); SecurityEventNotification
    InvalidFirmwareSignature."""
    await _trusted(cs, kit)
    files.put("cb-firmware.bin", FIRMWARE)
    request = _request(cs, kit, files.http_url("cb-firmware.bin"),
                       kit.signature(FIRMWARE + b"tampered"))
    await cs.ask("UpdateFirmware", request, {"status": "Accepted"})
    for status in ("Downloading", "Downloaded", "InvalidSignature"):
        await cs.expect("FirmwareStatusNotification",
                        {"status": status, "requestId": request["requestId"]})
    await cs.expect("SecurityEventNotification", {"type": "InvalidFirmwareSignature"})


@pytest.mark.octt("TC_L_07_CS")
async def test_download_failed(cs: Cs, kit: SecurityKit, files: FileHost):
    """TC_L_07_CS: a location that does not exist: Accepted; Downloading (optional), then
    DownloadFailed with the requestId."""
    await _trusted(cs, kit)
    request = _request(cs, kit, files.http_url("cb-firmware.bin_does.not.Exist"),
                       base64.b64encode(b"unused").decode())
    await cs.ask("UpdateFirmware", request, {"status": "Accepted"})
    first = await cs.expect("FirmwareStatusNotification", {
        "status": one_of("Downloading", "DownloadFailed"), "requestId": request["requestId"]})
    if first["status"] == "Downloading":
        await cs.expect("FirmwareStatusNotification",
                        {"status": "DownloadFailed", "requestId": request["requestId"]},
                        timeout=cs.settings.timeout * 4)
