"""OCTT security cases for a charge point under test (security whitepaper edition 3);
ChargeBench plays the CSMS, with its own PKI (`--cb-ca`, `--cb-ca-key`, `--cb-cert`).

Each case is a table of rows (`conformance.steps`, `conformance.cases.cp.security`). The
charger's security profile only goes up, so the table runs from profile 1 to 3: the Basic
authentication cases first, then certificates, logs and signed firmware, then the TLS cases,
each raising the charger the whitepaper's way when it is below what the case needs.
"""

from __future__ import annotations

import pytest

from conformance.cases.cp.security import (
    CSMS_ROOT,
    INSTALL_CSMS_ROOT,
    MANUFACTURER_ROOT,
    AtLeast,
    NewKey,
    NoBoot,
    Secured,
    StaysConnected,
    Upgrade,
    csr_signed,
    hash_entry,
    kit,
    lower_profile,
    not_listed,
    present_untrusted_certificate,
    refused_then_trusted,
    roots,
    same_profile,
    same_serial,
    security_log,
)
from conformance.expect import Required
from conformance.steps import At, Call, Expect, Reconnect, Script, Send, Svc, params

FIRMWARE = b"CBFW 9.9.10-signed\nChargeBench signed conformance firmware\n"
CA = lambda ctx: kit(ctx).ca_pem  # noqa: E731
MANUFACTURER = lambda ctx: kit(ctx).manufacturer_root  # noqa: E731


def _serve_firmware(ctx) -> None:
    ctx.services["files"].put("signed.bin", FIRMWARE)


def signed_update(signature: Svc, request_id: int) -> tuple:
    """L01: the manufacturer root installed (L01.FR.23), the image on our FTP server, a
    SignedUpdateFirmware the charger accepts."""
    return (
        Send("InstallCertificate", {"certificateType": MANUFACTURER_ROOT,
                                    "certificate": Svc(MANUFACTURER)}, {"status": "Accepted"}),
        Call(_serve_firmware),
        Send("SignedUpdateFirmware", {"requestId": request_id, "retries": 1, "firmware": {
            "location": Svc(lambda ctx: ctx.services["files"].ftp_url("signed.bin")),
            "retrieveDateTime": At(-1),
            "signingCertificate": Svc(lambda ctx: kit(ctx).signing_certificate),
            "signature": signature}}, {"status": "Accepted"}),
    )


def fw(request_id: int, *statuses: str) -> tuple:
    """SignedFirmwareStatusNotification per status, with our requestId (L01.FR.10, L01.FR.21:
    optional in the schema, mandatory unless status is Idle)."""
    return tuple(Expect("SignedFirmwareStatusNotification",
                        {"status": s, "requestId": Required(request_id)}, within=2)
                 for s in statuses)


GOOD_SIGNATURE = Svc(lambda ctx: kit(ctx).signature(FIRMWARE))
BAD_SIGNATURE = Svc(lambda ctx: kit(ctx).signature(FIRMWARE + b"tampered"))

SECURITY = [
    # Profile 1: HTTP Basic (whitepaper §2.3, A00.FR.201-205)
    Script("TC_085", (AtLeast(1), Secured(minimum=1))),
    Script("TC_073", (
        AtLeast(1), NewKey(), Reconnect(boot=False), Secured(minimum=1), NoBoot(),
    )),
    # A05.FR.01: never down, nor to the same profile; the connection stays as it is
    Script("TC_084", (
        AtLeast(1), Send("ChangeConfiguration", {"key": "SecurityProfile",
                                                 "value": Svc(lower_profile)},
                         {"status": "Rejected"}),
        Send("ChangeConfiguration", {"key": "SecurityProfile", "value": Svc(same_profile)},
             {"status": "Rejected"}), StaysConnected(),
    )),
    # Certificates (M03-M05, A02)
    Script("TC_075", (
        INSTALL_CSMS_ROOT,
        Send("GetInstalledCertificateIds", {"certificateType": CSMS_ROOT},
             {"status": "Accepted", "certificateHashData": [same_serial(CA)]}),
    )),
    Script("TC_076", (
        Send("InstallCertificate", {"certificateType": MANUFACTURER_ROOT,
                                    "certificate": Svc(MANUFACTURER)}, {"status": "Accepted"}),
        roots(MANUFACTURER_ROOT),
        Send("DeleteCertificate", {"certificateHashData": hash_entry(MANUFACTURER)},
             {"status": "Accepted"}),
        Send("GetInstalledCertificateIds", {"certificateType": MANUFACTURER_ROOT}, {},
             save={"after": "certificateHashData"}),
        not_listed(MANUFACTURER),
        # M04.FR.04: deleting it again finds nothing
        Send("DeleteCertificate", {"certificateHashData": hash_entry(MANUFACTURER)},
             {"status": "NotFound"}),
    )),
    Script("TC_074", (INSTALL_CSMS_ROOT, *csr_signed())),
    # A02.FR.07: a certificate outside the CPO hierarchy is discarded and logged
    Script("TC_077", (
        INSTALL_CSMS_ROOT, *csr_signed("sign_rogue", expect="Rejected"),
        *security_log("InvalidChargePointCertificate"),
    )),
    Script("TC_079", security_log("StartupOfTheDevice")),
    # Signed firmware (L01)
    Script("TC_080", (
        *signed_update(GOOD_SIGNATURE, 80),
        *fw(80, "Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"),
        Reconnect(), Expect("BootNotification", {"firmwareVersion": "9.9.10-signed"}),
    )),
    Script("TC_081", (
        *signed_update(BAD_SIGNATURE, 81), *fw(81, "Downloading", "Downloaded",
                                               "InvalidSignature"),
        *security_log("InvalidFirmwareSignature"),
    )),
    # Profiles 2 and 3: TLS (A05, §2.4, §2.5)
    Script("TC_083", (AtLeast(1), Upgrade())),
    Script("TC_086", (AtLeast(2), Secured(minimum=2))),
    # A00.FR.309/310: a server certificate outside its trust: no session, a security event
    Script("TC_078", (
        AtLeast(2), Call(present_untrusted_certificate), Call(refused_then_trusted),
        Reconnect(boot=False), Secured(minimum=2), *security_log("InvalidCentralSystemCertificate"),
    )),
    Script("TC_087", (AtLeast(3), Secured(3))),
]


@pytest.mark.parametrize("script", params(SECURITY))
async def test_security(ctx, script):
    """TC_073-081, TC_083-087 (charge point under test): Basic authentication and its key,
    certificates, the security log, signed firmware, security profile upgrades, TLS."""
    await script.run(ctx)

