"""Frames received and not examined yet, waited on by a matcher: one inbox for scenarios and
conformance.

An `Inbox` keeps every record it is given in arrival order, a *window* (the records from
`window_start` on) and the set of records an expectation already took. `pending()` is what an
expectation may still match: the window's records nobody took, oldest first. Two rules follow
from that and both users rely on them:

- a record matches once: `take()`/`consume()` remove it from what later expectations see (two
  `expect: StatusNotification` steps need two messages; a conformance case's second
  `wait_for` does not see the frame the first one took);
- `forget()` moves the window up to now: older untaken records no longer count (a new
  conformance case; a scenario action after a check).

`adopt()` hands the untaken records of a previous connection to the next one, ahead of its own:
a message sent just before a reboot still counts. Everything here is sans-I/O; `wait_until()`
adds waiting for arrivals in asyncio, with a deadline and an optional future (the reader task of
a connection) whose end stops the wait early.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from chargebench.matching import MessagePattern, Result
from chargebench.trace import TraceRecord

__all__ = ["Found", "Inbox", "wait_until"]

T = TypeVar("T")

#: asyncio runs a timer up to its clock resolution early (`BaseEventLoop._run_once`): a wait
#: this close to its deadline is over, or a loop whose clock stands still between timers (the
#: scenarios' `VirtualTimeLoop`) would wait for the last picoseconds forever
_EARLY = 1e-6


@dataclass(frozen=True, slots=True)
class Found:
    """A record a pattern matched: its place in the inbox, the record, the match (captures)."""

    index: int
    record: TraceRecord
    result: Result


class Inbox:
    """The records one peer received (or one charge point exchanged), fed by `add()`."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []
        self.window_start = 0
        self._taken: set[int] = set()
        self._wakers: list[Callable[[], None]] = []

    def add(self, record: TraceRecord) -> None:
        self.records.append(record)
        for wake in tuple(self._wakers):
            wake()

    # What may still match

    def pending(self, *, since_start: bool = False) -> Iterator[tuple[int, TraceRecord]]:
        """Untaken records of the window (or of the whole inbox), oldest first, with their
        index. A generator: a caller may `take()` the record it stops at."""
        for index in range(0 if since_start else self.window_start, len(self.records)):
            if index not in self._taken:
                yield index, self.records[index]

    def backlog(self) -> list[TraceRecord]:
        """The window's untaken records: what came instead, when an expectation fails."""
        return [record for _, record in self.pending()]

    def find(self, pattern: MessagePattern, *, since_start: bool = False) -> list[Found]:
        """Every untaken record that `pattern` matches, in order."""
        found = []
        for index, record in self.pending(since_start=since_start):
            result = pattern.match(record)
            if result.ok:
                found.append(Found(index, record, result))
        return found

    def take(self, index: int) -> TraceRecord:
        """Mark the record at `index` examined; later expectations no longer see it."""
        self._taken.add(index)
        return self.records[index]

    def consume(self, found: Iterable[Found]) -> None:
        self._taken.update(item.index for item in found)

    # The window

    def forget(self) -> None:
        """Untaken records received so far no longer count: the window starts now."""
        self.window_start = len(self.records)

    def adopt(self, older: Inbox) -> None:
        """Put the untaken records of `older` (a previous connection of the same peer) at the
        head of this window, ahead of anything received here; `older` keeps none."""
        kept = older.backlog()
        older.forget()
        if not kept:
            return
        at, n = self.window_start, len(kept)
        self.records[at:at] = kept
        self._taken = {index + n if index >= at else index for index in self._taken}
        for wake in tuple(self._wakers):
            wake()

    # Waking a waiter (the asyncio layer subscribes here)

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` on every arrival until the returned function is called."""
        self._wakers.append(wake)
        return lambda: self._wakers.remove(wake)


async def wait_until(
    inbox: Inbox, look: Callable[[], T | None], timeout: float,
    *, stop: asyncio.Future | None = None,
) -> T | None:
    """Call `look` now and after each arrival until it returns something other than None,
    and return that; None once `timeout` seconds passed or `stop` (a connection's reader
    task) is done, after one last look. `look` may raise: the verdict is the caller's."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    arrived = asyncio.Event()
    unsubscribe = inbox.subscribe(arrived.set)
    try:
        while True:
            seen = look()
            if seen is not None:
                return seen
            remaining = deadline - loop.time()
            if remaining <= _EARLY or (stop is not None and stop.done()):
                return None
            arrived.clear()
            waiter = asyncio.ensure_future(arrived.wait())
            waits: set[asyncio.Future] = {waiter} if stop is None else {waiter, stop}
            try:
                await asyncio.wait(waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
    finally:
        unsubscribe()
