"""The metering vocabulary of a simulated charge point, as version-neutral StrEnums.

OCPP 1.6 (SampledValue, §7.43) and 2.0.1 (SampledValueType) use the same words for what a meter
reports: measurands, phases, locations, reading contexts, units. The meter (`sim.ev.Meter`) and
the configuration (`SupportedMeasurands`...) speak these; each member's value is the word both
versions put on the wire, so a version module sends `.value` as it is. Members and values
follow the 1.6 enumerations one for one (`tests/sim/test_vocabulary.py` compares them with the
`ocpp` package's), so every configuration libocpp accepts parses here.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Location", "Measurand", "Phase", "ReadingContext", "UnitOfMeasure", "ValueFormat"]


class Measurand(StrEnum):
    """What a sampled value measures (1.6 §7.31; 2.0.1 MeasurandEnumType: the same words)."""

    current_export = "Current.Export"
    current_import = "Current.Import"
    current_offered = "Current.Offered"
    energy_active_export_register = "Energy.Active.Export.Register"
    energy_active_import_register = "Energy.Active.Import.Register"
    energy_reactive_export_register = "Energy.Reactive.Export.Register"
    energy_reactive_import_register = "Energy.Reactive.Import.Register"
    energy_active_export_interval = "Energy.Active.Export.Interval"
    energy_active_import_interval = "Energy.Active.Import.Interval"
    energy_reactive_export_interval = "Energy.Reactive.Export.Interval"
    energy_reactive_import_interval = "Energy.Reactive.Import.Interval"
    frequency = "Frequency"
    power_active_export = "Power.Active.Export"
    power_active_import = "Power.Active.Import"
    power_factor = "Power.Factor"
    power_offered = "Power.Offered"
    power_reactive_export = "Power.Reactive.Export"
    power_reactive_import = "Power.Reactive.Import"
    rpm = "RPM"
    soc = "SoC"
    temperature = "Temperature"
    voltage = "Voltage"


class Phase(StrEnum):
    """Which phase a value is for (1.6 §7.44; 2.0.1 PhaseEnumType)."""

    l1 = "L1"
    l2 = "L2"
    l3 = "L3"
    n = "N"
    l1_n = "L1-N"
    l2_n = "L2-N"
    l3_n = "L3-N"
    l1_l2 = "L1-L2"
    l2_l3 = "L2-L3"
    l3_l1 = "L3-L1"


class Location(StrEnum):
    """Where a value was measured (1.6 §7.30; 2.0.1 LocationEnumType)."""

    inlet = "Inlet"
    outlet = "Outlet"
    body = "Body"
    cable = "Cable"
    ev = "EV"


class ReadingContext(StrEnum):
    """Why a value was sampled (1.6 §7.41; 2.0.1 ReadingContextEnumType)."""

    interruption_begin = "Interruption.Begin"
    interruption_end = "Interruption.End"
    other = "Other"
    sample_clock = "Sample.Clock"
    sample_periodic = "Sample.Periodic"
    transaction_begin = "Transaction.Begin"
    transaction_end = "Transaction.End"
    trigger = "Trigger"


class ValueFormat(StrEnum):
    """1.6 §7.50 ValueFormat: Raw here (2.0.1 signs values in `signedMeterValue` instead)."""

    raw = "Raw"
    signed_data = "SignedData"


class UnitOfMeasure(StrEnum):
    """The unit of a value (1.6 §7.48; 2.0.1 `UnitOfMeasureType.unit`)."""

    wh = "Wh"
    kwh = "kWh"
    varh = "varh"
    kvarh = "kvarh"
    w = "W"
    kw = "kW"
    va = "VA"
    kva = "kVA"
    var = "var"
    kvar = "kvar"
    a = "A"
    v = "V"
    celsius = "Celsius"
    fahrenheit = "Fahrenheit"
    k = "K"
    percent = "Percent"
