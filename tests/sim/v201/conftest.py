"""Fixtures for the 2.0.1 station's tests: the station under test over real websockets on
127.0.0.1, the frames it exchanged (its own trace records), and a wait helper."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chargebench.clock import Clock
from chargebench.trace import TraceRecord
from csms.central import CentralSystem
from sim.v201.settings import Settings
from sim.v201.station import ChargingStation
from tests.sim.conftest import WAIT

#: libocpp's real 2.0.1 component_config: the team's ../shared beside the project, else the
#: machine's
_SHARED = [Path(__file__).resolve().parents[4] / "shared", Path("/work/shared")]
LIBOCPP_201 = next((d for d in _SHARED if d.is_dir()), _SHARED[-1]) / "everest-libocpp" / "v201"


class Frames(list[TraceRecord]):
    """Every frame one station sent or received, in order."""

    def calls(self, *skip: str) -> list[tuple[str, dict]]:
        """The station's own CALLs as (action, payload), without the actions in `skip`."""
        return [(r.action, r.payload) for r in self
                if r.dir.value == "cp->cs" and r.type.value == "CALL" and r.action not in skip]

    def events(self) -> list[dict]:
        """The TransactionEventRequests sent, in order."""
        return [payload for action, payload in self.calls() if action == "TransactionEvent"]


async def until(predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Wait until `predicate()` is truthy (polling); its value. TimeoutError otherwise."""
    async with asyncio.timeout(timeout):
        while not (value := predicate()):
            await asyncio.sleep(0.01)
    return value


@pytest.fixture
async def csms(tmp_path):
    """The built-in CSMS on 127.0.0.1 (a real SQLite file): TAG-OK known, a tariff of 10 INR a
    kWh, unknown stations admitted."""
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None, call_timeout=3,
                             heartbeat_interval=60) as central:  # fmt: skip
        central.store.upsert_id_tag("TAG-OK")
        central.store.set_tariff(None, Decimal("10"), "INR")
        yield central


@pytest.fixture
async def make_station():
    """make_station(url, station_id, **overrides) -> (station, frames): started, not yet
    booted; stopped at teardown. Simulated time runs 200x (a 60 s interval is 0.3 s)."""
    made: list[ChargingStation] = []

    async def make(url: str, station_id: str = "ST1", *, dm: Any = None, speed: float = 200.0,
                   state_dir: Path | None = None, **overrides: Any
                   ) -> tuple[ChargingStation, Frames]:
        frames = Frames()
        settings = Settings(dm, {key: str(value) for key, value in overrides.items()})
        station = ChargingStation(settings, csms_url=url, station_id=station_id,
                                  clock=Clock(speed=speed), trace_sink=frames.append,
                                  call_timeout=3, state_dir=state_dir)  # fmt: skip
        made.append(station)
        await station.start()
        return station, frames

    yield make
    for station in made:
        await station.stop()
