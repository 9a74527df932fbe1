"""The steps of the running case, for its verdict (`reports.outcome.Verdict.steps`).

A case names its expectations with `with step("StartTransaction: CALLRESULT ..."):`; the plugin
opens a record per case (`begin`) and reads it after the call (`end`). Cases run one at a time,
so one module-level record is enough; outside a case, `step` records nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from reports.outcome import Outcome, Verdict

__all__ = ["begin", "end", "step"]

#: the open steps' children lists, outermost first; None outside a case
_stack: list[list[Verdict]] | None = None


def begin() -> None:
    global _stack
    _stack = [[]]


def end() -> list[Verdict]:
    """The case's top-level steps; recording stops."""
    global _stack
    steps, _stack = (_stack or [[]])[0], None
    return steps


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """A step of the running case: failed if an exception leaves it, passed otherwise."""
    if _stack is None:
        yield
        return
    record = Verdict(name, Outcome.PASSED)
    _stack[-1].append(record)
    _stack.append(record.steps)
    started = time.monotonic()
    try:
        yield
    except BaseException as error:
        record.outcome = Outcome.FAILED
        record.reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise
    finally:
        record.seconds = time.monotonic() - started
        if _stack is not None and _stack[-1] is record.steps:
            _stack.pop()
