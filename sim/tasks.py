"""Background tasks of the simulator whose outcome is always collected.

asyncio reports a task that failed and was never awaited only when it is garbage-collected
("Task exception was never retrieved"), far from its cause and after the charger went on as if
nothing happened. Every task the simulator starts goes through `background()` (or
`ChargePoint.spawn`, which uses `reap`): a failed CALL is the peer's or the network's doing and
is logged at debug level, anything else is our bug and is logged once, with its traceback,
under the charge point's id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from chargebench.ocppj import CallFailed

__all__ = ["LeanLock", "background", "owner_of", "reap"]

log = logging.getLogger("sim")


def background(coro: Coroutine[Any, Any, Any], owner: str) -> asyncio.Task:
    """Run `coro` as a task whose failure is logged under `owner` when it ends."""
    task = asyncio.get_running_loop().create_task(coro)
    task.add_done_callback(lambda done: reap(done, owner))
    return task


def reap(task: asyncio.Task, owner: str) -> None:
    """Collect `task`'s outcome (a done-callback): nothing is left for the garbage collector."""
    if task.cancelled():
        return
    error = task.exception()
    if error is None:
        return
    if isinstance(error, CallFailed):
        log.debug("%s: %s", owner, error)
    else:
        log.error("%s: background task %s failed", owner, _task_name(task),
                  exc_info=error)


def _task_name(task: asyncio.Task) -> str:
    """The coroutine's qualified name (a task may also wrap a generator, or nothing once an
    eager task finished)."""
    return getattr(task.get_coro(), "__qualname__", task.get_name())


def owner_of(config: Any) -> str:
    """The charge point id a feature object logs its tasks under."""
    return str(config.get("Internal", "ChargePointId", "cp"))


class LeanLock(asyncio.Lock):
    """An `asyncio.Lock` whose waiters are a list (56 bytes), not the deque (760 bytes) CPython
    creates at the first contention and keeps: one per simulated charger, in a fleet of 10 000
    (the same reasoning as `chargebench.aiotasks.LeanEvent`). Lock only appends, removes and
    iterates its waiters, which a list does the same way."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters = []  # type: ignore[assignment]
