"""Field matchers for `expect:`, `expect_not:`, `assert:` and command replies (sans-I/O).

A matcher spec is plain YAML data. A mapping whose keys are all operator names is an operator
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
trace record (action, direction, frame type, payload).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chargebench.clock import same_instant
from chargebench.trace import TraceRecord
from chargebench.yamlpos import dotted
from scenarios.values import has_variables

__all__ = [
    "OPERATORS",
    "Matcher",
    "MatcherSpecError",
    "MessagePattern",
    "Mismatch",
    "as_json",
    "compile_matcher",
]

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

    def match(self, value: Any, path: str = "") -> Result:
        result = Result()
        self.check(value, path, result)
        return result

    def check(self, value: Any, path: str, result: Result) -> None:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def _fail(self, value: Any, path: str, result: Result) -> None:
        result.mismatches.append(Mismatch(path, self.describe(), value))


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


def compile_matcher(spec: Any, path: Path = (), *, lenient: bool = False) -> Matcher:
    """Build a matcher from its YAML spec; `path` prefixes error locations.

    `lenient=True` is for load-time checks of specs that still hold `${name}` placeholders:
    those operands are accepted as they will only be known when the step runs.
    """
    if is_operator_mapping(spec):
        parts = [_operator(name, operand, (*path, name), lenient) for name, operand in spec.items()]
        # present/absent first, capture last: a capture must see every other check pass.
        parts.sort(key=lambda m: (not isinstance(m, Present), isinstance(m, Capture)))
        return parts[0] if len(parts) == 1 else AllOf(parts)
    if isinstance(spec, Mapping):
        return Fields(
            {str(k): compile_matcher(v, (*path, k), lenient=lenient) for k, v in spec.items()}
        )
    if isinstance(spec, list):
        return Items(
            [compile_matcher(item, (*path, i), lenient=lenient) for i, item in enumerate(spec)]
        )
    return Equals(spec)


def _operator(name: str, operand: Any, path: Path, lenient: bool) -> Matcher:
    placeholder = lenient and has_variables(operand)
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
        return _range(operand, path, placeholder)
    if name == "any_of":
        if not isinstance(operand, list) or not operand:
            raise MatcherSpecError(path, "any_of needs a non-empty list of values or matchers")
        return AnyOf(
            [compile_matcher(o, (*path, i), lenient=lenient) for i, o in enumerate(operand)]
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
        return Some(compile_matcher(operand, path, lenient=lenient))
    return Not(compile_matcher(operand, path, lenient=lenient))  # "not"


def _range(operand: Any, path: Path, placeholder: bool) -> Range:
    if not isinstance(operand, Sequence) or isinstance(operand, str) or len(operand) != 2:
        raise MatcherSpecError(path, "range needs [low, high] (null for an open side)")
    bounds = []
    for bound in operand:
        if placeholder and has_variables(bound):
            bound = None
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            raise MatcherSpecError(path, f"range bound {bound!r} is not a number")
        bounds.append(bound)
    low, high = bounds
    if low is not None and high is not None and low > high:
        raise MatcherSpecError(path, f"range [{low}, {high}] is empty")
    return Range(low, high)


@dataclass(frozen=True, slots=True)
class MessagePattern:
    """What an `expect:` looks for in the trace: action, direction, frame type and payload."""

    action: str
    dir: str | None = None
    type: str | None = None
    payload: Matcher | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], *, lenient: bool = False) -> MessagePattern:
        """`spec` is an `expect:` mapping; without `dir`/`type`, a CALL in either direction."""
        payload = spec.get("payload")
        return cls(
            action=spec["action"],
            dir=spec.get("dir"),
            type=spec.get("type", "CALL"),
            payload=None
            if payload is None
            else compile_matcher(payload, ("payload",), lenient=lenient),
        )

    def match(self, record: TraceRecord) -> Result:
        """Mismatches (empty when it matches) and captures from the payload."""
        result = Result()
        for name in ("action", "dir", "type"):
            wanted = getattr(self, name)
            if wanted is not None and getattr(record, name) != wanted:
                result.mismatches.append(Mismatch(name, as_json(wanted), getattr(record, name)))
        if result.ok and self.payload is not None:
            self.payload.check(record.payload, "payload", result)
        return result

    def describe(self) -> str:
        text = f"{self.type or 'any frame'} {self.action}"
        if self.dir:
            text += f" {self.dir}"
        return text
