"""What a schema-valid CSMS CALL may still carry that this charge point cannot hold.

The 1.6 JSON schemas say only "integer" for connectorId, duration, reservationId, requestId and
the like: -5, -2^63 and 2^70 all pass them. A charge point holds such values in fixed-width
fields (libocpp: `int32_t`), and the 1.6 text gives most of them a lower bound (connectorId ≥ 0
§6.x; a duration in seconds). `check(payload)` runs before any handler and raises the CALLERROR
OCPP-J prescribes for "a field contains an invalid value": PropertyConstraintViolation
(OCPP-J 1.6 §4.2.3; errata 3.34 names it for an invalid connectorId in SetChargingProfile).
Values inside the bounds but not known to this charge point (connector 7 of 2) are left to the
handler, which gives the answer the spec gives (Rejected, NotSupported...).

Sans-I/O: a pure function of the payload.
"""

from __future__ import annotations

from typing import Any

from chargebench.ocppj import OcppCallError

__all__ = ["INT_MAX", "INT_MIN", "NON_NEGATIVE", "check"]

#: The charge point's integers are 32-bit signed, as libocpp's `int32_t` fields.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: Fields 1.6 defines as counts, ids of things or durations: never below zero (§5, §6, §7).
NON_NEGATIVE = frozenset({
    "connectorId", "duration", "retries", "retryInterval", "stackLevel", "chargingProfileId",
    "listVersion", "numberPhases", "startPeriod", "minChargingRate", "limit", "requestId",
})
#: Deepest nesting a 1.6 payload reaches (SetChargingProfile: 5); anything deeper is not 1.6.
_MAX_DEPTH = 16


def check(payload: Any) -> None:
    """Raise `OcppCallError(PropertyConstraintViolation)` naming the first field whose value
    this charge point cannot hold; return quietly otherwise."""
    problem = _first_problem(payload, "", 0)
    if problem is not None:
        raise OcppCallError("PropertyConstraintViolation", problem)


def _first_problem(value: Any, path: str, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return f"{path or 'payload'}: nested too deeply"
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if type(item) is int:
                if not INT_MIN <= item <= INT_MAX:
                    return f"{where}: {_short(item)} does not fit a 32-bit integer"
                if item < 0 and key in NON_NEGATIVE:
                    return f"{where}: {item} is negative"
            elif isinstance(item, float) and key in NON_NEGATIVE and item < 0:
                return f"{where}: {item} is negative"
            else:
                problem = _first_problem(item, where, depth + 1)
                if problem is not None:
                    return problem
    elif isinstance(value, list):
        for n, item in enumerate(value):
            where = f"{path}[{n}]"
            if type(item) is int and not INT_MIN <= item <= INT_MAX:
                return f"{where}: {_short(item)} does not fit a 32-bit integer"
            problem = _first_problem(item, where, depth + 1)
            if problem is not None:
                return problem
    return None


def _short(number: int) -> str:
    """A huge integer named by its size, not its digits (a reply stays small, and CPython
    refuses to print integers of more than 4,300 digits)."""
    if abs(number) < 10**18:
        return str(number)
    return f"{'-' if number < 0 else ''}2^{number.bit_length() - 1}-sized integer"
