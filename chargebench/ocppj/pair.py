"""`SessionPair`: a charge-point core and a central-system core linked in memory, for tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chargebench.ocppj.core import OcppSession
from chargebench.ocppj.events import Event
from chargebench.ocppj.frames import Direction
from chargebench.ocppj.versions import Role


class SessionPair:
    """Two cores wired back to back; `deliver()` moves frames until both are quiet.

    Frames are delivered in order; the events each side received are collected per side, so a
    test can say: send, deliver, then look at `cp_events` / `cs_events`.
    """

    def __init__(self, *, clock: Callable[[], float] | None = None, **options: Any) -> None:
        if clock is not None:
            options["clock"] = clock
        self.cp = OcppSession(Role.CHARGE_POINT, **options)
        self.cs = OcppSession(Role.CENTRAL_SYSTEM, **options)
        self.cp_events: list[Event] = []
        self.cs_events: list[Event] = []
        self.wire: list[tuple[Direction, str]] = []

    def deliver(self) -> None:
        """Move every pending frame to the other side, repeatedly, until nothing is left."""
        moved = True
        while moved:
            moved = False
            for sender, receiver, events, direction in (
                (self.cp, self.cs, self.cs_events, Direction.CP_TO_CS),
                (self.cs, self.cp, self.cp_events, Direction.CS_TO_CP),
            ):
                for frame in sender.data_to_send():
                    moved = True
                    self.wire.append((direction, frame))
                    events.extend(receiver.receive_text(frame))
