"""The prompt hook: actions that need a person at the charge point under test.

OCTT asks the operator to "plug in the cable" or "present a valid idTag"; here a case says
`await operator.perform("plug_in", connector=1)`. On a terminal a person does it and presses
Enter; with the simulator (or any object with the same control surface: plug_in, plug_out,
present_id_tag, ev_full, power_loss, ...) it happens automatically. Without either the case is
skipped, never passed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

#: What a person is asked to do, per action of the simulator's control surface.
INSTRUCTIONS = {
    "plug_in": "Plug the cable into connector {connector}",
    "plug_out": "Unplug the cable from connector {connector}",
    "present_id_tag": "Present id tag {tag} at connector {connector}",
    "ev_full": "Let the EV at connector {connector} stop drawing power",
    "power_loss": "Power-cycle the charge point",
    "fault": "Cause a fault ({error_code}) at connector {connector}",
    "clear_fault": "Clear the fault at connector {connector}",
    "jam_lock": "Block the cable lock of connector {connector} (jammed={jammed})",
    "go_offline": "Disconnect the charge point from the network",
    "go_online": "Reconnect the charge point to the network",
    "fail_firmware_install": "Make the next firmware installation fail",
}


class Operator(Protocol):
    async def perform(self, action: str, **params: Any) -> None:
        """Do `action` (a name from INSTRUCTIONS) or skip the case when it cannot be done."""


class TerminalOperator:
    """Asks a person on the terminal (needs `-s`, pytest captures stdin otherwise)."""

    async def perform(self, action: str, **params: Any) -> None:
        text = INSTRUCTIONS.get(action, action).format(**{"connector": 1, **params})
        print(f"\n>>> {text}, then press Enter", file=sys.stderr, flush=True)
        await asyncio.to_thread(sys.stdin.readline)


class NoOperator:
    """Nobody to ask: the case is skipped with the action it needed."""

    async def perform(self, action: str, **params: Any) -> None:
        pytest.skip(f"needs an operator to {action} (run on a terminal with -s, or --self)")


class ControlOperator:
    """Drives a simulator's control surface, possibly on another thread's event loop
    (`chargebench conform --self` runs the simulator next to pytest)."""

    def __init__(self, control: Any, submit: Callable[[Any], Future] | None = None) -> None:
        self.control = control
        self.submit = submit

    async def perform(self, action: str, **params: Any) -> None:
        method = getattr(self.control, action, None)
        if method is None:
            pytest.skip(f"the simulator cannot {action}")
        coroutine = method(**params)
        if self.submit is None:
            await coroutine
        else:
            await asyncio.wrap_future(self.submit(coroutine))

    def now(self) -> datetime:
        """The charge point's clock when its control surface tells it (a simulator may run
        faster than the wall clock), else the wall clock."""
        reader = getattr(self.control, "now", None)
        return reader() if reader is not None else datetime.now(UTC)


def default_operator(mode: str) -> Operator:
    """`--cb-operator`: terminal, none, or auto (terminal when stdin is one)."""
    if mode == "terminal" or (mode == "auto" and sys.stdin is not None and sys.stdin.isatty()):
        return TerminalOperator()
    return NoOperator()
