"""Reusable State Booted (TC_B_01_CSMS): its verdict against an independent 2.0.1 CSMS
(`indep_csms201`, the `ocpp` package's v201 ChargePoint) in legal and illegal variants,
through the whole plugin against it (a case that needs a command the CSMS is not asked for is
skipped, never passed), and every implemented csms-role case against ChargeBench's own CSMS
(`conform --self`). Besides ours, no other 2.0.1 CSMS exists to try: the `ocpp` package's is
the independent one (all cases against it: test_cases_indep_csms.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from chargebench.ocppj.versions import OCPP201
from conformance.background import BackgroundLoop
from conformance.endpoints import dial
from conformance.expect import Mismatch
from conformance.settings import Settings
from conformance.v201.station import booted, station_handlers
from tests.conformance.helpers import ROOT
from tests.conformance.v201.csms_cases import cases
from tests.conformance.v201.indep_csms201 import VARIANTS, IndependentCsms201

#: why each variant that breaks Booted fails it (the other illegal ones break other rules)
FAILS = {
    "rejected": "received Rejected",
    "pending": "received Pending",
    "no_status": "StatusNotification",
    "no_interval": "interval",
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_booted_state_against_the_independent_csms(name):
    """Reusable State Booted passes against every legal variant (and the illegal ones that
    break another rule) and fails every variant breaking a rule of its own, each for its own
    reason."""
    variant = VARIANTS[name]
    csms = await IndependentCsms201(variant).start()
    settings = Settings("csms", target=csms.url, timeout=3.0, ocpp="2.0.1")
    peer = await dial(settings, version=OCPP201, handlers=station_handlers())
    try:
        if name not in FAILS:
            reply = await booted(peer)
            assert (reply["status"], reply["interval"]) == ("Accepted", variant.interval)
            assert [r.action for r in peer.log if r.type == "CALLRESULT"] == [
                "BootNotification", "StatusNotification", "NotifyEvent"]
        else:
            with pytest.raises(Mismatch) as raised:
                await booted(peer)
            assert FAILS[name] in str(raised.value), str(raised.value)
    finally:
        await peer.close()
        await csms.close()


def _suite(*args: str, results) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chargebench", "conform", "--ocpp", "2.0.1", "--role", "csms",
         "--results", str(results), *args], cwd=results.parent, capture_output=True, text=True,
        timeout=180, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _outcomes(results) -> dict[str, str]:
    cases = json.loads((results / "summary.json").read_text())["cases"]
    return {case["case"]: case["outcome"] for case in cases}


@pytest.mark.slow  # a subprocess with the plugin: about 6 s on an idle machine
@pytest.mark.parametrize("name", ["default", "rejected"])
def test_conform_judges_the_independent_csms(tmp_path, name):
    """`conform --ocpp 2.0.1 --role csms --csms URL` against the independent CSMS with no
    trigger: the cases the station runs alone pass (exit 0) or fail (exit 1); a case needing a
    command from the CSMS (TC_B_20_CSMS: Reset) is skipped with the reason, never passed."""
    with BackgroundLoop() as loop:
        csms = loop.run(IndependentCsms201(VARIANTS[name]).start())
        try:
            done = _suite("--csms", csms.url, "--", "--cb-timeout", "5", "-k",
                          "TC_B_01 or TC_B_20 or TC_C_02 or TC_E_04",
                          results=tmp_path / "results")
        finally:
            loop.run(csms.close())
    output = done.stdout + done.stderr
    passed = VARIANTS[name].legal
    assert done.returncode == (0 if passed else 1), output[-3000:]
    outcome = "passed" if passed else "failed"
    # TC_B_20_CSMS boots first: a CSMS that rejects the station fails it there
    assert _outcomes(tmp_path / "results") == {
        "TC_B_01_CSMS": outcome, "TC_C_02_CSMS": outcome, "TC_E_04_CSMS": outcome,
        "TC_B_20_CSMS": "skipped" if passed else "failed"}, output[-3000:]
    assert ("needs the CSMS to send Reset" in output) == passed, output[-3000:]


@pytest.mark.slow
def test_conform_self_passes_every_implemented_case(tmp_path):
    """`conform --ocpp 2.0.1 --role csms --self`: ChargeBench's own CSMS passes every
    implemented case of its security profile (no failure, no error), the A cases of profiles
    1-3 not applicable, the rest not implemented, within 120 s."""
    started = time.monotonic()
    done = _suite("--self", results=tmp_path / "results")
    wall = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    outcomes = _outcomes(tmp_path / "results")
    passed = {case for case, outcome in outcomes.items() if outcome == "passed"}
    # the security cases of profiles 1-3 are not applicable at --self's profile 0
    security = {case for case in cases() if case.startswith("TC_A_")}
    assert passed == set(cases()) - security, sorted(passed ^ (set(cases()) - security))
    assert {case for case, outcome in outcomes.items() if outcome == "not_applicable"} == (
        security), output[-3000:]
    assert set(outcomes.values()) == {"passed", "skipped", "not_applicable"}, output[-3000:]
    assert wall < 120, f"{wall:.1f} s"
