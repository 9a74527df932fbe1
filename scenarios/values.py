"""Scalar conventions of the scenario language: durations and `${variable}` substitution.

Both are sans-I/O and shared by the loader (which checks them before anything runs) and the
runner (which applies them when a step executes, because captured values only exist then).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["UnknownVariable", "has_variables", "parse_duration", "references", "substitute"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$")
#: How deep variables may refer to variables (a cycle stops here instead of looping).
_MAX_DEPTH = 8
#: `${name}`, `${files.http}` (dotted: set by the runner), `${now+10m}` (a clock with an offset)
_VARIABLE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)([+-][0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))?\}"
)


class UnknownVariable(KeyError):
    """A `${name}` was used before anything set or captured it: fix the step order."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"variable ${{{self.name}}} is not set (capture or set it in an earlier step)"


def parse_duration(value: float | int | str) -> float:
    """Seconds of simulated time for `90`, `1.5`, `500ms`, `30s`, `15m`, `2h` or `1d`."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return float(value)
    found = _DURATION.match(str(value).strip())
    if not found:
        raise ValueError(f"not a duration: {value!r} (use seconds, or 500ms, 30s, 15m, 2h, 1d)")
    return float(found.group(1)) * _UNITS[found.group(2)]


def has_variables(value: Any) -> bool:
    """True when `value` (or anything inside it) still holds a `${name}` placeholder."""
    if isinstance(value, str):
        return _VARIABLE.search(value) is not None
    if isinstance(value, Mapping):
        return any(has_variables(k) or has_variables(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_variables(item) for item in value)
    return False


def references(text: str) -> list[str]:
    """The variable names `text` refers to (`${now+10m}` refers to `now`)."""
    return [found.group(1) for found in _VARIABLE.finditer(text)]


def substitute(value: Any, variables: Mapping[str, Any], _depth: int = 0) -> Any:
    """`value` with every `${name}` replaced; raises `UnknownVariable` for an unset name.

    A string that is exactly one placeholder takes the variable's own value and type, so a
    captured integer transactionId goes back into a payload as an integer, not as text. A
    variable whose value holds placeholders itself (`with: {tag: "T-${cp}"}`) is resolved where
    it is used, so it can name the charge point the step runs on.
    """
    if isinstance(value, str):
        whole = _VARIABLE.fullmatch(value)
        if whole:
            return _lookup(variables, whole.group(1), _depth, whole.group(2))
        return _VARIABLE.sub(
            lambda m: str(_lookup(variables, m.group(1), _depth, m.group(2))), value
        )
    if isinstance(value, Mapping):
        return {
            substitute(k, variables, _depth): substitute(v, variables, _depth)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [substitute(item, variables, _depth) for item in value]
    return value


def _lookup(variables: Mapping[str, Any], name: str, depth: int, offset: str | None = None
            ) -> Any:
    try:
        value = variables[name]
    except KeyError:
        raise UnknownVariable(name) from None
    if callable(value):  # a computed variable: `${now}`, `${now+10m}` (simulated time)
        seconds = 0.0 if offset is None else parse_duration(offset[1:])
        return value(-seconds if offset and offset[0] == "-" else seconds)
    if offset is not None:
        raise UnknownVariable(f"{name}{offset}")
    if depth < _MAX_DEPTH and has_variables(value):
        return substitute(value, variables, depth + 1)
    return value
