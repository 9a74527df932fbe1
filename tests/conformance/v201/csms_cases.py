"""Runs the 2.0.1 csms-role cases in-process, by their OCTT id, against any CSMS: the case
functions of `conformance/cases/v201/csms/` called the way pytest calls them (their
`parametrize` values found by the case id), on a `Station` whose trigger is given. For the
tests that judge the suite against the independent CSMS (`indep_csms201`)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import conformance.cases.v201.csms as package
from chargebench.ocppj.versions import OCPP201
from conformance.endpoints import dial
from conformance.harness import HarnessPeer
from conformance.settings import Settings
from conformance.triggers import Trigger
from conformance.v201.station import Station, station_handlers

Case = Callable[[Station], Awaitable[Any]]


@cache
def cases() -> dict[str, Case]:
    """Every implemented csms-role case by its id."""
    found: dict[str, Case] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        if not module_info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.iscoroutinefunction):
            if name.startswith("test_"):
                found.update(_ids(function))
    return found


def _ids(function: Callable[..., Awaitable[Any]]) -> dict[str, Case]:
    marks = getattr(function, "pytestmark", [])
    found: dict[str, Case] = {}
    for mark in marks:
        if mark.name == "octt":
            found[mark.args[0]] = _bind(function, ())
        elif mark.name == "parametrize":
            for parameter in mark.args[1]:
                found[parameter.id] = _bind(function, tuple(parameter.values))
    return found


def _bind(function: Callable[..., Awaitable[Any]], values: tuple) -> Case:
    wants_peer = next(iter(inspect.signature(function).parameters)) == "station"

    async def run(station: Station) -> Any:
        return await function(station.peer if wants_peer else station, *values)

    return run


async def run_case(case_id: str, settings: Settings, trigger: Trigger) -> None:
    """One case on a fresh connection as the Charging Station; raises its verdict."""
    peers: list[HarnessPeer] = []

    async def redial(**options: Any) -> HarnessPeer:
        peers.append(await dial(settings, version=OCPP201, handlers=station_handlers(),
                                **options))
        return peers[-1]

    station = Station(await redial(), settings, trigger, redial=redial)
    try:
        await cases()[case_id](station)
    finally:
        await station.close()
        for peer in peers:
            await peer.close()
