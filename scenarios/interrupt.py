"""Ctrl-C (SIGINT) and a CI cancel (SIGTERM) during `chargebench run` and `demo`.

Neither may lose what already finished: the signal cancels the running scenario's task, so its
`finally:` blocks stop the charge points, close the CSMS and remove temporary folders, and then
`Interrupted` reaches the command, which writes the summary and the JUnit file of every scenario
that ended (and marks the one that was cut short) before exiting 130 or 143 (128 + the signal,
as a shell reports a process killed by it).

    with interruptible():                       # between loops: the signals raise Interrupted
        result = run_loop(main, virtual=True)   # in a loop: they cancel main(), then raise it
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from chargebench.clock import VirtualTimeLoop

__all__ = ["SIGNALS", "Interrupted", "interruptible", "run_loop"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")


class Interrupted(KeyboardInterrupt):
    """The run was stopped by `signum`; `code` is the exit code (130 SIGINT, 143 SIGTERM).

    A KeyboardInterrupt, because asyncio lets only that (and SystemExit) out of a callback or a
    task: a signal that lands while a loop starts or stops must end the run, not be logged as
    "Exception in callback" and forgotten."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.code = 128 + signum
        super().__init__(f"interrupted by {self.name}")


def _raise(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """For the duration, SIGINT and SIGTERM raise `Interrupted` (main thread only)."""
    try:
        previous = {sig: signal.signal(sig, _raise) for sig in SIGNALS}
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_loop(main: Callable[[], Awaitable[T]], *, virtual: bool) -> T:
    """`main()` on a fresh event loop (a `VirtualTimeLoop` when `virtual`). SIGINT or SIGTERM
    cancels `main()`, lets its `finally:` blocks run, then raises `Interrupted`.

    The signals are blocked while the loop is built and torn down, and let in only while the
    loop's own handlers are in place: one landing in between would otherwise interrupt the
    loop's constructor or `close()` half-way. A signal that came while blocked is delivered
    when the loop is gone, as `Interrupted` from `interruptible()`."""
    caught: list[int] = []

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int) -> None:
            if not caught:
                caught.append(signum)
                task.cancel()

        outside = {sig: signal.getsignal(sig) for sig in SIGNALS}
        try:
            for sig in SIGNALS:
                loop.add_signal_handler(sig, stop, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # no Unix signals, or a thread
            return await main()
        _let_in(True)
        try:
            return await main()
        finally:
            _let_in(False)
            for sig, handler in outside.items():
                loop.remove_signal_handler(sig)
                # remove_signal_handler leaves the default behind; put back what was there
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    _let_in(False)
    try:
        with asyncio.Runner(loop_factory=VirtualTimeLoop if virtual else None) as runner:
            try:
                return runner.run(guarded())
            except asyncio.CancelledError:
                if caught:
                    raise Interrupted(caught[0]) from None
                raise
    finally:
        _let_in(True)


def _let_in(allowed: bool) -> None:
    """Unblock or block SIGINT and SIGTERM for this thread (a blocked one stays pending)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no pthread_sigmask
        signal.pthread_sigmask(signal.SIG_UNBLOCK if allowed else signal.SIG_BLOCK, SIGNALS)
