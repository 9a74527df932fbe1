"""H. Reservation on a 2.0.1 station: ReserveNow (H01), CancelReservation (H02), use (H03) and
expiry (H04).

A reservation holds one EVSE (`Evse.reservation`); its connector is Reserved while it does
(`sim.v201.connectors`, the RESERVE / RESERVATION_ENDED facts). It ends used (the reserved
idToken presented: H03.FR.09/10, the next TransactionEvent carries its id: H01.FR.15),
cancelled (H02.FR.02), expired (H04.FR.01: ReservationStatusUpdate Expired) or removed when
its EVSE turns Faulted or Unavailable (H01.FR.16/17: ReservationStatusUpdate Removed).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chargebench.clock import parse_iso
from chargebench.ocppj import CallFailed
from sim.v201.connectors import Event, Status

if TYPE_CHECKING:
    from sim.v201.evse import Evse
    from sim.v201.station import ChargingStation

__all__ = ["Reservation", "cancel_reservation", "end", "for_token", "reserve_now"]

#: H01.FR.11/12/14: the answer when the EVSE asked for cannot be reserved, by its status
_REFUSAL = {Status.FAULTED: "Faulted", Status.UNAVAILABLE: "Unavailable",
            Status.OCCUPIED: "Occupied", Status.RESERVED: "Occupied"}


@dataclass(slots=True)
class Reservation:
    id: int
    evse_id: int
    id_token: dict
    expiry: datetime
    group_id_token: dict | None = None
    timer: asyncio.Task | None = field(default=None, repr=False)

    def matches(self, token: dict, group: dict | None = None) -> bool:
        """H03.FR.01/04: the reserved idToken, or one of the reserved group."""
        if _same(self.id_token, token):
            return True
        return self.group_id_token is not None and group is not None and _same(
            self.group_id_token, group)


def _same(a: dict, b: dict) -> bool:
    return a.get("idToken") == b.get("idToken") and a.get("type") == b.get("type")


def reserve_now(st: ChargingStation, p: dict) -> dict:
    """H01: Rejected when ReservationCtrlr is disabled (H01.FR.01) or without evseId unless
    NonEvseSpecific (H01.FR.18/19: then the first Available EVSE, H01.FR.04); the same id
    replaces its reservation (H01.FR.02); an EVSE that is not Available gives its reason
    (H01.FR.11/12/14); Accepted: its connector is Reserved (H01.FR.23)."""
    settings = st.settings
    if not settings.bool("ReservationEnabled"):
        return {"status": "Rejected"}
    evse_id = p.get("evseId")
    old = _find(st, p["id"])
    if old is not None and evse_id in (None, old.evse_id):  # H01.FR.02: replaced in place
        old.id_token, old.group_id_token = dict(p["idToken"]), p.get("groupIdToken")
        old.expiry = parse_iso(p["expiryDateTime"])
        evse = st.evse(old.evse_id)
        if old.timer is not None:
            old.timer.cancel()
        old.timer = st.spawn(_expire(st, evse, old))
        return {"status": "Accepted"}
    if evse_id is None:
        if not settings.bool("ReservationNonEvseSpecific"):
            return {"status": "Rejected"}  # H01.FR.19
        free = [e for e in st.evses if e.connector.status is Status.AVAILABLE]
        if not free:
            return {"status": _REFUSAL.get(st.evses[0].connector.status, "Rejected")}
        evse = free[0]  # H01.FR.04
    elif not 1 <= evse_id <= len(st.evses):
        return {"status": "Rejected"}
    else:
        evse = st.evse(evse_id)
    if evse.connector.status is not Status.AVAILABLE:
        return {"status": _REFUSAL.get(evse.connector.status, "Rejected")}
    if old is not None:  # H01.FR.02 on another EVSE: that one is free again
        st.spawn(end(st, st.evse(old.evse_id), None))
    reservation = Reservation(p["id"], evse.id, dict(p["idToken"]),
                              parse_iso(p["expiryDateTime"]), p.get("groupIdToken"))
    evse.reservation = reservation
    reservation.timer = st.spawn(_expire(st, evse, reservation))
    st.spawn(_announce(st, evse))
    return {"status": "Accepted"}


async def _announce(st: ChargingStation, evse: Evse) -> None:
    await asyncio.sleep(0)  # the response goes out first
    await st.status_changed(evse, evse.connector.apply(Event.RESERVE))  # H01.FR.23


async def _expire(st: ChargingStation, evse: Evse, reservation: Reservation) -> None:
    await st.clock.sleep(max(0.0, (reservation.expiry - st.clock.now()).total_seconds()))
    reservation.timer = None
    if evse.reservation is reservation:
        await end(st, evse, "Expired")  # H04.FR.01/03


def cancel_reservation(st: ChargingStation, p: dict) -> dict:
    """H02: Accepted and the reservation ends (H02.FR.02), Rejected for an id not held
    (H02.FR.01)."""
    reservation = _find(st, p["reservationId"])
    if reservation is None:
        return {"status": "Rejected"}
    st.spawn(end(st, st.evse(reservation.evse_id), None))
    return {"status": "Accepted"}


async def end(st: ChargingStation, evse: Evse, update: str | None) -> None:
    """The reservation of `evse` ends; `update`: the ReservationStatusUpdate status to send
    (Expired, Removed), None for none (cancelled, replaced, used)."""
    reservation = evse.reservation
    if reservation is None:
        return
    evse.reservation = None
    if reservation.timer is not None and reservation.timer is not asyncio.current_task():
        reservation.timer.cancel()
    await st.status_changed(evse, evse.connector.apply(Event.RESERVATION_ENDED))
    if update is not None and st.online:
        with contextlib.suppress(CallFailed):
            await st.call("ReservationStatusUpdate", {"reservationId": reservation.id,
                                                      "reservationUpdateStatus": update})


def for_token(st: ChargingStation, token: dict, group: dict | None = None) -> Evse | None:
    """The EVSE reserved for `token` (H03), None when none is."""
    return next((e for e in st.evses if e.reservation is not None
                 and e.reservation.matches(token, group)), None)


def _find(st: ChargingStation, reservation_id: int) -> Reservation | None:
    return next((e.reservation for e in st.evses if e.reservation is not None
                 and e.reservation.id == reservation_id), None)
