"""What the harness saw on the wire: one `Frame` per websocket text message, and payload matching.

Frames are recorded before the session core sees them, so a broken frame from the peer is still
in the trace, and a failed expectation can show exactly what arrived instead.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chargebench.clock import same_instant
from chargebench.ocppj.frames import CALL, CALLERROR, CALLRESULT, Direction, MessageType
from chargebench.trace import TraceRecord

_TYPE_IDS = (CALL, CALLRESULT, CALLERROR)
_SEQ = itertools.count(1)


@dataclass(slots=True)
class Frame:
    """One text frame, parsed leniently: `type` is "RAW" when it is no OCPP-J message at all."""

    ts: datetime
    dir: Direction
    text: str
    type: MessageType = MessageType.RAW
    id: str | None = None
    action: str | None = None
    payload: Any = None
    #: The action of the CALL a reply answers, filled in by the harness when it knows it.
    answers: str | None = field(default=None)
    #: Arrival order across all connections of the run (ordered OCTT steps compare it).
    seq: int = field(default_factory=_SEQ.__next__)

    @classmethod
    def parse(cls, direction: Direction | str, text: str) -> Frame:
        """Best-effort view of `text`; never raises (a malformed frame is evidence, not a crash)."""
        frame = cls(datetime.now(UTC), Direction(direction), text)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return frame
        if not isinstance(data, list) or not data or data[0] not in _TYPE_IDS:
            return frame
        if len(data) > 1 and isinstance(data[1], str):
            frame.id = data[1]
        kind = MessageType.of_id(data[0])
        if kind is MessageType.CALL and len(data) == 4 and isinstance(data[2], str):
            frame.type, frame.action, frame.payload = kind, data[2], data[3]
        elif kind is MessageType.CALLRESULT and len(data) == 3:
            frame.type, frame.payload = kind, data[2]
        elif kind is MessageType.CALLERROR and len(data) == 5:
            frame.type = kind
            frame.payload = {
                "errorCode": data[2], "errorDescription": data[3], "errorDetails": data[4],
            }
        return frame

    def describe(self) -> str:
        """One line for failure messages: time, direction, type, id, action, body."""
        body = self.text if len(self.text) <= 300 else self.text[:297] + "..."
        what = self.action or (f"(reply to {self.answers})" if self.answers else "")
        return f"{self.ts:%H:%M:%S.%f} {self.dir} {self.type} {self.id or '-'} {what} {body}"

    def to_record(self, cp_id: str, session: str, *, answers: str | None = None,
                  latency_ms: float | None = None) -> TraceRecord:
        """The project-wide trace record of this frame (`chargebench.trace`), shaped as the
        session core's tracer shapes it: a CALLERROR's payload is [code, description,
        details]; a reply names the action it answers and, when known, its latency."""
        payload: Any = self.payload
        if self.type is MessageType.RAW:
            payload = self.text
        elif self.type is MessageType.CALLERROR:
            payload = [self.payload["errorCode"], self.payload["errorDescription"],
                       self.payload["errorDetails"]]
        return TraceRecord(
            ts=self.ts.isoformat(timespec="microseconds"), cp_id=cp_id, dir=self.dir,
            type=self.type, id=self.id, action=self.action or answers or self.answers,
            payload=payload, latency_ms=latency_ms, session=session,
        )


def trace_records(frames: list[Frame], cp_id: str, session: str) -> list[TraceRecord]:
    """Trace records of one connection's frames, each reply paired with the CALL it answers
    (same id, other direction, OCPP-J 1.6 §4.1.4): its action and the latency from CALL to
    reply, in either direction, so the trace report draws every exchange whole."""
    calls: dict[tuple[Direction, str], Frame] = {}
    records = []
    for frame in frames:
        answers = latency = None
        if frame.type is MessageType.CALL and frame.id is not None:
            calls[frame.dir, frame.id] = frame
        elif frame.type.is_reply and frame.id is not None:
            call = calls.pop((frame.dir.reverse, frame.id), None)
            if call is not None:
                answers = call.action
                latency = round((frame.ts - call.ts).total_seconds() * 1000, 3)
        records.append(frame.to_record(cp_id, session, answers=answers, latency_ms=latency))
    return records


Predicate = Callable[[Any], bool]


def matches(expected: Any, actual: Any) -> bool:
    """True when `actual` contains `expected`: dict keys recursively, list items each found,
    callables as predicates, anything else by equality of the JSON value: a decimal by its
    number, a dateTime by its instant, everything else by value and type."""
    if callable(expected):
        try:
            return bool(expected(actual))
        except Exception:
            return False
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(matches(item, candidate) for candidate in actual) for item in expected
        )
    if isinstance(expected, float) and _is_number(actual):
        return expected == actual  # a JSON number: 6000.0 and 6000 are one decimal (1.6 §2.3)
    if isinstance(expected, str) and isinstance(actual, str) and expected != actual:
        return same_instant(expected, actual)
    return expected == actual and type(expected) is type(actual)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# Predicates for payload subsets, named so that failure messages read well.


class _Named:
    def __init__(self, name: str, test: Predicate) -> None:
        self.name, self.test = name, test

    def __call__(self, value: Any) -> bool:
        return self.test(value)

    def __repr__(self) -> str:
        return self.name


present = _Named("<present>", lambda value: True)
an_int = _Named("<integer>", lambda value: type(value) is int)


def one_of(*choices: Any) -> _Named:
    """Matches any of `choices` (e.g. `one_of("Accepted", "Rejected")`)."""
    return _Named(f"<one of {choices}>", lambda value: value in choices)
