"""Fixtures of the OCPP 2.0.1 cases with a Charging Station under test: ChargeBench listens as
the CSMS (`conformance.v201.central`), the station dials in and stays connected from case to
case; its device model is read once (`conformance.v201.prerequisites`) and decides which cases
apply; after each case the station is brought back to part 6's general preconditions (§2.1:
idle, connectors available, no reservation, variables as they were).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from conformance.cases.conftest import CaseTrace
from conformance.harness import HarnessPeer
from conformance.operator import Operator
from conformance.plugin import CASE
from conformance.settings import Settings
from conformance.v201.central import Central201
from conformance.v201.prerequisites import (
    BLOCK_COMPONENT,
    PROFILE_COMPONENT,
    DeviceModelView,
    Need,
    needs_of,
    read_device_model,
    unmet,
)
from conformance.v201.states import Cs

#: asked by GetVariables when the station does not give its FullInventory (B06)
FALLBACK = [
    *((component, "Enabled") for component in {*PROFILE_COMPONENT.values(),
                                              *BLOCK_COMPONENT.values(), "AuthCacheCtrlr"}),
    ("TxCtrlr", "TxStartPoint"), ("TxCtrlr", "TxStopPoint"),
    ("AuthCtrlr", "AuthorizeRemoteStart"), ("AuthCtrlr", "LocalPreAuthorize"),
    ("OCPPCommCtrlr", "HeartbeatInterval"),
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def central(cb: Settings) -> AsyncIterator[Central201]:
    """ChargeBench's 2.0.1 CSMS endpoint at --cb-listen."""
    if cb.role != "cs":
        pytest.skip("ChargeBench plays the CSMS only when a Charging Station is under test")
    server = Central201(cb)
    await server.start()
    yield server
    await server.close()


async def _booted(central: Central201, cb: Settings) -> HarnessPeer:
    """The station's live connection once its BootNotification was Accepted (B01)."""
    peer = await central.charger()
    try:
        async with asyncio.timeout(cb.boot_timeout):
            await peer.booted.wait()
    except TimeoutError:
        pytest.fail(f"the station connected and sent no BootNotification within "
                    f"{cb.boot_timeout:g} s", pytrace=False)
    return peer


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def device_model(cb: Settings, central: Central201) -> DeviceModelView:
    """The station's device model, read once at the start of the run."""
    peer = await _booted(central, cb)
    try:
        return await read_device_model(peer, timeout=cb.timeout, fallback=FALLBACK)
    except (AssertionError, TimeoutError) as error:  # a Mismatch: what came instead
        first = (str(error).splitlines() or ["no answer"])[0]
        return DeviceModelView(source=f"device model not read: {first}")


@pytest.fixture(autouse=True)
def prerequisites(request: pytest.FixtureRequest, device_model: DeviceModelView) -> None:
    """A case whose component the station lacks is NOT APPLICABLE, with the reason."""
    case = request.node.stash.get(CASE, None)
    if case is None:
        return
    extra = [Need(*m.args, **m.kwargs) for m in request.node.iter_markers("cb_requires")]
    reason = unmet(needs_of(case, extra), device_model)
    if reason:
        pytest.skip(f"not applicable: {reason}")


@pytest_asyncio.fixture(loop_scope="session")
async def cs(cb: Settings, central: Central201, device_model: DeviceModelView,
             operator: Operator, case_trace: CaseTrace) -> AsyncIterator[Cs]:
    """The case's context (`conformance.v201.states.Cs`) on the booted, idle station."""
    if central.idle_problem is not None:  # the last case left it busy: one more try
        problem = await restore(Cs(await _booted(central, cb), central, operator,
                                   device_model, cb))
        if problem:
            central.idle_hopeless = True
            pytest.fail(f"station not idle: {problem}", pytrace=False)
    peer = case_trace.add(await _booted(central, cb))
    context = Cs(peer, central, operator, device_model, cb, start=len(peer.log))
    context.trace = case_trace
    yield context
    central.idle_problem = await restore(context)


async def restore(cs: Cs) -> str | None:
    """Back to part 6 §2.1's general preconditions: answers as by default, back online, no
    transaction, cable out, operative, no reservation, variables as first read. Returns what
    could not be undone."""
    central, timeout = cs.central, cs.settings.timeout
    central.tokens.clear()
    central.token_info.clear()
    central.on_event = None
    try:
        if cs.offline:
            await cs.operator.perform("go_online")
        peer = await _booted(central, cs.settings)
        central.restore_handlers(peer)
        state = central.station
        for tx in list(state.transactions):
            with contextlib.suppress(AssertionError, TimeoutError):
                await peer.call("RequestStopTransaction", {"transactionId": tx})
        for connector in sorted(cs.plugged):
            await cs.operator.perform("plug_out", connector=connector)
        cs.plugged.clear()
        await _until(lambda: not state.transactions, timeout, "transactions still running: "
                     f"{sorted(state.transactions)}")
        if state.inoperative:
            await peer.request("ChangeAvailability", {"operationalStatus": "Operative"},
                               {"status": "Accepted"})
            state.inoperative = False
        for reservation in sorted(state.reservations):
            await peer.call("CancelReservation", {"reservationId": reservation})
        state.reservations.clear()
        for profile in sorted(state.profiles):
            await peer.call("ClearChargingProfile", {"chargingProfileId": profile})
        state.profiles.clear()
        back = [{"component": {"name": c}, "variable": {"name": v, **(
            {"instance": i} if i else {})}, "attributeValue": cs.model.value(c, v) or ""}
            for (c, v, i) in state.changed if cs.model.value(c, v) is not None]
        if back:
            await peer.request("SetVariables", {"setVariableData": back})
        state.changed.clear()
        await _until(lambda: all(s == "Available" for s in state.status.values()), timeout,
                     f"connectors not Available: {state.status}")
    except (AssertionError, TimeoutError, pytest.fail.Exception) as error:
        return (str(error).splitlines() or [type(error).__name__])[0]
    return None


async def _until(done, timeout: float, problem: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        if loop.time() > deadline:
            raise AssertionError(problem)
        await asyncio.sleep(0.05)
