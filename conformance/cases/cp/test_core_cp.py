"""OCTT Core cases for a charge point under test; ChargeBench plays the CSMS."""

from __future__ import annotations

import pytest

from conformance.robustness import ready
from conformance.wire import present


@pytest.mark.octt("TC_019")
async def test_retrieve_all_configuration_keys(peer):
    """TC_019: GetConfiguration without keys returns the configuration, HeartbeatInterval
    among it (OCPP 1.6 §5.8, §9.1.10)."""
    await ready(peer, "cp")
    await peer.request(
        "GetConfiguration", {}, {"configurationKey": [{"key": "HeartbeatInterval"}]}
    )


@pytest.mark.octt("TC_021")
async def test_change_configuration(peer):
    """TC_021: ChangeConfiguration of MeterValueSampleInterval is Accepted and reads back
    (OCPP 1.6 §5.3, §9.1.17)."""
    await ready(peer, "cp")
    await peer.request(
        "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "17"},
        {"status": "Accepted"},
    )
    await peer.request(
        "GetConfiguration", {"key": ["MeterValueSampleInterval"]},
        {"configurationKey": [{"key": "MeterValueSampleInterval", "value": "17"}]},
    )


@pytest.mark.parametrize("kind", [
    pytest.param("Hard", marks=pytest.mark.octt("TC_013"), id="hard"),
    pytest.param("Soft", marks=pytest.mark.octt("TC_014"), id="soft"),
])
async def test_reset_without_transaction(peer, listener, cb, kind):
    """TC_013/TC_014: Reset is Accepted, the charge point reboots: a new connection with a
    BootNotification and a StatusNotification (OCPP 1.6 §5.13, §4.2)."""
    await ready(peer, "cp")
    await peer.request("Reset", {"type": kind}, {"status": "Accepted"})
    fresh = await listener.reconnection(peer, cb.timeout * 3)
    await fresh.wait_for("BootNotification", {"chargePointVendor": present})
    await fresh.wait_for("StatusNotification", {"status": "Available"})
