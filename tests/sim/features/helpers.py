"""Helpers for the feature tests: a libocpp config with overrides, schema checks of replies."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.validation import check_payload
from sim.config import ChargePointConfig
from tests.sim.conftest import LIBOCPP_DIR

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_config(**profiles: dict[str, Any]) -> ChargePointConfig:
    """libocpp's config.json with `Profile={key: value}` overrides (None deletes a key)."""
    data = json.loads((LIBOCPP_DIR / "config.json").read_text("utf-8"))
    for profile, values in profiles.items():
        section = data.setdefault(profile, {})
        for key, value in values.items():
            if value is None:
                section.pop(key, None)
            else:
                section[key] = copy.deepcopy(value)
    return ChargePointConfig.from_dict(data)


def valid_reply(action: str, payload: dict) -> dict:
    """Assert `payload` is a schema-valid reply to `action` and return it."""
    check_payload(OCPP16, action, payload, True)
    return payload


def valid_request(action: str, payload: dict) -> dict:
    """Assert `payload` is a schema-valid request of `action` and return it."""
    check_payload(OCPP16, action, payload, False)
    return payload


# A tiny X.509 hierarchy (manufacturer root + firmware signing certificate) ------------------


def make_ca(name: str, *, days: int = 30) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A self-signed EC P-256 CA: (certificate PEM, private key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Maker")])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=1)).not_valid_after(T0 + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key


def issue(ca_pem: str, ca_key: ec.EllipticCurvePrivateKey, name: str, *,
          start=None, days: int = 30) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A leaf certificate for `name` issued by the CA: (certificate PEM, private key)."""
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    start = start or T0 - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key


def sign(data: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    """Base64 ECDSA/SHA-256 signature over `data` (whitepaper L01.FR.04)."""
    return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()
