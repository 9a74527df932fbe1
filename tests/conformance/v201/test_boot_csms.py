"""TC_B_01_CSMS, the first executable 2.0.1 case: its verdict against an independent 2.0.1
CSMS (`indep_csms201`, the `ocpp` package's v201 ChargePoint) in legal and illegal variants,
through the whole plugin against it, and against ChargeBench's own CSMS (`conform --self`).
Besides ours, no other 2.0.1 CSMS exists to try: the `ocpp` package's is the independent one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chargebench.ocppj.versions import OCPP201
from conformance.background import BackgroundLoop
from conformance.endpoints import dial
from conformance.expect import Mismatch
from conformance.settings import Settings
from conformance.v201.station import booted, station_handlers
from tests.conformance.helpers import ROOT
from tests.conformance.v201.indep_csms201 import VARIANTS, IndependentCsms201

#: why each illegal variant fails the case
FAILS = {
    "rejected": "received Rejected",
    "pending": "received Pending",
    "no_status": "StatusNotification",
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_booted_state_against_the_independent_csms(name):
    """Reusable State Booted passes against every legal variant and fails every illegal one,
    each for its own reason."""
    variant = VARIANTS[name]
    csms = await IndependentCsms201(variant).start()
    settings = Settings("csms", target=csms.url, timeout=3.0, ocpp="2.0.1")
    peer = await dial(settings, version=OCPP201, handlers=station_handlers())
    try:
        if variant.legal:
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


@pytest.mark.parametrize("name", ["default", pytest.param("rejected", marks=pytest.mark.slow)])
def test_conform_judges_the_independent_csms(tmp_path, name):
    """`conform --ocpp 2.0.1 --role csms --csms URL` against the independent CSMS: TC_B_01_CSMS
    passed (exit 0) or failed (exit 1), the other Core cases not implemented."""
    with BackgroundLoop() as loop:
        csms = loop.run(IndependentCsms201(VARIANTS[name]).start())
        try:
            done = _suite("--csms", csms.url, "--", "--cb-profile", "core", "--cb-timeout", "5",
                          results=tmp_path / "results")
        finally:
            loop.run(csms.close())
    output = done.stdout + done.stderr
    outcomes = _outcomes(tmp_path / "results")
    passed = VARIANTS[name].legal
    assert done.returncode == (0 if passed else 1), output[-3000:]
    assert outcomes.pop("TC_B_01_CSMS") == ("passed" if passed else "failed")
    assert set(outcomes.values()) == {"skipped"} and len(outcomes) == 130
    verdict = "Core: 1/131 passed" if passed else "Core: 0/131 passed, 1 failed"
    assert f"{verdict}, 130 not implemented" in output, output[-3000:]


@pytest.mark.slow
def test_conform_self_passes_the_boot_case(tmp_path):
    """`conform --ocpp 2.0.1 --role csms --self`: ChargeBench's own CSMS boots the station."""
    done = _suite("--self", "--", "-k", "TC_B_01", results=tmp_path / "results")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert _outcomes(tmp_path / "results") == {"TC_B_01_CSMS": "passed"}
