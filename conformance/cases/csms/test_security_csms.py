"""OCTT security cases for a CSMS under test (security whitepaper edition 3, OCPP-J 1.6 §3):
passwords, certificates, security events and logs, signed firmware, secured connections, and
subprotocol negotiation. ChargeBench plays the charge point."""

from __future__ import annotations

import base64
import hashlib

import pytest

from chargebench.security import generate_authorization_key, make_csr
from conformance.chargepoint import (
    ChargePoint,
    Command,
    at,
    notifications,
    params,
    sample_certificate,
    security_event,
)
from conformance.endpoints import dial
from conformance.expect import an_int, present

pytestmark = pytest.mark.usefixtures("cb")

ROOT = "CentralSystemRootCertificate"
FTP = "ftp://conformance.chargebench.invalid/"


def _hash_data() -> dict:
    """certificateHashData of the sample certificate (whitepaper 6.x CertificateHashDataType)."""
    digest = hashlib.sha256(sample_certificate().encode()).hexdigest()
    return {"hashAlgorithm": "SHA256", "issuerNameHash": digest, "issuerKeyHash": digest,
            "serialNumber": "0c0ffee"}  # fmt: skip


def _signed_firmware(_: ChargePoint) -> dict:
    return {"requestId": 1, "retries": 1, "firmware": {
        "location": FTP + "fw-signed.bin", "retrieveDateTime": at(),
        "signingCertificate": sample_certificate(),
        "signature": base64.b64encode(b"ChargeBench firmware signature").decode(),
    }}  # fmt: skip


SIGNED_EXPECT = {"requestId": an_int, "firmware": {"location": present, "signature": present}}


async def _install_rejected(cp: ChargePoint, _: dict) -> None:
    await security_event("InvalidCentralSystemCertificate")(cp)


async def _invalid_signature(cp: ChargePoint, command: dict) -> None:
    await notifications("SignedFirmwareStatusNotification", "Downloading", "Downloaded",
                        "InvalidSignature", requestId="requestId")(cp, command)  # fmt: skip
    await security_event("InvalidFirmwareSignature")(cp)


COMMANDS = [
    # M05 Install CA certificate
    Command("TC_075", "InstallCertificate",
            lambda cp: {"certificateType": ROOT, "certificate": sample_certificate()},
            {"status": "Accepted"}),
    # A04 after M05.FR.06: the charge point refuses an invalid certificate and reports it
    Command("TC_078", "InstallCertificate",
            lambda cp: {"certificateType": ROOT, "certificate": sample_certificate()},
            {"status": "Rejected"}, after=_install_rejected),
    # N01 Get Security Log: requestId is the CSMS's, echoed in LogStatusNotification
    Command("TC_079", "GetLog",
            {"logType": "SecurityLog", "requestId": 1, "log": {"remoteLocation": FTP}},
            {"status": "Accepted", "filename": "security.log"},
            {"logType": "SecurityLog", "requestId": an_int, "log": {"remoteLocation": FTP}},
            after=notifications("LogStatusNotification", "Uploading", "Uploaded",
                                requestId="requestId")),
    # L01 Secure Firmware Update
    Command("TC_080", "SignedUpdateFirmware", _signed_firmware, {"status": "Accepted"},
            SIGNED_EXPECT,
            after=notifications("SignedFirmwareStatusNotification", "Downloading", "Downloaded",
                                "SignatureVerified", "Installing", "Installed",
                                requestId="requestId")),
    Command("TC_081", "SignedUpdateFirmware", _signed_firmware, {"status": "Accepted"},
            SIGNED_EXPECT, after=_invalid_signature),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cp: ChargePoint, command: Command):
    """TC_075, TC_078-081: the CSMS sends the command as asked and takes the answer, the
    progress notifications and the security events that follow."""
    await command.run(cp)


@pytest.mark.octt("TC_073")
async def test_update_basic_auth_password(cp: ChargePoint, cb):
    """TC_073: ChangeConfiguration AuthorizationKey with a 16-20 byte key, hex encoded (at most
    40 characters, A01.FR.01, OCPP-J §6.2); after Accepted the charge point reconnects with
    it and the CSMS must admit that connection (A01.FR.04). The new key is the charge point's
    from then on: later cases use it, and the run's summary names it."""
    await cp.boot()
    key = generate_authorization_key()
    await cp.command(
        "ChangeConfiguration", {"key": "AuthorizationKey", "value": key}, {"status": "Accepted"},
        {"key": "AuthorizationKey", "value": _hex_key},
    )
    cb.changed_keys[cp.peer.cp_id] = key  # Accepted: the CSMS now expects only this one
    await cp.reconnect(password=key)
    await cp.still_serving()


def _hex_key(value: object) -> bool:
    try:
        return isinstance(value, str) and len(value) <= 40 and 16 <= len(bytes.fromhex(value)) <= 20
    except ValueError:
        return False


@pytest.mark.parametrize("certificate_answer", [
    pytest.param("Accepted", id="TC_074", marks=pytest.mark.octt("TC_074")),
    pytest.param("Rejected", id="TC_077", marks=pytest.mark.octt("TC_077")),
])
async def test_update_charge_point_certificate(cp: ChargePoint, cb, certificate_answer: str):
    """TC_074/TC_077: ExtendedTriggerMessage SignChargePointCertificate; the CSR that follows
    is Accepted and the CSMS sends CertificateSigned with the signed chain (A02.FR.02-06).
    When the charge point rejects that certificate it reports InvalidChargePointCertificate,
    which the CSMS takes (A02.FR.08, A04)."""
    await cp.boot()
    await cp.command(
        "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"},
        {"status": "Accepted"},
    )
    cp.peer.handlers["CertificateSigned"] = lambda _: {"status": certificate_answer}
    csr, _key = make_csr(cp.peer.cp_id, cb.capabilities.cpo_name)
    await cp.ask("SignCertificate", {"csr": csr}, {"status": "Accepted"})
    signed = await cp.peer.wait_for("CertificateSigned", {"certificateChain": present})
    assert "BEGIN CERTIFICATE" in signed.payload["certificateChain"], (
        f"expected a PEM certificate chain; got {signed.describe()}"
    )
    if certificate_answer == "Rejected":
        await security_event("InvalidChargePointCertificate")(cp)
    await cp.still_serving()


@pytest.mark.octt("TC_076")
async def test_delete_certificate(cp: ChargePoint):
    """TC_076: GetInstalledCertificateIds, then DeleteCertificate naming the hash data the
    charge point reported (M03, M04)."""
    await cp.boot()
    await cp.command(
        "GetInstalledCertificateIds", {"certificateType": ROOT},
        {"status": "Accepted", "certificateHashData": [_hash_data()]},
    )
    await cp.command(
        "DeleteCertificate", {"certificateHashData": _hash_data()}, {"status": "Accepted"}
    )
    await cp.still_serving()


@pytest.mark.octt("TC_083")
async def test_upgrade_security_profile(cp: ChargePoint, cb):
    """TC_083: ChangeConfiguration SecurityProfile one level higher, then Reset Hard (A05).
    ChargeBench runs at one profile per run, so reconnecting at the new level is left to a
    run with that --cb-security-profile."""
    await cp.boot()
    higher = str(cb.security_profile + 1)
    await cp.command(
        "ChangeConfiguration", {"key": "SecurityProfile", "value": higher}, {"status": "Accepted"}
    )
    await cp.command("Reset", {"type": "Hard"}, {"status": "Accepted"})
    await cp.still_serving()


@pytest.mark.parametrize("tls", [
    pytest.param(False, id="TC_085", marks=pytest.mark.octt("TC_085")),
    pytest.param(True, id="TC_086", marks=pytest.mark.octt("TC_086")),
    pytest.param(None, id="TC_087", marks=pytest.mark.octt("TC_087")),
])
async def test_secured_connection(cp: ChargePoint, tls: bool | None):
    """TC_085-087: with valid credentials (Basic auth, the server's certificate, our client
    certificate, per --cb-security-profile) the connection opens and BootNotification is
    Accepted (whitepaper §2.3-§2.5); the catalogue makes each apply only at its profiles."""
    transport = cp.peer.ws.transport if hasattr(cp.peer.ws, "transport") else None
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    if tls is not False:
        assert ssl_object is not None, "expected a TLS connection (wss://)"
    await cp.boot()
    await cp.still_serving()


@pytest.mark.octt("TC_088")
async def test_subprotocol_negotiation(cb, case_trace):
    """TC_088: offered several subprotocols, ocpp1.6 not first, the CSMS agrees to ocpp1.6
    (OCPP-J 1.6 §3.1.2) and the session works; `dial` fails the case otherwise.

    The others offered are versions no OCPP-J server speaks (1.5 and 1.2 were SOAP only): a
    CSMS that also speaks 2.0.1 rightly takes a client's first choice (RFC 6455 §4.2.2, OCPP-J
    2.0.1 §3.1), so offering "ocpp2.0.1" first failed correct multi-version systems, ours too."""
    peer = case_trace.add(await dial(cb, subprotocols=("ocpp1.5", "ocpp1.6", "ocpp1.2")))
    try:
        cp = ChargePoint(peer, cb, trigger=None)  # type: ignore[arg-type]
        await cp.boot()
    finally:
        await peer.close()
