"""Injectable clock with time acceleration.

Everything that waits on protocol time (heartbeats, meter intervals, reservations, retries) asks a
`Clock`, so a scenario at `speed=60` plays an hour in a minute and a test can freeze time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


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

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin_real = time.monotonic()
        self._origin_sim = start or datetime.now(UTC)

    def monotonic(self) -> float:
        """Simulated seconds since the clock started."""
        return (time.monotonic() - self._origin_real) * self.speed

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
        while (remaining := target - self.monotonic()) > 0:
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
