"""The 2.0.1 cs-role verdicts of blocks N (diagnostics), O (display messages), P
(DataTransfer), I (tariff and cost) and L (firmware): every implemented case passes against
our own station; against a station we
did not write (`tests.conformance.v201.indep_station201`, the `ocpp` package's v201
ChargePoint) the legal minimal variant fails none of O and P, what it lacks (a
SmartChargingCtrlr, an unsupported priority) is not applicable with the reason, and the
illegal variant answering Accepted to clearing an unknown display message fails exactly
TC_O_05_CS (O05.FR.02).

The runs start together in the background and mostly wait on the wire; the fast tests read the
prerequisites and our station's device model without any process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from conformance.v201.catalog import load_catalog
from conformance.v201.prerequisites import DeviceModelView, Need, needs_of, unmet
from tests.conformance.helpers import Background
from tests.conformance.v201.test_verdicts_cs import _outcomes, _self_command

BLOCKS = "TC_N_ or TC_O_ or TC_P_ or TC_I_ or TC_L_"
#: the O and P cases the independent station cannot run, and why
INDEP_NOT_APPLICABLE = {
    "TC_O_17_CS": "not applicable: DisplayMessageCtrlr.SupportedPriorities is",
    "TC_P_04_CS": "not applicable: the station's device model has no SmartChargingCtrlr",
}


#: the independent station's clock is the wall clock: the cases that wait 60 s on it stay out
#: and it has no fault to set (TC_O_39_CS's manual action)
INDEP_SELECTION = "(TC_O_ or TC_P_) and not (TC_O_14 or TC_O_27 or TC_O_28 or TC_O_39)"
#: test -> the run it reads
RUN_OF = {"test_independent_legal_station": "legal-minimal",
          "test_independent_illegal_display_station": "display-clear-unknown"}


def _indep(variant: str) -> list[str]:
    return [sys.executable, "-m", "tests.conformance.v201.indep_station201", variant,
            "--timeout", "3", "--", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
            "-k", INDEP_SELECTION]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> Iterator[Callable[[str], Background]]:
    """The runs this module's selected tests need, started up front so that they overlap."""
    commands = {"self": _self_command("-k", BLOCKS), "legal-minimal": _indep("legal-minimal"),
                "display-clear-unknown": _indep("display-clear-unknown")}
    wanted = {RUN_OF[item.name] for item in request.session.items
              if item.module is request.module and item.name in RUN_OF}
    started = {name: Background(tmp_path_factory.mktemp(name), commands[name])
               for name in sorted(wanted)}
    yield started.__getitem__
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


@pytest.mark.slow
def test_independent_legal_station(runs):
    """A legal station (DataTransfer Rejected, optional fields omitted) fails none of O, P."""
    code, output, cases, _ = runs("legal-minimal").wait()
    ran = _outcomes(cases)
    assert code == 0, output[-4000:]
    not_applicable = {c for c, o in ran.items() if o == "not_applicable"}
    assert not_applicable == set(INDEP_NOT_APPLICABLE)
    for case, reason in INDEP_NOT_APPLICABLE.items():
        assert cases[case]["reason"].startswith(reason), cases[case]["reason"]
    assert sum(o == "passed" for o in ran.values()) >= 20


@pytest.mark.slow
def test_independent_illegal_display_station(runs):
    """ClearDisplayMessage of an unknown id answered Accepted: TC_O_05_CS fails, nothing
    else."""
    code, output, cases, _ = runs("display-clear-unknown").wait()
    ran = _outcomes(cases)
    assert {c for c, o in ran.items() if o in ("failed", "error")} == {"TC_O_05_CS"}, \
        output[-4000:]
    assert code == 1
    assert "status" in cases["TC_O_05_CS"]["reason"] or "Unknown" in output


# Fast: the parts, without any process ------------------------------------------------------


def test_monitoring_cases_need_a_monitoring_controller():
    catalog = load_catalog()
    view = DeviceModelView(source="GetBaseReport FullInventory")
    view.add("DisplayMessageCtrlr", "Enabled", "true")
    assert unmet(needs_of(catalog["TC_O_01_CS"]), view) is None
    assert unmet(needs_of(catalog["TC_N_08_CS"], [Need("MonitoringCtrlr")]), view) == (
        "the station's device model has no MonitoringCtrlr (GetBaseReport FullInventory)")
    assert "DisplayMessageCtrlr" in unmet(needs_of(catalog["TC_O_01_CS"]),
                                          DeviceModelView(source="x"))


def test_our_station_names_the_unknown_variable_of_an_evse():
    """N04.FR.03/04 on sim/v201's device model: EVSE (no id) with a variable no EVSE has is
    UnknownVariable; EVSE 99 (not there) UnknownComponent; a known one Accepted."""
    from conformance.v201.selfstation import DEFAULT_MODEL
    from sim.v201.device_model import DeviceModel

    model = DeviceModel.load(DEFAULT_MODEL)
    base = {"value": 1, "type": "Delta", "severity": 8}
    results = model.set_variable_monitoring([
        {**base, "component": {"name": "EVSE"}, "variable": {"name": "unknownVariable"}},
        {**base, "component": {"name": "EVSE", "evse": {"id": 99}},
         "variable": {"name": "AvailabilityState"}},
        {**base, "component": {"name": "EVSE", "evse": {"id": 1}},
         "variable": {"name": "AvailabilityState"}}])
    assert [r["status"] for r in results] == ["UnknownVariable", "UnknownComponent",
                                              "Accepted"]
