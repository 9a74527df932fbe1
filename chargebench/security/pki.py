"""A throw-away CPO certificate hierarchy for tests and demos (security profiles 2 and 3).

:func:`init_pki` writes into one directory (PEM; keys unencrypted PKCS#8, mode 0600):

=============================  ===========================================================
``ca.pem`` / ``ca.key``        root CA of the CPO hierarchy (CN "<cpo> Test Root CA", O cpo)
``csms.pem`` / ``csms.key``    CSMS server certificate: CN localhost, O cpo, SAN DNS
                               localhost, IP 127.0.0.1 and ::1, signed by the CA
``cp-<serial>.pem`` / ``.key`` one client certificate per charge point: CN serial, O cpo,
                               signed by the CA
``invalid-client.pem`` /       a client certificate of the same shape (CN the first serial,
``invalid-client.key``         or "INVALID-CLIENT"; O cpo) issued by an untrusted CA with
                               the real CA's name but another key (not written anywhere): a
                               profile-3 CSMS must refuse it
=============================  ===========================================================

:func:`make_csr` and :func:`sign_csr` are the two halves of SignCertificate.req /
CertificateSigned.req (whitepaper A02/A03): the simulated charger makes the CSR, the CSMS signs it.
Keys are ECDSA P-256 by default (fast); ``key_type="rsa"`` gives RSA 2048, the size OCPP-J 1.6
§6.2.1 allows for the server and A00.FR.502 requires at least.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chargebench.security.tls import client_ssl_context

__all__ = [
    "DEFAULT_CPO_NAME",
    "KeyType",
    "PkiFiles",
    "init_pki",
    "make_csr",
    "sign_csr",
]

DEFAULT_CPO_NAME = "ChargeBench CPO"
KeyType = Literal["ec", "rsa"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
StrPath = str | os.PathLike[str]

_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class PkiFiles:
    """Where :func:`init_pki` wrote each file; ``paths()`` lists them in writing order."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    csms_cert: Path
    csms_key: Path
    charge_points: dict[str, tuple[Path, Path]]  # serial -> (certificate, key)
    invalid_client_cert: Path
    invalid_client_key: Path

    def client_context(self, serial: str | None = None) -> ssl.SSLContext:
        """A charge point's TLS context trusting this CA: with the client certificate of
        `serial` (profile 3, mutual TLS) or without one (profile 2)."""
        if serial is None:
            return client_ssl_context(self.ca_cert)
        cert, key = self.charge_points[serial]
        return client_ssl_context(self.ca_cert, cert, key)

    def paths(self) -> list[Path]:
        """Every file written, certificate before key."""
        cps = [path for pair in self.charge_points.values() for path in pair]
        return [
            self.ca_cert, self.ca_key, self.csms_cert, self.csms_key,
            *cps, self.invalid_client_cert, self.invalid_client_key,
        ]  # fmt: skip


# Keys and names


def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"key_type must be 'ec' or 'rsa', not {key_type!r}")


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _ca_name(cpo_name: str) -> x509.Name:
    return _name(f"{cpo_name} Test Root CA", cpo_name)


def _check_serial(serial: str) -> str:
    """Reject serials that are unsafe as file names or look like a host (A00.FR.511)."""
    if not _SERIAL.fullmatch(serial):
        raise ValueError(
            f"charge point serial {serial!r} must be 1-64 characters of letters, digits, '.', "
            "'_' or '-', starting with a letter or digit"
        )
    try:
        ipaddress.ip_address(serial)
    except ValueError:
        return serial
    raise ValueError(f"charge point serial {serial!r} must not be an IP address (A00.FR.511)")


def _check_cpo(cpo_name: str) -> str:
    if not cpo_name or not cpo_name.strip():
        raise ValueError("the CPO name must not be empty (A00.FR.509: O is required)")
    return cpo_name


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# Certificates


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: CertificatePublicKeyTypes, days: int
) -> x509.CertificateBuilder:
    """Fields every certificate shares: serial (A00.FR.508), validity, subject key id."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _ca_certificate(key: PrivateKey, name: x509.Name, days: int) -> x509.Certificate:
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    return (
        _builder(name, name, key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )


def _leaf_certificate(
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    days: int,
    *,
    server_names: Iterable[str] = (),
) -> x509.Certificate:
    """Issue a TLS client certificate, or a server one when ``server_names`` are given."""
    server_names = list(server_names)
    # A00.FR.512: restrict the key to what it is used for; RSA key exchange also needs encipherment.
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False,
        key_encipherment=isinstance(public_key, rsa.RSAPublicKey), data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    purpose = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        _builder(subject, ca_cert.subject, public_key, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server_names:
        # A00.FR.511 note: a SAN is allowed for the Central System; clients match the host on it.
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in server_names]), critical=False
        )
    return builder.sign(ca_key, hashes.SHA256())


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


# Files


def _write(path: Path, data: bytes, *, private: bool = False) -> Path:
    """Write one PEM file; keys are created 0600 so no other user ever sees them."""
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def _write_pair(
    directory: Path, stem: str, cert: x509.Certificate, key: PrivateKey
) -> tuple[Path, Path]:
    return (
        _write(directory / f"{stem}.pem", _cert_pem(cert)),
        _write(directory / f"{stem}.key", _key_pem(key), private=True),
    )


def _prepare_directory(directory: Path, overwrite: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"{directory} exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not overwrite:
        raise FileExistsError(f"{directory} is not empty (overwrite to replace its PKI files)")
    directory.mkdir(parents=True, exist_ok=True)


def init_pki(
    directory: StrPath,
    *,
    cpo_name: str = DEFAULT_CPO_NAME,
    charge_points: Iterable[str] = (),
    days: int = 365,
    key_type: KeyType = "ec",
    overwrite: bool = False,
) -> PkiFiles:
    """Write a CA, a CSMS certificate and charge point certificates into ``directory``.

    File names are in the module docstring. Raise :class:`FileExistsError` if ``directory`` is
    not empty, unless ``overwrite`` (then only these files are replaced), and
    :class:`ValueError` for a serial unfit for a certificate CN or a file name.
    """
    if isinstance(charge_points, str):
        raise TypeError("charge_points is a list of serial numbers, not one string")
    cpo_name = _check_cpo(cpo_name)
    serials = [_check_serial(s) for s in dict.fromkeys(charge_points)]
    directory = Path(directory)
    _prepare_directory(directory, overwrite)

    ca_key = _new_key(key_type)
    ca_cert = _ca_certificate(ca_key, _ca_name(cpo_name), days)
    ca_files = _write_pair(directory, "ca", ca_cert, ca_key)

    # A00.FR.510: CN is the server's FQDN; the SANs let clients reach it by name or address.
    csms_key = _new_key(key_type)
    csms_cert = _leaf_certificate(
        _name("localhost", cpo_name), csms_key.public_key(), ca_cert, ca_key, days,
        server_names=["localhost", "127.0.0.1", "::1"],
    )  # fmt: skip
    csms_files = _write_pair(directory, "csms", csms_cert, csms_key)

    cp_files: dict[str, tuple[Path, Path]] = {}
    for serial in serials:
        # A00.FR.511 / A00.FR.509: CN is the charge point's serial number, O the CPO name.
        cp_key = _new_key(key_type)
        cp_cert = _leaf_certificate(
            _name(serial, cpo_name), cp_key.public_key(), ca_cert, ca_key, days
        )
        cp_files[serial] = _write_pair(directory, f"cp-{serial}", cp_cert, cp_key)

    invalid_files = _write_invalid_client(directory, serials, cpo_name, days, key_type)
    return PkiFiles(directory, *ca_files, *csms_files, cp_files, *invalid_files)


def _write_invalid_client(
    directory: Path, serials: list[str], cpo_name: str, days: int, key_type: KeyType
) -> tuple[Path, Path]:
    """A well-formed client certificate whose issuer nobody trusts (an impersonation attempt)."""
    rogue_key = _new_key(key_type)
    # Same name as the real CA, so only the signature check (not a name lookup) can catch it.
    rogue_ca = _ca_certificate(rogue_key, _ca_name(cpo_name), days)
    key = _new_key(key_type)
    subject = _name(serials[0] if serials else "INVALID-CLIENT", cpo_name)
    cert = _leaf_certificate(subject, key.public_key(), rogue_ca, rogue_key, days)
    return _write_pair(directory, "invalid-client", cert, key)


# SignCertificate.req / CertificateSigned.req


def make_csr(serial: str, cpo_name: str, *, key_type: KeyType = "ec") -> tuple[str, str]:
    """Return ``(csr_pem, key_pem)`` for a charge point's SignCertificate.req.

    A02.FR.02/03: a new key pair, the CSR PEM encoded; A02.FR.13: O is the CpoName. The key must
    stay on the charge point (A02.FR.05).
    """
    key = _new_key(key_type)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(_check_serial(serial), _check_cpo(cpo_name)))
        .sign(key, hashes.SHA256())
    )
    csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return csr_pem, _key_pem(key).decode("ascii")


def _as_bytes(pem: str | bytes) -> bytes:
    return pem.encode("ascii") if isinstance(pem, str) else pem


def sign_csr(
    csr_pem: str | bytes,
    ca_cert_pem: str | bytes,
    ca_key_pem: str | bytes,
    days: int = 365,
) -> str:
    """Issue a charge point certificate for a CSR; the PEM goes in CertificateSigned.req.

    The subject is copied from the CSR (check it first with
    :func:`chargebench.security.csr_identity`); extensions are the CA's choice, not the CSR's.
    Raise :class:`ValueError` for a CSR whose signature does not verify or a CA key that does not
    belong to the CA certificate.
    """
    csr = x509.load_pem_x509_csr(_as_bytes(csr_pem))
    if not csr.is_signature_valid:
        raise ValueError("CSR signature does not verify")
    ca_cert = x509.load_pem_x509_certificate(_as_bytes(ca_cert_pem))
    ca_key = serialization.load_pem_private_key(_as_bytes(ca_key_pem), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"unsupported CA key type {type(ca_key).__name__}")
    if _public_der(ca_key.public_key()) != _public_der(ca_cert.public_key()):
        raise ValueError("the CA key does not belong to the CA certificate")
    cert = _leaf_certificate(csr.subject, csr.public_key(), ca_cert, ca_key, days)
    return _cert_pem(cert).decode("ascii")


def _public_der(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
