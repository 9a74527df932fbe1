"""The cp-role suite's verdicts against a charge point we did not write (issue 13, point 3).

`tests.conformance.indep.cp16` is an OCPP 1.6 charge point on the `ocpp` package, in legal
variants (other choices the spec allows) and illegal ones (each breaking one rule). Each test
runs the suite against one variant and asserts its WHOLE verdict table: a legal variant fails
nothing, an illegal one fails exactly the cases that check its rule. The runs start together in
the background (they mostly wait on timers) and print their tables (`-s`).

An illegal charger may leave itself busy after the case that caught it (a connector stuck in
Preparing): the suite then reports the following cases as errors ("charger not idle"), never as
failures or passes; those errors are part of the expected table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conformance.helpers import IndependentRun

pytestmark = pytest.mark.slow

#: legal variant -> -k selection (None: the whole suite)
LEGAL: dict[str, str | None] = {
    "legal-full": None,
    # optional fields omitted, required keys only, no cache, no offline unknown ids, connector 0
    # not reservable, fixed cable, StopTransaction after the reboot of a hard reset, ...
    "legal-minimal": None,
    # the optional features present but switched off for good, no firmware management
    "legal-disabled": None,
    # 60 s on the wall clock before reconnecting after a reset (issue 13 class 9): only the
    # reset case, which waits --cb-reconnect-timeout (default 90 s); the old window was 3 x
    # --cb-timeout
    "legal-slow-reconnect": "TC_013",
}

#: illegal variant -> (-k selection: its rule's cases and their neighbours, the cases that must
#: fail, the cases then reported as errors because the charger stayed busy)
ILLEGAL: dict[str, tuple[str, set[str], set[str]]] = {
    # 1.6 §5.11: a remote start waits for the cable (Preparing first)
    "starts-without-cable": ("TC_010 or TC_011 or TC_012 or TC_046_2 or TC_059",
                             {"TC_011_1", "TC_011_2", "TC_046_2"}, set()),
    # OCPP-J 1.6 §4.2.3 Table 7: an unknown action is NotImplemented
    "unknown-action-not-supported": ("RPC_009 or RPC_010", {"RPC_009"}, set()),
    # 1.6 §5.11: an Accepted RemoteStartTransaction starts a transaction
    "remote-start-never-starts": (
        "TC_008_2 or TC_010 or TC_011 or TC_026 or TC_027 or TC_046 or TC_059 or TC_060",
        {"TC_008_2", "TC_010", "TC_011_1", "TC_011_2", "TC_046_2", "TC_059"}, set()),
    # 1.6 §5.2: an Accepted ChangeAvailability changes the availability
    "ignores-change-availability": ("TC_012 or TC_026 or TC_034 or TC_048 or TC_050",
                                    {"TC_026", "TC_034", "TC_048_3", "TC_050_3"}, set()),
    # 1.6 §9.1.23: StopTransactionOnEVSideDisconnect is required
    "missing-stop-on-ev-disconnect": ("TC_003 or TC_005 or TC_019",
                                      {"TC_005_1", "TC_005_2", "TC_005_3"}, set()),
    # 1.6 §4.2: nothing but BootNotification before it is Accepted
    "call-before-boot-accepted": ("TC_001 or TC_002 or TC_013", {"TC_002"}, set()),
    # 1.6 §5.13: an Accepted reservation is kept and used
    "ignores-reservation": ("TC_046 or TC_047 or TC_048 or TC_049 or TC_051 or TC_052 or "
                            "TC_053", {"TC_046_1", "TC_046_2", "TC_047", "TC_048_4", "TC_049",
                                       "TC_051", "TC_053"}, set()),
    # 1.6 §5.14: a hard reset ends the transaction with StopTransaction HardReset
    "no-stop-on-hard-reset": ("TC_013 or TC_014 or TC_015 or TC_016", {"TC_015"}, set()),
    # 1.6 §9.1.6: ConnectionTimeOut ends Preparing
    # (the suite's idle restore then waits ConnectionTimeOut and soft-resets the charger)
    "ignores-connection-timeout": ("TC_003 or TC_004 or TC_011", {"TC_004_2", "TC_011_2"},
                                   set()),
    # 1.6 §5.18: unlocking a connector in use stops its transaction first
    "unlock-keeps-transaction": ("TC_017 or TC_018 or TC_030 or TC_031", {"TC_018_1"}, set()),
}


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> Iterator[Callable[[str], dict]]:
    """The runs of the variants this session selected, all started up front so that they
    overlap; `runs(name)` waits for one and returns case id -> summary entry."""
    wanted = {item.callspec.params["variant"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")}
    started: dict[str, IndependentRun] = {}
    for name, selection in LEGAL.items():
        if name in wanted:
            args = ("-k", selection) if selection else ()
            started[name] = IndependentRun(tmp_path_factory.mktemp(name), name, *args)
    for name, (selection, _, _) in ILLEGAL.items():
        if name in wanted:
            started[name] = IndependentRun(tmp_path_factory.mktemp(name), name, "-k", selection)

    def wait(name: str) -> dict:
        code, output, cases, _ = started[name].wait()
        assert cases, f"{name}: no summary (exit {code}):\n{output[-4000:]}"
        print(f"\n{name}: {len(cases)} cases, exit {code}")
        for case, entry in sorted(cases.items()):
            if entry["outcome"] != "passed":
                print(f"  {case:14} {entry['outcome']:15} {entry['reason'][:110]!r}")
        return {case.removesuffix("_CP"): entry for case, entry in cases.items()}

    yield wait
    for run in started.values():
        run.kill()


def _with(cases: dict, *outcomes: str) -> set[str]:
    return {case for case, entry in cases.items() if entry["outcome"] in outcomes}


def _failed(cases: dict) -> set[str]:
    return _with(cases, "failed", "error")


@pytest.mark.parametrize("variant", sorted(LEGAL))
def test_legal_variant_fails_nothing(runs, variant):
    """A legal charger fails no case; a case that does not apply says why; nothing is merely
    skipped or in error."""
    cases = runs(variant)
    assert not _failed(cases), {case: cases[case]["reason"][:300] for case in _failed(cases)}
    assert {entry["outcome"] for entry in cases.values()} <= {"passed", "not_applicable"}
    assert all(entry["reason"] for entry in cases.values()
               if entry["outcome"] == "not_applicable")


@pytest.mark.parametrize("variant", sorted(ILLEGAL))
def test_illegal_variant_fails_its_rule_only(runs, variant):
    """An illegal charger fails exactly the cases that check the rule it breaks, each verdict
    naming what was expected (or the required key that is absent); the cases after it that
    find it busy are errors, not failures; everything else passes or does not apply."""
    _, must_fail, busy = ILLEGAL[variant]
    cases = runs(variant)
    reasons = {case: cases[case]["reason"][:300] for case in _failed(cases)}
    assert _with(cases, "failed") == must_fail, reasons
    assert _with(cases, "error") == busy, reasons
    for case in must_fail:
        assert "expected" in cases[case]["reason"] or "required" in cases[case]["reason"], (
            cases[case]["reason"])
    for case in busy:
        assert "charger not idle" in cases[case]["reason"], cases[case]["reason"]
