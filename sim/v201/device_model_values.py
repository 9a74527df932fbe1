"""OCPP 2.0.1 device-model values: the checks of one value against its variable's
characteristics (dataType, minLimit/maxLimit, valuesList), shared by the loader and SetVariables.

Values travel as strings (2.0.1 part 2, VariableAttributeType.value, SetVariableDataType
.attributeValue); a check returns None for a good value, else `(reasonCode, additionalInfo)`
with a reasonCode of the part 2 appendix "Reason codes" (InvalidValue, ValueOutOfRange) for the
statusInfo of a Rejected SetVariableResult (B05.FR.07, B05.FR.08).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: DataEnumType of 2.0.1 (part 2 §3 "DataEnumType"); the only dataTypes a variable may have
DATA_TYPES = (
    "string", "decimal", "integer", "dateTime", "boolean", "OptionList", "SequenceList",
    "MemberList",
)
#: dataTypes whose values come from `valuesList` (VariableCharacteristicsType.valuesList)
LIST_TYPES = frozenset({"OptionList", "SequenceList", "MemberList"})
#: dataTypes for which maxLimit (and, as libocpp uses it, minLimit) bounds the string's length
#: (VariableCharacteristicsType.maxLimit: "when the datatype ... is String, OptionList,
#: SequenceList or MemberList, this field defines the maximum length of the (CSV) string")
LENGTH_TYPES = frozenset({"string"}) | LIST_TYPES
#: AttributeEnumType, MutabilityEnumType
ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")
MUTABILITIES = ("ReadOnly", "WriteOnly", "ReadWrite")

_INTEGER = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)\Z")

Problem = tuple[str, str]  # (reasonCode, additionalInfo)


@dataclass(frozen=True, slots=True)
class Characteristics:
    """VariableCharacteristicsType of one variable: fixed, shared by every station that loads
    the same component_config folder."""

    data_type: str
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: tuple[str, ...] | None = None
    supports_monitoring: bool = False

    def to_ocpp(self) -> dict[str, Any]:
        """The VariableCharacteristicsType dict a NotifyReport carries (B07.FR.07/08, B08.FR.12)."""
        out: dict[str, Any] = {"dataType": self.data_type,
                               "supportsMonitoring": self.supports_monitoring}
        if self.unit is not None:
            out["unit"] = self.unit
        if self.min_limit is not None:
            out["minLimit"] = _number(self.min_limit)
        if self.max_limit is not None:
            out["maxLimit"] = _number(self.max_limit)
        if self.values_list is not None:
            out["valuesList"] = ",".join(self.values_list)
        return out


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def to_text(value: Any) -> str:
    """A JSON scalar of a libocpp file (true, 60, 42.5, "x") as the OCPP string it stands for."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(_number(value))
    return str(value)


def list_items(value: str) -> list[str]:
    """The members of a comma separated list value ("" is the empty list)."""
    return [item.strip() for item in value.split(",")] if value.strip() else []


def parse_datetime(value: str) -> datetime | None:
    """An RFC 3339 date-time (2.0.1 part 2 §2.1.3 "dateTime"), or None when it is not one."""
    if "T" not in value and "t" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def check_value(ch: Characteristics, value: str) -> Problem | None:
    """Why `value` is not a value of a variable with characteristics `ch` (None: it is)."""
    dt = ch.data_type
    if dt == "integer" or dt == "decimal":
        if not (_INTEGER if dt == "integer" else _DECIMAL).match(value):
            return "InvalidValue", f"{value!r} is not {'an' if dt == 'integer' else 'a'} {dt}"
        number = float(value)
        if not math.isfinite(number):
            return "InvalidValue", f"{value!r} is not a finite {dt}"
        if ch.min_limit is not None and number < ch.min_limit:
            return "ValueOutOfRange", f"{value} is below minLimit {_number(ch.min_limit)}"
        if ch.max_limit is not None and number > ch.max_limit:
            return "ValueOutOfRange", f"{value} is above maxLimit {_number(ch.max_limit)}"
        return None
    if dt == "boolean":
        return None if value in ("true", "false") else (
            "InvalidValue", f"{value!r} is not a boolean (true or false)")
    if dt == "dateTime":
        return None if parse_datetime(value) else (
            "InvalidValue", f"{value!r} is not an RFC 3339 date-time with a time zone")
    if dt in LENGTH_TYPES:
        length = len(value)
        if ch.max_limit is not None and length > ch.max_limit:
            return "ValueOutOfRange", f"{length} characters, maxLimit is {_number(ch.max_limit)}"
        if ch.min_limit is not None and length < ch.min_limit:
            return "ValueOutOfRange", f"{length} characters, minLimit is {_number(ch.min_limit)}"
    if dt in LIST_TYPES:
        return _check_list(dt, ch.values_list or (), value)
    return None


def _check_list(dt: str, allowed: tuple[str, ...], value: str) -> Problem | None:
    # valuesList: OptionList one value of the list; MemberList an unordered, SequenceList an
    # ordered (sub-)set of it (VariableCharacteristicsType.valuesList)
    if dt == "OptionList":
        if value.strip() in allowed:
            return None
        return "InvalidValue", f"{value!r} is not one of {','.join(allowed)}"
    items = list_items(value)
    unknown = [item for item in items if item not in allowed]
    if unknown:
        return "InvalidValue", f"{','.join(unknown)} not in {','.join(allowed)}"
    if len(set(items)) != len(items):
        return "InvalidValue", f"{value!r} names a member twice"
    return None
