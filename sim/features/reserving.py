"""Reservations on a live charge point (1.6 §3.11, §5.1, §5.13): the glue around the sans-I/O
`sim.features.reservation.Reservations`.

The charge point asks `admit()` before a presented or remotely started idTag may use a
connector (a Reserved connector refuses other tags; a parentIdTag unknown locally is fetched
with Authorize.req, §5.13), `claim()` when StartTransaction.req is built (its reservationId, and
the reservation ends), `rest()` for where a free connector rests (Reserved while a reservation
holds it) and `release()` when a connector goes Faulted or Unavailable (§5.13 (3)). Expiry runs
on a timer re-armed after each change. Without the Reservation profile every call is a no-op.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from ocpp.v16.enums import ChargePointStatus

from chargebench.ocppj import CallFailed
from sim.features.reservation import Reservations
from sim.state import state_file

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint
    from sim.features.transactions import Port

__all__ = [
    "admit", "allows_now", "build", "cancel_reservation", "claim", "release", "reserve_now",
    "reserved_for", "rest",
]

_S = ChargePointStatus


def build(cp: ChargePoint) -> Reservations:
    """The charge point's `Reservations`, persisted in its state directory."""
    return Reservations(
        cp.config, connectors=len(cp.ports), now=cp.clock.now,
        status_of=partial(_status_of, cp), on_change=partial(_changed, cp),
        state_dir=cp.state_dir,
    )


def _active(cp: ChargePoint) -> Reservations | None:
    if "Reservation" not in (cp.config.supported_feature_profiles or []):
        return None
    return cp.features.reservations


def _existing(cp: ChargePoint) -> Reservations | None:
    """`_active`, for questions only: without ReserveNow since power-on (the feature not
    built) and nothing persisted, nothing is reserved, and the feature is not built just to
    say so (at 10 000 charge points every first start would build one: ~0.5 kB each)."""
    if not cp.features.built("reservations"):
        path = state_file(cp.state_dir, Reservations.FILE_NAME)
        if path is None or not path.exists():
            return None
    return _active(cp)


def _status_of(cp: ChargePoint, connector_id: int) -> ChargePointStatus:
    return cp.connector0.status if connector_id == 0 else cp.port(connector_id).status


def _changed(cp: ChargePoint, connector_id: int, _reserved: bool) -> None:
    """A7 (Reserved) or G1/G8 (back to Available / Unavailable), after the reply. The target
    is read when the task runs, not now: a CancelReservation right behind its ReserveNow
    must leave the connector Available, not Reserved by a status task that ran late."""
    cp.spawn(_sync_status(cp, cp.port(connector_id)))


async def _sync_status(cp: ChargePoint, port: Port) -> None:
    reservations = _existing(cp)
    held = reservations is not None and reservations.on_connector(port.id) is not None
    if held and port.status is _S.available:
        await cp.set_status(port, _S.reserved)
    elif not held and port.status is _S.reserved:
        await cp.set_status(port, _S.available if port.operative else _S.unavailable)


def reserve_now(cp: ChargePoint, payload: dict) -> dict:
    """ReserveNow.req handler (§5.13); arms the expiry timer."""
    reply = cp.features.reservations.on_reserve_now(payload)
    _arm(cp)
    return reply


def cancel_reservation(cp: ChargePoint, payload: dict) -> dict:
    """CancelReservation.req handler (§5.1)."""
    reply = cp.features.reservations.on_cancel_reservation(payload)
    _arm(cp)
    return reply


def _arm(cp: ChargePoint) -> None:
    reservations = cp.features.reservations
    cp.features.schedule("reservation", reservations.next_expiry(), partial(_expire, cp))


def _expire(cp: ChargePoint) -> None:
    cp.features.reservations.expire()  # §5.13 (2): G1 through on_change
    _arm(cp)


def allows_now(cp: ChargePoint, port: Port, id_tag: str) -> bool:
    """May `id_tag` use `port`, with what is known locally (no message)?"""
    reservations = _existing(cp)
    if reservations is None:
        return True
    parent = cp.auth.parent_of(id_tag, cp.clock.now())
    return reservations.decide(port.id, id_tag, parent).allowed


async def admit(cp: ChargePoint, port: Port, id_tag: str) -> bool:
    """May `id_tag` use `port`? Asks the CSMS for the parentIdTag when only that is missing
    (§5.13: "the Charge Point MAY send an Authorize.req to obtain the parent")."""
    reservations = _existing(cp)
    if reservations is None:
        return True
    decision = reservations.decide(port.id, id_tag, cp.auth.parent_of(id_tag, cp.clock.now()))
    if decision.allowed or not decision.need_parent or not cp.online:
        return decision.allowed
    try:
        reply = await cp.call("Authorize", {"idTag": id_tag})
    except CallFailed:
        return False
    info = reply["idTagInfo"]
    cp.remember_tag(id_tag, info)
    if info.get("status") != "Accepted":
        return False
    return reservations.decide(port.id, id_tag, info.get("parentIdTag")).allowed


def claim(cp: ChargePoint, port: Port, id_tag: str) -> int | None:
    """The reservationId for StartTransaction.req, if this start uses a reservation; the
    reservation then ends (§5.13 (1))."""
    reservations = _existing(cp)
    if reservations is None or not reservations.reservations:
        return None
    parent = cp.auth.parent_of(id_tag, cp.clock.now())
    decision = reservations.decide(port.id, id_tag, parent)
    if not decision.allowed or decision.reservation_id is None:
        return None
    reservations.used(decision.reservation_id)
    _arm(cp)
    return decision.reservation_id


def reserved_for(cp: ChargePoint, id_tag: str) -> Port | None:
    """The connector reserved for `id_tag` (or its locally known parent), if any."""
    reservations = _existing(cp)
    if reservations is None:
        return None
    parent = cp.auth.parent_of(id_tag, cp.clock.now())
    for reservation in reservations.reservations:
        if reservation.connector_id > 0 and reservation.matches(id_tag, parent):
            return cp.port(reservation.connector_id)
    return None


async def rest(cp: ChargePoint, port: Port) -> None:
    """A free connector goes Available (B1/F1), then Reserved again (A7) while a reservation
    still holds it: a preparation by the reserving tag timed out, or its user left."""
    if port.scheduled_operative is not None and port.tx is None:  # §5.2 Scheduled, now due
        port.operative, port.scheduled_operative = port.scheduled_operative, None
    await cp.set_status(port, _S.available)
    if not port.operative:  # A8: the scheduled Inoperative (Preparing had no way there)
        await cp.set_status(port, _S.unavailable)
        return
    reservations = _existing(cp)
    if reservations is not None and reservations.on_connector(port.id) is not None:
        await cp.set_status(port, _S.reserved)


def release(cp: ChargePoint, connector_id: int) -> None:
    """The connector (0: the charge point) went Faulted or Unavailable (§5.13 (3))."""
    if _active(cp) is not None and cp.features.built("reservations"):
        cp.features.reservations.release_connector(connector_id)
        _arm(cp)
