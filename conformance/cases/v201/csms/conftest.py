"""Fixtures of the OCPP 2.0.1 cases with a CSMS under test: ChargeBench dials it as the
Charging Station over ocpp2.0.1 (`conformance.v201.station`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from chargebench.ocppj.versions import OCPP201
from conformance.cases.conftest import CaseTrace
from conformance.endpoints import dial
from conformance.harness import HarnessPeer
from conformance.settings import Settings
from conformance.triggers import Trigger
from conformance.v201.station import Station, station_handlers


async def _dial(cb: Settings, case_trace: CaseTrace, **options: Any) -> HarnessPeer:
    return case_trace.add(await dial(cb, version=OCPP201, handlers=station_handlers(),
                                     **options))  # fmt: skip


@pytest_asyncio.fixture(loop_scope="session")
async def station(cb: Settings, case_trace: CaseTrace) -> AsyncIterator[HarnessPeer]:
    """A fresh ocpp2.0.1 connection to the CSMS under test as `--cb-cp-id`, not yet booted."""
    peer = await _dial(cb, case_trace)
    yield peer
    await peer.close()


@pytest_asyncio.fixture(loop_scope="session")
async def cs(cb: Settings, station: HarnessPeer, trigger: Trigger,
             case_trace: CaseTrace) -> AsyncIterator[Station]:  # fmt: skip
    """ChargeBench as the Charging Station on `station` (not yet booted), with the trigger
    that makes the CSMS send its CALLs; transactions a case leaves running are ended after."""

    async def redial(**options: Any) -> HarnessPeer:
        return await _dial(cb, case_trace, **options)

    played = Station(station, cb, trigger, redial=redial)
    yield played
    await played.close()
    await played.peer.close()
