"""OCPP 2.0.1 part 6 §3.10, I Tariff and Cost, with a CSMS under test. (TC_I_02_CSMS, the
final totalCost, needs a CSMS that has a tariff for the station: not implemented yet, as the
`--self` run's CSMS has none.)"""

from __future__ import annotations

import pytest

from conformance.v201.station import Station


@pytest.mark.octt("TC_I_01_CSMS")
async def test_running_total_cost(cs: Station):
    """TC_I_01_CSMS: a charging session with two MeterValuePeriodic events; every event is
    answered (a totalCost is optional, I02.FR.01), and a CostUpdated the CSMS may send with
    the running cost is taken (the station's handler: I02.FR.02)."""
    await cs.boot()
    await cs.authorized()
    await cs.ev_connected_pre_session()
    await cs.energy_transfer_started()
    for _ in range(2):
        await cs.event("Updated", "MeterValuePeriodic", meter="Sample.Periodic")
