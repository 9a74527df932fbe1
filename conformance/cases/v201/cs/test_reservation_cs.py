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
                   expiry: float = 3600, extra: dict | None = None) -> int:
    reservation = reservation or next_id()
    await cs.ask("ReserveNow", {"id": reservation, "expiryDateTime": cs.time(expiry),
                                "idToken": idtoken, "evseId": cs.evse_id, **(extra or {})},
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


#: <Configured groupIdToken>: the group both idTokens of TC_H_19/24 belong to
GROUP = token("CB-GROUP-1", "Central")
NON_EVSE_SPECIFIC = pytest.mark.cb_requires("ReservationCtrlr", "NonEvseSpecific",
                                            equals="true")


async def _reserve_any(cs: Cs, idtoken: dict, status: str, **extra: object) -> int:
    """ReserveNowRequest with evseId omitted (H01 S1)."""
    reservation = next_id()
    await cs.ask("ReserveNow", {"id": reservation, "expiryDateTime": cs.time(3600),
                                "idToken": idtoken, **extra}, {"status": status})
    return reservation


def _evse_count(cs: Cs) -> int:
    """The EVSEs of the station's device model (EVSE component instances: one
    `EVSE.Available` per EVSE in a FullInventory)."""
    return max(1, len(cs.model.values("EVSE", "Available")))


@pytest.mark.octt("TC_H_02_CS")
async def test_reserved_other_token_refused(cs: Cs):
    """TC_H_02_CS: the EVSE Reserved for the valid idToken, the EV connected; another idToken
    presented (main A) must not charge within the message timeout (H03.FR.01), and
    RequestStartTransaction for it (main B) is Rejected (F01.FR.22)."""
    await _enabled(cs)
    await reserved(cs)
    # EVConnectedPreSession on a Reserved connector: whether it turns Occupied or stays
    # Reserved until the reserving idToken comes (G03.FR.09) is the station's choice, and
    # main A has no tool validation: the EV is connected, what the station reports is free
    await cs.act("plug_in", connector=cs.connector_id)
    await cs.act("present_id_tag", tag=SECOND["idToken"], connector=cs.connector_id)
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "TransactionEvent" and (
            (f.payload or {}).get("transactionInfo") or {}).get("chargingState") == "Charging",
        during=min(cs.settings.timeout, 2.0),
        what="TransactionEventRequest chargingState Charging for another idToken")
    await cs.ask("RequestStartTransaction", {"idToken": SECOND, "remoteStartId": next_id(),
                                             "evseId": cs.evse_id}, {"status": "Rejected"})


@pytest.mark.octt("TC_H_08_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_unspecified_evse(cs: Cs):
    """TC_H_08_CS: ReserveNow without evseId Accepted (H01.FR.04); with one EVSE its
    connector Reserved; the reserving idToken authorized charges (H01.FR.15)."""
    await _enabled(cs)
    await _reserve_any(cs, cs.valid, "Accepted")
    if _evse_count(cs) == 1:
        await cs.expect_status("Reserved")
    await authorized(cs)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_H_09_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_unspecified_all_reserved(cs: Cs):
    """TC_H_09_CS: every EVSE Reserved: ReserveNow without evseId answers Occupied
    (H01.FR.11)."""
    await _enabled(cs)
    for evse in range(1, _evse_count(cs) + 1):
        await reserved(cs, token(f"CB-RESERVE-{evse}"), evse)
    await _reserve_any(cs, cs.valid, "Occupied")


@pytest.mark.octt("TC_H_10_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_unspecified_all_charging(cs: Cs):
    """TC_H_10_CS: a transaction on every EVSE: ReserveNow without evseId answers Occupied
    (H01.FR.13)."""
    if _evse_count(cs) != 1:
        pytest.skip("not implemented: EnergyTransferStarted on every EVSE of a station with "
                    "more than one")
    await _enabled(cs)
    await charging(cs)
    await _reserve_any(cs, SECOND, "Occupied")


@pytest.mark.octt("TC_H_12_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_unspecified_unavailable(cs: Cs):
    """TC_H_12_CS: the Charging Station Unavailable: ReserveNow without evseId answers
    Unavailable (H01.FR.14)."""
    await _enabled(cs)
    await unavailable(cs)
    await _reserve_any(cs, cs.valid, "Unavailable")


@pytest.mark.octt("TC_H_13_CS")
async def test_reserve_unspecified_rejected(cs: Cs):
    """TC_H_13_CS: a station without NonEvseSpecific (or false) answers Rejected to
    ReserveNow without evseId (H01.FR.19)."""
    if cs.flag("ReservationCtrlr", "NonEvseSpecific"):
        pytest.skip("not applicable: ReservationCtrlr.NonEvseSpecific is true")
    await _enabled(cs)
    await _reserve_any(cs, cs.valid, "Rejected")


@pytest.mark.octt("TC_H_14_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_unspecified_as_many_as_evses(cs: Cs):
    """TC_H_14_CS: one ReserveNow without evseId per EVSE, each with another idToken: every
    one Accepted and the connectors Reserved (H01.FR.20)."""
    await _enabled(cs)
    for n in range(1, _evse_count(cs) + 1):
        await _reserve_any(cs, token(f"CB-RESERVE-{n}"), "Accepted")
    for evse in range(1, _evse_count(cs) + 1):
        await cs.expect_status("Reserved", evse=evse)


@pytest.mark.octt("TC_H_19_CS")
async def test_reserved_for_group(cs: Cs):
    """TC_H_19_CS: ReserveNow with a groupIdToken; another idToken of that group (the CSMS
    says so in its IdTokenInfo) uses the reservation and charges (H03.FR.04/08)."""
    await _enabled(cs)
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "false")
    cs.central.token_info[SECOND["idToken"]] = {"groupIdToken": GROUP}
    cs.central.token_info[cs.valid["idToken"]] = {"groupIdToken": GROUP}
    await _reserve(cs, cs.valid, "Accepted", extra={"groupIdToken": GROUP})
    await cs.expect_status("Reserved")
    await authorized(cs, idtoken=SECOND)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_H_22_CS")
async def test_reservation_disabled(cs: Cs):
    """TC_H_22_CS: ReservationCtrlr.Enabled false: ReserveNow answers Rejected (H01.FR.01)."""
    if not await cs.configure("ReservationCtrlr", "Enabled", "false"):
        pytest.skip("not applicable: ReservationCtrlr.Enabled cannot be set false")
    await _reserve(cs, cs.valid, "Rejected")


@pytest.mark.octt("TC_H_24_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_unspecified_for_group(cs: Cs):
    """TC_H_24_CS: ReserveNow without evseId with a groupIdToken Accepted; the connector
    Reserved; another idToken of the group charges (H03.FR.06)."""
    await _enabled(cs)
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "false")
    cs.central.token_info[SECOND["idToken"]] = {"groupIdToken": GROUP}
    await _reserve_any(cs, cs.valid, "Accepted", groupIdToken=GROUP)
    if _evse_count(cs) == 1:
        await cs.expect_status("Reserved")
    await authorized(cs, idtoken=SECOND)
    await energy_transfer_started(cs)


def _connector_type(cs: Cs) -> str:
    """<Configured connectorType>: the Connector.ConnectorType of the station's device model
    (absent: not applicable)."""
    types = cs.model.values("Connector", "ConnectorType")
    if not types:
        pytest.skip("not applicable: the station's device model has no "
                    "Connector.ConnectorType to reserve by")
    return types[0]


@pytest.mark.octt("TC_H_15_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_connector_type(cs: Cs):
    """TC_H_15_CS: ReserveNow with connectorType (the station's own) and no evseId: Accepted
    (H01.FR.06), the connector of that type Reserved (H01.FR.09; with one EVSE the configured
    one); the reserving idToken authorized, the energy transfer (H03.FR.02)."""
    await _enabled(cs)
    await _reserve_any(cs, cs.valid, "Accepted", connectorType=_connector_type(cs))
    if _evse_count(cs) == 1:
        await cs.expect_status("Reserved", evse=cs.evse_id, connector=cs.connector_id)
    else:
        await cs.expect_status("Reserved")
    await authorized(cs)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_H_16_CS")
@NON_EVSE_SPECIFIC
async def test_reserve_connector_type_all_reserved(cs: Cs):
    """TC_H_16_CS: every EVSE reserved (Configuration State), ReserveNow with connectorType:
    Occupied (H01.FR.11: every targeted EVSE Reserved)."""
    await _enabled(cs)
    connector_type = _connector_type(cs)
    for evse in range(1, _evse_count(cs) + 1):
        await reserved(cs, token(f"CB-RESERVE-ALL-{evse}"), evse_id=evse)
    await _reserve_any(cs, cs.valid, "Occupied", connectorType=connector_type)
