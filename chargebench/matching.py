"""The one matcher language: what a frame or a value must be, for scenarios and conformance.

Sans-I/O. Two spellings build the same `Matcher` objects, judged by one equality rule (`_same`):

- a scenario's YAML spec (`expect:`, `expect_not:`, `assert:`, command replies), compiled by
  `compile_matcher()`;
- a conformance case's Python subset (`contains()`): what the peer must at least have sent.

Values compare as JSON values: a number is a number (1 and 1.0 are equal; RFC 8259 §6 has no
integer type), a boolean is no number, a dateTime is its instant (1.6 §2.3). Whether 1.0 is
allowed in an integer field is the schema's question, not the matcher's: the version's
validator answers it (1.6 declares draft-04, where 1.0 is no "integer"; 2.0.1 declares draft-06,
where it is).

A YAML matcher spec is plain data. A mapping whose keys are all operator names is an operator
mapping; any other mapping matches an object field by field (fields not named are ignored)::

    status: Accepted                           # equals
    transactionId: {capture: tx, range: [1, null]}
    idTag: {regex: "^RFID-"}
    status: {any_of: [Accepted, ConcurrentTx]}
    parentIdTag: {absent: true}
    meterValue: {some: {sampledValue: {some: {measurand: Energy.Active.Import.Register}}}}

Compile once with `compile_matcher()` (raises `MatcherSpecError` naming the spec path), then call
`match(value)`: it returns the mismatches (empty when the value matches) and the captures, which
the caller keeps only when the whole message matched. `MessagePattern` applies the same to a
trace record (action, direction, frame type, message id, payload).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chargebench.clock import same_instant
from chargebench.ocppj.frames import MessageType
from chargebench.trace import TraceRecord
from chargebench.yamlpos import dotted

__all__ = [
    "OPERATORS",
    "Matcher",
    "MatcherSpecError",
    "MessagePattern",
    "Mismatch",
    "Predicate",
    "as_json",
    "compile_matcher",
    "contains",
]

#: Tells whether a spec operand still holds a placeholder (scenarios: `${name}`), for checks of
#: specs before their variables are known.
Placeholder = Callable[[Any], bool]

OPERATORS = frozenset(
    {"equals", "regex", "range", "any_of", "present", "absent", "capture", "some", "not"}
)


class _Missing:
    """The value of a field the message does not have."""

    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()
Path = tuple[Hashable, ...]


class MatcherSpecError(ValueError):
    """A matcher spec is malformed; `path` leads to it inside the step (for file:line)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{dotted(path)}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why a value did not match: where, what was expected, what came."""

    path: str
    expected: str
    got: Any

    def __str__(self) -> str:
        got = "absent" if self.got is MISSING else as_json(self.got)
        return f"{self.path or '(value)'}: expected {self.expected}, got {got}"


@dataclass(slots=True)
class Result:
    mismatches: list[Mismatch] = field(default_factory=list)
    captures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.mismatches


class Matcher:
    """Base class: `check()` appends to `result`; `describe()` says what is expected."""

    #: matches an object: a CALLERROR is then matched by its field names (`MessagePattern`)
    wants_object = False

    def match(self, value: Any, path: str = "") -> Result:
        result = Result()
        self.check(value, path, result)
        return result

    def __call__(self, value: Any) -> bool:
        """A matcher is also a predicate: True when `value` matches."""
        return self.match(value).ok

    def check(self, value: Any, path: str, result: Result) -> None:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def _fail(self, value: Any, path: str, result: Result) -> None:
        result.mismatches.append(Mismatch(path, self.describe(), value))

    def __repr__(self) -> str:
        """What it expects: a matcher inside a Python subset reads well in a verdict
        ("expected ... containing {'evseId': absent}")."""
        return self.describe()


def as_json(value: Any) -> str:
    """How a verdict shows a value: JSON, as on the wire (a str enum shows its value, not its
    Python repr); what JSON cannot hold shows as text."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _same(expected: Any, value: Any) -> bool:
    # YAML `1` and JSON `1.0` are the same number; but True is not 1.
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(expected) is type(value) and expected == value
    if isinstance(expected, str | datetime) and isinstance(value, str) and expected != value:
        return same_instant(expected, value)  # one dateTime in two spellings (1.6 §2.3)
    return expected == value


class Equals(Matcher):
    def __init__(self, expected: Any) -> None:
        self.expected = expected

    def check(self, value, path, result):
        if value is MISSING or not _same(self.expected, value):
            self._fail(value, path, result)

    def describe(self):
        return as_json(self.expected)


class Regex(Matcher):
    """`re.search`: anchor with ^ and $ when the whole value must match."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def check(self, value, path, result):
        if not isinstance(value, str) or not self.pattern.search(value):
            self._fail(value, path, result)

    def describe(self):
        return f"text matching /{self.pattern.pattern}/"


class Range(Matcher):
    """Inclusive numeric range; `None` leaves a side open. Text holding a number counts as
    that number: OCPP 1.6 sends sampledValue.value as a string (§7.43)."""

    def __init__(self, low: float | None, high: float | None) -> None:
        self.low, self.high = low, high

    def check(self, value, path, result):
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if (
            not number
            or (self.low is not None and value < self.low)
            or (self.high is not None and value > self.high)
        ):
            self._fail(value, path, result)

    def describe(self):
        low = "-inf" if self.low is None else self.low
        high = "+inf" if self.high is None else self.high
        return f"a number in [{low}, {high}]"


class AnyOf(Matcher):
    def __init__(self, options: list[Matcher]) -> None:
        self.options = options

    def check(self, value, path, result):
        for option in self.options:
            attempt = option.match(value, path)
            if attempt.ok:
                result.captures.update(attempt.captures)
                return
        self._fail(value, path, result)

    def describe(self):
        return "any of [" + ", ".join(option.describe() for option in self.options) + "]"


class Present(Matcher):
    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted

    def check(self, value, path, result):
        if (value is not MISSING) != self.wanted:
            self._fail(value, path, result)

    def describe(self):
        return "present" if self.wanted else "absent"


class Capture(Matcher):
    """Remembers the value under `name`; an absent value cannot be captured."""

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, value, path, result):
        if value is MISSING:
            self._fail(value, path, result)
        else:
            result.captures[self.name] = value

    def describe(self):
        return f"a value to capture as {self.name}"


class Some(Matcher):
    """At least one element of a list matches."""

    def __init__(self, inner: Matcher) -> None:
        self.inner = inner

    def check(self, value, path, result):
        if isinstance(value, list):
            for index, item in enumerate(value):
                attempt = self.inner.match(item, f"{path}[{index}]")
                if attempt.ok:
                    result.captures.update(attempt.captures)
                    return
        self._fail(value, path, result)

    def describe(self):
        return f"a list with some element matching {self.inner.describe()}"


class Not(Matcher):
    def __init__(self, inner: Matcher) -> None:
        self.inner = inner

    def check(self, value, path, result):
        if self.inner.match(value, path).ok:
            self._fail(value, path, result)

    def describe(self):
        return f"not {self.inner.describe()}"


class AllOf(Matcher):
    """Several operators in one mapping: each must hold; captures happen only if all do."""

    def __init__(self, parts: list[Matcher]) -> None:
        self.parts = parts

    def check(self, value, path, result):
        # Presence first, so an absent field reports "present" rather than each operator.
        inner = Result()
        for part in self.parts:
            part.check(value, path, inner)
            if inner.mismatches:
                break
        result.mismatches.extend(inner.mismatches)
        if inner.ok:
            result.captures.update(inner.captures)

    def describe(self):
        return " and ".join(part.describe() for part in self.parts)


class Fields(Matcher):
    """An object whose named fields match; other fields are ignored."""

    wants_object = True

    def __init__(self, fields: dict[str, Matcher]) -> None:
        self.fields = fields

    def check(self, value, path, result):
        if not isinstance(value, Mapping):
            self._fail(value, path, result)
            return
        for name, matcher in self.fields.items():
            matcher.check(value.get(name, MISSING), f"{path}.{name}" if path else name, result)

    def describe(self):
        return "an object with " + ", ".join(self.fields)


class Items(Matcher):
    """A list of exactly these elements, each matched in order."""

    def __init__(self, items: list[Matcher]) -> None:
        self.items = items

    def check(self, value, path, result):
        if not isinstance(value, list) or len(value) != len(self.items):
            self._fail(value, path, result)
            return
        for index, (matcher, item) in enumerate(zip(self.items, value, strict=True)):
            matcher.check(item, f"{path}[{index}]", result)

    def describe(self):
        return f"a list of {len(self.items)} elements"


def is_operator_mapping(spec: Any) -> bool:
    """OCPP field names are camelCase, so an all-operator mapping cannot be a payload object."""
    return isinstance(spec, Mapping) and bool(spec) and all(key in OPERATORS for key in spec)


def compile_matcher(spec: Any, path: Path = (), *,
                    placeholder: Placeholder | None = None) -> Matcher:
    """Build a matcher from its YAML spec; `path` prefixes error locations.

    `placeholder` is for load-time checks of specs that still hold placeholders (scenarios:
    `scenarios.values.has_variables`): operands it flags are accepted as they will only be
    known when the step runs.
    """
    lenient = placeholder
    if is_operator_mapping(spec):
        parts = [_operator(name, operand, (*path, name), lenient) for name, operand in spec.items()]
        # present/absent first, capture last: a capture must see every other check pass.
        parts.sort(key=lambda m: (not isinstance(m, Present), isinstance(m, Capture)))
        return parts[0] if len(parts) == 1 else AllOf(parts)
    if isinstance(spec, Mapping):
        return Fields(
            {str(k): compile_matcher(v, (*path, k), placeholder=lenient) for k, v in spec.items()}
        )
    if isinstance(spec, list):
        return Items(
            [compile_matcher(item, (*path, i), placeholder=lenient) for i, item in enumerate(spec)]
        )
    return Equals(spec)


def _operator(name: str, operand: Any, path: Path, lenient: Placeholder | None) -> Matcher:
    placeholder = lenient is not None and lenient(operand)
    if name == "equals":
        return Equals(operand)
    if name == "regex":
        if not isinstance(operand, str):
            raise MatcherSpecError(path, "regex needs a string")
        if placeholder:
            return Regex(".*")
        try:
            return Regex(operand)
        except re.error as error:
            raise MatcherSpecError(path, f"invalid regular expression: {error}") from None
    if name == "range":
        return _range(operand, path, lenient if placeholder else None)
    if name == "any_of":
        if not isinstance(operand, list) or not operand:
            raise MatcherSpecError(path, "any_of needs a non-empty list of values or matchers")
        return AnyOf(
            [compile_matcher(o, (*path, i), placeholder=lenient) for i, o in enumerate(operand)]
        )
    if name in ("present", "absent"):
        if not isinstance(operand, bool):
            raise MatcherSpecError(path, f"{name} needs true or false")
        return Present(operand if name == "present" else not operand)
    if name == "capture":
        if not isinstance(operand, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", operand):
            raise MatcherSpecError(path, "capture needs a variable name (letters, digits, _)")
        return Capture(operand)
    if name == "some":
        return Some(compile_matcher(operand, path, placeholder=lenient))
    return Not(compile_matcher(operand, path, placeholder=lenient))  # "not"


def _range(operand: Any, path: Path, placeholder: Placeholder | None) -> Range:
    if not isinstance(operand, Sequence) or isinstance(operand, str) or len(operand) != 2:
        raise MatcherSpecError(path, "range needs [low, high] (null for an open side)")
    bounds = []
    for bound in operand:
        if placeholder is not None and placeholder(bound):
            bound = None
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            raise MatcherSpecError(path, f"range bound {bound!r} is not a number")
        bounds.append(bound)
    low, high = bounds
    if low is not None and high is not None and low > high:
        raise MatcherSpecError(path, f"range [{low}, {high}] is empty")
    return Range(low, high)


class Predicate(Matcher):
    """A named test of a value, for what the operators cannot say (a serial number compared
    case-insensitively, a sampledValue of some context). An absent value fails; a test that
    raises counts as a failed test, not as a crash of the matcher."""

    def __init__(self, name: str, test: Callable[[Any], Any]) -> None:
        self.name, self.test = name, test

    def check(self, value, path, result):
        try:
            ok = value is not MISSING and bool(self.test(value))
        except Exception:
            ok = False
        if not ok:
            self._fail(value, path, result)

    def describe(self):
        return self.name

    def __repr__(self) -> str:
        return self.name


class Subset(Matcher):
    """A Python subset (`contains()`), described as it was written."""

    def __init__(self, shown: str, inner: Matcher, wants_object: bool) -> None:
        self.shown, self.inner, self.wants_object = shown, inner, wants_object

    def check(self, value, path, result):
        self.inner.check(value, path, result)

    def describe(self):
        return self.shown


def contains(subset: Any) -> Matcher:
    """The matcher of a conformance subset: what the peer must at least have sent.

    A mapping matches an object having those fields (others are ignored); a list matches a list
    with, for each item, some element matching it (in any order, more elements allowed); a
    `Matcher` is itself; another callable is a `Predicate` named by its repr; anything else
    is a value, compared as JSON values (1 == 1.0)."""
    return Subset(repr(subset), _contains(subset), isinstance(subset, Mapping))


def _contains(subset: Any) -> Matcher:
    if isinstance(subset, Matcher):
        return subset
    if callable(subset):
        return Predicate(repr(subset), subset)
    if isinstance(subset, Mapping):
        return Fields({str(key): _contains(value) for key, value in subset.items()})
    if isinstance(subset, list | tuple):
        items = [Some(_contains(item)) for item in subset]
        return AllOf([Kind(list), *items])
    return Equals(subset)


class Kind(Matcher):
    """A value of a JSON type (`list`, `dict`...)."""

    def __init__(self, kind: type) -> None:
        self.kind = kind

    def check(self, value, path, result):
        if not isinstance(value, self.kind):
            self._fail(value, path, result)

    def describe(self):
        return {list: "a list", dict: "an object"}.get(self.kind, self.kind.__name__)


@dataclass(frozen=True, slots=True)
class MessagePattern:
    """What an expectation looks for in a trace: action, direction, frame type, message id and
    payload; a field left None matches anything. A CALLERROR's payload is [code,
    description, details]; a payload matcher that wants an object sees it by its OCPP-J field
    names instead (errorCode, errorDescription, errorDetails: OCPP-J 1.6 §4.2.3)."""

    action: str | None = None
    dir: str | None = None
    type: str | None = None
    payload: Matcher | None = None
    message_id: str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], *,
                  placeholder: Placeholder | None = None) -> MessagePattern:
        """`spec` is an `expect:` mapping; without `dir`/`type`, a CALL in either direction."""
        payload = spec.get("payload")
        return cls(
            action=spec["action"],
            dir=spec.get("dir"),
            type=spec.get("type", "CALL"),
            payload=None
            if payload is None
            else compile_matcher(payload, ("payload",), placeholder=placeholder),
        )

    def match(self, record: TraceRecord) -> Result:
        """Mismatches (empty when it matches) and captures from the payload."""
        result = Result()
        for name, field_name in (("action", "action"), ("dir", "dir"), ("type", "type"),
                                 ("message_id", "id")):
            wanted, got = getattr(self, name), getattr(record, field_name)
            if wanted is not None and got != wanted:
                result.mismatches.append(Mismatch(field_name, as_json(wanted), got))
        if result.ok and self.payload is not None:
            payload = record.payload
            if record.type is MessageType.CALLERROR and self.payload.wants_object:
                payload = record.error
            self.payload.check(payload, "payload", result)
        return result

    def describe(self) -> str:
        text = f"{self.type or 'any frame'} {self.action or ''}".rstrip()
        if self.dir:
            text += f" {self.dir}"
        if self.message_id is not None:
            text += f" id={self.message_id}"
        return text
