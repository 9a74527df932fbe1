"""The one waiting helper's vocabulary: what a case expects, and the failure it reports.

Modelled on EVerest's `wait_for_and_validate`: frames that arrive and do not match stay in the
backlog (a later wait may want them) and are listed in the failure message, so a verdict always
names the expected frame and what was received instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from chargebench.ocppj.versions import DEFAULT_VERSION
from chargebench.trace import TraceRecord
from conformance.wire import matches

REPLY_TYPES = ("CALLRESULT", "CALLERROR")


class Mismatch(AssertionError):
    """A conformance verdict: the peer did not send what the spec requires. Besides its
    message it carries `expected` (in words) and the `received` frames, so the plugin records
    them as they are (`reports.outcome.Verdict`) instead of parsing the message back."""

    def __init__(self, message: str, expected: str = "",
                 received: Iterable[TraceRecord] = ()) -> None:
        super().__init__(message)
        self.expected = expected or message
        self.received: list[TraceRecord] = list(received)


@dataclass(frozen=True, slots=True)
class Expect:
    """A frame the harness waits for.

    `what` is an action name (a CALL from the peer) or "CALLRESULT" / "CALLERROR" (a reply);
    `subset` must be contained in the payload (for a CALLERROR: errorCode, errorDescription,
    errorDetails). With `message_id`, a reply of the other kind to that id fails at once.
    """

    what: str
    #: a payload subset, or a `Payload` rule (optional fields, defaults)
    subset: Mapping[str, Any] | Callable[[Any], bool] | None = None
    message_id: str | None = None

    @property
    def kind(self) -> str:
        return self.what if self.what in REPLY_TYPES else "CALL"

    def matches(self, frame: TraceRecord) -> bool:
        if frame.type != self.kind:
            return False
        if self.kind == "CALL" and frame.action != self.what:
            return False
        if self.message_id is not None and frame.id != self.message_id:
            return False
        if self.subset is None:
            return True
        # a CALLERROR is matched by its field names (OCPP-J 1.6 §4.2.3)
        payload = frame.error if frame.type == "CALLERROR" else frame.payload
        if isinstance(self.subset, Payload):
            return self.subset(payload)
        return matches(dict(self.subset), payload)

    def contradicts(self, frame: TraceRecord) -> bool:
        """A reply to our id that is not the one expected: no point in waiting longer."""
        return (
            self.message_id is not None
            and self.kind in REPLY_TYPES
            and frame.id == self.message_id
            and frame.type in REPLY_TYPES
            and not self.matches(frame)
        )

    def describe(self) -> str:
        text = self.what if self.kind == "CALL" else self.kind
        if self.message_id is not None:
            text += f" id={self.message_id}"
        if self.subset is not None:
            shown = self.subset if isinstance(self.subset, Payload) else dict(self.subset)
            text += f" containing {shown!r}"
        return text


def failure(
    expected: Expect | str, received: Iterable[TraceRecord], timeout: float | None, note: str = ""
) -> Mismatch:
    """The verdict message: what was expected, within how long, and every frame seen instead."""
    what = expected.describe() if isinstance(expected, Expect) else expected
    within = f" within {timeout:g} s" if timeout is not None else ""
    lines = [f"expected {what}{within}{': ' + note if note else ''}"]
    head = lines[0]
    frames = list(received)
    if frames:
        lines.append("received instead:")
        lines.extend(f"  {frame.describe()}" for frame in frames)
    else:
        lines.append("received instead: nothing")
    return Mismatch("\n".join(lines), head, frames)


# Required and optional fields (the `ocpp` package's 1.6 schemas decide which is which)


@cache
def required_fields(action: str, response: bool = False) -> frozenset[str]:
    """Top-level fields the 1.6 JSON schema of `action` requires."""
    try:
        schema = json.loads(DEFAULT_VERSION.schema_text(action, response))
    except (FileNotFoundError, ValueError):
        return frozenset()
    return frozenset(schema.get("required", ()))


#: Values an absent optional field stands for. 1.6 §6.49: StopTransaction.req `reason` "MAY
#: only be omitted when the Reason is Local".
DEFAULTS: dict[tuple[str, str], Any] = {("StopTransaction", "reason"): "Local"}


@dataclass(frozen=True)
class Required:
    """A field the schema makes optional but the spec requires in this situation (e.g. 1.6
    §5.13: StartTransaction.req SHALL carry the reservationId of the reservation it ends)."""

    value: Any

    def __repr__(self) -> str:
        return f"{self.value!r} (required here)"


class Payload:
    """What a CALL of the peer must contain, read against its schema: a field the schema
    requires must be present and match; an optional one must match only when present, or
    its default (`DEFAULTS`) must match when absent. A `Required` value makes an optional
    field required where the spec says so."""

    def __init__(self, action: str, subset: Mapping[str, Any]) -> None:
        self.action, self.subset = action, dict(subset)
        self.required = required_fields(action)

    def __call__(self, payload: Any) -> bool:
        if not isinstance(payload, Mapping):
            return False
        for key, value in self.subset.items():
            forced = isinstance(value, Required)
            value = value.value if forced else value
            if key in payload:
                if not matches(value, payload[key]):
                    return False
            elif (self.action, key) in DEFAULTS:
                if not matches(value, DEFAULTS[self.action, key]):
                    return False
            elif forced or key in self.required:
                return False
        return True

    def __repr__(self) -> str:
        shown = {}
        for key, value in self.subset.items():
            if isinstance(value, Required) or key in self.required:
                shown[key] = value
            elif (self.action, key) in DEFAULTS:
                shown[key] = f"{value!r} (absent means {DEFAULTS[self.action, key]!r})"
            else:
                shown[key] = f"{value!r} (if present)"
        return repr(shown)


class _Rule:
    """A named predicate on one field's value (reads well in a verdict)."""

    def __init__(self, name: str, test: Callable[[Any], bool]) -> None:
        self.name, self.test = name, test

    def __call__(self, value: Any) -> bool:
        try:
            return bool(self.test(value))
        except (TypeError, ValueError, AttributeError):
            return False

    def __repr__(self) -> str:
        return self.name


def sampled(context: str) -> _Rule:
    """A MeterValues.req `meterValue` list with a sampledValue of `context`; an absent
    context is "Sample.Periodic" (1.6 §7.39 ReadingContext, the schema's default)."""

    def test(values: Any) -> bool:
        return any(
            sample.get("context", "Sample.Periodic") == context
            for value in values for sample in value.get("sampledValue", ())
        )

    return _Rule(f"<a sampledValue of context {context}>", test)


def number(expected: float) -> _Rule:
    """A JSON number equal to `expected`, integer or decimal (1.6 decimal fields: 10 == 10.0)."""

    def test(value: Any) -> bool:
        return not isinstance(value, bool) and isinstance(value, int | float) and (
            abs(float(value) - expected) < 1e-6)

    return _Rule(f"<number {expected:g}>", test)
