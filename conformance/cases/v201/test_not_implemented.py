"""The placeholder of every catalogued OCPP 2.0.1 case that has no implementation yet.

One test per case of the run's role in `conformance/v201/catalog.yaml`, carrying the case's id;
the plugin drops it where a module under `cs/` or `csms/` implements the case, and skips the
rest as "not implemented" before any fixture runs, so a case is never silently absent from a
report and never passed (`conformance.plugin`). An implemented case is a test marked
`@pytest.mark.octt("TC_B_01_CSMS")` in `csms/` (or `cs/` for a `_CS` id);
tests/conformance/v201/test_cases.py keeps the two in step.
"""

from __future__ import annotations

import pytest

from conformance.plugin import PLACEHOLDER, SETTINGS
from conformance.v201.catalog import load_catalog


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    settings = metafunc.config.stash.get(SETTINGS, None)
    if settings is None or settings.ocpp != "2.0.1":
        cases = []  # no 2.0.1 run: one skipped item ("got empty parameter set")
    else:
        cases = [case.id for case in load_catalog().values() if case.role == settings.role]
    metafunc.parametrize("case_id", [
        pytest.param(case_id, id=case_id,
                     marks=[pytest.mark.octt(case_id), getattr(pytest.mark, PLACEHOLDER)])
        for case_id in cases
    ])


def test_not_implemented(case_id: str) -> None:
    pytest.skip(f"not implemented: {case_id}")
