"""Shared steps of the N, O, P, I and L cases with a Charging Station under test: the
DisplayMessage helpers part 6 §2.16 repeats (a message set, NotifyDisplayMessages collected
until tbc is false) and the reports the station sends in parts (NotifyMonitoringReport,
NotifyCustomerInformation: seqNo from 0, incremented by 1, while tbc is true).

Every display message a case sets is remembered on the case's context so the case's fixture can
clear it afterwards: a station holds only DisplayMessageCtrlr.DisplayMessages of them, and part
6 §2.1 starts every case from a station without leftovers of another.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from conformance.casesteps import step
from conformance.expect import Mismatch
from conformance.v201.states import Cs, next_id

__all__ = [
    "clear_display_messages",
    "display_message",
    "notified_messages",
    "parts",
    "set_display_message",
    "station_now",
    "station_wait",
]

#: <Configured content> / <Configured format> / <Configured priority>
CONTENT, FORMAT, PRIORITY = "ChargeBench conformance message", "UTF8", "NormalCycle"
_SET = "cb_display_ids"


def display_message(message_id: int, *, priority: str = PRIORITY, content: str = CONTENT,
                    fmt: str = FORMAT, **extra: Any) -> dict:
    """A MessageInfoType."""
    return {"id": message_id, "priority": priority,
            "message": {"format": fmt, "content": content}, **extra}


async def set_display_message(cs: Cs, message: dict, status: str = "Accepted") -> dict:
    """SetDisplayMessageRequest with `message`; the response must say `status`."""
    ids = cs.__dict__.setdefault(_SET, set())
    ids.add(message["id"])
    return await cs.ask("SetDisplayMessage", {"message": message}, {"status": status})


async def clear_display_messages(cs: Cs) -> None:
    """Clear every message the case set (the station's answer does not matter here)."""
    for message_id in sorted(cs.__dict__.get(_SET, ())):
        await cs.peer.call("ClearDisplayMessage", {"id": message_id})
    cs.__dict__[_SET] = set()


async def parts(cs: Cs, action: str, request_id: int) -> list[dict]:
    """The station's `action` requests of `request_id` until one says tbc false; each part's
    seqNo (where the message has one) must be the previous one's plus 1, from 0."""
    got: list[dict] = []
    while True:
        payload = await cs.expect(action, {"requestId": request_id})
        if "seqNo" in payload and payload["seqNo"] != len(got):
            raise Mismatch(f"{action}Request seqNo {payload['seqNo']}, expected {len(got)} "
                           "(seqNo 0 first, incremented by 1 while tbc is true)",
                           f"seqNo {len(got)}", cs.frames(action)[-1:])
        got.append(payload)
        if not payload.get("tbc", False):
            return got


async def notified_messages(cs: Cs, expect: str = "Accepted", **criteria: Any) -> list[dict]:
    """GetDisplayMessagesRequest with `criteria` and a fresh requestId; the response must be
    `expect`; when Accepted, the MessageInfos of the NotifyDisplayMessagesRequests that follow
    (O03.FR.02-04, O04.FR.03-05)."""
    request_id = next_id()
    await cs.ask("GetDisplayMessages", {"requestId": request_id, **criteria},
                 {"status": expect})
    if expect != "Accepted":
        return []
    found: list[dict] = []
    for payload in await parts(cs, "NotifyDisplayMessages", request_id):
        found.extend(payload.get("messageInfo") or [])
    return found


def reported(found: list[dict], message: dict, *fields: str) -> dict:
    """The message of `message`'s id among `found`, with `fields` as sent."""
    with step(f"NotifyDisplayMessagesRequest holds message {message['id']}"):
        match = [m for m in found if m.get("id") == message["id"]]
        if not match:
            raise Mismatch(f"message {message['id']} not reported (received {found})",
                           f"messageInfo with id {message['id']}")
        got = match[0]
        for name in fields:
            if got.get(name) != message.get(name) and not (
                    name.endswith("DateTime") and name in got):
                raise Mismatch(f"{name} {got.get(name)!r}, expected {message.get(name)!r}",
                               f"{name} as set")
        return got


def station_now(cs: Cs) -> datetime:
    """The station's clock as the operator hook reads it (a simulator's may run fast), else
    the wall clock."""
    reader = getattr(cs.operator, "now", None)
    return reader() if reader is not None else datetime.now(UTC)


async def station_wait(cs: Cs, seconds: float) -> None:
    """Part 6's "wait N seconds", on the station's clock (at most N wall seconds)."""
    with step(f"wait {seconds:g} s (station clock)"):
        until = station_now(cs).timestamp() + seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while station_now(cs).timestamp() < until and loop.time() < deadline:
            await asyncio.sleep(0.05)
