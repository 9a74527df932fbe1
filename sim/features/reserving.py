"""Reservations on a live charge point (1.6 §3.11, §5.1, §5.13): the glue around the sans-I/O
`sim.v16.reservation.Reservations`.

The charge point asks `admit()` before a presented or remotely started idTag may use a
connector (a Reserved connector refuses other tags; a parentIdTag unknown locally is fetched
with Authorize.req, §5.13), `claim()` when StartTransaction.req is built (its reservationId, and
the reservation ends), `rest()` for where a free connector rests (Reserved while a reservation
holds it) and `release()` when a connector goes Faulted or Unavailable (§5.13 (3)). Expiry runs
on a timer re-armed after each change. Without the Reservation profile every call is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chargebench.ocppj import CallFailed
from sim.connector import ConnectorStatus
from sim.features.context import Clocked, Configured, Connectors, Sender, Spawner, StatusSetter
from sim.state import state_file
from sim.v16.reservation import Reservations

if TYPE_CHECKING:
    from sim.connector import Connector
    from sim.features.transactions import Port

__all__ = [
    "ReservingContext", "admit", "allows_now", "build", "cancel_reservation", "claim",
    "release", "reserve_now", "reserved_for", "rest",
]


class ReservationFeatures(Protocol):
    """The reservation store (built on first use) and the timers (expiry)."""

    @property
    def reservations(self) -> Reservations: ...

    def built(self, name: str) -> bool: ...

    def schedule(self, name: str, when: datetime | None, action: Callable[[], Any]) -> None: ...


class ParentLookup(Protocol):
    """Local authorization, as far as group reservations need it (§5.13 parentIdTag)."""

    def parent_of(self, id_tag: str, now: datetime) -> str | None: ...


class ReservingContext(Clocked, Configured, Connectors, Sender, Spawner, StatusSetter, Protocol):
    """What reservations on a live charge point use: the configuration (is Reservation
    supported), the connectors and their status (Reserved, A7/G1), the reservation store and
    its state directory and timer, the locally known parentIdTag, and Authorize.req for a
    parent not known locally (with `remember_tag` for its answer)."""

    @property
    def connector0(self) -> Connector: ...

    @property
    def state_dir(self) -> Path | None: ...

    @property
    def features(self) -> ReservationFeatures: ...

    @property
    def auth(self) -> ParentLookup: ...

    def remember_tag(self, id_tag: str, id_tag_info: dict) -> None: ...

_S = ConnectorStatus


def build(ctx: ReservingContext) -> Reservations:
    """The charge point's `Reservations`, persisted in its state directory."""
    return Reservations(
        ctx.config, connectors=len(ctx.ports), now=ctx.clock.now,
        status_of=partial(_status_of, ctx), on_change=partial(_changed, ctx),
        state_dir=ctx.state_dir,
    )


def _active(ctx: ReservingContext) -> Reservations | None:
    if "Reservation" not in (ctx.config.supported_feature_profiles or []):
        return None
    return ctx.features.reservations


def _existing(ctx: ReservingContext) -> Reservations | None:
    """`_active`, for questions only: without ReserveNow since power-on (the feature not
    built) and nothing persisted, nothing is reserved, and the feature is not built just to
    say so (at 10 000 charge points every first start would build one: ~0.5 kB each)."""
    if not ctx.features.built("reservations"):
        path = state_file(ctx.state_dir, Reservations.FILE_NAME)
        if path is None or not path.exists():
            return None
    return _active(ctx)


def _status_of(ctx: ReservingContext, connector_id: int) -> ConnectorStatus:
    return ctx.connector0.status if connector_id == 0 else ctx.port(connector_id).status


def _changed(ctx: ReservingContext, connector_id: int, _reserved: bool) -> None:
    """A7 (Reserved) or G1/G8 (back to Available / Unavailable), after the reply. The target
    is read when the task runs, not now: a CancelReservation right behind its ReserveNow
    must leave the connector Available, not Reserved by a status task that ran late."""
    ctx.spawn(_sync_status(ctx, ctx.port(connector_id)))


async def _sync_status(ctx: ReservingContext, port: Port) -> None:
    reservations = _existing(ctx)
    held = reservations is not None and reservations.on_connector(port.id) is not None
    if held and port.status is _S.available:
        await ctx.set_status(port, _S.reserved)
    elif not held and port.status is _S.reserved:
        await ctx.set_status(port, _S.available if port.operative else _S.unavailable)


def reserve_now(ctx: ReservingContext, payload: dict) -> dict:
    """ReserveNow.req handler (§5.13); arms the expiry timer."""
    reply = ctx.features.reservations.on_reserve_now(payload)
    _arm(ctx)
    return reply


def cancel_reservation(ctx: ReservingContext, payload: dict) -> dict:
    """CancelReservation.req handler (§5.1)."""
    reply = ctx.features.reservations.on_cancel_reservation(payload)
    _arm(ctx)
    return reply


def _arm(ctx: ReservingContext) -> None:
    reservations = ctx.features.reservations
    ctx.features.schedule("reservation", reservations.next_expiry(), partial(_expire, ctx))


def _expire(ctx: ReservingContext) -> None:
    ctx.features.reservations.expire()  # §5.13 (2): G1 through on_change
    _arm(ctx)


def allows_now(ctx: ReservingContext, port: Port, id_tag: str) -> bool:
    """May `id_tag` use `port`, with what is known locally (no message)?"""
    reservations = _existing(ctx)
    if reservations is None:
        return True
    parent = ctx.auth.parent_of(id_tag, ctx.clock.now())
    return reservations.decide(port.id, id_tag, parent).allowed


async def admit(ctx: ReservingContext, port: Port, id_tag: str) -> bool:
    """May `id_tag` use `port`? Asks the CSMS for the parentIdTag when only that is missing
    (§5.13: "the Charge Point MAY send an Authorize.req to obtain the parent")."""
    reservations = _existing(ctx)
    if reservations is None:
        return True
    decision = reservations.decide(port.id, id_tag, ctx.auth.parent_of(id_tag, ctx.clock.now()))
    if decision.allowed or not decision.need_parent or not ctx.online:
        return decision.allowed
    try:
        reply = await ctx.call("Authorize", {"idTag": id_tag})
    except CallFailed:
        return False
    info = reply["idTagInfo"]
    ctx.remember_tag(id_tag, info)
    if info.get("status") != "Accepted":
        return False
    return reservations.decide(port.id, id_tag, info.get("parentIdTag")).allowed


def claim(ctx: ReservingContext, port: Port, id_tag: str) -> int | None:
    """The reservationId for StartTransaction.req, if this start uses a reservation; the
    reservation then ends (§5.13 (1))."""
    reservations = _existing(ctx)
    if reservations is None or not reservations.reservations:
        return None
    parent = ctx.auth.parent_of(id_tag, ctx.clock.now())
    decision = reservations.decide(port.id, id_tag, parent)
    if not decision.allowed or decision.reservation_id is None:
        return None
    reservations.used(decision.reservation_id)
    _arm(ctx)
    return decision.reservation_id


def reserved_for(ctx: ReservingContext, id_tag: str) -> Port | None:
    """The connector reserved for `id_tag` (or its locally known parent), if any."""
    reservations = _existing(ctx)
    if reservations is None:
        return None
    parent = ctx.auth.parent_of(id_tag, ctx.clock.now())
    for reservation in reservations.reservations:
        if reservation.connector_id > 0 and reservation.matches(id_tag, parent):
            return ctx.port(reservation.connector_id)
    return None


async def rest(ctx: ReservingContext, port: Port) -> None:
    """A free connector goes Available (B1/F1), then Reserved again (A7) while a reservation
    still holds it: a preparation by the reserving tag timed out, or its user left."""
    if port.scheduled_operative is not None and port.tx is None:  # §5.2 Scheduled, now due
        port.operative, port.scheduled_operative = port.scheduled_operative, None
    await ctx.set_status(port, _S.available)
    if not port.operative:  # A8: the scheduled Inoperative (Preparing had no way there)
        await ctx.set_status(port, _S.unavailable)
        return
    reservations = _existing(ctx)
    if reservations is not None and reservations.on_connector(port.id) is not None:
        await ctx.set_status(port, _S.reserved)


def release(ctx: ReservingContext, connector_id: int) -> None:
    """The connector (0: the charge point) went Faulted or Unavailable (§5.13 (3))."""
    if _active(ctx) is not None and ctx.features.built("reservations"):
        ctx.features.reservations.release_connector(connector_id)
        _arm(ctx)
