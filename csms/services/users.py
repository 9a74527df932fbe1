"""User accounts and API tokens (seeds/001 §7.2); remote start/stop is `csms.services.remote`.

    user = create_user(store, "Asha", email="asha@example.com")    # + id tag + empty wallet
    token = issue_token(store, user["id"])                         # plaintext shown once
    principal = authenticate(store, token, admin_token=config.admin_token)

Every user gets a unique virtual RFID id (`VRFID-` + 12 hex digits, within OCPP's 20-character
idTag) that the CSMS sends as the idTag of RemoteStartTransaction and finds again in
StartTransaction and billing. Tokens are stored as sha256 hashes: a random 256-bit token needs
no slow hash, and a leaked database does not leak usable tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from csms.states import Role
from csms.store.base import Store, User
from csms.store.errors import Conflict

ADMIN = Role.ADMIN
USER = Role.USER
ROLES = (ADMIN, USER)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API: an ADMIN (maybe the configured admin token, user None) or a USER."""

    role: str
    user: User | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def may_see(self, user_id: str) -> bool:
        """001 §7.2: ADMIN sees everyone; a USER only their own data."""
        return self.is_admin or (self.user is not None and self.user["id"] == user_id)


def new_rfid() -> str:
    return f"VRFID-{secrets.token_hex(6).upper()}"


def create_user(
    store: Store,
    name: str,
    *,
    email: str | None = None,
    role: str = USER,
    currency: str = "INR",
    user_id: str | None = None,
) -> User:
    """Create the account with a fresh unique virtual RFID id (retried on the rare clash)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    user_id = user_id or f"U-{secrets.token_hex(6)}"
    for _ in range(5):
        rfid = new_rfid()
        if store.get_id_tag(rfid) is None:
            return store.create_user(user_id, name, rfid, email=email, role=role, currency=currency)
    raise Conflict("could not allocate a unique virtual RFID id")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: Store, user_id: str) -> str:
    """A new bearer token for `user_id`; only its hash is stored, so show it once."""
    token = secrets.token_urlsafe(32)
    store.add_api_token(user_id, hash_token(token))
    return token


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens, as bytes: a header may carry any character and
    `hmac.compare_digest` refuses non-ASCII text (a 500 instead of a 401)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                               expected.encode("utf-8", "surrogateescape"))


def authenticate(store: Store, token: str, *, admin_token: str | None = None) -> Principal | None:
    """The caller behind a bearer token: the configured admin token, or an active user's."""
    if not token:
        return None
    if admin_token and same_token(token, admin_token):
        return Principal(ADMIN)
    user = store.user_for_token_hash(hash_token(token))
    if user is None or not user["active"]:
        return None
    return Principal(user["role"], user)
