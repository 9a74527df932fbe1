"""OCTT Core cases for a CSMS under test; ChargeBench plays the charge point."""

from __future__ import annotations

import pytest

from conformance.endpoints import BOOT_PAYLOAD
from conformance.wire import an_int, present

pytestmark = pytest.mark.usefixtures("cb")


@pytest.mark.octt("TC_001")
async def test_cold_boot(peer):
    """TC_001: BootNotification is Accepted with time and interval; StatusNotification and
    Heartbeat are answered (OCPP 1.6 §4.2, §4.6, §4.9)."""
    await peer.request(
        "BootNotification", BOOT_PAYLOAD,
        {"status": "Accepted", "currentTime": present, "interval": an_int},
    )
    peer.booted.set()
    for connector in (0, 1):
        await peer.request("StatusNotification", {
            "connectorId": connector, "errorCode": "NoError", "status": "Available",
        })
    await peer.request("Heartbeat", {}, {"currentTime": present})

