"""TLS contexts for security profiles 2 and 3, and the identity in a peer certificate.

Pass the contexts to websockets as ``ssl=``: :func:`server_ssl_context` to ``serve()`` on the CSMS,
:func:`client_ssl_context` to ``connect()`` on the charge point. After the handshake the CSMS reads
the charge point's certificate with
``peer_identity(connection.transport.get_extra_info("ssl_object"))`` and checks it with
:meth:`SubjectIdentity.matches` (profile 3).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = [
    "OCPP_TLS12_CIPHERS",
    "SubjectIdentity",
    "client_ssl_context",
    "csr_identity",
    "peer_identity",
    "server_ssl_context",
]

StrPath = str | os.PathLike[str]

# Security whitepaper A00.FR.317 / A00.FR.421: the Central System SHALL support these four
# (TLS_ECDHE_ECDSA_WITH_AES_{128,256}_GCM_*, TLS_RSA_WITH_AES_{128,256}_GCM_*); A00.FR.318 /
# A00.FR.422: a charge point supports one of the pairs. The ECDHE_RSA pair adds forward secrecy
# for RSA certificates. TLS 1.3 suites are configured separately by OpenSSL and left at defaults.
OCPP_TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
    ]
)


def _harden(context: ssl.SSLContext) -> ssl.SSLContext:
    """Apply the whitepaper's version, cipher and compression rules to either side."""
    # A00.FR.312 / A00.FR.416: TLS v1.2 or above (the v1.0/1.1 allowance is for legacy
    # charge points only; ChargeBench does not offer it).
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(OCPP_TLS12_CIPHERS)
    # A00.FR.320 / A00.FR.424: no TLS compression.
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def server_ssl_context(
    cert: StrPath,
    key: StrPath,
    ca: StrPath | None = None,
    require_client_cert: bool = False,
) -> ssl.SSLContext:
    """Return the CSMS's TLS server context (A00.FR.305 / A00.FR.409: the CSMS is the server).

    ``cert``/``key`` are the CSMS certificate (PEM, optionally followed by its chain) and key.
    ``require_client_cert`` gives profile 3: the handshake fails unless the charge point presents
    a certificate that chains to ``ca`` (A00.FR.403, A00.FR.407). With ``ca`` but without
    ``require_client_cert``, a certificate is verified if presented, so one port can serve
    profile 2 and 3 chargers; check :func:`peer_identity` per charger.
    """
    if require_client_cert and ca is None:
        raise ValueError("require_client_cert needs the CA that issues charge point certificates")
    context = _harden(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    context.load_cert_chain(os.fspath(cert), os.fspath(key))
    if ca is not None:
        context.load_verify_locations(cafile=os.fspath(ca))
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return context


def client_ssl_context(
    ca: StrPath,
    cert: StrPath | None = None,
    key: StrPath | None = None,
) -> ssl.SSLContext:
    """Return a charge point's TLS client context trusting only ``ca``.

    The CSMS certificate must chain to ``ca`` and name the host in the URL (A00.FR.307/308): use
    ``wss://127.0.0.1:...`` or ``wss://localhost:...`` with :func:`chargebench.security.init_pki`
    certificates. Give ``cert``/``key`` for profile 3 (A00.FR.402); ``key`` may be omitted when
    ``cert`` holds both.
    """
    if key is not None and cert is None:
        raise ValueError("a client key needs its certificate")
    context = _harden(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))  # verifies chain and hostname
    context.load_verify_locations(cafile=os.fspath(ca))
    if cert is not None:
        context.load_cert_chain(os.fspath(cert), None if key is None else os.fspath(key))
    return context


@dataclass(frozen=True, slots=True)
class SubjectIdentity:
    """The subject RDNs OCPP security profile 3 relies on."""

    common_name: str | None
    organization: str | None

    def matches(self, serial_number: str, cpo_name: str) -> bool:
        """True if CN is the charge point's serial number and O the CPO name.

        A00.FR.405 (CN) and A00.FR.404 (O); compared exactly.
        """
        return self.common_name == serial_number and self.organization == cpo_name


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _identity(name: x509.Name) -> SubjectIdentity:
    return SubjectIdentity(
        common_name=_first(name, NameOID.COMMON_NAME),
        organization=_first(name, NameOID.ORGANIZATION_NAME),
    )


def _load_certificate(data: bytes | str) -> x509.Certificate:
    raw = data.encode("ascii") if isinstance(data, str) else bytes(data)
    if raw.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(raw)
    return x509.load_der_x509_certificate(raw)


def peer_identity(peer: bytes | str | ssl.SSLObject | ssl.SSLSocket) -> SubjectIdentity:
    """Return CN and O of a certificate: DER or PEM data, or a TLS object's peer certificate.

    ``peer`` may be ``getpeercert(binary_form=True)`` output, a PEM string, or the
    ``ssl.SSLObject``/``ssl.SSLSocket`` itself (websockets:
    ``connection.transport.get_extra_info("ssl_object")``). Raise :class:`ValueError` when the
    peer presented no certificate or the data is not a certificate.
    """
    if isinstance(peer, ssl.SSLObject | ssl.SSLSocket):
        data: bytes | str | None = peer.getpeercert(binary_form=True)
        if not data:
            raise ValueError("the peer presented no certificate")
    else:
        data = peer
    return _identity(_load_certificate(data).subject)


def csr_identity(csr_pem: str | bytes) -> SubjectIdentity:
    """Return CN and O of a PEM CSR, so the CSMS can check a SignCertificate.req before signing.

    A02.FR.13: the charge point puts its CpoName configuration value in O.
    """
    raw = csr_pem.encode("ascii") if isinstance(csr_pem, str) else csr_pem
    return _identity(x509.load_pem_x509_csr(raw).subject)
