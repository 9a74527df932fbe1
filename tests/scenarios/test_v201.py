"""2.0.1 stations in scenarios: groups with `ocpp: "2.0.1"` beside 1.6 ones, against the built-in
CSMS and against an independent 2.0.1 CSMS (the `ocpp` package's v201 classes), over real
websockets. The library's 2.0.1 files run in test_runner's library test; bad files are in
broken/ (bad_ocpp_version, v201_*)."""

from __future__ import annotations

import os
from pathlib import Path

from chargebench.trace import read_trace
from scenarios.loader import DEFAULT_SEED, LIBRARY, load_scenario
from scenarios.results import FAILED, PASSED, SKIPPED
from scenarios.runner import RunOptions, run_scenario
from tests.sim.v201.csms201_peer import Script, csms201

SPEED = float(os.environ.get("CHARGEBENCH_SCENARIO_SPEED", "1200"))

DATA = Path(__file__).parent / "data"
#: a 1.6 group and a 2.0.1 group with an override and a Faker seed
MIXED = DATA / "mixed_groups.yaml"


def explain(result) -> str:
    failure = result.failure()
    return result.reason if failure is None else f"{failure.where}: {failure.detail}"


async def test_mixed_groups_share_one_builtin_csms(tmp_path):
    """A 1.6 group and a 2.0.1 group on one built-in CSMS port: each station speaks its own
    version (subprotocol, actions), the 2.0.1 group's device-model override holds
    (TxUpdatedInterval 600 s: 5 periodic events in the hour, not 60), and its stations boot
    with their own Faker identities."""
    scenario = load_scenario(MIXED)
    assert [g.ocpp for g in scenario.fleet] == ["1.6", "2.0.1"]
    result = await run_scenario(scenario, RunOptions(speed=SPEED, workdir=tmp_path,
                                                     trace_dir=tmp_path / "trace"))
    assert result.status == PASSED, explain(result)
    records = list(read_trace(result.trace))
    sent = {(r.cp_id, r.action) for r in records if r.dir == "cp->cs" and r.type == "CALL"}
    assert ("MIX-OLD", "StartTransaction") in sent and ("MIX-OLD", "TransactionEvent") not in sent
    assert ("MIX-NEW-1", "TransactionEvent") in sent
    assert ("MIX-NEW-1", "StartTransaction") not in sent
    periodic = [r for r in records if r.cp_id == "MIX-NEW-1" and r.action == "TransactionEvent"
                and r.type == "CALL" and r.payload["triggerReason"] == "MeterValuePeriodic"]
    assert 5 <= len(periodic) <= 6, len(periodic)
    boots = {r.cp_id: r.payload["chargingStation"] for r in records
             if r.action == "BootNotification" and r.type == "CALL" and r.cp_id != "MIX-OLD"}
    assert boots["MIX-NEW-1"]["serialNumber"] != boots["MIX-NEW-2"]["serialNumber"]


async def test_library_201_session_against_an_independent_csms(tmp_path):
    """The library's 2.0.1 plug-in-first session against a CSMS we did not write (the `ocpp`
    package's v201 ChargePoint, server side), which first answers Pending: every expectation on
    the wire holds, the store assertions and operator steps are skipped, and that CSMS received
    the transaction's events in the order of E02 with one transactionId."""
    script = Script(boots=[("Pending", 1)])
    async with csms201(script=script) as server:
        options = RunOptions(speed=SPEED, workdir=tmp_path, csms_url=server.url)
        scenario = load_scenario(LIBRARY / "v201_charging_plug_in_first.yaml")
        result = await run_scenario(scenario, options)
        assert result.status == PASSED, explain(result)
        statuses = [step.status for step in result.steps]
        assert SKIPPED in statuses and statuses.count(PASSED) >= 12
        peer = server.peers["CS201-001"]
        events = [(p["event_type"], p["trigger_reason"], p["transaction_info"]["transaction_id"])
                  for action, p in peer.received if action == "TransactionEvent"]
    assert script.answered_boots == 2  # Pending, then Accepted
    kinds = [(kind, trigger) for kind, trigger, _ in events]
    assert kinds[:3] == [("Started", "CablePluggedIn"), ("Updated", "Authorized"),
                         ("Updated", "ChargingStateChanged")]
    assert kinds[-1] == ("Ended", "EVCommunicationLost")
    assert len({tx for *_, tx in events}) == 1


def test_a_201_flow_runs_only_on_201_targets(tmp_path):
    """The version of an included flow's steps is the including step's: the 2.0.1 flow on a
    1.6 group is refused where the flow names TransactionEvent."""
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "name: w\nfleet:\n  - {group: old}\nsteps:\n  - boot:\n"
        "  - include: {file: flows/session_201_plug_in_first.yaml}\n    cp: old\n", "utf-8")
    from scenarios.loader import ScenarioError

    try:
        load_scenario(path)
    except ScenarioError as error:
        problems = error.problems
    else:
        raise AssertionError("loaded")
    flow = Path("session_201_plug_in_first.yaml")
    assert problems and all(flow.name in p for p in problems), problems
    assert any("unknown OCPP 1.6 action 'TransactionEvent'" in p for p in problems), problems


async def test_version_neutral_steps_drive_a_201_station(tmp_path):
    """plug_in, present_id_tag, ev_full (SuspendedEV), power_loss (Ended PowerLoss after the
    reboot, B01.FR.08), fault and its clearing, go_offline/go_online and send: on a 2.0.1
    station, each verified by the 2.0.1 messages it causes and the CSMS's record."""
    result = await run_scenario(load_scenario(DATA / "v201_control_surface.yaml"),
                                RunOptions(speed=SPEED, workdir=tmp_path))
    assert result.status == PASSED, explain(result)
    assert len(result.steps) == 21


async def test_201_remote_start_and_local_list_through_the_csms_http_api(tmp_path):
    """The built-in CSMS reached as an external one, over its URL and its HTTP API: the 2.0.1
    RequestStartTransaction/RequestStopTransaction and SendLocalList/GetLocalListVersion of the
    library go through `/api/chargers/{id}/actions/{action}` and the scenarios pass (store
    assertions skipped); the CSMS's own records show what the API did."""
    from chargebench.clock import Clock
    from csms.central import CentralSystem
    from csms.config import CsmsConfig

    config = CsmsConfig(port=0, api_port=0, admin_token="t0ken", db=tmp_path / "ext.db",
                        seed=DEFAULT_SEED, log_dir=None, clock=Clock(SPEED))
    async with CentralSystem(config) as csms:
        options = RunOptions(speed=SPEED, workdir=tmp_path, csms_url=csms.url(""),
                             csms_api=f"http://127.0.0.1:{csms.api_port}", csms_token="t0ken")
        for name in ("v201_remote_start_stop.yaml", "v201_local_list.yaml"):
            result = await run_scenario(load_scenario(LIBRARY / name), options)
            assert result.status == PASSED, explain(result)
            commands = [s for s in result.steps if s.title.startswith("command")]
            assert commands and all(s.status == PASSED for s in commands), name
        [tx] = csms.store.list_transactions(charger_id="CS201-003")
        assert tx["stop_reason"] == "Remote"
        assert csms.store.get_local_list_version("CS201-004") == 2


async def test_201_group_password_and_security_profile(tmp_path):
    """`csms: {security_profile: 1}` and the group's `password:` make a 2.0.1 station connect
    with HTTP Basic (A00.FR.201-206, SecurityCtrlr.BasicAuthPassword): the CSMS records profile
    1. With a wrong password the boot step fails naming the URL and the CSMS's HTTP 401."""
    good = DATA / "v201_basic_auth.yaml"
    result = await run_scenario(load_scenario(good), RunOptions(speed=SPEED, workdir=tmp_path))
    assert result.status == PASSED, explain(result)
    wrong = tmp_path / "wrong.yaml"
    # one attempt is enough to tell (the back-off after it is longer than the step waits)
    wrong.write_text(good.read_text("utf-8").replace(
        "password: Station-Password-201-abcdef}", "password: Wrong-Password-201-abcdefg, "
        "template: {overrides: {OCPPCommCtrlr: {RetryBackOffWaitMinimum: 600}}}}").replace(
        "../../../scenarios/lab_seed.yaml", str(DEFAULT_SEED)).replace(
        "  - boot:\n", "  - boot: {within: 1m}\n"), "utf-8")
    result = await run_scenario(load_scenario(wrong), RunOptions(speed=SPEED,
                                                                 workdir=tmp_path / "w"))
    assert result.status == FAILED
    detail = result.failure().detail
    assert "HTTP 401" in detail and "/CS201-AUTH" in detail, detail
