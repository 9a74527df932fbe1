"""Meter values of a virtual charge point (1.6 §3.16, §4.7, §4.10 transactionData)."""

from __future__ import annotations

import itertools
import json

from chargebench.clock import parse_iso
from sim.features.metering import TransactionMeter
from tests.sim.conftest import WAIT

MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import"


def _reading(meter_value: dict, measurand: str) -> float:
    return next(float(s["value"]) for s in meter_value["sampledValue"]
                if s["measurand"] == measurand)


async def _charging(csms, make_cp, **core):
    cp = await make_cp(Core={"MeterValuesSampledData": MEASURANDS, **core})
    await cp.wait_booted(WAIT)
    await cp.plug_in(1)
    await cp.present_id_tag("M1")
    return cp


class TestSampledMeterValues:
    async def test_energy_is_power_times_time(self, csms, make_cp):
        """Between two samples the register grows by power × elapsed time (within 1 %)."""
        await _charging(csms, make_cp, MeterValueSampleInterval=60)
        sent = await csms.wait_sent("MeterValues", 4)
        values = [m["meterValue"][0] for m in sent]
        assert all(v["sampledValue"][0]["context"] == "Sample.Periodic" for v in values)
        for before, after in itertools.pairwise(values):
            hours = (parse_iso(after["timestamp"]) - parse_iso(before["timestamp"])
                     ).total_seconds() / 3600
            power = _reading(before, "Power.Active.Import")
            gained = (_reading(after, "Energy.Active.Import.Register")
                      - _reading(before, "Energy.Active.Import.Register"))
            assert power > 0
            assert abs(gained - power * hours) <= 0.01 * power * hours

    async def test_samples_carry_the_csms_transaction_id(self, csms, make_cp):
        """MeterValues name the transaction id the CSMS gave in StartTransaction.conf."""
        await _charging(csms, make_cp, MeterValueSampleInterval=30)
        sent = await csms.wait_sent("MeterValues", 2)
        assert {m["transactionId"] for m in sent} == {1001}

    async def test_stop_transaction_data(self, csms, make_cp):
        """StopTransaction carries Begin/periodic/End readings of StopTxnSampledData."""
        cp = await _charging(csms, make_cp, MeterValueSampleInterval=60,
                             StopTxnSampledData="Energy.Active.Import.Register")
        await csms.wait_sent("MeterValues", 2)
        await cp.present_id_tag("M1")
        stop = (await csms.wait_sent("StopTransaction"))[0]
        start = csms.sent("StartTransaction")[0]
        contexts = [v["sampledValue"][0]["context"] for v in stop["transactionData"]]
        assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
        assert "Sample.Periodic" in contexts
        end = _reading(stop["transactionData"][-1], "Energy.Active.Import.Register")
        assert stop["meterStop"] == int(end) and stop["meterStop"] > start["meterStart"]


    async def test_stop_transaction_data_is_bounded(self, csms, make_cp):
        """A long transaction keeps at most StopTxnDataMaxReadings readings: Begin, evenly
        thinned periodic samples, End."""
        cp = await make_cp(Internal={"StopTxnDataMaxReadings": 4}, Core={
            "MeterValuesSampledData": MEASURANDS, "MeterValueSampleInterval": 10,
            "StopTxnSampledData": "Energy.Active.Import.Register"})
        await cp.wait_booted(WAIT)
        await cp.plug_in(1)
        await cp.present_id_tag("M1")
        await csms.wait_sent("MeterValues", 9)
        await cp.present_id_tag("M1")
        stop = (await csms.wait_sent("StopTransaction"))[0]
        contexts = [v["sampledValue"][0]["context"] for v in stop["transactionData"]]
        assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
        assert len(contexts) <= 4 and "Sample.Periodic" in contexts
        end = _reading(stop["transactionData"][-1], "Energy.Active.Import.Register")
        assert stop["meterStop"] == int(end)


class TestTransactionMeter:
    """The bounded transactionData buffer (`sim.features.metering.TransactionMeter`)."""

    @staticmethod
    def _value(n: int, context: str = "Sample.Periodic") -> dict:
        return {"timestamp": f"2025-01-01T00:00:{n % 60:02d}Z", "sampledValue": [
            {"value": str(n), "context": context, "measurand": "Energy.Active.Import.Register",
             "unit": "Wh"}]}

    def test_thinned_evenly_first_and_last_kept(self):
        """10 000 samples with room for 8: Begin, evenly spaced samples, End; all decoded."""
        meter = TransactionMeter(max_readings=8)
        meter.keep(self._value(0, "Transaction.Begin"))
        for n in range(1, 10_001):
            meter.keep(self._value(n))
        meter.end(self._value(10_001, "Transaction.End"))
        data = meter.data
        assert 2 < len(data) <= 8
        assert data[0]["sampledValue"][0]["context"] == "Transaction.Begin"
        assert data[-1]["sampledValue"][0]["value"] == "10001"
        numbers = [int(v["sampledValue"][0]["value"]) for v in data[:-1]]
        steps = {b - a for a, b in itertools.pairwise(numbers)}
        assert len(steps) == 1 and numbers[-1] > 10_000 // 2  # even, and spanning the whole

    def test_short_transaction_keeps_everything(self):
        meter = TransactionMeter(max_readings=8)
        for n in range(5):
            meter.keep(self._value(n))
        meter.end(self._value(5, "Transaction.End"))
        assert [int(v["sampledValue"][0]["value"]) for v in meter.data] == list(range(6))

    def test_encoded_size_bounded(self):
        """MaxMessageSize bounds the encoded readings, whatever StopTxnDataMaxReadings says."""
        meter = TransactionMeter(max_readings=10_000, max_bytes=2000)
        for n in range(1000):
            meter.keep(self._value(n))
        meter.end(self._value(1000, "Transaction.End"))
        assert len(json.dumps(meter.data, separators=(",", ":"))) <= 2000 + len(meter)
        assert meter.data[0]["sampledValue"][0]["value"] == "0"
        assert meter.data[-1]["sampledValue"][0]["value"] == "1000"

    def test_empty_readings_are_not_kept(self):
        meter = TransactionMeter()
        meter.keep(None)
        meter.keep({"timestamp": "2025-01-01T00:00:00Z", "sampledValue": []})
        meter.end(None)
        assert not meter and meter.data == []


class TestClockAlignedMeterValues:
    async def test_aligned_values_during_transaction(self, csms, make_cp):
        """ClockAlignedDataInterval sends Sample.Clock values with the transaction id."""
        await _charging(csms, make_cp, ClockAlignedDataInterval=60,
                        MeterValuesAlignedData="Energy.Active.Import.Register")
        sent = await csms.wait_for(lambda c: [
            m for m in c.sent("MeterValues") if "transactionId" in m][:2])
        for message in sent:
            value = message["meterValue"][0]
            assert value["sampledValue"][0]["context"] == "Sample.Clock"
            stamp = parse_iso(value["timestamp"])  # the boundary itself (1.6 §3.16.2)
            assert (stamp.second, stamp.microsecond) == (0, 0), value["timestamp"]


def test_aligned_instant_is_the_nearest_boundary():
    """A reading taken late (or a hair early) by a busy timer stands for its boundary."""
    from datetime import UTC, datetime

    from sim.features.metering import aligned_instant

    base = datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    for now in (base.replace(second=2, microsecond=2000), base.replace(minute=14, second=59)):
        assert aligned_instant(now, 60) == base
    assert aligned_instant(base.replace(minute=22, second=40), 900) == base.replace(minute=30)
    assert aligned_instant(base.replace(minute=7), 900) == base.replace(minute=0)
