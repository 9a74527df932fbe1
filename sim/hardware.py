"""The hardware section of a virtual charge point: what the OCPP config file cannot say.

Build it with `Hardware.from_dict()` (a fleet template's `hardware:` mapping) or
`Hardware.from_yaml()`; invalid values raise `HardwareError` naming the field. Leave a field out
to get a sensible default for the current type (AC: 3 × 230 V × 32 A; DC: 500 V × 125 A).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Cable", "CurrentType", "Hardware", "HardwareError"]


class HardwareError(ValueError):
    """A hardware field is invalid; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"hardware.{field}: {reason}")
        self.field = field
        self.reason = reason


class CurrentType(enum.StrEnum):
    AC = "AC"
    DC = "DC"


class Cable(enum.StrEnum):
    """Fixed cable: UnlockConnectorOnEVSideDisconnect is read-only false (1.6 errata 3.84)."""

    FIXED = "fixed"
    SOCKET = "socket"


_DEFAULTS = {
    CurrentType.AC: {"phases": 3, "nominal_voltage_v": 230.0, "max_current_a": 32.0},
    CurrentType.DC: {"phases": 1, "nominal_voltage_v": 500.0, "max_current_a": 125.0},
}


@dataclass(frozen=True, kw_only=True)
class Hardware:
    """Electrical ratings are per connector. AC voltage is line-to-neutral, current per phase."""

    # Layout
    connectors: int = 1
    current_type: CurrentType = CurrentType.AC
    cable: Cable = Cable.SOCKET
    connector_type: str | None = None  # free text: Type2, Type1, CCS2, CHAdeMO...
    # Electrical (None: default for the current type)
    phases: int | None = None
    nominal_voltage_v: float | None = None
    max_current_a: float | None = None
    max_power_w: float | None = None  # None: phases × voltage × current
    frequency_hz: float = 50.0
    power_factor: float = 0.99
    # Meter (BootNotification meterType / meterSerialNumber, 1.6 §6.3: CiString25)
    meter_type: str | None = None
    meter_serial: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            set_(self, "current_type", CurrentType(str(self.current_type).upper()))
        except ValueError:
            raise HardwareError("current_type", "must be AC or DC") from None
        try:
            set_(self, "cable", Cable(str(self.cable).lower()))
        except ValueError:
            raise HardwareError("cable", "must be fixed or socket") from None
        for name, default in _DEFAULTS[self.current_type].items():
            if getattr(self, name) is None:
                set_(self, name, default)
        if self.connector_type is None:
            set_(self, "connector_type", "Type2" if self.is_ac else "CCS2")
        if self.meter_type is None:
            set_(self, "meter_type", f"{self.current_type} meter")
        if self.max_power_w is None:
            set_(self, "max_power_w", self.rated_power_w)
        self._validate()

    @property
    def is_ac(self) -> bool:
        return self.current_type is CurrentType.AC

    @property
    def rated_power_w(self) -> float:
        """What the ratings allow: phases × V × I (AC, before power factor) or V × I (DC)."""
        assert self.phases and self.nominal_voltage_v and self.max_current_a
        return self.phases * self.nominal_voltage_v * self.max_current_a

    def _validate(self) -> None:
        _int_at_least("connectors", self.connectors, 1)
        _int_at_least("phases", self.phases, 1)
        if self.is_ac and self.phases not in (1, 3):
            raise HardwareError("phases", "AC has 1 or 3 phases")
        if not self.is_ac and self.phases != 1:
            raise HardwareError("phases", "DC has no phases: leave it out or set 1")
        _positive("nominal_voltage_v", self.nominal_voltage_v, 1000.0)
        _positive("max_current_a", self.max_current_a, 1000.0)
        _positive("max_power_w", self.max_power_w, math.inf)
        assert self.max_power_w is not None
        if self.max_power_w > self.rated_power_w + 1e-6:
            raise HardwareError(
                "max_power_w",
                f"{self.max_power_w:g} W exceeds phases × voltage × current "
                f"({self.rated_power_w:g} W)",
            )
        _positive("frequency_hz", self.frequency_hz, 100.0)
        _positive("power_factor", self.power_factor, 1.0)
        for name in ("connector_type", "meter_type", "meter_serial"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and 0 < len(value) <= 25):
                raise HardwareError(name, "must be a string of 1 to 25 characters")

    # Loading -----------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Hardware:
        """Build from a mapping; unknown fields raise HardwareError (typos do not pass silently).

        Keys starting with "x-" are kept in `extra` for other parts (e.g. an EV model section).
        """
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        extra = {k: data.pop(k) for k in list(data) if str(k).startswith("x-")}
        for key in data:
            if key not in known:
                raise HardwareError(str(key), "unknown field")
        return cls(**data, extra=extra)

    @classmethod
    def from_yaml(cls, source: str | Path) -> Hardware:
        """Build from YAML text, or from a YAML file when given a Path."""
        text = source.read_text("utf-8") if isinstance(source, Path) else source
        data = yaml.safe_load(text)
        if data is not None and not isinstance(data, Mapping):
            raise HardwareError("<document>", "must be a mapping of hardware fields")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, suitable for YAML/JSON, that `from_dict` reads back."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        out["current_type"] = str(self.current_type)
        out["cable"] = str(self.cable)
        return {**out, **self.extra}


def _int_at_least(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise HardwareError(name, f"must be an integer >= {minimum}, not {value!r}")


def _positive(name: str, value: Any, maximum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HardwareError(name, f"must be a number, not {value!r}")
    if not (0 < value <= maximum):
        raise HardwareError(name, f"must be > 0 and <= {maximum:g}, not {value!r}")
