"""Verdicts of the B, C, E and H cases with a Charging Station under test (issue 20): the
offline cases (E40/E43/E44: the connection lost and regained, the queued TransactionEvents)
and the reservation cases against our own station (`--self`) and against the independent
`ocpp.v201` station (`indep_station201`): its legal variant passes, the one sending queued
events without offline true (E04.FR.03) fails exactly the cases that check that rule.

The runs start together in the background (as in test_verdicts_cs.py) and mostly wait on
the wire.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from conformance.v201.central import csms_handlers
from tests.conformance.helpers import Background
from tests.conformance.v201.test_verdicts_cs import _outcomes

#: the new cases of blocks B, C, E, H
NEW = ("TC_E_40 or TC_E_43 or TC_E_44 or TC_E_16 or TC_H_02 or TC_H_08 or TC_H_09 "
       "or TC_H_10 or TC_H_12 or TC_H_13 or TC_H_14 or TC_H_19 or TC_H_22 or TC_H_24 "
       "or TC_C_09 or TC_C_10 or TC_C_11 or TC_C_12 or TC_C_13 or TC_C_2 or TC_C_32 "
       "or TC_C_34 or TC_C_39 or TC_C_42 or TC_B_14 or TC_B_15 or TC_B_16 or TC_B_51 "
       "or TC_B_52 or TC_E_39 or TC_E_52 or TC_C_46 or TC_C_57 or TC_C_30 or TC_C_31")
#: new cases our station cannot run, with the reason
SELF_NOT_APPLICABLE = {
    "TC_H_13_CS": "not applicable: ReservationCtrlr.NonEvseSpecific is true",
    "TC_B_15_CS": "not applicable: the station supports SummaryInventory",
}
OFFLINE = "TC_E_40 or TC_E_43 or TC_E_44 or TC_E_03"
#: illegal variant -> the cases of its rule in these blocks
ILLEGAL = {"offline-flag-missing": {"TC_E_43_CS", "TC_E_44_CS"}}


def _command(name: str) -> list[str]:
    if name == "self":
        return [sys.executable, "-m", "chargebench", "conform", "--ocpp", "2.0.1", "--role",
                "cs", "--self", "--", "-q", "-p", "no:cacheprovider", "-k", NEW]
    return [sys.executable, "-m", "tests.conformance.v201.indep_station201", name,
            "--timeout", "3", "--", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
            "-k", OFFLINE]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> Iterator[Callable[[str], Background]]:
    wanted = {item.callspec.params.get("variant", "self") if hasattr(item, "callspec")
              else "self" for item in request.session.items if item.module is request.module
              and "runs" in getattr(item, "fixturenames", ())}
    started = {name: Background(tmp_path_factory.mktemp(name), _command(name), timeout=90)
               for name in sorted(wanted)}
    yield started.__getitem__
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["legal"])
def test_independent_station_offline_legal(runs, variant):
    """The independent station queues its TransactionEvents offline with offline true: the
    offline cases pass; E40 is not applicable (it has no SampledDataCtrlr)."""
    code, output, cases, _ = runs(variant).wait()
    ran = _outcomes(cases)
    assert code == 0, output[-3000:]
    assert ran["TC_E_43_CS"] == ran["TC_E_44_CS"] == "passed", output[-3000:]
    assert ran["TC_E_40_CS"] == "not_applicable"
    assert "no SampledDataCtrlr" in cases["TC_E_40_CS"]["reason"]


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(ILLEGAL))
def test_independent_station_offline_illegal(runs, variant):
    """Queued events without offline true fail exactly E43 and E44; E03 (online) passes."""
    code, output, cases, _ = runs(variant).wait()
    ran = _outcomes(cases)
    assert code == 1
    assert {c for c, o in ran.items() if o in ("failed", "error")} == ILLEGAL[variant], (
        output[-3000:])
    assert ran["TC_E_03_CS"] == "passed"
    assert "offline omitted: it must be true" in cases["TC_E_44_CS"]["reason"] + output


def test_a_case_adds_to_the_id_token_info():
    """The OCTT's IdTokenInfo carries what a case adds (TC_H_19/24: the idToken's group),
    in AuthorizeResponse and TransactionEventResponse alike."""
    group = {"idToken": "G", "type": "Central"}
    handlers = csms_handlers({"BAD": "Invalid"}, token_info={"OK": {"groupIdToken": group}})
    assert handlers["Authorize"]({"idToken": {"idToken": "OK", "type": "ISO14443"}}) == {
        "idTokenInfo": {"status": "Accepted", "groupIdToken": group}}
    assert handlers["TransactionEvent"]({"idToken": {"idToken": "BAD", "type": "ISO14443"}}) \
        == {"idTokenInfo": {"status": "Invalid"}}
