"""Normalise OCPP 1.6 sampled values to base units (seeds/001 §5.2), exactly, with Decimal.

A charger may report energy in Wh or kWh, power in W or kW, current in A or mA: reports and
billing compare readings, so every stored reading also gets `norm_value` in Wh / varh / W / var /
VA / A / V / Celsius / Percent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

# OCPP 1.6 SampledValue type (§7): defaults of the optional fields.
DEFAULT_MEASURAND = "Energy.Active.Import.Register"
DEFAULT_CONTEXT = "Sample.Periodic"
DEFAULT_LOCATION = "Outlet"
DEFAULT_FORMAT = "Raw"

_KILO = Decimal(1000)
_MILLI = Decimal("0.001")

# unit as sent -> (factor, base unit). mA/mV are not in the 1.6 enumeration but seeds/001 §5.2
# lists them as reported by real chargers; "Celcius" is how some 1.6 implementations spell it.
_SCALE: dict[str, tuple[Decimal, str]] = {
    "Wh": (Decimal(1), "Wh"),
    "kWh": (_KILO, "Wh"),
    "varh": (Decimal(1), "varh"),
    "kvarh": (_KILO, "varh"),
    "W": (Decimal(1), "W"),
    "kW": (_KILO, "W"),
    "VA": (Decimal(1), "VA"),
    "kVA": (_KILO, "VA"),
    "var": (Decimal(1), "var"),
    "kvar": (_KILO, "var"),
    "A": (Decimal(1), "A"),
    "mA": (_MILLI, "A"),
    "V": (Decimal(1), "V"),
    "mV": (_MILLI, "V"),
    "Percent": (Decimal(1), "Percent"),
    "Celsius": (Decimal(1), "Celsius"),
    "Celcius": (Decimal(1), "Celsius"),
}

# When `unit` is omitted. The spec's default is "Wh", which is right for energy registers and
# meaningless for a Voltage sample, so the base unit of the measurand is used instead.
_MEASURAND_UNIT = (
    ("Energy.Active", "Wh"),
    ("Energy.Reactive", "varh"),
    ("Power.Active", "W"),
    ("Power.Offered", "W"),
    ("Power.Reactive", "var"),
    ("Current", "A"),
    ("Voltage", "V"),
    ("SoC", "Percent"),
    ("Temperature", "Celsius"),
)


def plain(value: Decimal) -> str:
    """Decimal as plain text without exponent or trailing zeros (`3730`, not `3.73E+3`)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def normalise(value: str, measurand: str, unit: str | None) -> tuple[str | None, str | None]:
    """(value, unit) in base units as Decimal text; (None, unit) if the value is not a number.

    `value` is the sampledValue text (format Raw); SignedData or garbage yields no number.
    """
    if unit is None:
        base = next((u for prefix, u in _MEASURAND_UNIT if measurand.startswith(prefix)), None)
        unit = base
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        return None, unit
    if not number.is_finite():
        return None, unit
    if unit == "K":
        return plain(number - Decimal("273.15")), "Celsius"
    if unit == "Fahrenheit":
        celsius = ((number - 32) * 5 / 9).quantize(Decimal("0.001"))
        return plain(celsius), "Celsius"
    if unit in _SCALE:
        factor, base_unit = _SCALE[unit]
        return plain(number * factor), base_unit
    return plain(number), unit  # unitless measurands (Frequency, RPM, Power.Factor)


def flatten(meter_values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per sampledValue of OCPP `meterValue` / `transactionData` (wire camelCase shape).

    Spec defaults are filled in for measurand, context, location and format, so a query for
    `Energy.Active.Import.Register` also finds samples that left the measurand implicit.
    """
    rows: list[dict[str, Any]] = []
    for meter_value in meter_values:
        timestamp = meter_value["timestamp"]
        for sample in meter_value.get("sampledValue", ()):
            measurand = sample.get("measurand") or DEFAULT_MEASURAND
            unit = sample.get("unit")
            fmt = sample.get("format") or DEFAULT_FORMAT
            if fmt == DEFAULT_FORMAT:
                norm_value, norm_unit = normalise(sample["value"], measurand, unit)
            else:
                norm_value, norm_unit = None, None
            rows.append(
                {
                    "timestamp": timestamp,
                    "value": sample["value"],
                    "measurand": measurand,
                    "phase": sample.get("phase"),
                    "unit": unit,
                    "context": sample.get("context") or DEFAULT_CONTEXT,
                    "location": sample.get("location") or DEFAULT_LOCATION,
                    "format": fmt,
                    "norm_value": norm_value,
                    "norm_unit": norm_unit,
                }
            )
    return rows


def has_energy_register(meter_values: Iterable[Mapping[str, Any]]) -> bool:
    """Whether any sampledValue of `meter_values` (wire shape) is the energy register (the
    measurand left out is the register, its default)."""
    return any((sample.get("measurand") or DEFAULT_MEASURAND) == DEFAULT_MEASURAND
               for value in meter_values for sample in value.get("sampledValue", ()))  # fmt: skip
