"""OCPP 1.6 security profiles 0-3 (security whitepaper edition 3), shared by CSMS and simulator.

- Profiles 1 and 2, HTTP Basic authentication: :func:`basic_auth_header` on the charge point,
  :func:`check_basic_auth` on the CSMS, one AuthorizationKey rule for both
  (:func:`parse_authorization_key`, see :mod:`chargebench.security.basic_auth`).
- Profiles 2 and 3, TLS >= 1.2: :func:`server_ssl_context`, :func:`client_ssl_context`, and
  :func:`peer_identity` to check a charge point certificate's CN (serial number) and O (CPO name).
- A test PKI on ``cryptography``: :func:`init_pki` (file names in :mod:`chargebench.security.pki`),
  :func:`make_csr` / :func:`sign_csr` for SignCertificate.req / CertificateSigned.req.

Profile 0 needs nothing from here.
"""

from chargebench.security.basic_auth import (
    MAX_KEY_BYTES,
    MIN_KEY_BYTES,
    basic_auth_header,
    check_basic_auth,
    generate_authorization_key,
    parse_authorization_key,
    parse_basic_auth,
    parse_basic_auth_password,
)
from chargebench.security.pki import (
    DEFAULT_CPO_NAME,
    KeyType,
    PkiFiles,
    init_pki,
    make_csr,
    sign_csr,
)
from chargebench.security.tls import (
    OCPP_TLS12_CIPHERS,
    SubjectIdentity,
    client_ssl_context,
    csr_identity,
    peer_identity,
    server_ssl_context,
)

__all__ = [
    "DEFAULT_CPO_NAME",
    "MAX_KEY_BYTES",
    "MIN_KEY_BYTES",
    "OCPP_TLS12_CIPHERS",
    "KeyType",
    "PkiFiles",
    "SubjectIdentity",
    "basic_auth_header",
    "check_basic_auth",
    "client_ssl_context",
    "csr_identity",
    "generate_authorization_key",
    "init_pki",
    "make_csr",
    "parse_authorization_key",
    "parse_basic_auth",
    "parse_basic_auth_password",
    "peer_identity",
    "server_ssl_context",
    "sign_csr",
]
