"""The expectation window: which messages an expect: may see."""

from __future__ import annotations

from scenarios.observe import Inbox
from tests.chargebench.test_inbox import expecting, status


def test_actions_before_a_check_share_one_window():
    """Messages caused by every action since the previous check are visible."""
    inbox = Inbox()
    inbox.action_started()
    inbox.add(status("Preparing"))
    inbox.action_started()
    inbox.add(status("Charging"))
    assert inbox.find(expecting("Preparing"))
    assert inbox.find(expecting("Charging"))


def test_an_action_after_a_check_opens_a_new_window():
    """An old Available does not satisfy an expectation about a later plug-out."""
    inbox = Inbox()
    inbox.add(status("Available"))
    inbox.checked()
    inbox.action_started()
    assert not inbox.find(expecting("Available"))
    assert inbox.find(expecting("Available"), since_start=True)


def test_consumed_messages_match_once():
    """Two identical expectations need two messages."""
    inbox = Inbox()
    inbox.add(status("Charging"))
    first = inbox.find(expecting("Charging"))
    inbox.consume(first)
    assert not inbox.find(expecting("Charging"))


async def test_wait_returns_when_the_message_arrives():
    """wait() wakes up on a new record instead of sleeping its whole timeout."""
    import asyncio

    inbox = Inbox()
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, inbox.add, status("Faulted"))
    started = loop.time()
    found = await inbox.wait(expecting("Faulted"), 1, timeout=5)
    assert found and loop.time() - started < 2
