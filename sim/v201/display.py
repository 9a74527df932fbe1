"""O. Display messages on a 2.0.1 station: SetDisplayMessage, GetDisplayMessages (with
NotifyDisplayMessages), ClearDisplayMessage.

The messages live on the station (`ChargingStation.display_messages`, None until the first) by
id; what a driver would see now is `showing(st)`: those whose window (startDateTime,
endDateTime) holds, a transaction's only while it runs, highest priority first. What the
station supports is DisplayMessageCtrlr's (SupportedFormats, SupportedPriorities,
DisplayMessages: how many it holds); without that controller, or with Enabled false, every O
message is answered CALLERROR NotSupported.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from chargebench.clock import parse_iso
from chargebench.ocppj import CallFailed
from chargebench.ocppj.errors import OcppCallError

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["clear_display_message", "get_display_messages", "set_display_message", "showing",
           "transaction_ended"]

#: MessagePriorityEnumType, the most urgent first
_PRIORITY = ("AlwaysFront", "InFront", "NormalCycle")
#: NotifyDisplayMessagesRequest messages carry at most this many (a station's own choice)
_PER_MESSAGE = 10


def _messages(st: ChargingStation) -> dict[int, dict]:
    s = st.settings
    if not s.has("DisplayMessageCtrlr") or not s.bool("DisplayMessageEnabled"):
        raise OcppCallError("NotSupported", "this station has no DisplayMessageCtrlr enabled")
    if st.display_messages is None:
        st.display_messages = {}
    now = st.clock.now()  # O01.FR.07: a message is removed once its endDateTime passed
    for key in [k for k, m in st.display_messages.items()
                if m.get("endDateTime") and parse_iso(m["endDateTime"]) <= now]:
        del st.display_messages[key]
    return st.display_messages


def set_display_message(st: ChargingStation, p: dict) -> dict:
    """O01/O02/O06: NotSupportedMessageFormat for a format not in SupportedFormats (O02.FR.05),
    NotSupportedPriority for a priority not in SupportedPriorities, NotSupportedState for a
    state (O02.FR.04: this station shows messages in every state, so only a state it does not
    know), UnknownTransaction for a transactionId that does not run here (O02.FR.01), Rejected
    when DisplayMessages are held already; else Accepted, replacing the message of the same id
    (O06.FR.01)."""
    messages = _messages(st)
    info = p["message"]
    s = st.settings
    if info["message"]["format"] not in s.list("DisplaySupportedFormats"):
        return {"status": "NotSupportedMessageFormat"}
    if info["priority"] not in s.list("DisplaySupportedPriorities"):
        return {"status": "NotSupportedPriority"}
    tx_id = info.get("transactionId")
    if tx_id is not None and not any(e.tx is not None and e.tx.transaction_id == tx_id
                                     for e in st.evses):
        return {"status": "UnknownTransaction"}
    if info["id"] not in messages and len(messages) >= s.int("DisplayMessages"):
        return {"status": "Rejected"}
    if info["priority"] == "AlwaysFront":  # O01.FR.16, O02.FR.18: the new one replaces it
        for key in [k for k, m in messages.items() if m["priority"] == "AlwaysFront"]:
            del messages[key]
    messages[info["id"]] = info
    return {"status": "Accepted"}


def get_display_messages(st: ChargingStation, p: dict) -> dict:
    """O03/O04: Unknown when no message matches every criterion given (O03.FR.06, O04.FR.02/07);
    else Accepted and the matching messages in NotifyDisplayMessages with the requestId,
    `tbc` on all but the last (O03.FR.02-04, O04.FR.03-05)."""
    messages = _messages(st)
    ids = p.get("id")
    found = [m for m in messages.values()
             if (not ids or m["id"] in ids)
             and ("priority" not in p or m["priority"] == p["priority"])
             and ("state" not in p or m.get("state") == p["state"])]
    if not found:
        return {"status": "Unknown"}
    st.spawn(_notify(st, p["requestId"], found))
    return {"status": "Accepted"}


async def _notify(st: ChargingStation, request_id: int, found: list[dict]) -> None:
    await asyncio.sleep(0)  # the response goes out first
    parts = [found[i:i + _PER_MESSAGE] for i in range(0, len(found), _PER_MESSAGE)]
    for n, part in enumerate(parts):
        payload: dict[str, Any] = {"requestId": request_id, "messageInfo": part}
        if n < len(parts) - 1:
            payload["tbc"] = True
        with contextlib.suppress(CallFailed):
            await st.call("NotifyDisplayMessages", payload)


def clear_display_message(st: ChargingStation, p: dict) -> dict:
    """O05: Accepted and removed (O05.FR.01), Unknown for an id not held (O05.FR.02)."""
    messages = _messages(st)
    return {"status": "Accepted" if messages.pop(p["id"], None) is not None else "Unknown"}


def transaction_ended(st: ChargingStation, transaction_id: str) -> None:
    """O02.FR.02: a transaction's messages go when it ends."""
    if st.display_messages:
        for key in [k for k, m in st.display_messages.items()
                    if m.get("transactionId") == transaction_id]:
            del st.display_messages[key]


def showing(st: ChargingStation) -> list[str]:
    """The contents a driver sees now, the most urgent first (O01.FR.06/07: only within the
    message's startDateTime..endDateTime)."""
    now = st.clock.now()
    shown = []
    for m in (st.display_messages or {}).values():
        start, end = m.get("startDateTime"), m.get("endDateTime")
        if (start and parse_iso(start) > now) or (end and parse_iso(end) <= now):
            continue
        rank = _PRIORITY.index(m["priority"]) if m["priority"] in _PRIORITY else len(_PRIORITY)
        shown.append((rank, m["message"]["content"]))
    return [content for _, content in sorted(shown, key=lambda item: item[0])]
