"""Meter values of a virtual charge point (1.6 §3.16, §4.7, §4.10 transactionData)."""

from __future__ import annotations

import itertools

from chargebench.clock import parse_iso
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
            assert parse_iso(value["timestamp"]).second in (0, 59, 1)
