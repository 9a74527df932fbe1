"""Hooks a conftest.py (or a wrapper such as `chargebench conform --self`) implements to let the
suite act on the outside world. Both are `firstresult`: the first non-None answer wins.

- `pytest_cb_operator(config)`: returns an `conformance.operator.Operator` performing actions a
  person would do at a charge point under test (plug in, present a card, power cycle).
- `pytest_cb_trigger(config)`: returns a `conformance.triggers.Trigger` asking the CSMS under test
  to send a CSMS-initiated message (RemoteStartTransaction, Reset, ...).
"""

from __future__ import annotations

import pytest


@pytest.hookspec(firstresult=True)
def pytest_cb_operator(config: pytest.Config):
    """Return the operator for actions needing a person at the charge point under test."""


@pytest.hookspec(firstresult=True)
def pytest_cb_trigger(config: pytest.Config):
    """Return the trigger that makes the CSMS under test send a CSMS-initiated CALL."""
