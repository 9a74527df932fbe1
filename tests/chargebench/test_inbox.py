"""The shared inbox: what an expectation may still match, for scenarios and conformance."""

from __future__ import annotations

import asyncio

from chargebench.inbox import Inbox, wait_until
from chargebench.matching import MessagePattern
from chargebench.trace import TraceRecord


def status(value: str) -> TraceRecord:
    return TraceRecord(ts="t", cp_id="CP", dir="cp->cs", type="CALL", id=value,
                       action="StatusNotification", payload={"status": value},
                       latency_ms=None, session="s")


def expecting(value: str) -> MessagePattern:
    return MessagePattern.from_spec({"action": "StatusNotification",
                                     "payload": {"status": value}})


def test_a_taken_record_is_no_longer_pending():
    inbox = Inbox()
    for value in ("Available", "Preparing", "Charging"):
        inbox.add(status(value))
    index, record = next(i for i in inbox.pending() if i[1].id == "Preparing")
    assert inbox.take(index) is record
    assert [r.id for r in inbox.backlog()] == ["Available", "Charging"]
    assert [f.record.id for f in inbox.find(expecting("Charging"))] == ["Charging"]


def test_forget_hides_older_records_but_not_from_since_start():
    inbox = Inbox()
    inbox.add(status("Available"))
    inbox.forget()
    inbox.add(status("Charging"))
    assert [r.id for r in inbox.backlog()] == ["Charging"]
    assert [r.id for _, r in inbox.pending(since_start=True)] == ["Available", "Charging"]


def test_adopt_puts_the_older_untaken_records_first():
    """A message sent just before a reconnect counts, ahead of the new connection's own."""
    older, newer = Inbox(), Inbox()
    older.add(status("Old-taken"))
    older.take(0)
    older.add(status("Old-pending"))
    newer.add(status("Gone"))
    newer.forget()  # a case began on the new connection
    newer.add(status("New-taken"))
    newer.take(1)
    newer.add(status("New-pending"))
    newer.adopt(older)
    assert [r.id for r in newer.backlog()] == ["Old-pending", "New-pending"]
    assert older.backlog() == []
    assert not newer.find(expecting("New-taken"))  # a taken record stays taken after the shift


async def test_wait_until_wakes_on_arrival_and_stops_with_the_connection():
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, inbox.add, status("Faulted"))
    started = loop.time()
    found = await wait_until(inbox, lambda: inbox.find(expecting("Faulted")) or None, 5)
    assert found and loop.time() - started < 2
    closed = loop.create_future()
    loop.call_later(0.05, closed.set_result, None)
    started = loop.time()
    assert await wait_until(inbox, lambda: None, 5, stop=closed) is None
    assert loop.time() - started < 2
    assert await wait_until(inbox, lambda: None, 0.05) is None
