"""The CSMS as the CPO's certificate authority: SignCertificate.req -> CertificateSigned.req.

Security whitepaper A02 (update charge point certificate by request of the CSMS) and A03: the
charger sends a CSR, the CSMS checks the subject, answers, signs it with the CA given by
`tls_ca`/`ca_key`, and sends the certificate in a CertificateSigned.req of its own. The same
CA answers OCSP requests for what it issued (2.0.1 M06 GetCertificateStatus).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp

from chargebench.ocppj import CallFailed
from chargebench.security import csr_identity, sign_csr
from csms.store.base import Charger

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.registry import ChargerConnection

log = logging.getLogger(__name__)

#: how long an OCSP answer of this CSMS may be cached (its nextUpdate)
OCSP_VALIDITY = timedelta(days=1)



def registered_identity(charger: Charger | None, cp_id: str) -> str:
    """What a station certificate's CN must be (A00.FR.405/511): the serial the operator
    registered for the charger, or its id when none is (`Charger.registered_serial`)."""
    return (charger["registered_serial"] if charger is not None else None) or cp_id

class CertificateService:
    """Checks and signs charge point CSRs; without a CA key every CSR is rejected."""

    def __init__(self, csms: CentralSystem) -> None:
        self.csms = csms
        config = csms.config
        self._ca: tuple[bytes, bytes] | None = None
        if config.tls_ca is not None and config.ca_key is not None:
            self._ca = (Path(config.tls_ca).read_bytes(), Path(config.ca_key).read_bytes())

    @property
    def can_sign(self) -> bool:
        return self._ca is not None

    async def check_csr(self, cp_id: str, csr_pem: str) -> str | None:
        """Why the CSR must be rejected, or None. A02.FR.13: O is the CPO name; A00.FR.511: CN
        is the charger's serial number as the operator registered it (`registered_serial`;
        its id when none is registered), never a serial its BootNotification merely claims:
        the CSMS cannot check a claim, and a certificate naming another station's serial
        would let this one pass for it with mutual TLS (A00.FR.405, security whitepaper
        A00/A02; admission checks the same registered identity, `csms.server`). A 1.6 charger
        that signs with its chargeBoxSerialNumber (libocpp) is registered with that one."""
        if self._ca is None:
            return "the CSMS has no CA key to sign with"
        try:
            identity = csr_identity(csr_pem)
        except ValueError as exc:
            return f"unreadable CSR: {exc}"
        charger = await asyncio.to_thread(self.csms.store.get_charger, cp_id)
        registered = registered_identity(charger, cp_id)
        if not identity.matches(registered, self.csms.config.cpo_name):
            return (f"subject CN={identity.common_name!r} O={identity.organization!r}, not the"
                    f" registered serial {registered!r}")
        # A00.FR.405: the certificate will name one station. Admission takes a charger without
        # a registered serial by its id, so a CN that is another charger's id would let this
        # one connect as that charger with mutual TLS (profile 3). (A CN equal to a serial
        # another charger is registered with too is signed: operators may register one serial
        # for two ids, as the conformance self run does.)
        name = identity.common_name or ""
        other = await asyncio.to_thread(self.csms.store.charger_named, name, besides=cp_id)
        if other is not None and other == name:
            return f"subject CN={name!r} is charger {other!r}'s id"
        return None

    def ocsp_result(self, request: Mapping[str, str], issued: Iterable[Mapping[str, Any]],
                    now: datetime) -> str | None:  # fmt: skip
        """M06: the OCSP response (RFC 6960, DER in base64, the `ocspResult` of a
        GetCertificateStatusResponse) for a certificate this CSMS's CA issued, signed by the
        CA; None when the CA is not the issuer the request names (this CSMS answers for its
        own CA only) or there is no CA. `issued`: the store's certificate records to look the
        serial up in (good when found and not removed, else unknown: RFC 6960 §2.2)."""
        if self._ca is None or request.get("hashAlgorithm") != "SHA256":
            return None
        ca = x509.load_pem_x509_certificate(self._ca[0])
        ca_key = _subject_public_key(ca)
        if ca_key is None:
            return None
        name_hash, key_hash = _sha256(ca.subject.public_bytes()), _sha256(ca_key)
        if (request["issuerNameHash"].lower(), request["issuerKeyHash"].lower()) != (
            name_hash, key_hash
        ):  # fmt: skip
            return None
        serial = request["serialNumber"].lower().lstrip("0") or "0"
        # a record's issuer key hash is known only when its chain held the issuer: the name
        # hash and the serial identify it (RFC 5280 §4.1.2.2: unique per issuer)
        known = any(row["serial_number"] == serial and row["removed_at"] is None
                    and row["issuer_name_hash"] == name_hash
                    and row["issuer_key_hash"] in (None, key_hash) for row in issued)  # fmt: skip
        status = ocsp.OCSPCertStatus.GOOD if known else ocsp.OCSPCertStatus.UNKNOWN
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=bytes.fromhex(name_hash), issuer_key_hash=bytes.fromhex(key_hash),
            serial_number=int(serial, 16), algorithm=hashes.SHA256(), cert_status=status,
            this_update=now, next_update=now + OCSP_VALIDITY, revocation_time=None,
            revocation_reason=None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, ca)  # fmt: skip
        key = serialization.load_pem_private_key(self._ca[1], password=None)
        response = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
        return base64.b64encode(response.public_bytes(Encoding.DER)).decode("ascii")

    async def sign_and_send(self, conn: ChargerConnection, csr_pem: str, **fields: str) -> None:
        """Sign, send CertificateSigned.req (with `fields` besides the chain: 2.0.1's
        certificateType, A02.FR.14), and remember the certificate once Accepted."""
        from csms import commands  # commands imports the server side; import late

        assert self._ca is not None
        await asyncio.sleep(0)  # let the SignCertificate.conf go out first
        try:
            pem = await asyncio.to_thread(sign_csr, csr_pem, *self._ca)
        except ValueError as exc:
            log.warning("%s: cannot sign CSR: %s", conn.cp_id, exc)
            return
        try:
            await commands.certificate_signed(self.csms, conn.cp_id, certificateChain=pem,
                                              **fields)  # fmt: skip
        except (CallFailed, commands.NotConnected) as exc:
            log.warning("%s: CertificateSigned failed: %s", conn.cp_id, exc)


def certificate_fields(pem: str) -> dict:
    """The store's record of the first certificate of a chain: its serial number and the
    CertificateHashDataType a later DeleteCertificate names it by (2.0.1 M04, 1.6 whitepaper
    M04): SHA256 of the issuer's DER name and of the issuer's public key (the value of its
    subjectPublicKey, as OCSP's CertID, RFC 6960 §4.1.1), hex in lower case. The issuer's key is
    the next certificate of the chain, or the certificate's own for a self-signed root; unknown
    otherwise (None). An unreadable PEM gives nothing."""
    try:
        chain = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except ValueError:
        return {}
    cert = chain[0]
    fields: dict = {"serial_number": format(cert.serial_number, "x"), "hash_algorithm": "SHA256",
                    "issuer_name_hash": _sha256(cert.issuer.public_bytes())}  # fmt: skip
    issuer = next((c for c in chain[1:] if c.subject == cert.issuer), None)
    if issuer is None and cert.subject == cert.issuer:
        issuer = cert
    if issuer is not None:
        key = _subject_public_key(issuer)
        fields["issuer_key_hash"] = None if key is None else _sha256(key)
    return fields


def hash_data_key(hashes: dict) -> dict:
    """What identifies a certificate in the store from a CertificateHashDataType: its serial
    number (hex, no leading zeros, lower case) and, when SHA256 (what `certificate_fields`
    keeps), the issuer key hash in lower case."""
    serial = hashes["serialNumber"].lower().lstrip("0") or "0"
    key_hash = hashes.get("issuerKeyHash")
    if hashes.get("hashAlgorithm") != "SHA256" or key_hash is None:
        return {"serial_number": serial}
    return {"serial_number": serial, "issuer_key_hash": key_hash.lower()}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _subject_public_key(cert: x509.Certificate) -> bytes | None:
    """The subjectPublicKey BIT STRING's value (RFC 5280 §4.1.2.7)."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(Encoding.DER, PublicFormat.PKCS1)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return None
