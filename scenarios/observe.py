"""What each charge point said and heard, and the rule for which messages an `expect:` may see.

Every trace record of a charge point lands in its `Inbox`. An expectation looks at the *window*:
the records since the first action step after the previous check (so `plug_in`,
`present_id_tag`, then three `expect:` steps all see what both actions caused), skipping records
an earlier expectation already matched (so two `expect: StatusNotification` steps need two
messages). `scan()` is the sans-I/O search; `Inbox.wait()` adds waiting in wall-clock time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from chargebench.matching import MessagePattern, Result
from chargebench.trace import TraceRecord

__all__ = ["Found", "Inbox", "scan"]


@dataclass(frozen=True, slots=True)
class Found:
    index: int
    record: TraceRecord
    result: Result


def scan(
    records: Sequence[TraceRecord], start: int, consumed: set[int], pattern: MessagePattern
) -> list[Found]:
    """Every unconsumed record from `start` on that matches `pattern`, in order."""
    found = []
    for index in range(start, len(records)):
        if index in consumed:
            continue
        result = pattern.match(records[index])
        if result.ok:
            found.append(Found(index, records[index], result))
    return found


class Inbox:
    """The trace records of one charge point, fed by its trace sink."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []
        self.consumed: set[int] = set()
        self.window_start = 0
        self._reopen = False
        self._arrived: asyncio.Event | None = None

    def add(self, record: TraceRecord) -> None:
        self.records.append(record)
        if self._arrived is not None:
            self._arrived.set()

    # The window

    def action_started(self) -> None:
        """An action step begins: after a check, the window moves up to now."""
        if self._reopen:
            self.window_start = len(self.records)
            self._reopen = False

    def checked(self) -> None:
        """A check step ended: the next action opens a new window."""
        self._reopen = True

    # Looking

    def find(self, pattern: MessagePattern, *, since_start: bool = False) -> list[Found]:
        start = 0 if since_start else self.window_start
        return scan(self.records, start, self.consumed, pattern)

    async def wait(self, pattern: MessagePattern, count: int, timeout: float, *,
                   since_start: bool = False) -> list[Found]:
        """The first `count` matches in the window (or since the start), waiting up to
        `timeout` wall seconds for them; fewer than `count` means the expectation failed."""
        if self._arrived is None:
            self._arrived = asyncio.Event()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.find(pattern, since_start=since_start)
            remaining = deadline - loop.time()
            if len(found) >= count or remaining <= 0:
                return found[:count]
            self._arrived.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
            except TimeoutError:
                pass

    def consume(self, found: Sequence[Found]) -> None:
        self.consumed.update(item.index for item in found)

    def near_misses(self, pattern: MessagePattern, limit: int = 3) -> list[TraceRecord]:
        """What came instead: window records of the same action (else the latest records)."""
        window = self.records[self.window_start:]
        same = [r for r in window if r.action == pattern.action]
        return (same or window)[-limit:]
