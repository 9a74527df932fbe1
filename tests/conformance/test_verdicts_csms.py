"""The csms-role verdict table against a CSMS ChargeBench did not write.

`tests/conformance/indep/csms16.py` is an OCPP 1.6 CSMS on the `ocpp` package's ChargePoint. The
suite runs against each of its variants: a legal variant (another choice the spec leaves open)
must get no failure; an illegal one (one rule broken) must fail exactly the cases that check that
rule, and no other. The variants run side by side (they mostly wait on the network).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from conformance.background import BackgroundLoop
from conformance.catalog import load_catalog
from tests.conformance.helpers import Run, run_suite
from tests.conformance.indep.csms16 import IndependentCsms, Variant

#: Per-frame timeout of these runs: the peer validates with jsonschema in a thread, slower
#: than our own; a failing case waits this long, a passing one never does.
TIMEOUT = "1.5"

PASSWORD = "CB-INDEPENDENT-KEY-1"  # 20 characters (whitepaper A00.FR.202)

#: name -> (variant, the cases it must fail). Legal variants fail none.
TABLE: dict[str, tuple[Variant, frozenset[str]]] = {
    # Legal: other choices the spec leaves to the CSMS
    # (legal choices combine: several share a run, to keep the table's runtime down)
    "default": (Variant(), frozenset()),
    "minimal-pending": (  # optional fields omitted; Pending, then Accepted (1.6 §4.2)
        Variant("minimal-pending", minimal=True, pending_first=True, interval=86400),
        frozenset()),
    "registry": (  # 404 for unknown ids (OCPP-J §3.2); its own reservation ids (1.6 §5.13);
        # commands in its own JSON spelling of the same dateTimes and decimals (1.6 §2.3)
        Variant("registry", registry=True, own_reservation_ids=True, reformats=True),
        frozenset()),
    "basic-auth": (  # security profile 1: HTTP Basic, a new AuthorizationKey taken (A01)
        Variant("basic-auth", password=PASSWORD), frozenset()),
    "lenient": (  # unreadable frames dropped, a reused id answered (errata §3.1), and CALLs
        # answered before the boot is accepted (SecurityError only RECOMMENDED, errata §3.10)
        Variant("lenient", lenient_framing=True, no_boot_gate=True), frozenset()),
    # Illegal: one rule broken each
    "accepts-unknown-tags": (  # 1.6 §4.1, §4.8: an unknown tag is Invalid
        Variant("accepts-unknown-tags", legal=False, accept_unknown_tags=True),
        frozenset({"TC_023_1_CS", "TC_037_3_CS"})),
    "accepts-blocked-tag": (  # 1.6 §4.1, §7.2
        Variant("accepts-blocked-tag", legal=False, accept_blocked=True),
        frozenset({"TC_023_3_CS"})),
    "format-violation": (  # OCPP-J 1.6 §4.2.3 Table 7 spells it FormationViolation
        Variant("format-violation", legal=False, lib_codes=True),
        frozenset({f"RPC_{n:03}_CS" for n in (1, 2, 4, 5, 6, 7, 8, 13, 15)})),
    "no-date-time-check": (  # OCPP-J 1.6 §4.2.3 Table 7 TypeConstraintViolation
        Variant("no-date-time-check", legal=False, lib_dates=True),
        frozenset({"RPC_019_CS"})),
    "accepts-any-password": (  # whitepaper A00.FR.204: wrong or missing credentials -> 401
        Variant("accepts-any-password", legal=False, password=PASSWORD,
                accept_any_password=True),
        frozenset({"RPC_024_CS", "RPC_025_CS"})),
    "drops-unknown-action": (  # OCPP-J 1.6 §4.2.3 Table 7 NotImplemented
        Variant("drops-unknown-action", legal=False, drops_unknown_action=True),
        frozenset({"RPC_009_CS"})),
    "tx-id-in-remote-start": (  # 1.6 §5.16.2: no transactionId in RemoteStart's TxProfile
        Variant("tx-id-in-remote-start", legal=False, tx_id_in_remote_start_profile=True),
        frozenset({"TC_059_CS"})),
}

CSMS_CASES = frozenset(case.full_id for (_, role), case in load_catalog().items()
                       if role == "csms")


def _run(loop: BackgroundLoop, tmp: Path, variant: Variant) -> Run:
    csms = loop.run(IndependentCsms(variant, cp_ids=("CB-CONFORM-1",)).start())
    try:
        capabilities = tmp / "capabilities.yaml"
        capabilities.write_text(yaml.safe_dump(csms.capabilities()))
        return run_suite(tmp, "--cb-role", "csms", "--cb-target", csms.url,
                         "--cb-trigger-url", csms.trigger_url,
                         "--cb-capabilities", str(capabilities), "--cb-timeout", TIMEOUT,
                         *csms.suite_args(), timeout=240)
    finally:
        loop.run(csms.close())


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, Run]:
    """Every variant's run, four at a time."""
    with BackgroundLoop() as loop, ThreadPoolExecutor(4) as pool:
        futures = {
            name: pool.submit(_run, loop, tmp_path_factory.mktemp(name), variant)
            for name, (variant, _) in TABLE.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TABLE))
def test_verdict_table(verdicts: dict[str, Run], name: str):
    """Legal variant: no case fails. Illegal variant: exactly the cases checking its rule fail.
    Every csms-role case of the catalogue got a verdict, and the run's exit code agrees."""
    variant, must_fail = TABLE[name]
    run = verdicts[name]
    outcomes = run.outcomes()
    assert set(outcomes) >= CSMS_CASES, (sorted(CSMS_CASES - set(outcomes)), run.output[-3000:])
    failed = {case for case, outcome in outcomes.items() if outcome == "failed"}
    reasons = {c["case"]: c["reason"][:400] for c in run.summary["cases"]
               if c["outcome"] == "failed"}
    assert failed == must_fail, {"unexpected": {c: reasons[c] for c in failed - must_fail},
                                 "missed": sorted(must_fail - failed)}
    assert run.returncode == (1 if must_fail else 0), run.output[-3000:]
    assert variant.legal is not bool(must_fail)


@pytest.mark.slow
def test_advice_not_followed_is_no_failure(verdicts: dict[str, Run]):
    """RPC_020: answering a CALL before the boot was accepted breaks only a RECOMMENDED
    (errata §3.10): skipped with the reason, never failed, never passed."""
    assert verdicts["default"].outcomes()["RPC_020_CS"] == "passed"
    no_gate = verdicts["lenient"]
    assert no_gate.outcomes()["RPC_020_CS"] == "skipped"
    assert "RECOMMENDS CALLERROR SecurityError" in no_gate.output + str(no_gate.summary)


@pytest.mark.slow
def test_registry_refuses_unknown_ids(verdicts: dict[str, Run]):
    """A CSMS that admits only registered charge points passes RPC_023 (404, OCPP-J §3.2) and
    RPC_020 with its declared never-booted id; one that admits any id has RPC_023 not
    applicable, with the reason."""
    assert verdicts["registry"].outcomes()["RPC_023_CS"] == "passed"
    assert verdicts["registry"].outcomes()["RPC_020_CS"] == "passed"
    assert verdicts["default"].outcomes()["RPC_023_CS"] == "not_applicable"


@pytest.mark.slow
def test_security_profile_1_cases_apply_and_pass(verdicts: dict[str, Run]):
    """With HTTP Basic the profile-1 cases run: refusals (RPC_024/025), a new AuthorizationKey
    (TC_073) that later cases dial with, the raised profile and the secured connection."""
    outcomes = verdicts["basic-auth"].outcomes()
    for case in ("RPC_024_CS", "RPC_025_CS", "TC_073_CS", "TC_083_CS", "TC_085_CS"):
        assert outcomes[case] == "passed", (case, outcomes[case])


def test_setup_failure_names_the_option_that_fixes_it(tmp_path):
    """An id tag the CSMS does not know, given as the valid one, fails the session cases with
    the option to fix (--cb-id-tag); a blocked tag the CSMS does not know as blocked names the
    capability (blocked_id_tag)."""
    with BackgroundLoop() as loop:
        csms = loop.run(IndependentCsms(Variant()).start())
        try:
            capabilities = tmp_path / "capabilities.yaml"
            capabilities.write_text(yaml.safe_dump({"blocked_id_tag": "CB-NOT-BLOCKED"}))
            run = run_suite(tmp_path, "--cb-role", "csms", "--cb-target", csms.url,
                            "--cb-id-tag", "CB-NOT-REGISTERED", "-k", "TC_003 or TC_023_3",
                            "--cb-capabilities", str(capabilities), "--cb-timeout", TIMEOUT)
        finally:
            loop.run(csms.close())
    reasons = {case["case"]: case["reason"] for case in run.summary["cases"]}
    assert run.outcomes() == {"TC_003_CS": "failed", "TC_023_3_CS": "failed"}, reasons
    assert "give an id tag the CSMS accepts with --cb-id-tag" in reasons["TC_003_CS"]
    assert "blocked_id_tag in --cb-capabilities" in reasons["TC_023_3_CS"]
