"""OCPP 2.0.1 part 6 §3.3, B Provisioning, with a CSMS under test."""

from __future__ import annotations

import pytest

from conformance.harness import HarnessPeer
from conformance.v201.station import booted


@pytest.mark.octt("TC_B_01_CSMS")
async def test_cold_boot_accepted(station: HarnessPeer):
    """TC_B_01_CSMS Cold Boot Charging Station - Accepted: Reusable State Booted, i.e. the
    CSMS accepts the registered station's BootNotification with currentTime and interval
    (B01.FR.02) and answers its StatusNotification and NotifyEvent."""
    await booted(station)
