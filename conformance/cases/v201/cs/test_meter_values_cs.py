"""OCPP 2.0.1 part 6 §2.11, J MeterValues, with a Charging Station under test: the sampled
meter values of a transaction (J02) and the clock-aligned ones (J01). TC_J_03_CS (clock-aligned
values in the Ended event, AlignedDataCtrlr.TxEndedInterval) is not implemented: our station
does not keep them."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

import pytest

from conformance.expect import Mismatch
from conformance.v201.states import (
    Cs,
    charging,
    energy_transfer_started,
    ev_connected_pre_session,
    stop_authorized,
)


def _measurands(cs: Cs, variable: str, component: str = "SampledDataCtrlr") -> list[str]:
    value = cs.var(component, variable) or ""
    return [m.strip() for m in value.split(",") if m.strip()]


def _check(meter_values: list[dict], contexts: set[str], measurands: list[str],
           where: str) -> None:
    """Every configured measurand sampled (the measurand field may be omitted for
    Energy.Active.Import.Register, its default), the context one of `contexts`."""
    seen = {s.get("measurand", "Energy.Active.Import.Register")
            for value in meter_values for s in value["sampledValue"]}
    missing = [m for m in measurands if m not in seen]
    if missing:
        raise Mismatch(f"{where}: no sampledValue of {missing} (configured: {measurands})",
                       f"a sampledValue per configured measurand in {where}")
    found = {s.get("context", "Sample.Periodic") for value in meter_values
             for s in value["sampledValue"]}
    if not found & contexts:
        raise Mismatch(f"{where}: sampledValue contexts {sorted(found)}, expected "
                       f"{sorted(contexts)}", f"context {sorted(contexts)}")


@pytest.mark.octt("TC_J_07_CS")
async def test_started_meter_values(cs: Cs):
    """TC_J_07_CS: EVConnectedPreSession, EnergyTransferStarted: the Started event carries
    meterValue with context Transaction.Begin and the TxStartedMeasurands (J02.FR.?)."""
    await ev_connected_pre_session(cs)
    from conformance.v201.states import authorized

    await authorized(cs)
    await energy_transfer_started(cs)
    started = next(e for e in cs.events() if e.get("eventType") == "Started")
    if "meterValue" not in started:
        raise Mismatch("the Started TransactionEventRequest has no meterValue",
                       "meterValue in the Started event")
    _check(started["meterValue"], {"Transaction.Begin"}, _measurands(cs, "TxStartedMeasurands"),
           "the Started event")


@pytest.mark.octt("TC_J_09_CS")
@pytest.mark.cb_requires("SampledDataCtrlr", "TxUpdatedInterval")
async def test_updated_meter_values(cs: Cs):
    """TC_J_09_CS: TxUpdatedInterval: TransactionEventRequests MeterValuePeriodic with
    Sample.Periodic and the TxUpdatedMeasurands, TxUpdatedInterval apart (J02.FR.?)."""
    await cs.configure("SampledDataCtrlr", "TxUpdatedInterval", "60")
    interval = int(cs.var("SampledDataCtrlr", "TxUpdatedInterval") or 0)
    if interval <= 0:
        pytest.skip("not applicable: SampledDataCtrlr.TxUpdatedInterval is 0 and cannot be set")
    await charging(cs)
    stamps = []
    for _ in range(2):
        event = await cs.expect("TransactionEvent", {"triggerReason": "MeterValuePeriodic"},
                                timeout=cs.settings.timeout + interval)
        _check(event["meterValue"], {"Sample.Periodic"}, _measurands(cs, "TxUpdatedMeasurands"),
               "a MeterValuePeriodic event")
        stamps.append(datetime.fromisoformat(event["meterValue"][0]["timestamp"]))
    gap = (stamps[1] - stamps[0]).total_seconds()
    if abs(gap - interval) > 4:  # part 6 §2.1: a deviation of 4 s
        raise Mismatch(f"MeterValuePeriodic timestamps {gap:g} s apart, TxUpdatedInterval "
                       f"is {interval} s", f"{interval} s between periodic values")


@pytest.mark.octt("TC_J_10_CS")
async def test_ended_meter_values(cs: Cs):
    """TC_J_10_CS: the Ended event carries meterValue with a Transaction.End sample of the
    TxEndedMeasurands (J02.FR.?, E06.FR.11)."""
    await charging(cs)
    await stop_authorized(cs)
    if not cs.ended():
        await cs.act("plug_out", connector=cs.connector_id)
        await cs.expect("TransactionEvent", {"eventType": "Ended"})
    ended = next(e for e in cs.events() if e.get("eventType") == "Ended")
    if "meterValue" not in ended:
        raise Mismatch("the Ended TransactionEventRequest has no meterValue",
                       "meterValue in the Ended event")
    _check(ended["meterValue"], {"Transaction.End"}, _measurands(cs, "TxEndedMeasurands"),
           "the Ended event")


#: <Configured clock-aligned Meter Values interval>: short, so that three arrive soon
ALIGNED_INTERVAL = 30


async def _aligned_interval(cs: Cs) -> int:
    """Configuration State AlignedDataInterval is <Configured ...>: set, else as it is."""
    await cs.configure("AlignedDataCtrlr", "Interval", str(ALIGNED_INTERVAL))
    interval = int(cs.var("AlignedDataCtrlr", "Interval") or 0)
    if interval <= 0:
        pytest.skip("not applicable: AlignedDataCtrlr.Interval is 0 and cannot be set")
    return interval


def _aligned_gaps(stamps: list[datetime], interval: int, where: str) -> None:
    """Post scenario validation: the distinct timestamps `interval` apart (several messages
    of one aligned time share it)."""
    distinct = sorted(set(stamps))
    for first, second in pairwise(distinct):
        gap = (second - first).total_seconds()
        if abs(gap - interval) > 4:  # part 6 §2.1: a deviation of 4 s
            raise Mismatch(f"{where}: timestamps {first.isoformat()} and "
                           f"{second.isoformat()} {gap:g} s apart, AlignedDataInterval is "
                           f"{interval} s", f"{interval} s between clock-aligned values")


@pytest.mark.octt("TC_J_01_CS")
@pytest.mark.cb_requires("AlignedDataCtrlr", "Interval")
async def test_clock_aligned_idle(cs: Cs):
    """TC_J_01_CS: no transaction; AlignedDataInterval set: three MeterValuesRequests with
    context Sample.Clock and an element per AlignedDataMeasurands member, their timestamps
    the interval apart (J01.FR.01/02/14; the new interval applies from the next aligned
    time)."""
    interval = await _aligned_interval(cs)
    measurands = _measurands(cs, "Measurands", "AlignedDataCtrlr")
    stamps = []
    for _ in range(3):
        request = await cs.expect("MeterValues", timeout=cs.settings.timeout + interval)
        _check(request["meterValue"], {"Sample.Clock"}, measurands, "a MeterValuesRequest")
        stamps.extend(datetime.fromisoformat(v["timestamp"]) for v in request["meterValue"])
    _aligned_gaps(stamps, interval, "MeterValuesRequests")


@pytest.mark.octt("TC_J_02_CS")
@pytest.mark.cb_requires("AlignedDataCtrlr", "Interval")
async def test_clock_aligned_transaction(cs: Cs):
    """TC_J_02_CS: AlignedDataInterval set, SendDuringIdle false (if implemented),
    EnergyTransferStarted: the clock-aligned values come as MeterValuesRequests (main meter,
    idle EVSEs) or as TransactionEventRequests triggerReason MeterValueClock (the EVSE of the
    transaction, J01.FR.22), context Sample.Clock, every AlignedDataMeasurands member; two
    aligned times the interval apart."""
    await cs.configure("AlignedDataCtrlr", "SendDuringIdle", "false")
    interval = await _aligned_interval(cs)
    measurands = _measurands(cs, "Measurands", "AlignedDataCtrlr")
    await charging(cs)
    stamps: list[datetime] = []
    while len(set(stamps)) < 2:
        frame = await cs.expect_any(
            ("MeterValues", None),
            ("TransactionEvent", {"triggerReason": "MeterValueClock"}),
            what="MeterValuesRequest or TransactionEventRequest MeterValueClock",
            timeout=cs.settings.timeout + interval)
        values = (frame.payload or {}).get("meterValue") or []
        _check(values, {"Sample.Clock"}, measurands, f"a {frame.action}Request")
        stamps.extend(datetime.fromisoformat(v["timestamp"]) for v in values)
    _aligned_gaps(stamps, interval, "clock-aligned values")
