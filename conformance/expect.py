"""The one waiting helper's vocabulary: what a case expects, and the failure it reports.

Expectations are `chargebench.matching.MessagePattern`s, the matcher language scenarios use
too; this module adds what is conformance's own: payloads read against the 1.6 schemas
(`Payload`, `Required`, `DEFAULTS`) and named rules that read well in a verdict.

Modelled on EVerest's `wait_for_and_validate`: frames that arrive and do not match stay in the
backlog (a later wait may want them) and are listed in the failure message, so a verdict always
names the expected frame and what was received instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from chargebench.matching import (
    MISSING,
    AnyOf,
    Equals,
    Matcher,
    MessagePattern,
    Predicate,
    Present,
    Result,
    Subset,
    contains,
)
from chargebench.matching import Mismatch as FieldMismatch
from chargebench.ocppj.versions import DEFAULT_VERSION
from chargebench.trace import TraceRecord

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


def expectation(what: str, subset: Any = None, message_id: str | None = None) -> MessagePattern:
    """The frame the harness waits for, in the one matcher language (`chargebench.matching`).

    `what` is an action name (a CALL from the peer) or "CALLRESULT" / "CALLERROR" (a reply);
    `subset` must be contained in the payload (`contains`; for a CALLERROR: errorCode,
    errorDescription, errorDetails), or is a `Payload` rule (optional fields, defaults).
    With `message_id`, only the reply to that CALL."""
    payload = None if subset is None else (
        subset if isinstance(subset, Matcher) else contains(subset))
    if what in REPLY_TYPES:
        return MessagePattern(type=what, payload=payload, message_id=message_id)
    return MessagePattern(action=what, type="CALL", payload=payload, message_id=message_id)


def contradicts(expected: MessagePattern, frame: TraceRecord) -> bool:
    """A reply to our id that is not the one expected: no point in waiting longer."""
    return (
        expected.message_id is not None
        and expected.type in REPLY_TYPES
        and frame.id == expected.message_id
        and frame.type in REPLY_TYPES
        and not expected.match(frame).ok
    )


def describe(expected: MessagePattern) -> str:
    """An expectation in a verdict: "StatusNotification containing {...}", "CALLRESULT id=7"."""
    text = expected.action if expected.type == "CALL" else str(expected.type)
    if expected.message_id is not None:
        text += f" id={expected.message_id}"
    if expected.payload is not None:
        text += f" containing {expected.payload.describe()}"
    return text or "a frame"


def failure(
    expected: MessagePattern | str, received: Iterable[TraceRecord], timeout: float | None,
    note: str = "",
) -> Mismatch:
    """The verdict message: what was expected, within how long, and every frame seen instead."""
    what = describe(expected) if isinstance(expected, MessagePattern) else expected
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


class Payload(Matcher):
    """What a CALL of the peer must contain, read against its schema: a field the schema
    requires must be present and match; an optional one must match only when present, or
    its default (`DEFAULTS`) must match when absent. A `Required` value makes an optional
    field required where the spec says so. Field values are `contains()` subsets."""

    wants_object = True

    def __init__(self, action: str, subset: Mapping[str, Any]) -> None:
        self.action, self.subset = action, dict(subset)
        self.required = required_fields(action)

    def check(self, value: Any, path: str, result: Result) -> None:
        if not isinstance(value, Mapping):
            self._fail(value, path, result)
            return
        for key, wanted in self.subset.items():
            forced = isinstance(wanted, Required)
            matcher = contains(wanted.value if forced else wanted)
            where = f"{path}.{key}" if path else key
            if key in value:
                matcher.check(value[key], where, result)
            elif (self.action, key) in DEFAULTS:
                matcher.check(DEFAULTS[self.action, key], where, result)
            elif forced or key in self.required:
                result.mismatches.append(FieldMismatch(where, "present", MISSING))

    def describe(self) -> str:
        return repr(self)

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


# Named rules for payload subsets, so that failure messages read well

#: any value, as long as the field is there
present = Present(True)
#: a JSON integer as the 1.6 schemas (draft-04) define one: no fraction, no boolean
an_int = Predicate("<integer>", lambda value: type(value) is int)


def one_of(*choices: Any) -> Matcher:
    """Matches any of `choices` (e.g. `one_of("Accepted", "Rejected")`), each compared as a
    JSON value."""
    return Subset(f"<one of {choices}>", AnyOf([Equals(choice) for choice in choices]), False)


def sampled(context: str) -> Predicate:
    """A MeterValues.req `meterValue` list with a sampledValue of `context`; an absent
    context is "Sample.Periodic" (1.6 §7.39 ReadingContext, the schema's default)."""

    def test(values: Any) -> bool:
        return any(
            sample.get("context", "Sample.Periodic") == context
            for value in values for sample in value.get("sampledValue", ())
        )

    return Predicate(f"<a sampledValue of context {context}>", test)


def number(expected: float) -> Predicate:
    """A JSON number equal to `expected`, integer or decimal (1.6 decimal fields: 10 == 10.0)."""

    def test(value: Any) -> bool:
        return not isinstance(value, bool) and isinstance(value, int | float) and (
            abs(float(value) - expected) < 1e-6)

    return Predicate(f"<number {expected:g}>", test)
