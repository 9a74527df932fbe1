"""OCPP 2.0.1 part 6 §2.12, L FirmwareManagement, with a Charging Station under test: the
secure firmware update's refusals (L01): a signing certificate of no installed manufacturer
root, a signature that does not verify, a firmware file that is not there. The firmware is
served by the harness's own HTTP server on 127.0.0.1 (`conformance.filehost`); the signing
certificate and its root are made for the run (`conformance.cases.cp.security.SecurityKit`).

Preparation of TC_L_06_CS/TC_L_07_CS: the run's manufacturer root is installed
(InstallCertificate ManufacturerRootCertificate, M05), as the OCTT's <Configured
signingCertificate> is one the station trusts; a station refusing it cannot run them (not
applicable, with its answer). What a case installed is deleted after it.

Not implemented yet: the successful installs (TC_L_01/02/03/10_CS) - our station sends
Installed before the activation reboot, where L01.FR.32 (a) wants it from the new firmware -
and the cases with a transaction running (TC_L_12-16_CS).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from conformance.cases.cp.security import SecurityKit
from conformance.expect import one_of
from conformance.filehost import FileHost
from conformance.v201.states import Cs, next_id

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


def _request(cs: Cs, kit: SecurityKit, location: str, signature: str) -> dict:
    """UpdateFirmwareRequest with installDateTime and retrieveDateTime 2 hours ago."""
    return {"requestId": next_id(), "firmware": {
        "location": location, "retrieveDateTime": cs.time(-7200),
        "installDateTime": cs.time(-7200), "signingCertificate": kit.signing_certificate,
        "signature": signature}}


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
