"""Typed query and path parameters, declared once: parsed for the endpoint, listed in OpenAPI.

A bad value is an `ApiError(422)` naming the parameter, so every route reports bad input the
same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from csms.api.jsonio import ApiError
from csms.store.timestamps import parse_ts

_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True, slots=True)
class Param:
    """One query (or path) parameter.

    `match` says how an in-memory listing compares it with `field` of each row: `eq`,
    `contains` (case-insensitive substring), `since` (row >= value), `until` (row < value).
    Listings whose store query filters and pages (transactions, log) pass it to the store.
    """

    name: str
    type: str = "string"  # string | integer | number | boolean | date-time
    description: str = ""
    enum: tuple[str, ...] | None = None
    match: str = "eq"
    field: str | None = None
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None

    @property
    def key(self) -> str:
        return self.field or self.name

    def parse(self, raw: str | None) -> Any:
        """The typed value of `raw` (absent: the default); `?name=` is a value like any other
        (an empty string, which only a string parameter without bounds takes)."""
        if raw is None:
            if self.required:
                raise ApiError(422, f"{self.name} is required", field=self.name)
            return self.default
        if self.type in ("integer", "number"):
            try:
                value: Any = _integer(raw) if self.type == "integer" else float(raw)
            except ValueError:
                kind = "an integer" if self.type == "integer" else "a number"
                raise ApiError(422, f"{self.name} must be {kind}", field=self.name) from None
            if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
                raise ApiError(422, f"{self.name} must be a finite number", field=self.name)
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise ApiError(
                    422,
                    f"{self.name} out of range [{self.minimum}, {self.maximum}]",
                    field=self.name,
                )
            return value
        if self.type == "boolean":
            if raw.lower() not in _BOOLS:
                raise ApiError(422, f"{self.name} must be true or false", field=self.name)
            return _BOOLS[raw.lower()]
        if self.type == "date-time":
            value = parse_date_time(raw)
            if value is None:
                raise ApiError(
                    422, f"{self.name} must be an RFC 3339 date-time", field=self.name
                )
            return value
        if self.enum is not None and raw not in self.enum:
            raise ApiError(422, f"{self.name} must be one of {list(self.enum)}", field=self.name)
        if (self.min_length is not None and len(raw) < self.min_length) or (
            self.max_length is not None and len(raw) > self.max_length
        ):
            raise ApiError(
                422,
                f"{self.name} must be {self.min_length or 0} to {self.max_length} characters",
                field=self.name,
            )
        return raw

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        if self.type == "date-time":
            schema = {"type": "string", "format": "date-time"}
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def matches(self, row: Mapping[str, Any], value: Any) -> bool:
        """Does `row` pass this filter with `value` (in-memory listings)?"""
        have = row.get(self.key)
        if self.match == "contains":
            return have is not None and str(value).lower() in str(have).lower()
        if self.match in ("since", "until"):
            if have is None:
                return False
            moment = parse_ts(have) if not isinstance(have, datetime) else have
            return moment >= value if self.match == "since" else moment < value
        if isinstance(value, bool):
            return bool(have) is value
        return have == value if not isinstance(have, str) else have == str(value)


# RFC 3339 §5.6 date-time (what OpenAPI's `format: date-time` means): T and Z in either case
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_date_time(raw: str) -> datetime | None:
    """An aware UTC datetime from an RFC 3339 date-time, else None. A leap second (:60) is
    read as :59; a fraction beyond microseconds is cut; a time past year 9999 in UTC is
    clamped to the end of that year."""
    match = _RFC3339.fullmatch(raw)
    if match is None:
        return None
    day, minutes, seconds, fraction, offset = match.groups()
    seconds = "59" if seconds == "60" else seconds
    fraction = (fraction or "")[:7]
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        value = datetime.fromisoformat(f"{day}T{minutes}:{seconds}{fraction}{offset}")
    except ValueError:
        return None
    try:
        return parse_ts(value)
    except OverflowError:
        edge = datetime.max if value.year > 1 else datetime.min
        return edge.replace(tzinfo=UTC)


def parse_all(params: tuple[Param, ...], source: Any) -> dict[str, Any]:
    """{name: parsed value} for every declared parameter, from a query or path mapping."""
    return {param.name: param.parse(source.get(param.name)) for param in params}


#: an integer written with a zero fraction ("-3610.0"): JSON Schema's integer is any number
#: whose fractional part is zero, so an OpenAPI client may spell one so
_ZERO_FRACTION = re.compile(r"(-?\d+)\.0+")


def _integer(raw: str) -> int:
    """`raw` as an int (ValueError when it is none), "5.0" too."""
    whole = _ZERO_FRACTION.fullmatch(raw.strip())
    return int(whole.group(1) if whole else raw)
