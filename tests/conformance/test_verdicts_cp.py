"""The cp-role suite's verdicts against a charge point we did not write (issue 13, point 3).

`tests.conformance.indep.cp16` is an OCPP 1.6 charge point on the `ocpp` package, in legal
variants (other choices the spec allows) and illegal ones (each breaking one rule). Each test
runs the suite against one variant and asserts its WHOLE verdict table: a legal variant fails
nothing, an illegal one fails exactly the cases that check its rule. The runs start together in
the background (they mostly wait on timers) and print their tables.

`SUITE_FALSE_FAILURES` lists the verdicts the suite still gets wrong against a legal charger,
each with the rule that decides it; a fix of the suite must remove its entries (the tables are
compared exactly, so a fixed case that stays listed fails here too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conformance.helpers import IndependentRun

pytestmark = pytest.mark.slow

#: rule -> text: why a case the suite fails against a legal charger should not fail
RULES = {
    "rpc-unreadable": "OCPP-J 1.6 names no CALLERROR for a frame whose id cannot be read; the "
                      "ocpp package ignores it (issue 13 class 8)",
    "rpc-ignore": "OCPP-J 1.6 §4.1.3: an unknown MessageTypeId SHALL be ignored (class 8)",
    "rpc-duplicate": "OCPP-J 1.6 asks no ProtocolError for a reused message id (class 8)",
    "reason-optional": "1.6 §6.49: StopTransaction.reason is optional, absent means Local "
                       "(class 1)",
    "context-default": "1.6 §7.45: SampledValue.context is optional, absent means "
                       "Sample.Periodic (class 1)",
    "no-cache": "1.6 §9.1.2: no AuthorizationCacheEnabled key, no cache: ClearCache Rejected "
                "(§5.4); the case needs the cache (class 4)",
    "no-offline-unknown": "1.6 §9.1.1: AllowOfflineTxForUnknownId is optional; absent, the case "
                          "does not apply (class 4)",
    "remote-auth-readonly": "1.6 §9.1.3: AuthorizeRemoteTxRequests may be read-only (class 4)",
    "list-disabled": "1.6 §9.2.1: LocalAuthListEnabled false (read-only): the list cases do "
                     "not apply (class 4)",
    "zero-unsupported": "1.6 §5.13: without ReserveConnectorZeroSupported true a reservation of "
                        "connector 0 SHALL be Rejected (class 4)",
    "stop-after-reboot": "1.6 §5.14: after a hard reset StopTransaction may follow the reboot "
                         "(class 7)",
    "trigger-choice": "1.6 §5.17 leaves the answer for an unknown connector to the charger "
                      "(class 8)",
    "leak": "the previous case left the charger busy (a transaction, a Preparing connector): "
            "class 2, it should be an error \"charger not idle\"",
}

#: variant -> {case: rule}: false failures of the current suite against that variant
ANY = {"RPC_001": "rpc-unreadable", "RPC_002": "rpc-unreadable", "RPC_003": "rpc-ignore",
       "RPC_016": "rpc-duplicate"}
SUITE_FALSE_FAILURES: dict[str, dict[str, str]] = {
    "legal-full": ANY,
    "legal-minimal": {
        **ANY, **dict.fromkeys(("TC_003", "TC_004_1", "TC_005_3", "TC_008_1", "TC_036",
                                "TC_038", "TC_068", "TC_069"), "reason-optional"),
        "TC_070": "context-default", "TC_007": "no-cache", "TC_061": "no-cache",
        **dict.fromkeys(("TC_037_1", "TC_037_2", "TC_037_3", "TC_039"), "no-offline-unknown"),
        "TC_008_2": "remote-auth-readonly", "TC_015": "stop-after-reboot",
        **dict.fromkeys(("TC_049", "TC_050_1", "TC_050_2", "TC_050_3"), "zero-unsupported"),
        "TC_055": "trigger-choice",
    },
    "legal-disabled": {
        **ANY, "TC_007": "no-cache", "TC_061": "no-cache",
        **dict.fromkeys(("TC_008_1", "TC_008_2", "TC_042_2", "TC_043", "TC_043_2", "TC_043_4",
                         "TC_043_5"), "list-disabled"),
        **dict.fromkeys(("TC_049", "TC_050_1", "TC_050_2", "TC_050_3"), "zero-unsupported"),
    },
}

#: illegal variant -> (-k selection: its rule's cases and their neighbours, the cases that must
#: fail, false failures of the current suite in that selection)
ILLEGAL: dict[str, tuple[str, set[str], dict[str, str]]] = {
    # 1.6 §5.11: a remote start waits for the cable (Preparing first)
    "starts-without-cable": ("TC_010 or TC_011 or TC_012 or TC_046_2 or TC_059",
                             {"TC_011_1", "TC_011_2"}, {"TC_012": "leak"}),
    # OCPP-J 1.6 §4.2.3 Table 7: an unknown action is NotImplemented
    "unknown-action-not-supported": ("RPC_009 or RPC_010", {"RPC_009"}, {}),
    # 1.6 §5.11: an Accepted RemoteStartTransaction starts a transaction
    "remote-start-never-starts": (
        "TC_008_2 or TC_010 or TC_011 or TC_026 or TC_027 or TC_046 or TC_059 or TC_060",
        {"TC_008_2", "TC_010", "TC_011_1", "TC_011_2", "TC_046_2", "TC_059"}, {}),
    # 1.6 §5.2: an Accepted ChangeAvailability changes the availability
    "ignores-change-availability": ("TC_012 or TC_026 or TC_034 or TC_048 or TC_050",
                                    {"TC_026", "TC_034", "TC_048_3", "TC_050_3"},
                                    {}),
    # 1.6 §9.1.23: StopTransactionOnEVSideDisconnect is required
    "missing-stop-on-ev-disconnect": ("TC_003 or TC_005 or TC_019",
                                      {"TC_005_1", "TC_005_2", "TC_005_3"}, {}),
    # 1.6 §4.2: nothing but BootNotification before it is Accepted
    "call-before-boot-accepted": ("TC_001 or TC_002 or TC_013", {"TC_002"}, {}),
    # 1.6 §5.13: an Accepted reservation is kept and used
    "ignores-reservation": ("TC_046 or TC_047 or TC_048 or TC_049 or TC_051 or TC_052 or "
                            "TC_053", {"TC_046_1", "TC_046_2", "TC_047", "TC_048_4", "TC_049",
                                       "TC_051", "TC_053"}, {}),
    # 1.6 §5.14: a hard reset ends the transaction with StopTransaction HardReset
    "no-stop-on-hard-reset": ("TC_013 or TC_014 or TC_015 or TC_016", {"TC_015"}, {}),
    # 1.6 §9.1.6: ConnectionTimeOut ends Preparing
    "ignores-connection-timeout": ("TC_003 or TC_004 or TC_011", {"TC_004_2", "TC_011_2"},
                                   {"TC_011_1": "leak"}),
    # 1.6 §5.18: unlocking a connector in use stops its transaction first
    "unlock-keeps-transaction": ("TC_017 or TC_018 or TC_030 or TC_031", {"TC_018_1"}, {}),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[Callable[[str], dict]]:
    """Every variant's run, all started up front so that they overlap; `runs(name)` waits for
    one and returns case id -> summary entry."""
    started: dict[str, IndependentRun] = {}
    for name in SUITE_FALSE_FAILURES:
        started[name] = IndependentRun(tmp_path_factory.mktemp(name), name)
    for name, (selection, _, _) in ILLEGAL.items():
        started[name] = IndependentRun(tmp_path_factory.mktemp(name), name, "-k", selection)

    def wait(name: str) -> dict:
        code, output, cases, elapsed = started[name].wait()
        assert cases, f"{name}: no summary (exit {code}):\n{output[-4000:]}"
        print(f"\n{name}: {len(cases)} cases in {elapsed:.0f} s")
        for case, entry in sorted(cases.items()):
            if entry["outcome"] != "passed":
                print(f"  {case:14} {entry['outcome']:15} {entry['reason'][:110]!r}")
        return {case.removesuffix("_CP"): entry for case, entry in cases.items()}

    yield wait
    for run in started.values():
        run.kill()


def _failed(cases: dict) -> set[str]:
    return {case for case, entry in cases.items() if entry["outcome"] in ("failed", "error")}


@pytest.mark.parametrize("variant", sorted(SUITE_FALSE_FAILURES))
def test_legal_variant_fails_nothing(runs, variant):
    """A legal charger fails no case but those the suite still judges wrongly (listed with
    their rule); a case that does not apply says why; nothing is merely skipped."""
    cases = runs(variant)
    assert _failed(cases) == set(SUITE_FALSE_FAILURES[variant]), {
        case: cases[case]["reason"][:300] for case in _failed(cases)
        ^ set(SUITE_FALSE_FAILURES[variant]) if case in cases}
    assert all(entry["outcome"] in ("passed", "failed", "not_applicable")
               for entry in cases.values())
    assert all(entry["reason"] for entry in cases.values()
               if entry["outcome"] == "not_applicable")


@pytest.mark.parametrize("variant", sorted(ILLEGAL))
def test_illegal_variant_fails_its_rule_only(runs, variant):
    """An illegal charger fails exactly the cases that check the rule it breaks (plus the
    suite's listed false verdicts in the selection), each verdict naming what came instead."""
    _, must_fail, false = ILLEGAL[variant]
    cases = runs(variant)
    assert must_fail, f"{variant}: no case checks this rule"
    assert _failed(cases) == must_fail | set(false), {
        case: cases[case]["reason"][:300] for case in _failed(cases)}
    for case in must_fail:  # a verdict says what was expected, or which required key is absent
        assert "expected" in cases[case]["reason"] or "required" in cases[case]["reason"], (
            cases[case]["reason"])
