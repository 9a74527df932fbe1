"""Remote start and stop on a user's behalf (seeds/001 §4.3), with the pending transaction record.

    record, reply = await start(store, registry, send, user, "CP001", 1, now=now, timeout=120)
    reply = await stop(registry, send, transaction)
    link_started(store, "CP001", 1, id_tag, transaction_id, now, timeout)  # StartTransaction

Remote start checks the account (active), the charger (known, connected and Accepted), the
connector (Available, and no other remote start pending on it: a double tap in the app must not
send two), then commits a Pending record *before* RemoteStartTransaction goes out (§4.3 step 5d).
Committing first matters: a charger answers Accepted and sends StartTransaction at once, and that
StartTransaction must find the record even when it overtakes the API's bookkeeping of the reply.

A record ends as
- Started: a StartTransaction for its charger, connector and idTag came within `timeout`; the
  real transactionId is linked (the app shows "Charging started", step 8);
- Rejected: the charger answered Rejected (step 6);
- Failed: no valid answer (call timeout, CALLERROR, connection lost);
- Expired: no StartTransaction within `timeout` (like the charger's ConnectionTimeOut: nobody
  plugged in). Expiry is applied whenever records are read or a new remote start is checked,
  so no timer is needed (none to lose on restart), and a StartTransaction never links a record
  older than `timeout` whether or not the sweep has run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from csms.states import RemoteStartStatus
from csms.store.base import RemoteStart, Store, Transaction, User

PENDING = RemoteStartStatus.PENDING
STARTED = RemoteStartStatus.STARTED
REJECTED = RemoteStartStatus.REJECTED
FAILED = RemoteStartStatus.FAILED
EXPIRED = RemoteStartStatus.EXPIRED
STATUSES = (PENDING, STARTED, REJECTED, FAILED, EXPIRED)
#: seconds a remote start waits for its StartTransaction (CsmsConfig.remote_start_timeout)
DEFAULT_TIMEOUT = 120.0

Send = Callable[[str, str, dict], Awaitable[dict]]


class Refused(Exception):
    """The command was not sent; `status` is the HTTP status that fits (403, 404, 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_online(registry: Any, charger_id: str) -> bool:
    """Connected, booted Accepted and not silent past its heartbeat grace (§4.3 step 5b)."""
    conn = registry.get(charger_id)
    return conn is not None and conn.accepted and not getattr(conn, "stale", False)


def expire(store: Store, now: datetime, timeout: float) -> int:
    """Mark Pending records older than `timeout` Expired; return how many."""
    return store.expire_remote_starts(now - timedelta(seconds=timeout))


def _open_record(
    store: Store,
    user: User,
    charger_id: str,
    connector_id: int,
    online: bool,
    now: datetime,
    timeout: float,
) -> RemoteStart:
    """The store half of the checks, then the Pending record (runs in a worker thread)."""
    if store.get_charger(charger_id) is None:
        raise Refused(404, f"unknown charger {charger_id!r}")
    if not online:
        raise Refused(409, f"charger {charger_id} is not online")
    connector = store.get_connector(charger_id, connector_id)
    status = None if connector is None else connector["status"]
    if status != "Available":
        raise Refused(409, f"connector {connector_id} of {charger_id} is {status}")
    expire(store, now, timeout)
    if store.list_remote_starts(
        charger_id=charger_id, connector_id=connector_id, status=PENDING, limit=1
    ):
        raise Refused(409, f"a remote start is already pending on {charger_id}/{connector_id}")
    return store.create_remote_start(
        charger_id, connector_id, user["rfid_card_id"], now, user_id=user["id"]
    )


async def start(
    store: Store,
    registry: Any,
    send: Send,
    user: User,
    charger_id: str,
    connector_id: int,
    *,
    now: datetime,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[RemoteStart, dict]:
    """RemoteStartTransaction with the user's virtual RFID id as idTag, after the checks and the
    Pending record (module docstring). Returns the record as updated by the charger's reply,
    and the reply. A send that fails marks the record Failed and re-raises."""
    if not user["active"]:
        raise Refused(403, f"account {user['id']} is not active")
    record = await asyncio.to_thread(
        _open_record,
        store,
        user,
        charger_id,
        connector_id,
        is_online(registry, charger_id),
        now,
        timeout,
    )
    payload = {"connectorId": connector_id, "idTag": user["rfid_card_id"]}
    try:
        reply = await send(charger_id, "RemoteStartTransaction", payload)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        await asyncio.to_thread(
            store.update_remote_start, record["id"], status=FAILED, reason=reason
        )
        raise
    answer = reply.get("status")
    record = await asyncio.to_thread(
        store.update_remote_start,
        record["id"],
        reply_status=answer,
        status=None if answer == "Accepted" else REJECTED,
    )
    return record, reply


def link_started(
    store: Store,
    charger_id: str,
    connector_id: int,
    id_tag: str,
    transaction_id: int,
    now: datetime,
    timeout: float = DEFAULT_TIMEOUT,
) -> int | None:
    """Called for every StartTransaction (§4.3 step 7b): the pending record it answers, if
    any, becomes Started with the real transactionId. Returns the record's id."""
    return store.link_remote_start(
        charger_id,
        connector_id,
        id_tag,
        transaction_id,
        requested_since=now - timedelta(seconds=timeout),
    )


async def stop(registry: Any, send: Send, transaction: Transaction) -> dict:
    """RemoteStopTransaction (§4.3 "Remote Stop" step 2) once the transaction is active and
    its charger online; the caller has checked the permission. Returns the charger's reply
    (the session ends with the charger's StopTransaction, billed as usual)."""
    if transaction["stop_time"] is not None:
        raise Refused(409, f"transaction {transaction['id']} is not active")
    if not is_online(registry, transaction["charger_id"]):
        raise Refused(409, f"charger {transaction['charger_id']} is not online")
    payload = {"transactionId": transaction["id"]}
    return await send(transaction["charger_id"], "RemoteStopTransaction", payload)
