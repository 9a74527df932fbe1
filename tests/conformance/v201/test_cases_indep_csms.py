"""Every implemented 2.0.1 csms-role case judged against a CSMS ChargeBench did not write
(`indep_csms201`: the `ocpp` package's v201 ChargePoint), in-process and through the whole
plugin: each legal variant passes every case; each illegal variant fails exactly the cases
that check the rule it breaks, and no other."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from conformance.background import BackgroundLoop
from conformance.expect import Mismatch
from conformance.settings import Settings
from tests.conformance.helpers import ROOT
from tests.conformance.v201.csms_cases import cases, run_case
from tests.conformance.v201.indep_csms201 import VARIANTS, IndependentCsms201

ALL = sorted(cases())
#: the A cases: each needs a security profile above 0 (not applicable at the independent
#: CSMS's profile 0)
SECURITY = {case for case in ALL if case.startswith("TC_A_")}
#: the cases each illegal variant must fail (None: every case, the rule is in Booted)
FAILS: dict[str, set[str] | None] = {
    # B01.FR.02: the BootNotificationResponse has an interval; every case boots (but the
    # security ones, not applicable at profile 0)
    "no_interval": None,
    # C01.FR.07: a blocked token is never Accepted
    "blocked_accepted": {"TC_C_06_CSMS"},
    # F01/F02, K05: the operator's remote start never reaches the station
    "no_remote_start": {"TC_F_01_CSMS", "TC_F_02_CSMS", "TC_F_03_CSMS", "TC_F_04_CSMS",
                        "TC_K_37_CSMS"},
    # B11/B12: a Reset of another type than asked (Immediate for OnIdle)
    "reset_immediate": {"TC_B_20_CSMS", "TC_B_21_CSMS", "TC_B_25_CSMS", "TC_B_26_CSMS"},
}


def _failed(why: str) -> bool:
    return bool(why) and not why.startswith("skipped: ")


async def _verdicts(name: str) -> dict[str, str]:
    """Each implemented case against variant `name`: "" (passed), "skipped: ..." (a case for
    another security profile: the independent CSMS speaks profile 0) or the verdict's first
    line."""
    csms = await IndependentCsms201(VARIANTS[name]).start()
    settings = Settings("csms", target=csms.url, timeout=1.0, ocpp="2.0.1")
    verdicts: dict[str, str] = {}
    try:
        for case_id in ALL:
            try:
                await asyncio.wait_for(run_case(case_id, settings, csms), 30)
                verdicts[case_id] = ""
            except Mismatch as verdict:
                verdicts[case_id] = str(verdict).splitlines()[0] or "failed"
            except pytest.skip.Exception as skipped:
                verdicts[case_id] = f"skipped: {skipped}"
    finally:
        await csms.close()
    return verdicts


def test_the_runner_finds_every_implemented_case():
    """The in-process runner sees the cases the plugin collects (at least the 200 the issue
    asks for), each once, all csms-role ids."""
    assert len(ALL) >= 200 and all(case.endswith("_CSMS") for case in ALL)


@pytest.mark.parametrize("name", ["default", "verbose"])
async def test_legal_variants_pass_every_case(name):
    """A CSMS that takes the other allowed choices (statusInfo, another interval, Invalid for
    an unknown token, Rejected for an unknown vendor) passes every implemented case."""
    verdicts = await _verdicts(name)
    assert {case: why for case, why in verdicts.items() if _failed(why)} == {}
    skipped = {case for case, why in verdicts.items() if why}
    assert skipped == SECURITY, skipped ^ SECURITY


@pytest.mark.parametrize("name", [
    "no_interval", "blocked_accepted",
    pytest.param("no_remote_start", marks=pytest.mark.slow),  # five 1 s waits for the CALL
    pytest.param("reset_immediate", marks=pytest.mark.slow),
])
async def test_illegal_variant_fails_exactly_its_cases(name):
    """Each broken rule fails the cases that check it and no other."""
    assert not VARIANTS[name].legal
    verdicts = await _verdicts(name)
    failed = {case for case, why in verdicts.items() if _failed(why)}
    expected = set(ALL) - SECURITY if FAILS[name] is None else FAILS[name]
    assert failed == expected, {case: verdicts[case] for case in failed ^ expected}


def _conform(*args: str, results) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chargebench", "conform", "--ocpp", "2.0.1", "--role", "csms",
         "--results", str(results), *args], cwd=results.parent, capture_output=True, text=True,
        timeout=240, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _outcomes(results) -> dict[str, str]:
    rows = json.loads((results / "summary.json").read_text())["cases"]
    return {row["case"]: row["outcome"] for row in rows}


#: one case per module that needs the trigger (and an A case, not applicable at profile 0)
THROUGH_PLUGIN = ["TC_B_20_CSMS", "TC_E_21_CSMS", "TC_F_01_CSMS", "TC_F_02_CSMS",
                  "TC_K_37_CSMS", "TC_N_25_CSMS", "TC_O_06_CSMS", "TC_H_17_CSMS",
                  "TC_A_09_CSMS"]


@pytest.mark.slow  # a subprocess with the plugin: about 6 s each on an idle machine
@pytest.mark.parametrize("name", ["default", "no_remote_start"])
def test_conform_with_the_trigger_url(tmp_path, name):
    """`conform --csms URL -- --cb-trigger-url URL` against the independent CSMS, the plugin
    and the HTTP trigger as a user runs them, on cases that need the CSMS to send commands:
    all pass (exit 0), or the remote start ones alone fail (exit 1); the A case is not
    applicable at profile 0."""
    results = tmp_path / "results"
    with BackgroundLoop() as loop:
        csms = loop.run(IndependentCsms201(VARIANTS[name]).start())
        try:
            done = _conform("--csms", csms.url, "--", "--cb-trigger-url", csms.actions_url,
                            "--cb-timeout", "2", "-k", " or ".join(THROUGH_PLUGIN),
                            results=results)
        finally:
            loop.run(csms.close())
    output = (done.stdout + done.stderr)[-3000:]
    outcomes = _outcomes(results)
    assert set(outcomes) == set(THROUGH_PLUGIN), output
    expected = (FAILS.get(name) or set()) & set(THROUGH_PLUGIN)
    failed = {case for case, outcome in outcomes.items() if outcome == "failed"}
    assert (failed, done.returncode) == (expected, 1 if expected else 0), output
    assert outcomes.pop("TC_A_09_CSMS") == "not_applicable", output
    assert {case for case, outcome in outcomes.items() if outcome == "passed"} == (
        set(THROUGH_PLUGIN) - expected - {"TC_A_09_CSMS"}), output
