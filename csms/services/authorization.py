"""Which IdTagInfo the CSMS answers for an idTag: a pure decision, no socket, no clock of its own.

Used by the Authorize and StartTransaction handlers (OCPP 1.6 §4.1, §4.8) and by tests:

    info = authorize(store, "TAG-1", now)                       # looks up the tag and its parent
    info = authorize(store, "TAG-1", now, store.active_transaction_for_tag("TAG-1"))  # Start
    info = decide(tag_record, now, parent=parent_record, concurrent=False)   # fully pure

Result: `{"status": ..., "expiryDate"?: ..., "parentIdTag"?: ...}` (IdTagInfo, 1.6 §7), optional
fields absent rather than null, because the 1.6 JSON schema rejects null.

Policy beyond the spec (1.6 leaves it to the Central System), stated here so tests can hold us to
it: a tag inherits a Blocked / Expired / Invalid state of its parent group, the reported
expiryDate is the earlier of the tag's and the parent's, and a tag already in a running
transaction gets ConcurrentTx on StartTransaction unless concurrent transactions are allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NotRequired, Protocol, TypedDict

from csms.states import IdTagStatus
from csms.store.timestamps import parse_ts, to_iso

# the words of 1.6 §7.2 AuthorizationStatus, kept by the CSMS as `IdTagStatus`
ACCEPTED = IdTagStatus.ACCEPTED.value
BLOCKED = IdTagStatus.BLOCKED.value
EXPIRED = IdTagStatus.EXPIRED.value
INVALID = IdTagStatus.INVALID.value
CONCURRENT_TX = IdTagStatus.CONCURRENT_TX.value

# When a tag and its parent disagree, the stronger refusal wins.
_SEVERITY = {ACCEPTED: 0, EXPIRED: 1, INVALID: 2, BLOCKED: 3}


class IdTagInfo(TypedDict):
    status: str
    expiryDate: NotRequired[str]
    parentIdTag: NotRequired[str]


class TagSource(Protocol):
    """The part of `csms.store.base.Store` that `authorize` reads."""

    def get_id_tag(self, id_tag: str) -> Any: ...


def _own_status(record: Mapping[str, Any], now: datetime) -> str:
    """The record's status, with an Accepted tag past its expiry date reported as Expired."""
    status = record.get("status") or ACCEPTED
    if status not in _SEVERITY:
        return INVALID  # unknown stored value: refuse rather than guess
    expiry = record.get("expiry_date")
    if status == ACCEPTED and expiry is not None and parse_ts(expiry) <= now:
        return EXPIRED
    return status


def decide(
    record: Mapping[str, Any] | None,
    now: datetime,
    *,
    parent: Mapping[str, Any] | None = None,
    concurrent: bool = False,
    allow_concurrent: bool = False,
) -> IdTagInfo:
    """IdTagInfo for an id tag record (`IdTag` of the store), or Invalid when it is unknown.

    `parent`: the record of the tag's parentIdTag, if the CSMS knows that group as a tag.
    `concurrent`: the tag is already in a running transaction. `now` must be timezone-aware.
    """
    if record is None:
        return {"status": INVALID}  # 1.6 §7 AuthorizationStatus: unknown identifier
    now = parse_ts(now)
    status = _own_status(record, now)
    expiries = [parse_ts(record["expiry_date"])] if record.get("expiry_date") else []
    if parent is not None:
        parent_status = _own_status(parent, now)
        if _SEVERITY[parent_status] > _SEVERITY[status]:
            status = parent_status
        if parent.get("expiry_date"):
            expiries.append(parse_ts(parent["expiry_date"]))
    if status == ACCEPTED and concurrent and not allow_concurrent:
        status = CONCURRENT_TX
    info: IdTagInfo = {"status": status}
    if expiries:
        info["expiryDate"] = to_iso(min(expiries))  # type: ignore[typeddict-item]
    if record.get("parent_id_tag"):
        info["parentIdTag"] = record["parent_id_tag"]
    return info


def authorize(
    store_or_tag_record: TagSource | Mapping[str, Any] | None,
    id_tag: str,
    now: datetime,
    active_tx_for_tag: Any = None,
    *,
    parent: Mapping[str, Any] | None = None,
    allow_concurrent: bool = False,
) -> IdTagInfo:
    """IdTagInfo for `id_tag`, from a store (tag and parent looked up) or from the tag's record
    (None: unknown tag).

    `active_tx_for_tag`: the tag's running transaction (or True), for StartTransaction only:
    1.6 §7.2 says ConcurrentTx is "only relevant for a StartTransaction.req", so Authorize and
    StopTransaction leave it None.
    """
    if store_or_tag_record is None or isinstance(store_or_tag_record, Mapping):
        record = store_or_tag_record
        if record is not None and record.get("id_tag") not in (None, id_tag):
            raise ValueError(f"record is for {record.get('id_tag')!r}, not {id_tag!r}")
    else:
        store = store_or_tag_record
        record = store.get_id_tag(id_tag)
        if parent is None and record is not None and record.get("parent_id_tag"):
            parent = store.get_id_tag(record["parent_id_tag"])
    return decide(
        record,
        now,
        parent=parent,
        concurrent=bool(active_tx_for_tag),
        allow_concurrent=allow_concurrent,
    )
