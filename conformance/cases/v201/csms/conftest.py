"""Fixtures of the OCPP 2.0.1 cases with a CSMS under test: ChargeBench dials it as the
Charging Station over ocpp2.0.1 (`conformance.v201.station`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from chargebench.ocppj.versions import OCPP201
from conformance.cases.conftest import CaseTrace
from conformance.endpoints import dial
from conformance.harness import HarnessPeer
from conformance.settings import Settings
from conformance.v201.station import station_handlers


@pytest_asyncio.fixture(loop_scope="session")
async def station(cb: Settings, case_trace: CaseTrace) -> AsyncIterator[HarnessPeer]:
    """A fresh ocpp2.0.1 connection to the CSMS under test as `--cb-cp-id`, not yet booted."""
    peer = case_trace.add(await dial(cb, version=OCPP201, handlers=station_handlers()))
    yield peer
    await peer.close()
