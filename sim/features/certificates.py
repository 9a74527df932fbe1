"""The charge point's certificate store (security whitepaper §2.6, A02, A03, A05, M03-M05).

What it keeps, persisted through `sim.state` (a crash never loses an Accepted certificate):

- root certificates by type: CentralSystemRootCertificate and ManufacturerRootCertificate
  (whitepaper 6.4), plus V2GRootCertificate and MORootCertificate for Plug&Charge (`pnc`);
  with AdditionalRootCertificateCheck the replaced CSMS root stays as a fallback (M05.FR.11);
- leaf certificates with their private keys: the ChargePointCertificate (profile 3 client
  certificate) and the ISO 15118 V2GCertificate (SECC leaf), newest first, older ones kept as a
  fallback (A02.FR.10);
- the pending private key of each leaf type between SignCertificate.req and
  CertificateSigned.req: it never leaves the store (A02.FR.05).

Wiring on the charge point (handlers answer CSMS-initiated CALLs from plain dicts):

    certs = CertificateStore(config, clock=clock, state_dir=state_dir, security_event=events)
    handlers.update(certs.handlers)      # CertificateSigned, InstallCertificate,
                                         # DeleteCertificate, GetInstalledCertificateIds
    config.add_check("SecurityProfile", certs.check_security_profile)  # A05.FR.03/04
    ExtendedTriggerMessage(SignChargePointCertificate): answer `certs.trigger_status()`, then
        `await certs.request_certificate(session.call)`                 # A02.FR.02/03
    connect with `TlsFiles` from `certs.tls_files()` (profiles 2/3); after a TLS connection
        `certs.on_connected(server_certificate_der)`                    # M04.FR.06, M05.FR.12
    FirmwareUpdater(manufacturer_roots=certs.manufacturer_roots, ...)

The A05 rules are also plain functions (`profile_upgrade_error`, `fallback_profile`) so the
connection loop and the conformance catalogue can use them without a store.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from chargebench.clock import Clock
from chargebench.security import make_csr
from sim.features.connection import TlsFiles
from sim.state import read_json, state_file, write_json, write_text

__all__ = [
    "CHARGE_POINT_CERTIFICATE",
    "CSMS_ROOT",
    "MANUFACTURER_ROOT",
    "MO_ROOT",
    "V2G_CERTIFICATE",
    "V2G_ROOT",
    "CertificateStore",
    "fallback_profile",
    "hash_data",
    "load_chain",
    "profile_upgrade_error",
    "verify_chain",
]

# Certificate types (whitepaper 6.4 CertificateUseEnumType; ISO 15118 ones from OCPP 2.0.1)
CSMS_ROOT = "CentralSystemRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"
V2G_ROOT = "V2GRootCertificate"
MO_ROOT = "MORootCertificate"
ROOT_TYPES = (CSMS_ROOT, MANUFACTURER_ROOT, V2G_ROOT, MO_ROOT)
CHARGE_POINT_CERTIFICATE = "ChargePointCertificate"
V2G_CERTIFICATE = "V2GCertificate"
#: leaf type -> the root type its chain must end in (A02.FR.06 "part of the CPO hierarchy")
LEAF_ROOTS = {CHARGE_POINT_CERTIFICATE: CSMS_ROOT, V2G_CERTIFICATE: V2G_ROOT}

HASH_ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512,
}  # whitepaper 6.12
_MAX_CHAIN_SIZE = 10_000  # 5.1 certificateChain string[0..10000], 7.3 CertificateSignedMaxChainSize
_RENEW_BEFORE = timedelta(days=30)  # A03.FR.02: "will expire in one month"


# Pure helpers ------------------------------------------------------------------------------


def load_chain(pem: str) -> list[x509.Certificate]:
    """The certificates of a PEM bundle, leaf first (A00.FR.507: PEM). Raises ValueError."""
    certs = x509.load_pem_x509_certificates(pem.encode("ascii"))
    if not certs:
        raise ValueError("no certificate in the PEM data")
    return certs


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def verify_chain(
    chain: Sequence[x509.Certificate], roots: Iterable[x509.Certificate], now: datetime
) -> str | None:
    """Why `chain` (leaf first, then optional sub-CAs) does not end in one of `roots`, or None.

    Every certificate on the path, the root included, must be valid at `now`
    (A02.FR.06: validity period and "part of the Charge Point Operator certificate hierarchy").
    """
    roots = [r for r in roots if _valid_at(r, now)]
    if not roots:
        return "no valid root certificate of that type installed"
    current, spare = chain[0], list(chain[1:])
    while True:
        if not _valid_at(current, now):
            return f"{current.subject.rfc4514_string()} is outside its validity period"
        if any(_issued_by(current, root) for root in roots):
            return None
        issuer = next((c for c in spare if _issued_by(current, c)), None)
        if issuer is None:
            return "does not chain to an installed root certificate"
        spare.remove(issuer)
        current = issuer


def _public_key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING value (RFC 6960 issuerKeyHash input)."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raise ValueError(f"unsupported public key type {type(key).__name__}")


def _digest(algorithm: str, data: bytes) -> str:
    h = hashes.Hash(HASH_ALGORITHMS[algorithm]())
    h.update(data)
    return h.finalize().hex()


def hash_data(
    cert: x509.Certificate, issuer: x509.Certificate | None = None, algorithm: str = "SHA256"
) -> dict[str, str]:
    """CertificateHashDataType (whitepaper 6.1, RFC 6960 CertID) of `cert`.

    issuerNameHash over the DER of cert's issuer name, issuerKeyHash over the issuer's public
    key bits (`issuer` defaults to `cert` itself: a root), serialNumber in hex without leading
    zeroes. SHA256 unless asked (A00.FR.506; M04.FR.07 the CSMS repeats the algorithm).
    """
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"hashAlgorithm {algorithm!r} is not SHA256, SHA384 or SHA512")
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": _digest(algorithm, cert.issuer.public_bytes()),
        "issuerKeyHash": _digest(algorithm, _public_key_bits(issuer or cert)),
        "serialNumber": format(cert.serial_number, "x"),
    }


def _same_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Compare two CertificateHashDataType: CiStrings, serial without leading zeroes (6.1)."""
    def norm(d: dict[str, Any]) -> tuple[str, ...]:
        return (d["hashAlgorithm"], d["issuerNameHash"].lower(), d["issuerKeyHash"].lower(),
                d["serialNumber"].lower().lstrip("0") or "0")
    return norm(a) == norm(b)


def _key_strength_error(cert: x509.Certificate) -> str | None:
    """A00.FR.501-503: RSA/DSA >= 2048 bits, elliptic curves >= 224 bits."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey) and key.key_size < 2048:
        return f"{key.key_size}-bit key, at least 2048 needed (A00.FR.502)"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 224:
        return f"{key.curve.key_size}-bit curve, at least 224 needed (A00.FR.503)"
    return None


def _subject(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def profile_upgrade_error(new: int, *, csms_root_valid: bool, cp_certificate_valid: bool) -> (
    str | None
):
    """The certificate prerequisites of a higher SecurityProfile, or None when they are met.

    A05.FR.03: profiles 2 and 3 need a valid CentralSystemRootCertificate; A05.FR.04: profile 3
    a valid ChargePointCertificate. "Only upwards" (A05.FR.01) and "1 and 2 need an
    AuthorizationKey" (A05.FR.02) are `ChargePointConfig`'s own SecurityProfile rule.
    """
    if new >= 2 and not csms_root_valid:
        return f"SecurityProfile {new} needs a valid CentralSystemRootCertificate (A05.FR.03)"
    if new >= 3 and not cp_certificate_valid:
        return "SecurityProfile 3 needs a valid ChargePointCertificate (A05.FR.04)"
    return None


def fallback_profile(
    *, previous: int | None, current: int, failed_attempts: int, max_attempts: int,
    connected_since_change: bool,
) -> int | None:
    """The profile to go back to after connection attempts with a new one failed, or None.

    A05.FR.08: a charge point that cannot connect with the raised profile SHOULD fall back to
    the previous one (apply it with `config.set_value("SecurityProfile", p)`, which bypasses
    the only-upwards rule). Once it has connected with the new profile the upgrade is done
    and there is no way back (A05.FR.09), nor is there for a profile never raised over OCPP.
    """
    if previous is None or previous >= current or connected_since_change:
        return None
    return previous if failed_attempts >= max_attempts else None


# The store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """An installed leaf certificate: its chain (leaf first) and its private key, both PEM."""

    chain_pem: str
    key_pem: str

    @property
    def certificate(self) -> x509.Certificate:
        return load_chain(self.chain_pem)[0]


class CertificateStore:
    """Roots, leaves and pending keys of one charge point; answers the M03-M05/A02 messages."""

    FILE_NAME = "certificates.json"

    def __init__(
        self,
        config: Any,
        *,
        clock: Clock,
        state_dir: str | os.PathLike[str] | None = None,
        security_event: Callable[[str, str], Any] | None = None,
        key_type: str = "ec",
    ) -> None:
        """`security_event(type, techInfo)`: a `SecurityEvents` (A02.FR.07 and friends);
        `key_type` "ec" (P-256) or "rsa" (2048) for the key pairs of CSRs."""
        self.config = config
        self.clock = clock
        self.state_dir = state_dir
        self.path = state_file(state_dir, self.FILE_NAME)
        self.security_event = security_event
        self.key_type = key_type
        data = read_json(self.path, {})
        self._roots: list[dict[str, Any]] = data.get("roots", [])
        self._leaves: dict[str, list[dict[str, str]]] = data.get("leaves", {})
        self._pending: dict[str, str] = data.get("pending", {})
        self._server_certificate: x509.Certificate | None = None

    @property
    def handlers(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "CertificateSigned": self.on_certificate_signed,
            "InstallCertificate": self.on_install_certificate,
            "DeleteCertificate": self.on_delete_certificate,
            "GetInstalledCertificateIds": self.on_get_installed_certificate_ids,
        }

    # Identity ----------------------------------------------------------------------------

    @property
    def serial(self) -> str:
        """CN of our certificates: ChargeBoxSerialNumber (A00.FR.511)."""
        return (self.config.get("Internal", "ChargeBoxSerialNumber", None)
                or self.config.get("Internal", "ChargePointId"))

    @property
    def cpo_name(self) -> str | None:
        """O of our certificates: CpoName (A02.FR.13), None when not configured."""
        return self.config.get("Security", "CpoName", None) or None

    # Roots (M03-M05) ---------------------------------------------------------------------

    def roots(self, kind: str) -> list[x509.Certificate]:
        """Installed roots of a type, fallback ones included (M05.FR.13)."""
        return [load_chain(r["pem"])[0] for r in self._roots if r["type"] == kind]

    def manufacturer_roots(self) -> list[str]:
        """ManufacturerRootCertificate PEMs, for `FirmwareUpdater(manufacturer_roots=...)`."""
        return [r["pem"] for r in self._roots if r["type"] == MANUFACTURER_ROOT]

    def install_root(self, kind: str, pem: str) -> str:
        """Install a root certificate; returns the CertificateStatusEnumType (6.3)."""
        if kind not in ROOT_TYPES:
            return "Rejected"
        try:
            certs = load_chain(pem)
        except ValueError:
            return "Rejected"  # M05.FR.06
        cert = certs[0]
        constraints = _extension(cert, x509.BasicConstraints)
        if (len(certs) != 1 or not _valid_at(cert, self.clock.now())
                or constraints is None or not constraints.ca or _key_strength_error(cert)):
            return "Rejected"  # M05.FR.06: invalid and/or incorrect
        pem = _pem(cert)
        if any(r["type"] == kind and r["pem"] == pem for r in self._roots):
            return "Accepted"  # already there: installing twice changes nothing
        limit = self.config.get("Security", "CertificateStoreMaxLength", None)
        if limit is not None and len(self._roots) >= limit:
            return "Rejected"  # M05.FR.03
        # copies: nothing changes in memory unless the write succeeds
        roots = [dict(r) for r in self._roots if not (r["type"] == kind and r.get("fallback"))]
        if kind == CSMS_ROOT and self.config.get("Security", "AdditionalRootCertificateCheck",
                                                  False):
            current = [r for r in roots if r["type"] == CSMS_ROOT]
            if current:
                # M05.FR.09/10: the new root must be signed by the one it replaces
                if not any(_issued_by(cert, load_chain(r["pem"])[0]) for r in current):
                    return "Rejected"
                for r in current:
                    r["fallback"] = True  # M05.FR.11
        roots.append({"type": kind, "pem": pem, "fallback": False})
        if not self._save(roots=roots):
            return "Failed"  # M05.FR.04
        self.report("ReconfigurationOfSecurityParameters", f"{kind} installed")
        return "Accepted"

    def delete(self, wanted: dict[str, Any]) -> str:
        """Delete the certificate with this hash data; DeleteCertificateStatusEnumType (6.7)."""
        algorithm = wanted.get("hashAlgorithm", "SHA256")
        if algorithm not in HASH_ALGORITHMS:
            return "NotFound"
        for kind, leaves in self._leaves.items():
            for leaf in leaves:
                chain = load_chain(leaf["chain"])
                issuer = chain[1] if len(chain) > 1 else self._issuer_of(chain[0], kind)
                if issuer and _same_hash(hash_data(chain[0], issuer, algorithm), wanted):
                    return "Failed"  # M04.FR.05: never the Charge Point Certificate
        for root in self._roots:
            cert = load_chain(root["pem"])[0]
            if not _same_hash(hash_data(cert, None, algorithm), wanted):
                continue
            if root["type"] == CSMS_ROOT and self._in_use(cert):
                return "Failed"  # M04.FR.06
            if not self._save(roots=[r for r in self._roots if r is not root]):
                return "Failed"  # M04.FR.03
            self.report("ReconfigurationOfSecurityParameters", f"{root['type']} deleted")
            return "Accepted"  # M04.FR.02
        return "NotFound"  # M04.FR.04

    def installed(self, kinds: Iterable[str], algorithm: str = "SHA256") -> (
        list[tuple[str, dict[str, str]]]
    ):
        """(type, CertificateHashDataType) of every installed root of these types (M03.FR.04)."""
        wanted = set(kinds)
        return [(r["type"], hash_data(load_chain(r["pem"])[0], None, algorithm))
                for r in self._roots if r["type"] in wanted]

    def _in_use(self, root: x509.Certificate) -> bool:
        """Is this CSMS root validating the current connection (M04.FR.06)?

        Known server certificate: the root that verifies it. Unknown (not connected yet): with
        TLS in use every CSMS root may be the one, so only the last one is protected.
        """
        if int(self.config.get("Security", "SecurityProfile", 0) or 0) < 2:
            return False
        if self._server_certificate is not None:
            return verify_chain([self._server_certificate], [root], self.clock.now()) is None
        return len(self.roots(CSMS_ROOT)) <= 1

    def on_connected(self, server_certificate: bytes | str | None) -> None:
        """Call after each TLS connection with the CSMS certificate (DER or PEM).

        Remembers which root is in use (M04.FR.06) and, once the connection was verified with
        the new CSMS root, drops the fallback one (M05.FR.12).
        """
        if not server_certificate:
            return
        cert = (x509.load_der_x509_certificate(server_certificate)
                if isinstance(server_certificate, bytes)
                else load_chain(server_certificate)[0])
        self._server_certificate = cert
        now = self.clock.now()
        current = [load_chain(r["pem"])[0] for r in self._roots
                   if r["type"] == CSMS_ROOT and not r.get("fallback")]
        if any(r.get("fallback") for r in self._roots) and verify_chain([cert], current,
                                                                        now) is None:
            self._save(roots=[r for r in self._roots if not r.get("fallback")])

    # Messages ----------------------------------------------------------------------------

    def on_install_certificate(self, payload: dict) -> dict:
        """InstallCertificate.req handler (M05)."""
        return {"status": self.install_root(payload["certificateType"], payload["certificate"])}

    def on_delete_certificate(self, payload: dict) -> dict:
        """DeleteCertificate.req handler (M04)."""
        return {"status": self.delete(payload["certificateHashData"])}

    def on_get_installed_certificate_ids(self, payload: dict) -> dict:
        """GetInstalledCertificateIds.req handler (M03): NotFound, or Accepted with hashes."""
        found = [data for _, data in self.installed([payload["certificateType"]])]
        if not found:
            return {"status": "NotFound"}  # M03.FR.02
        return {"status": "Accepted", "certificateHashData": found}  # M03.FR.03/04

    def on_certificate_signed(self, payload: dict) -> dict:
        """CertificateSigned.req handler (A02.FR.06/07): Accepted once installed."""
        ok = self.install_leaf(CHARGE_POINT_CERTIFICATE, payload["certificateChain"])
        return {"status": "Accepted" if ok else "Rejected"}

    # Leaves (A02/A03) --------------------------------------------------------------------

    def trigger_status(self) -> str:
        """ExtendedTriggerMessage(SignChargePointCertificate) answer: Rejected without a
        CpoName (A02 prerequisite), else Accepted (then call `request_certificate`)."""
        return "Accepted" if self.cpo_name else "Rejected"

    def sign_certificate_request(self, kind: str = CHARGE_POINT_CERTIFICATE) -> dict[str, str]:
        """A new key pair (A02.FR.02) and the SignCertificate.req payload with its CSR
        (A02.FR.03; CN serial, O CpoName per A02.FR.13). The key stays pending here until the
        matching CertificateSigned.req arrives; a newer request replaces it."""
        if self.cpo_name is None:
            raise ValueError("CpoName is not set (whitepaper A02/A03 prerequisite)")
        csr, key = make_csr(self.serial, self.cpo_name, key_type=self.key_type)  # type: ignore[arg-type]
        self._save(pending={**self._pending, kind: key})
        return {"csr": csr}

    async def request_certificate(self, notify: Callable[[str, dict], Any]) -> bool:
        """Send SignCertificate.req (A02 step 4, A03 step 3); True when the CSMS Accepted.
        No automatic retry: the whitepaper advises against it for 1.6 (A02 error handling)."""
        reply = await notify("SignCertificate", self.sign_certificate_request())
        return (reply or {}).get("status") == "Accepted"

    def leaf_error(self, kind: str, chain_pem: str) -> str | None:
        """Why a signed certificate chain must be refused (A02.FR.06), or None."""
        limit = self.config.get("Security", "CertificateSignedMaxChainSize", None)
        if len(chain_pem) > (limit or _MAX_CHAIN_SIZE):
            return f"chain of {len(chain_pem)} characters exceeds CertificateSignedMaxChainSize"
        try:
            chain = load_chain(chain_pem)
        except ValueError as exc:
            return f"not a PEM certificate chain: {exc}"
        leaf, now = chain[0], self.clock.now()
        if now > leaf.not_valid_after_utc:
            return "the certificate has expired"
        if reason := _key_strength_error(leaf):
            return reason
        cn, org = _subject(leaf, NameOID.COMMON_NAME), _subject(leaf, NameOID.ORGANIZATION_NAME)
        if cn != self.serial:
            return f"CN {cn!r} is not the serial number {self.serial!r} (A00.FR.511)"
        if org != self.cpo_name:
            return f"O {org!r} is not the CpoName {self.cpo_name!r} (A00.FR.509, A02.FR.13)"
        key = self._pending.get(kind)
        if key is None:
            return f"no {kind} signing request is pending"
        if _spki(leaf.public_key()) != _spki(_load_key(key).public_key()):
            return "the certificate is not for the key of the last SignCertificate.req"
        # A02.FR.08: a not-yet-valid certificate is kept and used from 'not valid before' on,
        # so only the chain (not the leaf's start) is checked at the leaf's own start time.
        return verify_chain(chain, self.roots(LEAF_ROOTS[kind]),
                            max(now, leaf.not_valid_before_utc))

    def install_leaf(self, kind: str, chain_pem: str) -> bool:
        """Validate and install a signed certificate for the pending key; on failure discard
        it and raise the InvalidChargePointCertificate security event (A02.FR.07)."""
        reason = self.leaf_error(kind, chain_pem)
        if reason is None:
            pending = dict(self._pending)
            entry = {"chain": chain_pem, "key": pending.pop(kind)}
            leaves = {**self._leaves, kind: [entry, *self._prune(kind)]}
            if self._save(leaves=leaves, pending=pending):
                self.report("ReconfigurationOfSecurityParameters", f"new {kind}")
                return True
            reason = "the certificate store could not be written"
        self.report("InvalidChargePointCertificate", reason)
        return False

    def provision_leaf(self, kind: str, chain_pem: str, key_pem: str) -> None:
        """Install factory credentials without a CSR (A00.FR.801: installed at manufacturing)."""
        load_chain(chain_pem)
        _load_key(key_pem)
        self._save(leaves={**self._leaves, kind: [{"chain": chain_pem, "key": key_pem},
                                                  *self._leaves.get(kind, [])]})

    def active_leaf(self, kind: str = CHARGE_POINT_CERTIFICATE) -> Leaf | None:
        """The leaf in use: of those valid now, the newest by start of validity (A02.FR.08/09)."""
        now = self.clock.now()
        valid = [(load_chain(e["chain"])[0], e) for e in self._leaves.get(kind, [])]
        valid = [(c, e) for c, e in valid if _valid_at(c, now)]
        if not valid:
            return None
        _, entry = max(valid, key=lambda ce: ce[0].not_valid_before_utc)
        return Leaf(entry["chain"], entry["key"])

    def needs_renewal(self, kind: str = CHARGE_POINT_CERTIFICATE) -> bool:
        """True when the leaf in use expires within a month (A03.FR.02: send a new CSR)."""
        leaf = self.active_leaf(kind)
        return leaf is not None and (
            leaf.certificate.not_valid_after_utc - self.clock.now() < _RENEW_BEFORE
        )

    def leaf_hashes(self, kind: str, algorithm: str = "SHA256") -> list[dict[str, str]]:
        """Hash data of the leaf in use, then of each sub-CA of its chain (the 2.0.1
        CertificateHashDataChainType of GetInstalledCertificateIds, V2GCertificateChain)."""
        leaf = self.active_leaf(kind)
        if leaf is None:
            return []
        chain = load_chain(leaf.chain_pem)
        hashes_ = []
        for i, cert in enumerate(chain):
            issuer = chain[i + 1] if i + 1 < len(chain) else self._issuer_of(cert, kind)
            if issuer is not None:
                hashes_.append(hash_data(cert, issuer, algorithm))
        return hashes_

    def _prune(self, kind: str) -> list[dict[str, str]]:
        """Older leaves still valid stay as a fallback (A02.FR.10); expired ones go."""
        now = self.clock.now()
        return [e for e in self._leaves.get(kind, [])
                if load_chain(e["chain"])[0].not_valid_after_utc >= now]

    def _issuer_of(self, cert: x509.Certificate, kind: str) -> x509.Certificate | None:
        return next((r for r in self.roots(LEAF_ROOTS.get(kind, CSMS_ROOT))
                     if _issued_by(cert, r)), None)

    # Security profiles (A05) and TLS -----------------------------------------------------

    def check_security_profile(self, value: int, _config: Any = None) -> str | None:
        """`config.add_check("SecurityProfile", store.check_security_profile)` (A05.FR.03/04)."""
        now = self.clock.now()
        return profile_upgrade_error(
            int(value),
            csms_root_valid=any(_valid_at(r, now) for r in self.roots(CSMS_ROOT)),
            cp_certificate_valid=self.active_leaf(CHARGE_POINT_CERTIFICATE) is not None,
        )

    def tls_files(self) -> TlsFiles:
        """PEM files for `connection.connect_options`: every CSMS root (the fallback too,
        M05.FR.13) as the CA file and, when there is one, the leaf in use and its key."""
        if self.state_dir is None:
            raise ValueError("tls_files needs a state directory to write the PEM files into")
        ca = state_file(self.state_dir, "csms_roots.pem")
        assert ca is not None
        write_text(ca, "".join(_pem(c) for c in self.roots(CSMS_ROOT)))
        leaf = self.active_leaf(CHARGE_POINT_CERTIFICATE)
        if leaf is None:
            return TlsFiles(str(ca))
        cert, key = (state_file(self.state_dir, n) for n in ("cp_cert.pem", "cp_key.pem"))
        assert cert is not None and key is not None
        write_text(cert, leaf.chain_pem)
        write_text(key, leaf.key_pem)  # mode 0600 (mkstemp)
        return TlsFiles(str(ca), str(cert), str(key))

    # Persistence -------------------------------------------------------------------------

    def _save(self, **changes: Any) -> bool:
        """Write first, then remember (like `ChargePointConfig`): a failed write changes
        nothing, and the caller answers Failed."""
        state = {"roots": self._roots, "leaves": self._leaves, "pending": self._pending,
                 **changes}
        if self.path is not None:
            try:
                write_json(self.path, state)
            except OSError:
                return False
        self._roots, self._leaves, self._pending = state["roots"], state["leaves"], state["pending"]
        return True

    def report(self, kind: str, info: str) -> None:
        """Raise a security event through the `security_event` callback, if any."""
        if self.security_event is not None:
            self.security_event(kind, info)


def _extension(cert: x509.Certificate, kind: type) -> Any:
    with contextlib.suppress(x509.ExtensionNotFound):
        return cert.extensions.get_extension_for_class(kind).value
    return None


def _load_key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
