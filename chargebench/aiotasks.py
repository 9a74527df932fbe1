"""Small asyncio helpers shared by the long-running parts (CSMS workers, fleet, harness)."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait until it has really stopped (None: nothing to do)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class LeanEvent(asyncio.Event):
    """An `asyncio.Event` that keeps its waiters in a list.

    CPython's Event holds them in a deque, and an empty deque is 760 bytes: with two events per
    charge point that was 1.5 kB of a simulated charger's 40 kB budget. Event only appends,
    removes and iterates its waiters, which a list does the same way."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters = []  # type: ignore[assignment]
