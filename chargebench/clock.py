"""Injectable clock with time acceleration, and an event loop whose time advances by events.

Everything that waits on protocol time (heartbeats, meter intervals, reservations, retries) asks a
`Clock`, so a scenario at `speed=60` plays an hour in a minute and a test can freeze time.

A `Clock` reads the wall clock by default. On a `VirtualTimeLoop` it reads the loop's own time
instead (`loop_clock()`), and that time does not follow the wall clock: when every task waits for
a timer and no I/O is ready, the loop jumps to the next timer (trio's MockClock with
`autojump_threshold=0`). A scenario then plays exactly as on an infinitely fast machine: its
verdict cannot depend on how busy the machine is, and idle time costs nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def iso(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds and `Z`, the form OCPP dateTime fields expect."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an OCPP dateTime (RFC 3339; `Z` or an offset) to an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock:
    """Simulated time that runs `speed` times as fast as the wall clock."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None,
                 source: Callable[[], float] = time.monotonic) -> None:
        """`source` is the "real" time the clock accelerates: the wall clock, or the time of a
        `VirtualTimeLoop` (see `loop_clock()`)."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._source = source
        self._origin_real = source()
        self._origin_sim = start or datetime.now(UTC)

    def monotonic(self) -> float:
        """Simulated seconds since the clock started."""
        return (self._source() - self._origin_real) * self.speed

    def now(self) -> datetime:
        """Simulated UTC date and time."""
        return self._origin_sim + timedelta(seconds=self.monotonic())

    def iso_now(self) -> str:
        return iso(self.now())

    async def sleep(self, seconds: float) -> None:
        """Sleep at least `seconds` of simulated time.

        asyncio may wake a timer up to its clock resolution early; at speed 3000 that is seconds
        of simulated time, so sleep again until the simulated deadline has really passed."""
        target = self.monotonic() + max(0.0, seconds)
        # a microsecond of slack: on a virtual loop time stops exactly at the timer, and float
        # rounding must not turn that into endless sleeps of 1e-12 s
        while (remaining := target - self.monotonic()) / self.speed > 1e-6:
            await asyncio.sleep(remaining / self.speed)

    def call_later(self, seconds: float, callback: Callable[..., object], *args: object
                   ) -> asyncio.Handle:
        """Call `callback(*args)` after `seconds` of simulated time. A timer handle, not a task:
        ten thousand chargers waiting for their next meter sample cost ten thousand small
        handles instead of ten thousand suspended coroutines."""
        delay = max(0.0, seconds) / self.speed
        return asyncio.get_running_loop().call_later(delay, callback, *args)


class FrozenClock(Clock):
    """A clock that moves only when told to; `sleep()` advances it and returns at once."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(1.0, start or datetime(2026, 1, 1, tzinfo=UTC))
        self._elapsed = 0.0

    def monotonic(self) -> float:
        return self._elapsed

    def advance(self, seconds: float) -> None:
        self._elapsed += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def call_later(self, seconds: float, callback: Callable[..., object], *args: object
                   ) -> asyncio.Handle:
        self.advance(max(0.0, seconds))
        return asyncio.get_running_loop().call_soon(callback, *args)


def loop_clock(speed: float = 1.0, start: datetime | None = None) -> Clock:
    """A clock for code on the running loop: it follows a `VirtualTimeLoop`'s time, else the
    wall clock."""
    loop = asyncio.get_running_loop()
    if isinstance(loop, VirtualTimeLoop):
        return Clock(speed, start, source=loop.time)
    return Clock(speed, start)


def is_virtual() -> bool:
    """Does the running loop's time advance by events (`VirtualTimeLoop`)?"""
    return isinstance(asyncio.get_running_loop(), VirtualTimeLoop)


async def settle() -> None:
    """Return once the loop has nothing left to do but wait for timers: on a `VirtualTimeLoop`,
    every thread's work is done, every message that was on its way has been handled, and the
    tasks they woke wait again (a sleep of one microsecond of loop time ends only then). On
    another loop, one pass of the loop."""
    if is_virtual():
        await asyncio.sleep(1e-6)
    else:
        await asyncio.sleep(0)


def watch_outside_work(future: asyncio.Future[Any]) -> None:
    """`future` will be completed from another thread (a store worker, an executor): a virtual
    loop waits for it in real time instead of jumping over it. No-op on other loops."""
    loop = future.get_loop()
    if isinstance(loop, VirtualTimeLoop):
        loop.watch_outside_work(future)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose `time()` advances by events, not by the wall clock.

    Sockets are real (127.0.0.1), callbacks run as usual; only waiting changes. When the loop
    would sleep until its next timer, it first looks for ready I/O (a zero-timeout select). If
    none is ready and no work is running outside the loop, time jumps to that timer at once.

    Work outside the loop is waited for in real time while virtual time stands still: futures
    of `run_in_executor` (so `asyncio.to_thread`), futures passed to `watch_outside_work()` (the
    CSMS's group-commit thread), and whatever a busy check registered with `add_busy_check()`
    reports (servers in threads of their own, `scenarios.files`). So a slow database commit on
    a loaded machine costs wall time, never simulated time.
    """

    #: Real seconds between looks at the busy checks while outside work runs
    POLL = 0.002
    #: Until the base class says otherwise: a loop whose constructor was interrupted (a
    #: signal) is not "unclosed" at garbage collection (BaseEventLoop.__del__ reads this)
    _closed = True

    def __init__(self) -> None:
        self._virtual = time.monotonic()
        self._outside: set[asyncio.Future[Any] | concurrent.futures.Future[Any]] = set()
        self._busy_checks: list[Callable[[], bool]] = []
        #: how often time jumped, and how far in total (virtual seconds), for tests and reports
        self.jumps = 0
        self.jumped = 0.0
        super().__init__(_AutojumpSelector(self))

    def time(self) -> float:
        return self._virtual

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any
                        ) -> asyncio.Future[Any]:
        future = super().run_in_executor(executor, func, *args)
        self.watch_outside_work(future)
        return future

    def watch_outside_work(self, future: asyncio.Future[Any]) -> None:
        if not future.done():
            self._outside.add(future)
            future.add_done_callback(self._outside.discard)

    def add_busy_check(self, check: Callable[[], bool]) -> None:
        """While `check()` is true (it is called from the loop's thread), time does not jump."""
        self._busy_checks.append(check)

    def remove_busy_check(self, check: Callable[[], bool]) -> None:
        if check in self._busy_checks:
            self._busy_checks.remove(check)

    def _outside_busy(self) -> bool:
        return bool(self._outside) or any(check() for check in self._busy_checks)

    def _advance(self, seconds: float) -> None:
        target = self._virtual + seconds
        scheduled = getattr(self, "_scheduled", None)  # the heap of timers (asyncio internals)
        if scheduled:
            target = max(target, scheduled[0].when())  # no float shortfall: the timer is due
        self.jumps += 1
        self.jumped += target - self._virtual
        self._virtual = target


class _AutojumpSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The loop's selector: asyncio calls `select(timeout)` with the (virtual) time left until
    its next timer, or 0 when callbacks are ready, or None when there is no timer."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = super().select(0)
        if events or timeout == 0:
            return events
        loop = self._loop
        while loop._outside_busy():  # wait in real time; a finished future wakes the self-pipe
            events = super().select(loop.POLL if loop._busy_checks else 0.1)
            if events:
                return events
        if timeout is None:  # nothing scheduled: only I/O (or a signal) can wake us
            return super().select(None)
        loop._advance(timeout)
        return []
