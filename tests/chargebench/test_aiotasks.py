"""chargebench.aiotasks: the lean event behaves as asyncio.Event does, waiters and all."""

from __future__ import annotations

import asyncio

import pytest

from chargebench.aiotasks import LeanEvent, cancel_and_wait


async def test_lean_event_wakes_every_waiter_and_forgets_them():
    event = LeanEvent()
    waiters = [asyncio.create_task(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert event.is_set() and await asyncio.wait_for(event.wait(), 1)
    event.clear()
    late = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    await cancel_and_wait(late)  # a cancelled waiter leaves the list; set() still works
    assert late.cancelled() and not event.is_set()
    event.set()
    assert event.is_set()


async def test_lean_event_times_out_like_asyncio_event():
    event = LeanEvent()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(event.wait(), 0.01)
    event.set()
    assert await event.wait()
