"""`sim.fleet.Fleet` with 2.0.1 stations, and a mixed 1.6 + 2.0.1 fleet, against the built-in
CSMS over real websockets on 127.0.0.1: every station boots, charges (TransactionEvent Started,
then Updated with meter values every TxUpdatedInterval) and is counted by `summary()`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chargebench.clock import Clock
from csms.central import CentralSystem
from loadtest._bench import charge_all, libocpp_template
from sim.chargepoint import ChargePoint
from sim.fleet import Fleet, identities
from sim.v201.station import ChargingStation
from tests.sim.v201.conftest import until

COUNT = 20


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None, call_timeout=5,
                             heartbeat_interval=60) as central:  # fmt: skip
        for identity in identities(COUNT, 0, "FL"):
            central.store.upsert_id_tag(identity.id_tags[0])
        central.store.set_tariff(None, Decimal("10"), "INR")
        yield central


async def _boot_and_charge(fleet: Fleet) -> None:
    """Boot the fleet and charge every member (connector 1, its first id tag)."""
    await fleet.start()
    await fleet.wait_booted(20)
    assert fleet.summary()["booted"] == COUNT, fleet.failures()
    await charge_all(fleet, 0.2)
    await until(lambda: fleet.summary()["open_transactions"] == COUNT, 20)


async def test_a_201_fleet_boots_and_charges_with_meter_values(csms):
    """E02 (Started when authorized and plugged in), J02 (Updated with the sampled values every
    TxUpdatedInterval, 1 s of a 5x clock here) from every station of the fleet."""
    events: list = []
    fleet = Fleet(None, COUNT, csms_url=csms.url(""), ocpp="2.0.1", prefix="FL",
                  settings={"TxUpdatedInterval": "1"}, clock=Clock(speed=5.0),
                  trace_sink=lambda r: events.append(r) if r.action == "TransactionEvent"
                  and r.dir.value == "cp->cs" else None)  # fmt: skip
    try:
        assert all(isinstance(cp, ChargingStation) for cp in fleet.charge_points)
        await _boot_and_charge(fleet)
        def sent(trigger: str) -> set[str]:
            return {r.cp_id for r in events if r.payload["triggerReason"] == trigger}

        await until(lambda: len(sent("MeterValuePeriodic")) == COUNT, 20)
        assert {r.cp_id for r in events if r.payload["eventType"] == "Started"} == {
            cp.id for cp in fleet.charge_points}
        periodic = [r.payload for r in events if r.payload["triggerReason"] ==
                    "MeterValuePeriodic"]
        assert all(p["eventType"] == "Updated" and p["meterValue"][0]["sampledValue"]
                   for p in periodic)
        assert fleet.summary()["online"] == COUNT
    finally:
        await fleet.stop()
    assert all(csms.store.get_charger(cp.id) is not None for cp in fleet.charge_points)


async def test_a_mixed_fleet_boots_both_versions_on_one_port(csms):
    """ocpp=("1.6", "2.0.1"): every other charge point speaks 2.0.1; all boot on one CSMS port,
    each in its own version, and all charge."""
    fleet = Fleet(libocpp_template(1), COUNT, csms_url=csms.url(""), ocpp=("1.6", "2.0.1"),
                  prefix="FL", settings={"TxUpdatedInterval": "1"})
    try:
        kinds = [type(cp) for cp in fleet.charge_points]
        assert kinds[:2] == [ChargePoint, ChargingStation] and len(set(kinds)) == 2
        await _boot_and_charge(fleet)
        spoken = {cp.id: cp.session.core.version.name for cp in fleet.charge_points
                  if cp.session is not None}
        assert len(spoken) == COUNT
        assert {spoken[cp.id] for cp in fleet.charge_points[0::2]} == {"1.6"}
        assert {spoken[cp.id] for cp in fleet.charge_points[1::2]} == {"2.0.1"}
    finally:
        await fleet.stop()


def test_an_unknown_version_is_refused():
    with pytest.raises(ValueError, match="ocpp"):
        Fleet(None, 1, ocpp="2.1")
    with pytest.raises(ValueError, match="template"):
        Fleet(None, 1, ocpp="1.6")
