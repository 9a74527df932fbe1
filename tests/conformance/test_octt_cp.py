"""The OCTT cases for a charge point under test: every case passes against the simulator
through `chargebench conform --role cp --self` within a minute, and a simulator made to
misbehave (`sim.features.faults.FaultPlan`, `--self-faults`) fails the case that checks the
broken behaviour, with a verdict naming the expected and the received frame."""

from __future__ import annotations

import pytest

from conformance.catalog import load_catalog

pytestmark = pytest.mark.slow


def _runs(self_runs):
    """The full run, the mutated run and the built-in CSMS's run, started together so they
    overlap (each still has to finish within its own minute)."""
    rules = [rule for _, rule, _ in MUTATIONS]
    selected = " or ".join(case for case, _, _ in MUTATIONS)
    full = self_runs("cp-self", "cp")
    mutated = self_runs("cp-mutated", "cp", "-k", selected, "--cb-timeout", "1",
                        faults={"rules": rules})
    self_runs("csms-self", "csms")  # read by test_octt_csms
    return full, mutated


#: Cases the simulator fails because the simulator is wrong, not the suite (reported to the
#: simulator's owners): case -> evidence the verdict must name. Remove an entry when the
#: simulator is fixed; this test then fails until it is.
KNOWN_SIM_DEFECTS: dict[str, str] = {
    # case -> evidence in its verdict, for a simulator defect the suite rightly reports; empty
    # since the cable stays locked (Finishing) after an EV-side unplug until the card (TC_005_2)
}


def test_simulator_passes_every_case_within_a_minute(self_runs):
    """Every cp-role case in the catalogue runs against the simulator; none fails but the
    known simulator defects (with their evidence), the not-applicable ones say why, and the
    run takes under 60 s."""
    code, output, cases, elapsed = _runs(self_runs)[0].wait()
    outcomes = {name: case["outcome"] for name, case in cases.items()}
    for name, evidence in KNOWN_SIM_DEFECTS.items():
        assert outcomes.pop(name) == "failed" and evidence in cases[name]["reason"], cases[name]
    assert code == (1 if KNOWN_SIM_DEFECTS else 0), output[-6000:]
    assert set(outcomes.values()) <= {"passed", "not_applicable"}, outcomes
    expected = {case.full_id for (_, role), case in load_catalog().items() if role == "cp"}
    assert expected <= set(outcomes) | set(KNOWN_SIM_DEFECTS), sorted(expected - set(outcomes))
    assert all(cases[name]["reason"] for name, o in outcomes.items() if o == "not_applicable")
    assert elapsed < 60, f"took {elapsed:.1f} s"


#: (case, fault rule making the simulator break what the case checks, evidence in the verdict)
MUTATIONS = [
    # answers one action wrongly: UnlockConnector says UnlockFailed with a free lock
    ("TC_017_1", {"action": "UnlockConnector", "effect": "reject", "times": None,
                  "reply": {"status": "UnlockFailed"}}, "UnlockFailed"),
    # skips StatusNotifications after the boot's two: the fault is never reported
    ("TC_041", {"action": "StatusNotification", "effect": "ignore", "direction": "out",
                "after": 2, "times": None}, "received instead"),
    # a schema-valid but wrong answer: Accepted for a transaction that does not exist (the
    # session core no longer lets a schema-invalid reply out: it becomes an InternalError)
    ("TC_028", {"action": "RemoteStopTransaction", "effect": "reject", "times": None,
                "reply": {"status": "Accepted"}}, "Accepted"),
    # never answers a command
    ("TC_061", {"action": "ClearCache", "effect": "ignore", "times": None},
     "received instead"),
]


@pytest.fixture(scope="module")
def mutated_run(self_runs):
    """One run of the mutated cases against one simulator carrying every fault rule: each
    rule breaks an action only its own case uses, so the cases stay independent, and the
    simulator starts once instead of once per mutation."""
    return _runs(self_runs)[1].wait()[2]


@pytest.mark.parametrize(("case", "evidence"), [
    pytest.param(case, evidence, id=case) for case, _, evidence in MUTATIONS
])
def test_misbehaving_simulator_fails_the_named_case(mutated_run, case, evidence):
    """The case checking the broken behaviour fails; the verdict names what was expected and
    what came instead."""
    assert mutated_run[f"{case}_CP"]["outcome"] == "failed", mutated_run
    reason = mutated_run[f"{case}_CP"]["reason"]
    assert "expected" in reason and evidence in reason, reason


def test_a_charger_left_busy_makes_the_next_case_an_error(self_runs):
    """Isolation (issue 13): a charger that cannot be brought back to idle (its statuses stop
    after Charging and it refuses the Reset of the last resort) fails the case that saw it and
    makes the next case an error "charger not idle: ...", never a verdict."""
    rules = [
        # boot (connectors 0 and 1), Preparing, Charging pass; nothing after
        {"action": "StatusNotification", "effect": "ignore", "direction": "out", "after": 4,
         "times": None},
        {"action": "Reset", "effect": "reject", "times": None, "reply": {"status": "Rejected"}},
    ]
    code, output, cases, _ = self_runs(
        "cp-stuck", "cp", "-k", "TC_003 or TC_010", faults={"rules": rules}).wait()
    assert cases["TC_003_CP"]["outcome"] == "failed", cases
    assert cases["TC_010_CP"]["outcome"] == "error", cases
    assert cases["TC_010_CP"]["reason"].count("charger not idle: connector status 1: Charging")
    assert code == 1, output[-3000:]
