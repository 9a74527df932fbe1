"""OCPP 2.0.1 part 6 §2.9, H Reservation, with a Charging Station under test. Not applicable
to a station without ReservationCtrlr (its device model)."""

from __future__ import annotations

import pytest

from conformance.v201.central import token
from conformance.v201.states import (
    Cs,
    authorized,
    charging,
    energy_transfer_started,
    next_id,
    reserved,
    unavailable,
)

#: <Configured valid_idtoken2>
SECOND = token("CB-VALID-2")


async def _enabled(cs: Cs) -> None:
    """Configuration State: ReservationCtrlr.Enabled is true (If implemented)."""
    await cs.configure("ReservationCtrlr", "Enabled", "true")


async def _reserve(cs: Cs, idtoken: dict, status: str, reservation: int | None = None,
                   expiry: float = 3600) -> int:
    reservation = reservation or next_id()
    await cs.ask("ReserveNow", {"id": reservation, "expiryDateTime": cs.time(expiry),
                                "idToken": idtoken, "evseId": cs.evse_id},
                 {"status": status})
    return reservation


@pytest.mark.octt("TC_H_01_CS")
async def test_reserve_evse_valid_token(cs: Cs):
    """TC_H_01_CS: Reserved; the reserving idToken authorized: Reserved -> Available
    (H01.FR.?), then the energy transfer."""
    await _enabled(cs)
    await reserved(cs)
    await authorized(cs)
    await cs.expect_status("Available")
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_H_03_CS")
async def test_reserve_reserved_evse(cs: Cs):
    """TC_H_03_CS: a reserved EVSE reserved again for another idToken: Occupied (H01.FR.?)."""
    await _enabled(cs)
    await reserved(cs)
    await _reserve(cs, SECOND, "Occupied")


@pytest.mark.octt("TC_H_04_CS")
async def test_reserve_occupied_evse(cs: Cs):
    """TC_H_04_CS: an EVSE charging: ReserveNow answers Occupied."""
    await _enabled(cs)
    await charging(cs)
    await _reserve(cs, SECOND, "Occupied")


@pytest.mark.octt("TC_H_06_CS")
async def test_reserve_unavailable_evse(cs: Cs):
    """TC_H_06_CS: an Unavailable EVSE: ReserveNow answers Unavailable."""
    await _enabled(cs)
    await unavailable(cs, {"id": cs.evse_id})
    await _reserve(cs, SECOND, "Unavailable")


@pytest.mark.octt("TC_H_07_CS")
async def test_reservation_expires(cs: Cs):
    """TC_H_07_CS: a reservation not used within its expiry (60 s): Available again and
    ReservationStatusUpdate Expired (H01.FR.?); another idToken then charges there."""
    await _enabled(cs)
    reservation = await _reserve(cs, cs.valid, "Accepted", expiry=60)
    await cs.expect_status("Reserved")
    await cs.expect_status("Available", timeout=cs.settings.timeout + 60)
    await cs.expect("ReservationStatusUpdate", {"reservationId": reservation,
                                                "reservationUpdateStatus": "Expired"})
    await authorized(cs, idtoken=SECOND)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_H_17_CS")
async def test_cancel_reservation(cs: Cs):
    """TC_H_17_CS: CancelReservation of the reservation: Accepted, the connector Available
    (H02.FR.?)."""
    await _enabled(cs)
    reservation = await reserved(cs)
    await cs.ask("CancelReservation", {"reservationId": reservation}, {"status": "Accepted"})
    await cs.expect_status("Available")


@pytest.mark.octt("TC_H_18_CS")
async def test_cancel_unknown_reservation(cs: Cs):
    """TC_H_18_CS: CancelReservation of a reservation the station does not have: Rejected."""
    await _enabled(cs)
    await cs.ask("CancelReservation", {"reservationId": 1}, {"status": "Rejected"})


@pytest.mark.octt("TC_H_21_CS")
async def test_unavailable_cancels_reservation(cs: Cs):
    """TC_H_21_CS: a reserved EVSE made Inoperative: Unavailable and ReservationStatusUpdate
    Removed (H01.FR.?); Operative again: Available; another idToken charges there."""
    await _enabled(cs)
    reservation = await reserved(cs)
    await unavailable(cs, {"id": cs.evse_id})
    await cs.expect("ReservationStatusUpdate", {"reservationId": reservation,
                                                "reservationUpdateStatus": "Removed"})
    await cs.ask("ChangeAvailability", {"operationalStatus": "Operative",
                                        "evse": {"id": cs.evse_id}}, {"status": "Accepted"})
    await cs.expect_status("Available")
    cs.central.station.inoperative = False
    await authorized(cs, idtoken=SECOND)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_H_23_CS")
async def test_replace_reservation(cs: Cs):
    """TC_H_23_CS: ReserveNow with the id of a valid reservation replaces it (H01.FR.?): the
    new idToken holds the EVSE and charges there."""
    await _enabled(cs)
    reservation = await reserved(cs)
    await _reserve(cs, SECOND, "Accepted", reservation)
    await authorized(cs, idtoken=SECOND)
    await energy_transfer_started(cs)
