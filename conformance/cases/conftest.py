"""Fixtures of the conformance cases: the connection to the system under test, the operator and
trigger hooks, and the per-case message trace (file, Allure attachment, report section).

All async fixtures and cases share one session event loop, because a charge point under test
stays connected to ChargeBench's listener from case to case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from pytest_asyncio import is_async_test

from chargebench.trace import TraceRecord, TraceWriter
from conformance.cases.cp.security import SecurityKit
from conformance.chargepoint import ChargePoint
from conformance.endpoints import Listener, dial
from conformance.filehost import FileHost
from conformance.harness import HarnessPeer
from conformance.operator import Operator, default_operator
from conformance.plugin import SETTINGS
from conformance.robustness import ready
from conformance.settings import Settings
from conformance.steps import Context, idle_gate
from conformance.triggers import HttpActionsTrigger, NoTrigger, Trigger
from conformance.wire import trace_records
from reports.verdicts import trace_name


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A case that is one test function gets its OCTT id as test id (`test_cold_boot[TC_001]`),
    as parametrized cases carry theirs, so `-k TC_001` selects it in either role."""
    marker = metafunc.definition.get_closest_marker("octt")
    if marker is None or not marker.args:
        return
    metafunc.fixturenames.append("octt_case")
    metafunc.parametrize("octt_case", [marker.args[0]], ids=[marker.args[0]])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    marker = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item):
            item.add_marker(marker, append=False)


@pytest.fixture(scope="session")
def cb(pytestconfig: pytest.Config) -> Settings:
    """The run's settings; the cases only run under the plugin's --cb-role."""
    settings = pytestconfig.stash.get(SETTINGS, None)
    if settings is None:
        pytest.skip("conformance cases run with --cb-role (see `chargebench conform`)")
    return settings


@pytest.fixture(scope="session")
def role(cb: Settings) -> str:
    """Role of the system under test: "csms" or "cp"."""
    return cb.role


class CaseTrace:
    """The peers a case used; their frames since the case began make its trace."""

    def __init__(self) -> None:
        self.peers: list[tuple[HarnessPeer, int]] = []

    def add(self, peer: HarnessPeer, *, forget: bool = True) -> HarnessPeer:
        self.peers.append((peer, peer.begin_case(forget=forget)))
        return peer

    def records(self) -> list[TraceRecord]:
        """Every connection's records (replies paired with their CALLs), in time order."""
        records = [
            record for index, (peer, start) in enumerate(self.peers)
            for record in trace_records(peer.log[start:], peer.cp_id, f"c{index}")
        ]
        records.sort(key=lambda record: record.ts)
        return records


@pytest.fixture(autouse=True)
def case_trace(request: pytest.FixtureRequest, cb: Settings):
    """Attach the case's message trace to the report and write it to --cb-results (the JUnit
    and Allure verdicts name that file: `conformance.plugin`)."""
    trace = CaseTrace()
    yield trace
    records = trace.records()
    if not records:
        return
    text = "\n".join(record.to_json() for record in records)
    request.node.add_report_section("teardown", "ocpp trace", text)
    if cb.results is not None:
        name = trace_name(request.node.nodeid)
        with TraceWriter(cb.results / "traces" / f"{name}.jsonl") as writer:
            for record in records:
                writer(record)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def listener(cb: Settings) -> AsyncIterator[Listener | None]:
    """ChargeBench's CSMS endpoint at --cb-listen, for a charge point under test (None when a
    CSMS is under test)."""
    if cb.role != "cp":
        yield None
        return
    server = Listener(cb)
    await server.start()
    yield server
    await server.close()


@pytest_asyncio.fixture(loop_scope="session")
async def peer(cb: Settings, listener: Listener | None, case_trace: CaseTrace):
    """The connection to the system under test: a fresh one to a CSMS under test (not yet
    booted), or the live one of the charge point under test (waits for it to connect)."""
    if cb.role == "csms":
        connection = case_trace.add(await dial(cb))
        yield connection
        await connection.close()
        return
    assert listener is not None
    listener.overrides.clear()
    yield case_trace.add(await listener.charger())  # fails with the one-line reason


@pytest_asyncio.fixture(loop_scope="session")
async def cp(
    cb: Settings, peer: HarnessPeer, trigger: Trigger, case_trace: CaseTrace
) -> AsyncIterator[ChargePoint]:
    """ChargeBench as the charge point on `peer`, when a CSMS is under test; transactions a
    case leaves open are stopped afterwards."""
    if cb.role != "csms":
        pytest.skip("ChargeBench plays the charge point only when a CSMS is under test")

    async def redial(**options: Any) -> HarnessPeer:
        return case_trace.add(await dial(cb, **options))

    charge_point = ChargePoint(peer, cb, trigger, redial=redial)
    yield charge_point
    await charge_point.close()


@pytest_asyncio.fixture(loop_scope="session")
async def never_booted_peer(cb: Settings, case_trace: CaseTrace) -> AsyncIterator[HarnessPeer]:
    """A connection to the CSMS under test as a charge point it has never seen boot: a CSMS
    keeps a booted charger's registration across reconnects (OCPP 1.6 §4.2), so `--cb-cp-id`,
    booted by earlier cases, will not do (see `conformance.capabilities`)."""
    cp_id = cb.never_booted_cp_id()
    if cp_id is None:
        pytest.skip("needs a charge point id the CSMS has never seen boot: declare "
                    "never_booted_cp_id in --cb-capabilities")
    connection = case_trace.add(await dial(cb, cp_id=cp_id))
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
def operator(pytestconfig: pytest.Config, cb: Settings) -> Operator:
    """Performs physical actions at the charge point under test (pytest_cb_operator hook)."""
    return pytestconfig.hook.pytest_cb_operator(config=pytestconfig) or default_operator(
        cb.operator
    )


@pytest.fixture(scope="session")
def files(cb: Settings):
    """HTTP and FTP servers on 127.0.0.1 for firmware and diagnostics (charge point under test)."""
    host = FileHost()
    try:
        host.start()
        yield host
    finally:
        host.close()  # also removes its folder


@pytest_asyncio.fixture(loop_scope="session")
async def ctx(cb: Settings, peer: HarnessPeer, listener: Listener | None, operator: Operator,
              files: FileHost, case_trace: CaseTrace,
              security: SecurityKit) -> Context:  # fmt: skip
    """The context of a scripted case (`conformance.steps`) on the booted charge point."""
    if cb.role != "cp":
        pytest.skip("scripted cases test a charge point")
    await ready(peer, "cp")
    await idle_gate(listener, operator, cb)  # "charger not idle: ..." is this case's error
    return Context(peer, listener, operator, cb.timeout, cb.id_tag,
                   services={"files": files, "trace": case_trace, "settings": cb,
                             "security": security})


@pytest.fixture(scope="session")
def security(cb: Settings) -> Iterator[SecurityKit]:
    """Certificates and keys of the security cases (our CA, a rogue PKI made on first use)."""
    kit = SecurityKit(cb.ca, cb.ca_key, cb.capabilities.cpo_name)
    yield kit
    kit.close()


@pytest.fixture(scope="session")
def trigger(pytestconfig: pytest.Config, cb: Settings) -> Trigger:
    """Makes the CSMS under test send its CALLs (pytest_cb_trigger hook or --cb-trigger-url)."""
    hooked = pytestconfig.hook.pytest_cb_trigger(config=pytestconfig)
    if hooked is not None:
        return hooked
    if cb.trigger_url:
        return HttpActionsTrigger(cb.trigger_url, cb.trigger_token)
    return NoTrigger()
