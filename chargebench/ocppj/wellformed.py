"""What a frame must be beyond "json.loads accepted it": Unicode text, shallow, holdable numbers.

Python's JSON parser accepts three things no OCPP peer can be expected to carry on:
- `"\\ud800"`: an escaped lone UTF-16 surrogate becomes a `str` that cannot be encoded as UTF-8
  (RFC 8259 §8.2, RFC 7493 §2.1), so the reply, the trace record or the store write that echoes
  it raises `UnicodeEncodeError`;
- arrays nested hundreds deep: the schema validator (jsonschema-rs) gives up with
  `ValueError: Recursion limit reached`, and encoding them again may raise `RecursionError`;
- integers of any size and `1e999` (infinity): SQLite holds signed 64 bits
  (`OverflowError: Python int too large to convert to SQLite INTEGER`), JSON has no infinity.

`check_frame()` finds the first such problem. A regular expression over the text decides
whether the walk over the parsed frame is needed, so an ordinary frame pays one regex search.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chargebench.ocppj.faults import Fault

#: No OCPP 1.6 or 2.0.1 message nests deeper than ~8 (frame array, payload, chargingProfile,
#: chargingSchedule, periods, period...); 32 leaves room and stays far below every recursion
#: limit of the parser, the validator and the encoder.
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# An escaped high or low surrogate, a run of 19+ digits (|n| >= 10**18) or an exponent of 3+
# digits (1e400 is infinity as a double): the only spellings of the faults above.
_SUSPECT = re.compile(r"\\u[dD][89a-fA-F]|\d{19}|[eE][+-]?\d{3}")
#: enough brackets that the nesting could exceed MAX_DEPTH
_BRACKETS = MAX_DEPTH


def has_lone_surrogate(text: str) -> bool:
    """True if `text` holds a code point UTF-8 cannot encode (a surrogate on its own)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def suspect(text: str) -> bool:
    """Cheap test: could the frame `text` hold one of the problems `check_frame` finds?"""
    return (
        _SUSPECT.search(text) is not None
        or text.count("[") + text.count("{") > _BRACKETS
    )


def check_frame(value: Any) -> tuple[Fault, str] | None:
    """The first problem in a parsed frame as (fault, detail), or None.

    Iterative, so a frame nested arbitrarily deep cannot exhaust the Python stack here.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        kind = type(item)
        if kind is str:
            if has_lone_surrogate(item):
                return Fault.LONE_SURROGATE, f"{path or '(frame)'}: lone surrogate in a string"
        elif kind is int:
            if not INT64_MIN <= item <= INT64_MAX:
                return Fault.BEYOND_INT64, f"{path}: integer beyond 64 bits"
        elif kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                return Fault.BEYOND_INT64, f"{path}: number beyond a double"
        elif kind is list or kind is dict:
            if depth > MAX_DEPTH:
                return Fault.TOO_DEEP, f"nested deeper than {MAX_DEPTH}"
            if kind is dict:
                for key, child in item.items():
                    if has_lone_surrogate(key):
                        return Fault.LONE_SURROGATE, f"{path or '(frame)'}: lone surrogate in a key"
                    stack.append((child, depth + 1, f"{path}.{key}" if path else key))
            else:
                for index, child in enumerate(item):
                    stack.append((child, depth + 1, f"{path}[{index}]"))
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # RFC 8259 §6


_decode = json.JSONDecoder(parse_constant=_no_constant).decode


def parse(text: str) -> Any:
    """JSON text embedded in a payload (DataTransfer `data`) read by the rules frames are read
    by: `ValueError` (with a reason fit for a reply) for anything a frame would be refused for."""
    try:
        value = _decode(text)
    except RecursionError:
        raise ValueError(Fault.TOO_DEEP.value) from None
    except ValueError:
        raise ValueError("not JSON") from None
    if suspect(text):
        problem = check_frame(value)
        if problem is not None:
            raise ValueError(problem[0].value)
    return value
