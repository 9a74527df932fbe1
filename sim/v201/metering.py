"""2.0.1 meter values from the version-neutral meter model (`sim.ev.Meter`).

The meter physics and the measurand names are shared with 1.6 (the measurands, phases, reading
contexts and locations of 2.0.1 part 2 §3.48-§3.71 keep the 1.6 names); only the shape of a
reading differs: 2.0.1 SampledValueType has a number `value` and a `unitOfMeasure` object where
1.6 has a string value, a `format` and a `unit`. `meter_value()` gives one MeterValueType for the
SampledDataCtrlr measurand list of the moment (TxStartedMeasurands, TxUpdatedMeasurands,
TxEndedMeasurands).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargebench.clock import iso
from sim.ev import Meter
from sim.measures import ReadingContext

__all__ = ["BEGIN", "CLOCK", "END", "PERIODIC", "TRIGGER", "meter_value", "sampled_value_201"]

BEGIN = ReadingContext.transaction_begin
PERIODIC = ReadingContext.sample_periodic
END = ReadingContext.transaction_end
CLOCK = ReadingContext.sample_clock
TRIGGER = ReadingContext.trigger

#: the 1.6 unit names that 2.0.1's standardized units (appendix 2.13) spell otherwise
_UNITS = {"Celcius": "Celsius"}


def sampled_value_201(reading: dict[str, Any]) -> dict[str, Any]:
    """A 1.6-shaped reading of `Meter.sample()` as a 2.0.1 SampledValueType."""
    out: dict[str, Any] = {"value": float(reading["value"])}
    for key in ("context", "measurand", "phase", "location"):
        if key in reading:
            out[key] = str(reading[key])
    if "unit" in reading:
        unit = str(reading["unit"])
        out["unitOfMeasure"] = {"unit": _UNITS.get(unit, unit)}
    return out


def meter_value(meter: Meter, measurands: list[str], context: ReadingContext,
                timestamp: datetime) -> dict[str, Any] | None:
    """One MeterValueType of `measurands` now; None when the meter has none of them (a
    MeterValueType needs at least one sampledValue)."""
    readings = [sampled_value_201(r) for r in meter.sample(measurands, context=context)]
    if not readings:
        return None
    return {"timestamp": iso(timestamp), "sampledValue": readings}
