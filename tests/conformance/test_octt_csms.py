"""The OCTT cases for a CSMS under test: all pass against the built-in CSMS through
`chargebench conform --self`, fail against a CSMS that decides wrongly, and a case that needs a
never-booted charge point gets one."""

from __future__ import annotations

import pytest

from conformance.background import BackgroundLoop
from conformance.capabilities import Capabilities
from conformance.catalog import load_catalog
from conformance.selfpeers import ReferenceCsms
from conformance.settings import Settings
from tests.conformance.helpers import run_suite


@pytest.mark.slow
def test_builtin_csms_passes_every_case_within_a_minute(self_runs):
    """`chargebench conform --role csms --self` runs every csms-role case against the built-in
    CSMS (triggered through its HTTP actions API): none fails or is skipped for want of a
    trigger, and the whole run takes under 60 s."""
    code, output, cases, elapsed = self_runs("csms-self", "csms").wait()
    assert code == 0, output[-6000:]
    outcomes = {name: case["outcome"] for name, case in cases.items()}
    assert set(outcomes.values()) <= {"passed", "not_applicable"}, outcomes
    expected = {case.full_id for (_, role), case in load_catalog().items() if role == "csms"}
    assert expected <= set(outcomes), sorted(expected - set(outcomes))
    assert outcomes["RPC_020_CS"] == "passed"
    assert elapsed < 60, f"took {elapsed:.1f} s"


#: The security cases each profile makes applicable, all of which the built-in CSMS passes.
#: From profile 1 on the self CSMS also refuses unknown ids (RPC_023).
SECURED = {
    1: {"TC_073_CS", "TC_083_CS", "TC_085_CS", "RPC_023_CS", "RPC_024_CS", "RPC_025_CS"},
    2: {"TC_073_CS", "TC_083_CS", "TC_085_CS", "TC_086_CS", "RPC_023_CS", "RPC_024_CS",
        "RPC_025_CS"},
    3: {"TC_086_CS", "TC_087_CS", "RPC_023_CS", "RPC_026_CS"},
}


@pytest.mark.slow
def test_builtin_csms_passes_at_every_security_profile(self_runs):
    """`--self-profile N`: the built-in CSMS serves basic auth (1), TLS with basic auth (2) or
    mutual TLS (3); every case passes or is not applicable, including that profile's security
    cases (a new AuthorizationKey and a raised profile do not break the cases after them)."""
    runs = {n: self_runs(f"csms-self-{n}", "csms", conform_args=("--self-profile", str(n)))
            for n in SECURED}  # started together: they overlap
    for profile, run in runs.items():
        code, output, cases, _ = run.wait()
        assert code == 0, output[-6000:]
        outcomes = {name: case["outcome"] for name, case in cases.items()}
        assert set(outcomes.values()) <= {"passed", "not_applicable"}, outcomes
        assert all(outcomes.get(case) == "passed" for case in SECURED[profile]), (
            profile, {case: outcomes.get(case) for case in SECURED[profile]})


@pytest.mark.slow
def test_csms_accepting_every_tag_fails_authorize_cases(tmp_path):
    """A CSMS that answers Accepted for every id tag (the reference CSMS has no tag store)
    fails TC_023_1-3, and the verdict names the expected and the received status."""
    with BackgroundLoop() as loop:
        csms = loop.run(ReferenceCsms().start())
        run = run_suite(
            tmp_path, "--cb-role", "csms", "--cb-target", csms.url, "-k", "authorize_refused"
        )
    outcomes = run.outcomes()
    assert {outcomes[f"TC_023_{n}_CS"] for n in (1, 2, 3)} == {"failed"}, outcomes
    assert "expected CALLRESULT" in run.output
    assert '{"idTagInfo":{"status":"Accepted"}}' in run.output


def test_never_booted_id_is_fresh_declared_or_absent():
    """RPC_020's charge point: the declared id, else a new derivative of --cb-cp-id when the
    CSMS admits unknown ids, else none (the case is skipped, never passed)."""
    admits = Settings("csms", cp_id="CP-1",
                      capabilities=Capabilities(rejects_unknown_charge_points=False))
    first, second = admits.never_booted_cp_id(), admits.never_booted_cp_id()
    assert first != second and first.startswith("CP-1-") and second.startswith("CP-1-")
    declared = Settings("csms", capabilities=Capabilities(never_booted_cp_id="CP-NB"))
    assert declared.never_booted_cp_id() == "CP-NB"
    assert Settings("csms").never_booted_cp_id() is None
