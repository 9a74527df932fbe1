"""Keep CPython's full garbage collections off an event loop's latency: freeze the long-lived heap.

Shared plumbing: the CSMS (`csms.central`) and the simulator's fleet process (`sim.fleet`) both
hold hundreds of thousands of long-lived objects per few thousand chargers.

Measured with `loadtest.bench_fleet --cps 10000`: the CSMS holds a few million GC-tracked
objects (websockets connections, session cores, handler state), and every automatic full
collection walks all of them, stopping the event loop for 250-600 ms, while finding nothing to
free (collected=0: the live connections are exactly what they walk). Those stalls, not the
handlers, made a charger's p99 round trip ~0.4 s in the steady state.

`gc.freeze()` moves every tracked object into the permanent generation, which no automatic
collection visits. So every `interval` seconds the young part is collected (it is small: what
survived since the last step) and the rest frozen. What frozen objects can still leak is cyclic
garbage that forms after they were frozen: a closed connection's objects. So once the chargers
disconnected since the last full pass reach `reclaim_fraction` of the live ones (at least
`reclaim_min`), one full collection unfreezes and reclaims them: one stall after a wave of
disconnects instead of one every few thousand messages.

The fleet process has the same problem with its side of the connections (charge points, their
sessions, ports and meters): at 10 000 chargers, MeterValues every 20 s, freezing took its p99
round trip from 106 to 28 ms. There `live()` counts the charge points and `disconnects()` the
connections they have lost so far (read at each step instead of a `note_closed()` per event).

The GC state is process-wide: one policy per process (the CLI's CSMS, a fleet); `close()`
unfreezes, so tests that start many CSMSs leave the collector as they found it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable

from chargebench.aiotasks import cancel_and_wait

log = logging.getLogger(__name__)


class HeapFreezer:
    """`start()` in the running loop, `note_closed()` per disconnect, `close()` at the end."""

    def __init__(self, live: Callable[[], int], *, interval: float = 5.0,
                 reclaim_fraction: float = 0.1, reclaim_min: int = 100,
                 disconnects: Callable[[], int] | None = None) -> None:  # fmt: skip
        """`live()` counts the open connections (what a full pass is weighed against);
        `disconnects()`, when given, is a running total of closed connections read at each step
        (for owners that keep a counter rather than call `note_closed()`)."""
        self.live = live
        self.disconnects = disconnects
        self._disconnects_seen = disconnects() if disconnects is not None else 0
        self.interval = interval
        self.reclaim_fraction = reclaim_fraction
        self.reclaim_min = reclaim_min
        self.closed = 0
        #: steps taken and full passes done, for benchmarks and tests
        self.steps = 0
        self.full_passes = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Freeze what exists and step every `interval` s; again while running: nothing."""
        if self._task is not None:
            return
        gc.freeze()  # modules, schemas, validators: never garbage
        self._task = asyncio.get_running_loop().create_task(self._run())

    def note_closed(self) -> None:
        self.closed += 1

    async def close(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
            gc.unfreeze()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.step()

    def step(self) -> None:
        """Collect what is young, freeze what survived; a full pass after enough disconnects."""
        self.steps += 1
        if self.disconnects is not None:
            total = self.disconnects()
            self.closed += max(0, total - self._disconnects_seen)
            self._disconnects_seen = total
        if self.closed >= max(self.reclaim_min, self.reclaim_fraction * self.live()):
            log.info("full garbage collection after %d disconnects", self.closed)
            self.closed = 0
            self.full_passes += 1
            gc.unfreeze()
        gc.collect()
        gc.freeze()
