"""The 2.0.1 cs-role suite's verdicts (issue 20 points 3 and 4).

- against our own station (`chargebench conform --ocpp 2.0.1 --role cs --self`): every
  implemented case passes, none fails; the per-profile table is in summary.json, JUnit and
  Allure;
- against a station we did not write (`tests.conformance.v201.indep_station201`, on the `ocpp`
  package's v201 ChargePoint): a legal variant fails nothing, an illegal one fails exactly the
  cases that check its rule, a station without LocalAuthListCtrlr makes the D cases not
  applicable with the reason; TxStartPoint ReadOnly makes the start-point options not
  applicable.

The runs start together in the background (`runs` fixture) and mostly wait on the wire; the
fast unit tests below read the prerequisites and the wire model without any process.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chargebench.trace import TraceRecord
from conformance.v201.catalog import load_catalog
from conformance.v201.central import StationState, csms_handlers
from conformance.v201.prerequisites import DeviceModelView, Need, needs_of, unmet
from tests.conformance.helpers import Background

ROOT = Path(__file__).resolve().parents[3]

#: the cases the independent station runs: B variables, G availability, F unlock/remote
#: start/stop/trigger, E start/stop, D local list, C refused idToken
SELECTION = ("TC_B_0 or TC_B_3 or TC_G_0 or TC_F_0 or TC_F_10 or TC_F_2 or TC_E_0 or TC_D_0 "
             "or TC_C_02")
#: cases of SELECTION the independent station cannot run: TxStartPoint/TxStopPoint are
#: ReadOnly "EVConnected,Authorized" there
NOT_APPLICABLE_POINTS = {"TC_E_01_CS", "TC_E_02_CS", "TC_E_07_CS", "TC_E_08_CS"}
LOCAL_LIST = {"TC_D_01_CS", "TC_D_02_CS", "TC_D_03_CS", "TC_D_04_CS", "TC_D_05_CS",
              "TC_D_06_CS", "TC_D_07_CS", "TC_D_08_CS"}
#: illegal variant -> the cases that check its rule (and must fail); every other case passes
ILLEGAL = {
    # part 6 §2.1: seqNo sequentially numbered (the cases that check the sequence)
    "seq-no-gap": {"TC_E_03_CS", "TC_E_04_CS", "TC_E_06_CS", "TC_F_01_CS", "TC_F_02_CS",
                   "TC_F_03_CS", "TC_F_08_CS"},
    # F05.FR.04: nothing prevents unlocking: Unlocked
    "unlock-fails": {"TC_F_06_CS", "TC_F_07_CS"},
    # B06.FR.07 / B05.FR.05: an unknown variable of a known component is UnknownVariable
    "unknown-variable": {"TC_B_33_CS", "TC_B_36_CS"},
}
LEGAL = ("legal-minimal", "legal-notify-event", "no-local-list")
#: variant -> its -k selection: the whole SELECTION for the minimal legal station, the cases
#: of the rule and their neighbours for the others (the runs stay short)
SELECTIONS = {
    "legal-minimal": SELECTION,
    "legal-notify-event": "TC_G_0 or TC_F_2 or TC_E_03 or TC_E_06 or TC_E_01",
    "no-local-list": "TC_D_0 or TC_B_06 or TC_E_01",
    "seq-no-gap": "TC_E_0 or TC_F_0 or TC_B_06",
    "unlock-fails": "TC_F_0 or TC_F_10",
    "unknown-variable": "TC_B_3 or TC_B_06",
}


def _self_command(*pytest_args: str) -> list[str]:
    return [sys.executable, "-m", "chargebench", "conform", "--ocpp", "2.0.1", "--role", "cs",
            "--self", "--", "-q", "-p", "no:cacheprovider", *pytest_args]


def _indep_command(variant: str) -> list[str]:
    return [sys.executable, "-m", "tests.conformance.v201.indep_station201", variant,
            "--timeout", "3", "--", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
            "-k", SELECTIONS[variant]]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> Iterator[Callable[[str], Background]]:
    """The runs this session selected, started up front so that they overlap."""
    wanted = {item.callspec.params.get("variant", "self") if hasattr(item, "callspec")
              else "self" for item in request.session.items if item.module is request.module
              and "runs" in getattr(item, "fixturenames", ())}
    started: dict[str, Background] = {}
    for name in sorted(wanted):
        work = tmp_path_factory.mktemp(name)
        command = _self_command() if name == "self" else _indep_command(name)
        started[name] = Background(work, command)
    yield started.__getitem__
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def _outcomes(cases: dict) -> dict[str, str]:
    return {case_id: entry["outcome"] for case_id, entry in cases.items()
            if entry["reason"] != "not implemented" and not entry["reason"].startswith(
                "not implemented")}


@pytest.mark.slow
def test_self_run(runs):
    """Every implemented case passes against our own station, within 120 s; the per-profile
    table is in the terminal, summary.json, the JUnit properties and the Allure
    environment."""
    run = runs("self")
    code, output, cases, elapsed = run.wait()
    ran = _outcomes(cases)
    assert code == 0, output[-3000:]
    assert {o for o in ran.values()} <= {"passed", "not_applicable"}, {
        c: o for c, o in ran.items() if o not in ("passed", "not_applicable")}
    assert sum(o == "passed" for o in ran.values()) >= 80
    assert elapsed < 120
    summary = json.loads((run.results / "summary.json").read_text())
    core = summary["profiles"]["core"]
    assert f"Core: {core['passed']}/" in output
    properties = {p.get("name"): p.get("value") for p in
                  ET.parse(run.results / "junit.xml").getroot().iter("property")}
    assert properties["profile.core"].startswith(f"Core: {core['passed']}/")
    environment = (run.results / "allure" / "environment.properties").read_text()
    assert "profile.core=Core\\: " in environment  # ':' escaped in a .properties file


def _block(cases: dict, selection: str) -> dict:
    """The cases of the full self run a `-k "A or B ..."` selection of case-id parts names:
    the block tests below judge their blocks on the one self run instead of a run each."""
    words = [word.strip() for word in selection.split(" or ")]
    return {c: e for c, e in cases.items() if any(word in c for word in words)}


@pytest.mark.slow
def test_self_b_c_e_h_cases(runs):
    """Our station passes every B, C, E, H case added with the offline states it can run; the
    rest is not applicable with the reason (TC_H_13_CS: NonEvseSpecific is true; TC_B_15_CS:
    it has SummaryInventory)."""
    from tests.conformance.v201.test_verdicts_cs_bceh import NEW, SELF_NOT_APPLICABLE

    code, output, cases, _ = runs("self").wait()
    cases = _block(cases, NEW)
    ran = _outcomes(cases)
    assert code == 0, output[-3000:]
    assert {c for c, o in ran.items() if o != "passed"} == set(SELF_NOT_APPLICABLE), (
        output[-3000:])
    for case, reason in SELF_NOT_APPLICABLE.items():
        assert cases[case]["reason"] == reason
    assert {"TC_E_40_CS", "TC_E_43_CS", "TC_E_44_CS", "TC_E_16_CS", "TC_H_19_CS",
            "TC_H_24_CS", "TC_C_21_CS", "TC_C_39_CS", "TC_B_51_CS"} <= set(ran)
    assert sum(o == "passed" for o in ran.values()) >= 30


@pytest.mark.slow
def test_self_n_o_p_i_l_cases(runs):
    """Our station: every implemented N, O, P, I, L case passes; the one needing an unsupported
    priority is not applicable (it supports all three)."""
    from tests.conformance.v201.test_verdicts_cs_nolp import BLOCKS

    code, output, cases, _ = runs("self").wait()
    ran = _outcomes(_block(cases, BLOCKS))
    assert code == 0, output[-3000:]
    assert {c for c, o in ran.items() if o not in ("passed", "not_applicable")} == set()
    passed = {c for c, o in ran.items() if o == "passed"}
    assert {"TC_O_01_CS", "TC_O_05_CS", "TC_O_06_CS", "TC_O_20_CS", "TC_P_01_CS",
            "TC_P_04_CS", "TC_N_08_CS", "TC_N_18_CS", "TC_N_25_CS", "TC_N_27_CS",
            "TC_N_37_CS", "TC_N_15_CS", "TC_N_26_CS", "TC_I_01_CS", "TC_I_02_CS",
            "TC_L_05_CS", "TC_L_06_CS", "TC_L_07_CS", "TC_O_14_CS", "TC_O_24_CS",
            "TC_L_01_CS", "TC_L_02_CS", "TC_L_03_CS", "TC_L_10_CS"} <= passed
    assert len(passed) >= 60
    assert {c for c, o in ran.items() if o == "not_applicable"} == {"TC_O_17_CS"}


@pytest.mark.slow
def test_self_a_k_m_j_cases(runs):
    """Our station passes every implemented A, K, M and J case; ISO 15118 cases not
    applicable (no ISO15118Ctrlr), TC_K_24 not applicable (one EVSE)."""
    from tests.conformance.v201.test_verdicts_cs_akmj import A_BASIC, M_RUN, SELF_SELECTION

    code, output, cases, _ = runs("self").wait()
    cases = _block(cases, SELF_SELECTION)
    ran = _outcomes(cases)
    assert code == 0, output[-3000:]
    assert {o for o in ran.values()} <= {"passed", "not_applicable"}, output[-3000:]
    passed = {c for c, o in ran.items() if o == "passed"}
    assert len(passed) >= 48  # J 5, K 33, M 10
    assert {"TC_J_01_CS", "TC_J_02_CS", "TC_K_37_CS", "TC_K_40_CS", "TC_K_41_CS"} | M_RUN <= passed
    # the default station dials at security profile 0: no HTTP Basic to judge
    for case in A_BASIC:
        assert "connected with security profile 0" in cases[case]["reason"], cases[case]
    assert "no ISO15118Ctrlr" in cases["TC_M_03_CS"]["reason"]
    assert "one EVSE" in cases["TC_K_24_CS"]["reason"]
    assert cases["TC_M_15_CS"]["reason"].startswith("not implemented")


@pytest.mark.slow
@pytest.mark.parametrize("variant", LEGAL)
def test_legal_station(runs, variant):
    """A legal station fails nothing; what it cannot do is not applicable, with the reason."""
    code, output, cases, _ = runs(variant).wait()
    ran = _outcomes(cases)
    failed = {c for c, o in ran.items() if o in ("failed", "error")}
    assert not failed, output[-4000:]
    assert code == 0
    not_applicable = {c for c, o in ran.items() if o == "not_applicable"}
    expected = NOT_APPLICABLE_POINTS | (LOCAL_LIST if variant == "no-local-list" else set())
    assert not_applicable == expected & set(ran)
    assert ran.keys() - not_applicable, "nothing ran"
    if variant == "no-local-list":
        reason = cases["TC_D_01_CS"]["reason"]
        assert reason.startswith("not applicable: the station's device model has no "
                                 "LocalAuthListCtrlr (GetBaseReport FullInventory)"), reason
    assert "TxCtrlr.TxStartPoint is 'EVConnected,Authorized'" in cases["TC_E_01_CS"]["reason"]


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(ILLEGAL))
def test_illegal_station(runs, variant):
    """An illegal station fails exactly the cases that check the rule it breaks."""
    code, output, cases, _ = runs(variant).wait()
    ran = _outcomes(cases)
    failed = {c for c, o in ran.items() if o in ("failed", "error")}
    assert failed == ILLEGAL[variant], output[-4000:]
    assert code == 1
    passed = {c for c, o in ran.items() if o == "passed"}
    assert passed and not passed & ILLEGAL[variant]


# Fast: the parts, without any process ------------------------------------------------------


def _report(*entries: tuple[str, str, str]) -> DeviceModelView:
    view = DeviceModelView(source="GetBaseReport FullInventory")
    view.add_report({"component": {"name": c}, "variable": {"name": v},
                     "variableAttribute": [{"type": "Actual", "value": value}]}
                    for c, v, value in entries)
    return view


def test_a_missing_component_makes_its_cases_not_applicable():
    catalog = load_catalog()
    model = _report(("TxCtrlr", "TxStartPoint", "EVConnected,Authorized"),
                    ("ReservationCtrlr", "Available", "false"))
    assert unmet(needs_of(catalog["TC_B_06_CS"]), model) is None
    assert unmet(needs_of(catalog["TC_D_01_CS"]), model) == (
        "the station's device model has no LocalAuthListCtrlr (GetBaseReport FullInventory)")
    assert unmet(needs_of(catalog["TC_H_01_CS"]), model) == (
        "ReservationCtrlr.Available is false (GetBaseReport FullInventory)")
    # Smart Charging and ISO 15118 list TC_K_01_CS: the first profile's controller decides
    assert needs_of(catalog["TC_K_01_CS"]) == [Need("SmartChargingCtrlr")]
    # a Core case in a block of its own needs nothing more
    assert needs_of(catalog["TC_C_02_CS"]) == []
    assert "ISO15118Ctrlr" in unmet(needs_of(catalog["TC_C_50_CS"]), model)


def test_a_variable_value_prerequisite():
    model = _report(("TxCtrlr", "TxStartPoint", "EVConnected, Authorized"))
    assert unmet([Need("TxCtrlr", "TxStartPoint", contains="Authorized")], model) is None
    assert "needs TxCtrlr.TxStartPoint containing PowerPathClosed" in unmet(
        [Need("TxCtrlr", "TxStartPoint", contains="PowerPathClosed")], model)
    assert "has no TxCtrlr.TxStopPoint" in unmet([Need("TxCtrlr", "TxStopPoint")], model)
    # names compare case-insensitively (ComponentType.name: "Case Insensitive")
    assert model.has("txctrlr", "TXSTARTPOINT")


def _frame(direction: str, kind: str, message_id: str, action: str | None, payload: dict
           ) -> TraceRecord:
    return TraceRecord.from_json(json.dumps({
        "ts": "2026-01-01T00:00:00+00:00", "cp_id": "X", "dir": direction, "type": kind,
        "id": message_id, "action": action, "payload": payload, "latency_ms": None,
        "session": "c0"}))


def test_the_wire_model_knows_what_to_undo():
    """StationState: a transaction runs from its first event to Ended; a status is the last
    one reported; what the station accepted (a variable, Inoperative, a reservation) is
    remembered, what it refused is not."""
    state = StationState()
    station, us = "cp->cs", "cs->cp"
    event = {"eventType": "Started", "transactionInfo": {"transactionId": "T1"},
             "evse": {"id": 1}}
    state.observe(_frame(station, "CALL", "1", "TransactionEvent", event), True)
    assert state.transactions == {"T1": 1}
    state.observe(_frame(station, "CALL", "2", "StatusNotification", {
        "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}), True)
    assert state.status == {(1, 1): "Occupied"}
    set_var = {"setVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"},
         "attributeValue": "300"},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "MessageTimeout"},
         "attributeValue": "1"}]}
    state.observe(_frame(us, "CALL", "a", "SetVariables", set_var), False)
    state.observe(_frame(station, "CALLRESULT", "a", None, {"setVariableResult": [
        {"attributeStatus": "Accepted", **set_var["setVariableData"][0]},
        {"attributeStatus": "Rejected", **set_var["setVariableData"][1]}]}), True)
    assert state.changed == {("OCPPCommCtrlr", "OfflineThreshold", None): "300"}
    state.observe(_frame(us, "CALL", "b", "ChangeAvailability",
                         {"operationalStatus": "Inoperative"}), False)
    state.observe(_frame(station, "CALLRESULT", "b", None, {"status": "Scheduled"}), True)
    assert state.inoperative
    state.observe(_frame(station, "CALL", "3", "TransactionEvent", {
        "eventType": "Ended", "transactionInfo": {"transactionId": "T1"}}), True)
    assert state.transactions == {}


def test_the_csms_answers():
    """The OCTT's answers: an idToken Accepted unless a case says otherwise, in Authorize and
    in the TransactionEventResponse of an event carrying it."""
    tokens: dict[str, str] = {"BAD": "Invalid"}
    handlers = csms_handlers(tokens)
    assert handlers["Authorize"]({"idToken": {"idToken": "OK", "type": "ISO14443"}}) == {
        "idTokenInfo": {"status": "Accepted"}}
    assert handlers["TransactionEvent"]({"idToken": {"idToken": "BAD", "type": "ISO14443"}}) \
        == {"idTokenInfo": {"status": "Invalid"}}
    assert handlers["TransactionEvent"]({}) == {}
    assert handlers["BootNotification"]({})["status"] == "Accepted"


def test_per_profile_table_in_junit_and_allure(tmp_path):
    """The plugin's per-profile lines land in JUnit `<properties>` (and, as the same dict, in
    Allure's environment)."""
    from conformance.plugin import _junit_properties
    from reports.junit import write_junit
    from reports.outcome import Outcome, Verdict

    path = tmp_path / "junit.xml"
    write_junit("s", [Verdict("TC_B_01_CS x", Outcome.PASSED)], path)
    _junit_properties(path, {"profile.core": "Core: 1/1 passed"})
    root = ET.parse(path).getroot()
    assert root[0].tag == "properties"
    assert root[0][0].attrib == {"name": "profile.core", "value": "Core: 1/1 passed"}
    assert root.find("testcase") is not None
