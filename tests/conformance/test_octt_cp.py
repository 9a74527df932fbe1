"""The OCTT cases for a charge point under test: every case passes against the simulator
through `chargebench conform --role cp --self` within a minute, and a simulator made to
misbehave (`sim.features.faults.FaultPlan`, `--self-faults`) fails the case that checks the
broken behaviour, with a verdict naming the expected and the received frame."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import yaml

from conformance.catalog import load_catalog
from tests.conformance.helpers import ROOT

pytestmark = pytest.mark.slow


def _self_run(tmp_path, *pytest_args: str, faults: dict | None = None):
    results = tmp_path / "results"
    command = [sys.executable, "-m", "chargebench", "conform", "--role", "cp", "--self",
               "--results", str(results)]
    if faults is not None:
        plan = tmp_path / "faults.yaml"
        plan.write_text(yaml.safe_dump(faults))
        command += ["--self-faults", str(plan)]
    done = subprocess.run([*command, "--", "-q", "-p", "no:cacheprovider", *pytest_args],
                          cwd=ROOT, capture_output=True, text=True, timeout=150, check=False)
    summary = results / "summary.json"
    cases = json.loads(summary.read_text())["cases"] if summary.exists() else []
    return done, {case["case"]: case for case in cases}


def test_simulator_passes_every_case_within_a_minute(tmp_path):
    """Every cp-role case in the catalogue runs against the simulator; none fails, the
    not-applicable ones say why, and the run takes under 60 s."""
    started = time.monotonic()
    done, cases = _self_run(tmp_path)
    elapsed = time.monotonic() - started
    outcomes = {name: case["outcome"] for name, case in cases.items()}
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert set(outcomes.values()) <= {"passed", "not_applicable"}, outcomes
    expected = {case.full_id for (_, role), case in load_catalog().items() if role == "cp"}
    assert expected <= set(outcomes), sorted(expected - set(outcomes))
    assert all(cases[name]["reason"] for name, o in outcomes.items() if o == "not_applicable")
    assert elapsed < 60, f"took {elapsed:.1f} s"


MUTATIONS = [
    # answers one action wrongly: UnlockConnector says UnlockFailed with a free lock
    pytest.param({"rules": [{"action": "UnlockConnector", "effect": "reject", "times": None,
                             "reply": {"status": "UnlockFailed"}}]},
                 "TC_017_1", "UnlockFailed", id="wrong-answer"),
    # skips StatusNotifications: the fault is never reported
    pytest.param({"rules": [{"action": "StatusNotification", "effect": "ignore",
                             "direction": "out", "after": 2, "times": None}]},
                 "TC_041", "received instead", id="skipped-status"),
    # a bad enum value in a reply
    pytest.param({"rules": [{"action": "RemoteStopTransaction", "effect": "reject",
                             "times": None, "reply": {"status": "Maybe"}}]},
                 "TC_028", "Maybe", id="bad-enum"),
    # never answers a command
    pytest.param({"rules": [{"action": "ClearCache", "effect": "ignore", "times": None}]},
                 "TC_061", "received instead", id="no-answer"),
]


@pytest.mark.parametrize(("faults", "case", "evidence"), MUTATIONS)
def test_misbehaving_simulator_fails_the_named_case(tmp_path, faults, case, evidence):
    """The case checking the broken behaviour fails; the verdict names what was expected and
    what came instead."""
    _done, cases = _self_run(tmp_path, "-k", case, "--cb-timeout", "1", faults=faults)
    assert cases[f"{case}_CP"]["outcome"] == "failed", cases
    reason = cases[f"{case}_CP"]["reason"]
    assert "expected" in reason and evidence in reason, reason
