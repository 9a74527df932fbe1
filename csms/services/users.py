"""User accounts, API tokens and remote start on a user's behalf (seeds/001 §4.3, §7.2).

    user = create_user(store, "Asha", email="asha@example.com")    # + id tag + empty wallet
    token = issue_token(store, user["id"])                         # plaintext shown once
    principal = authenticate(store, token, admin_token=config.admin_token)
    reply = await remote_start(store, csms.connections, csms.send, user, "CP001", 1)

Every user gets a unique virtual RFID id (`VRFID-` + 12 hex digits, within OCPP's 20-character
idTag) that the CSMS sends as the idTag of RemoteStartTransaction and finds again in
StartTransaction and billing. Tokens are stored as sha256 hashes: a random 256-bit token needs
no slow hash, and a leaked database does not leak usable tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from csms.store.base import Store, User

ADMIN = "ADMIN"
USER = "USER"
ROLES = (ADMIN, USER)

Send = Callable[[str, str, dict], Awaitable[dict]]


class RemoteStartRefused(Exception):
    """Remote start was not sent; `status` is the HTTP status that fits (403, 404, 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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
    raise sqlite3.IntegrityError("could not allocate a unique virtual RFID id")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: Store, user_id: str) -> str:
    """A new bearer token for `user_id`; only its hash is stored, so show it once."""
    token = secrets.token_urlsafe(32)
    store.add_api_token(user_id, hash_token(token))
    return token


def authenticate(store: Store, token: str, *, admin_token: str | None = None) -> Principal | None:
    """The caller behind a bearer token: the configured admin token, or an active user's."""
    if not token:
        return None
    if admin_token and hmac.compare_digest(token, admin_token):
        return Principal(ADMIN)
    user = store.user_for_token_hash(hash_token(token))
    if user is None or not user["active"]:
        return None
    return Principal(user["role"], user)


async def remote_start(
    store: Store,
    registry: Any,
    send: Send,
    user: User,
    charger_id: str,
    connector_id: int,
) -> dict:
    """RemoteStartTransaction with the user's virtual RFID id (001 §4.3 step 5), after the
    checks: account active, charger online (connected and Accepted), connector Available.
    Returns the charger's reply (`{"status": "Accepted" | "Rejected"}`)."""
    if not user["active"]:
        raise RemoteStartRefused(403, f"account {user['id']} is not active")
    if store.get_charger(charger_id) is None:
        raise RemoteStartRefused(404, f"unknown charger {charger_id!r}")
    conn = registry.get(charger_id)
    if conn is None or not conn.accepted or getattr(conn, "stale", False):
        raise RemoteStartRefused(409, f"charger {charger_id} is not online")
    connector = store.get_connector(charger_id, connector_id)
    status = None if connector is None else connector["status"]
    if status != "Available":
        raise RemoteStartRefused(409, f"connector {connector_id} of {charger_id} is {status}")
    payload = {"connectorId": connector_id, "idTag": user["rfid_card_id"]}
    return await send(charger_id, "RemoteStartTransaction", payload)
