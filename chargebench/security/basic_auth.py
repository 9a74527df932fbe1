"""HTTP Basic authentication of a charge point (security profiles 1 and 2).

The charge point sends ``Authorization: Basic base64(<ChargePointId>:<password>)`` with the
WebSocket upgrade request; the CSMS checks it before upgrading (security whitepaper §2.3, remark 7).

The password is derived from the ``AuthorizationKey`` configuration value by one rule, used the same
way when building and when checking a header (:func:`parse_authorization_key`):

- 32-40 hexadecimal digits (an even number): the hex representation of a 16-20 byte binary key;
  the password is the decoded bytes. This is what a CSMS sends with ChangeConfiguration.req
  (OCPP-J 1.6 §6.2.2 "Setting the key over OCPP", OCPP-J errata 3.12) and what the OCPP-J §6.2.2
  example shows: key ``0001020304050607FF...`` gives ``QUwxMDAwOgABAgMEBQYH////...`` (the spec's
  text has a typo, "QUwxx", and is cut short).
- 16-20 bytes of text (UTF-8): the password is the text as is.
- anything else: :class:`ValueError`.

Security whitepaper ed. 3 A00.FR.205 / A00.FR.304 / §7.2 AuthorizationKey: "Minimal 16-bytes long
[...] Hexadecimal represented (20 bytes maximum, represented as a string of up to 40 hexadecimal
digits)". The OCA test tool reads a configured password the same way (OCTT TC_085: 32-40
characters are the hex encoding, 16-20 characters are plaintext).

Interoperability: EVerest libocpp sends the configured string verbatim, so a key configured as hex
digits arrives as those ASCII digits. :func:`check_basic_auth` accepts that form only when asked
(``accept_hex_text=True``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets

__all__ = [
    "MAX_KEY_BYTES",
    "MIN_KEY_BYTES",
    "basic_auth_header",
    "check_basic_auth",
    "generate_authorization_key",
    "parse_authorization_key",
    "parse_basic_auth",
    "parse_basic_auth_password",
]

# Security whitepaper A00.FR.205: minimal 16 bytes, 20 bytes maximum.
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 20
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_authorization_key(value: str) -> bytes:
    """Return the Basic-auth password bytes for an ``AuthorizationKey`` configuration value.

    Raise :class:`ValueError` for a value the whitepaper does not allow; a charge point answers
    such a ChangeConfiguration.req with Rejected. The message never contains the key itself
    (A01.FR.12: do not disclose the AuthorizationKey in logging).
    """
    if not isinstance(value, str):
        raise TypeError(f"AuthorizationKey must be a str, not {type(value).__name__}")
    n = len(value)
    if 2 * MIN_KEY_BYTES <= n <= 2 * MAX_KEY_BYTES:
        # A00.FR.205 "Hexadecimal represented [...] up to 40 hexadecimal digits"; a 16-20 byte
        # key needs at least 32 digits, so 32-40 characters can only be the hex form.
        if not _HEX_DIGITS.issuperset(value):
            raise ValueError(
                f"AuthorizationKey of {n} characters must be hexadecimal digits "
                f"(the hex form of a {MIN_KEY_BYTES}-{MAX_KEY_BYTES} byte key)"
            )
        if n % 2:
            raise ValueError(f"AuthorizationKey has an odd number of hex digits ({n})")
        return bytes.fromhex(value)
    raw = value.encode("utf-8")
    if MIN_KEY_BYTES <= len(raw) <= MAX_KEY_BYTES:
        return raw
    raise ValueError(
        f"AuthorizationKey must be {2 * MIN_KEY_BYTES}-{2 * MAX_KEY_BYTES} hex digits or "
        f"{MIN_KEY_BYTES}-{MAX_KEY_BYTES} bytes of text; got {n} characters "
        f"({len(raw)} bytes)"
    )


# OCPP 2.0.1 part 2 §2.1.4 passwordString: a-z, A-Z, 0-9 and * - _ = : + | @ .
_PASSWORD_STRING = re.compile(r"[A-Za-z0-9*\-_=:+|@.]+")
#: 2.0.1 A00.FR.205: at least 16 characters; at most the station's BasicAuthPassword maxLimit,
#: which the errata (2025-01) put at 40-64: 40 fits every station
MIN_PASSWORD_CHARS = 16
MAX_PASSWORD_CHARS = 40


def parse_basic_auth_password(value: str) -> bytes:
    """Return the Basic-auth password bytes for an OCPP 2.0.1 ``BasicAuthPassword``.

    Unlike 1.6's AuthorizationKey, a 2.0.1 password is text sent as its UTF-8 bytes, never a
    hex form (A00.FR.205 / A00.FR.304: "NOT encoded into octet string or base64"), case
    sensitive, a passwordString of 16-40 characters. Raise :class:`ValueError` otherwise; the
    message never contains the password (A01.FR.12).
    """
    if not isinstance(value, str):
        raise TypeError(f"BasicAuthPassword must be a str, not {type(value).__name__}")
    if not MIN_PASSWORD_CHARS <= len(value) <= MAX_PASSWORD_CHARS:
        raise ValueError(f"BasicAuthPassword must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} "
                         f"characters (A00.FR.205); got {len(value)}")  # fmt: skip
    if not _PASSWORD_STRING.fullmatch(value):
        raise ValueError("BasicAuthPassword may hold only a-z, A-Z, 0-9 and * - _ = : + | @ . "
                         "(2.0.1 passwordString, A00.FR.205)")  # fmt: skip
    return value.encode("ascii")


def _key_bytes(key: str | bytes) -> bytes:
    """Apply the AuthorizationKey rule to a configured value, or check a raw binary key."""
    if isinstance(key, bytes | bytearray):
        if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
            raise ValueError(
                f"a binary AuthorizationKey must be {MIN_KEY_BYTES}-{MAX_KEY_BYTES} bytes, "
                f"got {len(key)}"
            )
        return bytes(key)
    return parse_authorization_key(key)


def basic_auth_header(cp_id: str, key: str | bytes) -> str:
    """Return the ``Authorization`` header value a charge point sends with its upgrade request.

    ``key`` is the AuthorizationKey as configured (str, see :func:`parse_authorization_key`) or
    the raw binary key (bytes). The user is the charge point id from the connection URL
    (A00.FR.204).
    """
    if not cp_id:
        raise ValueError("charge point id must not be empty")
    if ":" in cp_id:
        # RFC 7617 §2: a user-id containing a colon cannot be sent with Basic.
        raise ValueError("charge point id must not contain ':' for HTTP Basic authentication")
    credentials = cp_id.encode("utf-8") + b":" + _key_bytes(key)
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def parse_basic_auth(header_value: str | None) -> tuple[str, bytes] | None:
    """Return ``(user, password)`` from an ``Authorization`` header value, or None if malformed.

    For a CSMS that stores salted key hashes (A01.FR.08) and so cannot use
    :func:`check_basic_auth` directly.
    """
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


def check_basic_auth(
    header_value: str | None,
    cp_id: str,
    expected_key: str | bytes,
    *,
    accept_hex_text: bool = False,
) -> bool:
    """Return True if the header authenticates charge point ``cp_id`` with ``expected_key``.

    The user must equal the charge point id taken from the URL path (A00.FR.204) and the password
    the key derived by :func:`parse_authorization_key`; both are compared in constant time.
    A missing or malformed header is False; an invalid ``expected_key`` is a configuration bug
    and raises :class:`ValueError`. With ``accept_hex_text``, a key configured as hex digits is
    also accepted when sent as those digits (EVerest libocpp does that).
    """
    expected = _key_bytes(expected_key)
    parsed = parse_basic_auth(header_value)
    if parsed is None:
        return False
    user, password = parsed
    user_ok = hmac.compare_digest(user.encode("utf-8"), cp_id.encode("utf-8"))
    key_ok = hmac.compare_digest(password, expected)
    if accept_hex_text and isinstance(expected_key, str) and len(expected_key) > MAX_KEY_BYTES:
        key_ok |= hmac.compare_digest(password.upper(), expected_key.upper().encode("ascii"))
    return user_ok and key_ok


def generate_authorization_key(nbytes: int = MAX_KEY_BYTES) -> str:
    """Return a fresh random key as hex digits, ready for ChangeConfiguration.req AuthorizationKey.

    OCPP-J 1.6 §6.2.2: the CSMS sends "a 40-character hexadecimal representation of the 20-byte
    authorization key"; A01.FR.07: passwords SHOULD be generated randomly.
    """
    if not MIN_KEY_BYTES <= nbytes <= MAX_KEY_BYTES:
        raise ValueError(f"key length must be {MIN_KEY_BYTES}-{MAX_KEY_BYTES} bytes, got {nbytes}")
    return secrets.token_hex(nbytes).upper()
