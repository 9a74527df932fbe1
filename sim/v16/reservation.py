"""Reservations on the charge point side (1.6 §3.11, §5.1 CancelReservation, §5.13 ReserveNow).

Sans-I/O: `Reservations` answers ReserveNow and CancelReservation (`handlers`) from the
connector statuses the charge point reports through `status_of`, tells the charge point which
connector becomes Reserved or Available again through `on_change(connector_id, reserved)`, and
decides whether an idTag may use a connector (`decide`). The charge point calls `expire()` at
`next_expiry()`, `used()` when a transaction starts on a reservation, and `release_connector()`
when a connector goes Faulted or Unavailable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ocpp.v16.enums import CancelReservationStatus, ReservationStatus

from chargebench.clock import iso, parse_iso
from sim.connector import ConnectorStatus
from sim.state import read_json, state_file, write_json

__all__ = ["Decision", "Reservation", "Reservations"]

_S = ConnectorStatus
#: Statuses in which a connector is in use (§5.13: "Occupied"). Reserved is not here: which
#: connectors are reserved is known from the reservations themselves (a replaced one frees its).
_OCCUPIED = frozenset({_S.preparing, _S.charging, _S.suspended_ev, _S.suspended_evse,
                       _S.finishing})


@dataclass(frozen=True)
class Reservation:
    """One accepted ReserveNow.req."""

    reservation_id: int
    connector_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None

    def matches(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """§5.13: the incoming idTag or its parent matches the idTag or parent of the
        reservation (IdToken is case-insensitive, 7.28)."""
        mine = {t.upper() for t in (self.id_tag, self.parent_id_tag) if t}
        theirs = {t.upper() for t in (id_tag, parent_id_tag) if t}
        return bool(mine & theirs)


@dataclass(frozen=True)
class Decision:
    """Whether an idTag may start on a connector.

    `reservation_id` goes into StartTransaction.req (§5.13) when the start uses a reservation.
    `need_parent`: refused only because the parentIdTag is unknown; authorize the idTag
    (Authorize.conf may carry it, §5.13) and ask again with it.
    """

    allowed: bool
    reservation_id: int | None = None
    need_parent: bool = False


class Reservations:
    """The reservations of one charge point, persisted."""

    FILE_NAME = "reservations.json"

    def __init__(
        self,
        config: Any,
        *,
        connectors: int,
        now: Callable[[], datetime],
        status_of: Callable[[int], str],
        on_change: Callable[[int, bool], None] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """`status_of(connector_id)` is the connector's ConnectorStatus (0: the charge point
        itself); `on_change(connector_id, reserved)` asks for the Reserved / Available
        transition (G1/A7 of §4.9), which the charge point notifies."""
        self.config = config
        self.connectors = connectors
        self.now = now
        self.status_of = status_of
        self.on_change = on_change
        self.path = state_file(state_dir, self.FILE_NAME)
        self._by_id: dict[int, Reservation] = {}
        self._load()

    @property
    def handlers(self) -> dict[str, Callable[[dict], dict]]:
        return {"ReserveNow": self.on_reserve_now, "CancelReservation": self.on_cancel_reservation}

    @property
    def reservations(self) -> list[Reservation]:
        return list(self._by_id.values())

    def on_connector(self, connector_id: int) -> Reservation | None:
        """The reservation of a specific connector (not connector 0), if any."""
        return next((r for r in self._by_id.values() if r.connector_id == connector_id), None)

    # ReserveNow (1.6 §5.13) --------------------------------------------------------------

    def on_reserve_now(self, payload: dict) -> dict:
        """ReserveNow.req handler."""
        return {"status": self.reserve(payload).value}

    def reserve(self, payload: dict) -> ReservationStatus:
        """Decide and (when Accepted) record a reservation; replaces one with the same id."""
        connector_id = payload["connectorId"]
        if not self._accepts_reservations() or not 0 <= connector_id <= self.connectors:
            return ReservationStatus.rejected
        if connector_id == 0 and not self.config.get(
            "Reservation", "ReserveConnectorZeroSupported", False
        ):
            return ReservationStatus.rejected  # 9.3.1
        old = self._by_id.get(payload["reservationId"])
        # §5.13: a known reservationId is replaced, so it must not block its own replacement
        others = {k: v for k, v in self._by_id.items() if k != payload["reservationId"]}
        status = self._availability(connector_id, others)
        if status is not ReservationStatus.accepted:
            return status
        new = Reservation(
            reservation_id=payload["reservationId"],
            connector_id=connector_id,
            id_tag=payload["idTag"],
            expiry=parse_iso(payload["expiryDate"]),
            parent_id_tag=payload.get("parentIdTag"),
        )
        self._by_id[new.reservation_id] = new
        self._save()
        if old is not None and old.connector_id not in (0, connector_id):
            self._notify(old.connector_id, False)
        if connector_id > 0 and (old is None or old.connector_id != connector_id):
            self._notify(connector_id, True)
        return ReservationStatus.accepted

    def _accepts_reservations(self) -> bool:
        profiles = self.config.get_list("Core", "SupportedFeatureProfiles", "")
        return "Reservation" in profiles

    def _availability(self, connector_id: int, others: dict[int, Reservation]) -> ReservationStatus:
        """Accepted, or why not: Faulted, Unavailable, Occupied (§5.13)."""
        station = self.status_of(0)
        if station == _S.faulted:
            return ReservationStatus.faulted
        if station == _S.unavailable:
            return ReservationStatus.unavailable
        zero = sum(1 for r in others.values() if r.connector_id == 0)
        free = self._free_connectors(others)
        if connector_id == 0:
            # keep one connector available for each connector-0 reservation, this one included
            if len(free) > zero:
                return ReservationStatus.accepted
            statuses = [self.status_of(c) for c in range(1, self.connectors + 1)]
            if all(s == _S.faulted for s in statuses):
                return ReservationStatus.faulted
            if all(s == _S.unavailable for s in statuses):
                return ReservationStatus.unavailable
            return ReservationStatus.occupied
        status = self.status_of(connector_id)
        if status == _S.faulted:
            return ReservationStatus.faulted
        if status == _S.unavailable:
            return ReservationStatus.unavailable
        if connector_id not in free:
            return ReservationStatus.occupied  # in use, or reserved for any idTag
        if len(free) - 1 < zero:
            return ReservationStatus.occupied  # the last free connector belongs to connector 0's
        return ReservationStatus.accepted

    def _free_connectors(self, reservations: dict[int, Reservation]) -> list[int]:
        taken = {r.connector_id for r in reservations.values() if r.connector_id > 0}
        return [
            c for c in range(1, self.connectors + 1)
            if c not in taken and self.status_of(c) not in _OCCUPIED
            and self.status_of(c) not in (_S.faulted, _S.unavailable)
        ]

    # CancelReservation (1.6 §5.1) --------------------------------------------------------

    def on_cancel_reservation(self, payload: dict) -> dict:
        """CancelReservation.req handler: Accepted if the reservation exists, else Rejected."""
        removed = self._remove(payload["reservationId"])
        status = CancelReservationStatus.accepted if removed else CancelReservationStatus.rejected
        return {"status": status.value}

    # What the charge point asks and tells ------------------------------------------------

    def decide(self, connector_id: int, id_tag: str, parent_id_tag: str | None = None) -> Decision:
        """May `id_tag` (with its parent, if known) start charging on `connector_id`?"""
        self.expire()
        mine = self.on_connector(connector_id)
        if mine is not None:
            if mine.matches(id_tag, parent_id_tag):
                return Decision(True, mine.reservation_id)
            return Decision(False, need_parent=mine.parent_id_tag is not None
                            and parent_id_tag is None)
        zero = [r for r in self._by_id.values() if r.connector_id == 0]
        for reservation in zero:
            if reservation.matches(id_tag, parent_id_tag):
                return Decision(True, reservation.reservation_id)
        if zero:
            # Taking this connector must leave one free connector per connector-0 reservation
            free = [c for c in self._free_connectors(self._by_id) if c != connector_id]
            if len(free) < len(zero):
                need = parent_id_tag is None and any(r.parent_id_tag for r in zero)
                return Decision(False, need_parent=need)
        return Decision(True)

    def used(self, reservation_id: int) -> None:
        """A transaction started on the reservation: it ends (§5.13 (1)). The connector is
        already leaving Reserved (G2), so no status change is asked."""
        self._remove(reservation_id, notify=False)

    def expire(self, now: datetime | None = None) -> list[Reservation]:
        """End reservations whose expiryDate has come (§5.13 (2)); the connector becomes
        Available (G1) through `on_change`."""
        now = now or self.now()
        gone = [r for r in self._by_id.values() if r.expiry <= now]
        for reservation in gone:
            self._remove(reservation.reservation_id)
        return gone

    def next_expiry(self) -> datetime | None:
        """When to call `expire()` next."""
        return min((r.expiry for r in self._by_id.values()), default=None)

    def release_connector(self, connector_id: int) -> list[Reservation]:
        """The connector (0: the whole charge point) went Faulted or Unavailable: its
        reservations end (§5.13 (3)). No Available is asked: the connector is not Available."""
        gone = [r for r in self._by_id.values()
                if connector_id == 0 or r.connector_id == connector_id]
        for reservation in gone:
            self._remove(reservation.reservation_id, notify=False)
        return gone

    # Internals ---------------------------------------------------------------------------

    def _remove(self, reservation_id: int, *, notify: bool = True) -> bool:
        reservation = self._by_id.pop(reservation_id, None)
        if reservation is None:
            return False
        self._save()
        if notify and reservation.connector_id > 0:
            self._notify(reservation.connector_id, False)
        return True

    def _notify(self, connector_id: int, reserved: bool) -> None:
        if self.on_change is not None:
            self.on_change(connector_id, reserved)

    def _load(self) -> None:
        for item in read_json(self.path, []):
            item["expiry"] = parse_iso(item["expiry"])
            reservation = Reservation(**item)
            self._by_id[reservation.reservation_id] = reservation

    def _save(self) -> None:
        if self.path is None:
            return
        data = [{**asdict(r), "expiry": iso(r.expiry)} for r in self._by_id.values()]
        write_json(self.path, data)
