"""Group commit: the store calls of many connections in one unit of work and one thread hop.

    result = await csms.db.run(lambda uow: uow.record_boot(cp_id, vendor=..., model=...))
    # committed: the CALLRESULT may go out now

A call receives the group's unit of work (`Store.unit_of_work`) and makes its reads and writes
on it, explicitly: the store itself refuses writes while a group is open, so nothing joins the
transaction by being on the right thread.

Why not `asyncio.to_thread` per call: with 10 000 chargers every frame then costs an executor
submit, a wake-up of the event loop from another thread, and a COMMIT of its own (an fsync with
synchronous=FULL), and the executor's threads only queue up on the store's one lock anyway. Here
one worker thread takes every call queued meanwhile, runs them in order in ONE unit of work
(each in a savepoint of it, so a failing call leaves nothing behind and fails alone:
`run_group`), commits once, then wakes the loop once for the whole group.

The handlers' rule still holds: a call's result is delivered only after the COMMIT of its group,
so a CALLRESULT never acknowledges what is not committed. If that COMMIT fails, every call of
the group fails with its error. Under light load a group is one call, which costs what
`to_thread` did; under load groups grow by themselves (up to `max_group`) while the worker is busy.

Keep slow work out (scrypt, signing, HTTP): it would hold up every charger's reply in its group.

Several groups at once: a store that allows it (PostgreSQL: `concurrent_units`, each worker on a
`lane()`, a connection of its own) gets that many worker threads taking groups from the one
queue, so the round trips of one group overlap another's, and a slow call (a lock wait, a slow
charger's big write) holds only its own group while the other workers go on (issue 17.4).
Calls of one charger still run in order: each awaits its result before the next is sent. A call
that met a concurrent transaction (`WriteConflict`: PostgreSQL broke a deadlock) was undone with
its savepoint and is queued again for a later group after a short pause (`RETRY_PAUSE`),
up to `RETRIES` times. SQLite has one writer: one worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from chargebench.clock import watch_outside_work
from csms.store.errors import WriteConflict

if TYPE_CHECKING:
    from csms.store import Store

T = TypeVar("T")
#: one call of a group: it gets the group's unit of work
Work = Callable[["Store"], Any]
#: (call, future, loop, tries so far) waiting for a worker; None asks a worker to stop.
_Job = tuple[Work, asyncio.Future, asyncio.AbstractEventLoop, int]
Outcome = tuple[bool, Any]
#: how often a call that met a concurrent transaction (`WriteConflict`) runs again
RETRIES = 5
#: the fewest calls a worker takes when several share the queue (`GroupCommitter._work`):
#: smaller groups would cost a COMMIT each for little overlap
MIN_SHARE = 8
#: seconds before the first retry (doubling after each): run at once, the victim of a deadlock
#: races the survivor for the row it just let go and often deadlocks again
RETRY_PAUSE = 0.02


def run_group(store: Store, calls: Sequence[Work]) -> list[Outcome]:
    """Run `calls` in order in ONE unit of work of `store` and commit once: `(True, result)`
    or `(False, exception)` per call.

    Each call gets the unit of work and runs in a savepoint of it, so one that raises leaves
    nothing behind and does not fail the others. A store with `unit_of_work_without_savepoints`
    (PostgreSQL, where a savepoint costs a statement) runs the group that way first and, when
    anything in it fails, rolls it all back and runs it again with savepoints (a failing call
    runs twice; calls are store steps, which is why that is harmless). Nothing is durable
    until this returns: acknowledge no charge point before. If the COMMIT itself fails, this
    raises and none of the calls happened.
    """
    optimistic = getattr(store, "unit_of_work_without_savepoints", None)
    if optimistic is not None:
        # PostgreSQL: first without savepoints (a statement each, in every call's round
        # trip); if anything fails, nothing was written and the group runs again below
        failed: list[Exception] = []
        values: list[Any] = []
        try:
            with optimistic() as uow:
                for call in calls:
                    try:
                        values.append(call(uow))
                    except Exception as exc:
                        failed.append(exc)
                        raise
        except Exception:
            if len(calls) == 1 and failed:  # alone, its failure is the outcome: undone already
                return [(False, failed[0])]
        else:
            return [(True, value) for value in values]
    outcomes: list[Outcome] = []
    with store.unit_of_work() as uow:
        for call in calls:
            try:
                with uow.savepoint():
                    value = call(uow)
            except Exception as exc:
                outcomes.append((False, exc))
            else:
                outcomes.append((True, value))
    return outcomes


class GroupCommitter:
    """Runs store calls for asyncio code; `await run(...)`, and `await close()` at the end."""

    def __init__(self, store: Store, *, max_group: int = 256, workers: int | None = None) -> None:
        """`max_group` bounds how long the first call of a group waits for the others;
        `workers`: groups run at once (default: what the store allows, `concurrent_units`)."""
        self.store = store
        self.max_group = max_group
        self.workers = max(1, workers or int(getattr(store, "concurrent_units", 1)))
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        #: calls waiting for their retry (`RETRY_PAUSE`)
        self._retrying = 0
        #: groups committed and calls run, for benchmarks and tests
        self.groups = 0
        self.calls = 0

    async def run(self, work: Callable[[Store], T], /) -> T:
        """`work(uow)` in the worker, on its group's unit of work; returns once that group has
        committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        watch_outside_work(future)  # a virtual-time loop must not jump while the store works
        if not self._threads:
            self._start()
        self._queue.put((work, future, loop, 0))
        result: T = await future
        return result

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            for n in range(self.workers):
                # one worker: the store itself; more: each on a connection of its own
                store = self.store if self.workers == 1 else self.store.lane()  # type: ignore[attr-defined]
                thread = threading.Thread(target=self._work, args=(store,), daemon=True,
                                          name=f"csms-group-commit-{n}")  # fmt: skip
                thread.start()
                self._threads.append(thread)

    async def close(self) -> None:
        """Run what is queued, then stop the workers."""
        while self._retrying:  # a retry queued after the workers' stop would never run
            await asyncio.sleep(RETRY_PAUSE)
        threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            await asyncio.to_thread(thread.join)

    # Worker thread ------------------------------------------------------------------------------

    def _work(self, store: Store) -> None:
        jobs_queue = self._queue
        while True:
            first = jobs_queue.get()
            if first is None:
                return
            jobs = [first]
            stopping = False
            # a fair share of what is queued, so the other workers (idle, or soon) take the
            # rest side by side: a boot storm's 200 chargers in flight queue their calls at
            # once, and one worker taking them all ran every group in turn while the others'
            # connections idled (bench_store_boot: 90 groups of 200 calls, one at a time)
            share = -(-(jobs_queue.qsize() + 1) // self.workers)
            limit = min(self.max_group, max(share, MIN_SHARE))
            while len(jobs) < limit:
                try:
                    job = jobs_queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
            self._run(store, jobs)
            if stopping:
                return

    def _run(self, store: Store, jobs: list[_Job]) -> None:
        try:
            outcomes = run_group(store, [call for call, _, _, _ in jobs])
        except Exception as exc:  # the COMMIT failed: nothing of the group is durable
            outcomes = [(False, exc)] * len(jobs)
        with self._lock:
            self.groups += 1
            self.calls += len(jobs)
        # one wake-up per event loop for the whole group, not one per call
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, Outcome]]] = {}
        for (call, future, loop, tries), outcome in zip(jobs, outcomes, strict=True):
            ok, value = outcome
            if not ok and isinstance(value, WriteConflict) and tries < RETRIES:
                # undone (its savepoint, or the whole group): again, in a later group
                self._retry((call, future, loop, tries + 1))
                continue
            by_loop.setdefault(loop, []).append((future, outcome))
        for loop, results in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_deliver, results)

    def _retry(self, job: _Job) -> None:
        """`job` queued again after `RETRY_PAUSE`, doubled for each try it has had."""
        with self._lock:
            self._retrying += 1

        def again() -> None:
            self._queue.put(job)
            with self._lock:
                self._retrying -= 1

        timer = threading.Timer(RETRY_PAUSE * 2 ** (job[3] - 1), again)
        timer.daemon = True
        timer.start()


def _deliver(results: list[tuple[asyncio.Future, Outcome]]) -> None:
    for future, (ok, value) in results:
        if future.done():  # the caller was cancelled; the call ran (and committed) anyway
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
