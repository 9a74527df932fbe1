"""OCPP 2.0.1 part 6 §3.9, H Reservation, with a CSMS under test: Reusable State Reserved
(Table 699) and the reservation's ends."""

from __future__ import annotations

import pytest

from conformance.chargepoint import at
from conformance.v201.station import EVSE_ID, Station, absent

#: <Configured connectorType> of the station's connector
CONNECTOR_TYPE = "cType2"


@pytest.mark.octt("TC_H_01_CSMS")
async def test_reserve_specific_evse(cs: Station):
    """TC_H_01_CSMS: Reusable State Reserved for EVSE 1."""
    await cs.boot()
    await cs.reserved(EVSE_ID)


@pytest.mark.parametrize("update", [
    pytest.param("Expired", id="TC_H_07_CSMS", marks=pytest.mark.octt("TC_H_07_CSMS")),
    pytest.param("Removed", id="TC_H_20_CSMS", marks=pytest.mark.octt("TC_H_20_CSMS")),
])
async def test_reservation_ended(cs: Station, update: str):
    """TC_H_07/20_CSMS: a reservation of EVSE 1 ends unused: it expires (the connector back to
    Available) or the connector faults (Faulted); ReservationStatusUpdate Expired/Removed with
    the CSMS's reservation id is answered (H01.FR.?, H05)."""
    await cs.boot()
    request = await cs.reserved(EVSE_ID, reservation_id=71)
    await cs.notify_connector("Available" if update == "Expired" else "Faulted")
    await cs.ask("ReservationStatusUpdate", {"reservationId": request["id"],
                                             "reservationUpdateStatus": update})


def _unspecified(cs: Station, **fields: object) -> dict:
    return {"id": 72, "expiryDateTime": at(3600), "idToken": cs.valid_token, **fields}


@pytest.mark.parametrize("case", [
    pytest.param("TC_H_08_CSMS", id="TC_H_08_CSMS", marks=pytest.mark.octt("TC_H_08_CSMS")),
    pytest.param("TC_H_14_CSMS", id="TC_H_14_CSMS", marks=pytest.mark.octt("TC_H_14_CSMS")),
])
async def test_reserve_unspecified_evse(cs: Station, case: str):
    """TC_H_08/14_CSMS: ReserveNow for an unspecified EVSE (evseId and connectorType omitted,
    the valid token) once per EVSE of the station (one here); the connector is Reserved."""
    await cs.boot()
    await cs.command("ReserveNow", _unspecified(cs), {"status": "Accepted"},
                     {"evseId": absent, "connectorType": absent, "idToken": cs.valid_token})
    await cs.notify_connector("Reserved")


@pytest.mark.octt("TC_H_15_CSMS")
async def test_reserve_connector_type(cs: Station):
    """TC_H_15_CSMS: ReserveNow for the configured connectorType, evseId omitted."""
    await cs.boot()
    await cs.command("ReserveNow", _unspecified(cs, connectorType=CONNECTOR_TYPE),
                     {"status": "Accepted"},
                     {"evseId": absent, "connectorType": CONNECTOR_TYPE,
                      "idToken": cs.valid_token})
    await cs.notify_connector("Reserved")


@pytest.mark.octt("TC_H_17_CSMS")
async def test_cancel_reservation(cs: Station):
    """TC_H_17_CSMS: Reserved for EVSE 1, then CancelReservation with the id of that
    ReserveNow (H02.FR.01); Accepted; the connector is Available again."""
    await cs.boot()
    request = await cs.reserved(EVSE_ID, reservation_id=73)
    await cs.command("CancelReservation", {"reservationId": request["id"]},
                     {"status": "Accepted"})
    await cs.notify_connector("Available")


@pytest.mark.octt("TC_H_19_CSMS")
async def test_reserve_with_group(cs: Station):
    """TC_H_19_CSMS: ReserveNow for EVSE 1 with a groupIdToken (provided: any)."""
    await cs.boot()
    group = {"idToken": "CB-GROUP-1", "type": "Central"}
    await cs.command("ReserveNow", {**_unspecified(cs), "evseId": EVSE_ID, "groupIdToken": group},
                     {"status": "Accepted"},
                     {"evseId": EVSE_ID, "connectorType": absent, "idToken": cs.valid_token,
                      "groupIdToken": {"idToken": group["idToken"]}})
    await cs.notify_connector("Reserved")


@pytest.mark.octt("TC_H_22_CSMS")
async def test_reservation_rejected(cs: Station):
    """TC_H_22_CSMS: ReserveNow answered Rejected; the CSMS copes."""
    await cs.boot()
    await cs.command("ReserveNow", {**_unspecified(cs), "evseId": EVSE_ID},
                     {"status": "Rejected"}, {})
    await cs.still_serving()
