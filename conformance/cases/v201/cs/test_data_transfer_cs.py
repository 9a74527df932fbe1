"""OCPP 2.0.1 part 6 §2.17, P DataTransfer, with a Charging Station under test: a vendor
extension the station does not know (P01) and customData in requests it must accept."""

from __future__ import annotations

import pytest

from conformance.expect import Mismatch, one_of
from conformance.v201.states import Cs, next_id

#: the OCTT's vendorId (part 6 TC_P_01_CS), the customData it adds
VENDOR = "org.openchargealliance.octt"
CUSTOM = {"vendorId": VENDOR, "cbNote": "conformance custom data"}


@pytest.mark.octt("TC_P_01_CS")
async def test_unknown_vendor(cs: Cs):
    """TC_P_01_CS: the OCTT's vendorId and an unused messageId: UnknownVendorId,
    UnknownMessageId or Rejected (P01.FR.05/06; part 6 allows all three)."""
    await cs.ask("DataTransfer", {"vendorId": VENDOR, "messageId": f"cb-{next_id()}"},
                 {"status": one_of("UnknownVendorId", "UnknownMessageId", "Rejected")})


@pytest.mark.octt("TC_P_03_CS")
async def test_custom_data_variables(cs: Cs):
    """TC_P_03_CS: SetVariables OfflineThreshold 200 with customData: Accepted; GetVariables
    (customData too): Accepted, attributeType Actual or omitted, value 200."""
    comp, var = {"name": "OCPPCommCtrlr"}, {"name": "OfflineThreshold"}
    await cs.ask("SetVariables", {"customData": CUSTOM, "setVariableData": [{
        "component": comp, "variable": var, "attributeValue": "200",
        "attributeType": "Actual", "customData": CUSTOM}]},
        {"setVariableResult": [{"attributeStatus": "Accepted"}]})
    reply = await cs.ask("GetVariables", {"customData": CUSTOM, "getVariableData": [{
        "component": comp, "variable": var, "attributeType": "Actual"}]},
        {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "200"}]})
    kind = reply["getVariableResult"][0].get("attributeType", "Actual")
    if kind != "Actual":
        raise Mismatch(f"attributeType {kind}, expected Actual or omitted", "Actual")


@pytest.mark.octt("TC_P_04_CS")
@pytest.mark.cb_requires("SmartChargingCtrlr")
async def test_custom_data_profile(cs: Cs):
    """TC_P_04_CS: a TxDefaultProfile with customData on the profile and its period:
    Accepted."""
    await cs.ask("SetChargingProfile", {"evseId": cs.evse_id, "chargingProfile": {
        "id": next_id(), "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative", "customData": CUSTOM,
        "chargingSchedule": [{"id": next_id(), "duration": 300, "chargingRateUnit": "A",
                              "chargingSchedulePeriod": [{
                                  "startPeriod": 0, "limit": 6.0, "numberPhases": 3,
                                  "customData": CUSTOM}]}]}},
        {"status": "Accepted"})
