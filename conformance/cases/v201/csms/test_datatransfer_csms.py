"""OCPP 2.0.1 part 6 §3.17, P DataTransfer, with a CSMS under test."""

from __future__ import annotations

import pytest

from conformance.expect import one_of
from conformance.v201.station import Station, status_notification

#: <Configured vendorId> / <Configured messageId>: a vendor no CSMS has an extension for
VENDOR = "org.chargebench.conformance"
CUSTOM = {"vendorId": VENDOR, "note": "ChargeBench conformance"}


@pytest.mark.octt("TC_P_02_CSMS")
async def test_data_transfer_unknown(cs: Station):
    """TC_P_02_CSMS: DataTransfer of an unknown vendor/message: UnknownVendorId,
    UnknownMessageId or Rejected (part 6 allows all three)."""
    await cs.boot()
    await cs.ask("DataTransfer", {"vendorId": VENDOR, "messageId": "TC_P_02"},
                 {"status": one_of("UnknownVendorId", "UnknownMessageId", "Rejected")})


@pytest.mark.octt("TC_P_03_CSMS")
async def test_custom_data(cs: Station):
    """TC_P_03_CSMS: customData in a StatusNotification and in a TransactionEvent (and its
    transactionInfo) is taken like any other message (part 2 §2.1: ignored when unknown)."""
    await cs.boot()
    await cs.ask("StatusNotification", {**status_notification(), "customData": CUSTOM})
    tx = cs.begin()
    await cs.ask("TransactionEvent", {
        "eventType": "Started", "timestamp": status_notification()["timestamp"],
        "triggerReason": "CablePluggedIn", "seqNo": 0, "customData": CUSTOM,
        "transactionInfo": {"transactionId": tx.id, "chargingState": "EVConnected",
                            "customData": CUSTOM},
        "evse": {"id": tx.evse, "connectorId": tx.connector}})
    tx.seq = 1
