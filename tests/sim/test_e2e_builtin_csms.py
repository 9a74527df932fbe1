"""Fifty virtual charge points boot and charge against the real built-in CSMS (issue 5, Tests).

Both run in this process: `csms.central.CentralSystem` on 127.0.0.1 (random port, SQLite file
in tmp_path, unknown chargers accepted, the fleet's id tags stored as Accepted) and a
`sim.fleet.Fleet` on an accelerated clock. Each charge point plugs in, presents its tag, charges
for ten simulated minutes with sampled meter values, presents the tag again and unplugs. The
CSMS's store must then hold what the charge points sent, and neither side may have seen a
protocol violation.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from chargebench.clock import Clock
from chargebench.trace import TraceRecord
from csms.central import CentralSystem
from sim.chargepoint import ChargePoint
from sim.fleet import Fleet
from tests.sim.conftest import SPEED, libocpp_config

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

COUNT = 50
#: Simulated seconds of charging per charge point, and the sample interval.
CHARGE_FOR = 600
SAMPLE_EVERY = 60
#: Wall-clock seconds for the whole run to settle.
SETTLE = 30.0


def _template() -> dict:
    return libocpp_config(
        Internal={"RetryBackoffWaitMinimum": 1, "RetryBackoffRandomRange": 1},
        Core={"ClockAlignedDataInterval": 0, "MeterValueSampleInterval": SAMPLE_EVERY,
              "ConnectionTimeOut": 3600,
              "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
              "StopTxnSampledData": "Energy.Active.Import.Register"},
    )


async def _session(cp: ChargePoint, tag: str, clock: Clock) -> None:
    """One user: plug in, tag on, charge, tag off, unplug."""
    await cp.plug_in(1)
    assert await cp.present_id_tag(tag), f"{cp.id}: {tag} not accepted"
    await clock.sleep(CHARGE_FOR)
    assert await cp.present_id_tag(tag)
    await cp.plug_out(1)


async def _until(predicate, timeout: float = SETTLE):
    async with asyncio.timeout(timeout):
        while not (result := await asyncio.to_thread(predicate)):
            await asyncio.sleep(0.05)
        return result


async def test_fifty_charge_points_charge(tmp_path, caplog):
    """50 charge points boot, charge and stop; the CSMS stores every transaction with its meter
    values, every connector ends Available, and no frame broke the protocol."""
    caplog.set_level(logging.DEBUG, logger="chargebench.ocppj")
    clock = Clock(SPEED)
    frames: list[TraceRecord] = []
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="accept") as csms:
        fleet = Fleet(_template(), COUNT, csms_url=csms.url().rstrip("/"), seed=5, ramp=0,
                      clock=clock, state_dir=tmp_path / "fleet", trace_sink=frames.append)
        for identity in fleet.identities:
            csms.store.upsert_id_tag(identity.id_tags[0])
        await fleet.start()
        try:
            await fleet.wait_booted(SETTLE)
            await asyncio.gather(*(
                _session(cp, identity.id_tags[0], clock)
                for cp, identity in zip(fleet.charge_points, fleet.identities, strict=True)
            ))
        finally:
            await fleet.stop()
        store = csms.store
        stopped = await _until(lambda: [
            t for t in store.list_transactions(limit=None) if t["meter_stop"] is not None
        ] if len(store.list_transactions(limit=None)) == COUNT else None)
        assert len(stopped) == COUNT
        assert {t["charger_id"] for t in stopped} == {i.cp_id for i in fleet.identities}
        for tx in stopped:
            assert tx["meter_stop"] > tx["meter_start"], tx
            assert tx["stop_reason"] == "Local"
            rows = store.list_meter_values(transaction_id=tx["id"])
            assert len(rows) >= CHARGE_FOR // SAMPLE_EVERY // 2, (tx["id"], len(rows))
        for identity in fleet.identities:
            statuses = {c["connector_id"]: c["status"]
                        for c in store.list_connectors(identity.cp_id)}
            assert statuses == {0: "Available", 1: "Available"}, (identity.cp_id, statuses)
    assert not [r for r in frames if r.type == "CALLERROR"]
    violations = [r.getMessage() for r in caplog.records if "Violation" in r.getMessage()]
    assert not violations
