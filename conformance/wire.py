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

from chargebench.trace import TraceRecord

_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}
_SEQ = itertools.count(1)


@dataclass(slots=True)
class Frame:
    """One text frame, parsed leniently: `type` is "RAW" when it is no OCPP-J message at all."""

    ts: datetime
    dir: str
    text: str
    type: str = "RAW"
    id: str | None = None
    action: str | None = None
    payload: Any = None
    #: The action of the CALL a reply answers, filled in by the harness when it knows it.
    answers: str | None = field(default=None)
    #: Arrival order across all connections of the run (ordered OCTT steps compare it).
    seq: int = field(default_factory=_SEQ.__next__)

    @classmethod
    def parse(cls, direction: str, text: str) -> Frame:
        """Best-effort view of `text`; never raises (a malformed frame is evidence, not a crash)."""
        frame = cls(datetime.now(UTC), direction, text)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return frame
        if not isinstance(data, list) or not data or data[0] not in _TYPES:
            return frame
        if len(data) > 1 and isinstance(data[1], str):
            frame.id = data[1]
        kind = _TYPES[data[0]]
        if kind == "CALL" and len(data) == 4 and isinstance(data[2], str):
            frame.type, frame.action, frame.payload = kind, data[2], data[3]
        elif kind == "CALLRESULT" and len(data) == 3:
            frame.type, frame.payload = kind, data[2]
        elif kind == "CALLERROR" and len(data) == 5:
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

    def to_record(self, cp_id: str, session: str) -> TraceRecord:
        """The project-wide trace record of this frame (`chargebench.trace`)."""
        payload = self.payload if self.type != "RAW" else self.text
        return TraceRecord(
            ts=self.ts.isoformat(timespec="microseconds"), cp_id=cp_id, dir=self.dir,
            type=self.type, id=self.id, action=self.action or self.answers, payload=payload,
            latency_ms=None, session=session,
        )


Predicate = Callable[[Any], bool]


def matches(expected: Any, actual: Any) -> bool:
    """True when `actual` contains `expected`: dict keys recursively, list items each found,
    callables as predicates, anything else by equality."""
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
    return expected == actual and type(expected) is type(actual)


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
