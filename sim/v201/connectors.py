"""The connector status of a 2.0.1 charging station, as data (sans-I/O).

2.0.1 reports five statuses per connector of an EVSE (part 2 §3.23 ConnectorStatusEnumType):
Available, Occupied, Reserved (operative) and Unavailable, Faulted (inoperative). A connector
holds the facts that decide its status (cable plugged, reserved, made inoperative, faulted);
`STATUS_RULES` says, first match wins, which status those facts give, with the requirement
that says so; `TRANSITIONS` lists every change a StatusNotification may report, with its
requirement, and `Connector.apply()` refuses any other (our bug, not a peer's).

Why facts and not a (status, event) table alone: G03.FR.07 / G04.FR.08 "revert ... to their
original status" once an EVSE is operative again, and G01.FR.04/05 decide the status after an
unplug by whether unavailability was scheduled: the status after an event depends on more than
the status before it. The facts keep what "original" means; the rules stay a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from chargebench.ocppj import LocalProtocolError

__all__ = ["STATUS_RULES", "TRANSITIONS", "Connector", "Event", "Status"]


class Status(StrEnum):
    """ConnectorStatusEnumType (part 2 §3.23; G01.FR.01: a connector always has one)."""

    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"

    @property
    def operative(self) -> bool:
        """§3.23: Available, Reserved and Occupied are operative; Unavailable, Faulted not."""
        return self in (Status.AVAILABLE, Status.OCCUPIED, Status.RESERVED)


class Event(StrEnum):
    """What happens to a connector (the facts it changes are in `Connector.apply`)."""

    PLUG_IN = "plug in"
    PLUG_OUT = "plug out"
    RESERVE = "reserve"  # H01 ReserveNow accepted
    RESERVATION_ENDED = "reservation ended"  # used, expired or cancelled (H01, H02)
    INOPERATIVE = "inoperative"  # ChangeAvailability Inoperative in effect (G03, G04)
    OPERATIVE = "operative"  # ChangeAvailability Operative (G03.FR.07, G04.FR.08)
    FAULT = "fault"
    FAULT_CLEARED = "fault cleared"


@dataclass(frozen=True, slots=True)
class _Facts:
    plugged: bool
    reserved: bool
    inoperative: bool
    faulted: bool
    #: a transaction holds the connector: unavailability waits for its end (G03.FR.05)
    in_transaction: bool


#: (why, status, rule ids), first match wins.
STATUS_RULES: tuple[tuple[Callable[[_Facts], bool], Status, str], ...] = (
    # §3.23 Faulted: an error, no energy delivery; G03.FR.06 "operative connectors (i.e. not
    # Faulted) ... become Unavailable": a fault outranks unavailability
    (lambda f: f.faulted, Status.FAULTED, "§3.23, G03.FR.06"),
    # G03.FR.05, G04.FR.06: unavailability is Scheduled while a transaction runs and takes
    # effect when it has finished (G01.FR.05: the EV disconnecting ended it)
    (lambda f: f.inoperative and not f.in_transaction, Status.UNAVAILABLE,
     "G03.FR.05/06, G04.FR.06/07, G01.FR.05"),
    # G03.FR.09: a reserved connector stays Reserved when an EV connects, until the idToken of
    # the reservation is presented (the reservation ends, G01.FR.06)
    (lambda f: f.reserved, Status.RESERVED, "H01, G03.FR.09"),
    # E03 (IdToken first): a transaction without a cable leaves the connector as it was; the
    # cable makes it Occupied (E02.FR.05)
    (lambda f: f.plugged, Status.OCCUPIED, "G01.FR.03, E02.FR.05"),
    (lambda f: True, Status.AVAILABLE, "G01.FR.04"),
)

_S = Status
#: every status change a StatusNotification may report (G01.FR.07, G03.FR.04, G04.FR.05 "the
#: corresponding connectorStatus"), and the requirement behind it
TRANSITIONS: dict[tuple[Status, Status], str] = {
    (_S.AVAILABLE, _S.OCCUPIED): "G01.FR.03",
    (_S.AVAILABLE, _S.RESERVED): "H01: ReserveNow accepted",
    (_S.AVAILABLE, _S.UNAVAILABLE): "G03.FR.06, G04.FR.07",
    (_S.AVAILABLE, _S.FAULTED): "§3.23 Faulted",
    (_S.OCCUPIED, _S.AVAILABLE): "G01.FR.04",
    (_S.OCCUPIED, _S.UNAVAILABLE): "G01.FR.05",
    (_S.OCCUPIED, _S.FAULTED): "§3.23 Faulted",
    (_S.OCCUPIED, _S.RESERVED): "H01: reserved while an EV without transaction was plugged",
    (_S.RESERVED, _S.AVAILABLE): "H01/H02: reservation expired or cancelled",
    (_S.RESERVED, _S.OCCUPIED): "G01.FR.06",
    (_S.RESERVED, _S.UNAVAILABLE): "G03.FR.06, G04.FR.07",
    (_S.RESERVED, _S.FAULTED): "§3.23 Faulted",
    (_S.UNAVAILABLE, _S.AVAILABLE): "G03.FR.07, G04.FR.08",
    (_S.UNAVAILABLE, _S.OCCUPIED): "G03.FR.07, G04.FR.08 (an EV is plugged)",
    (_S.UNAVAILABLE, _S.RESERVED): "G03.FR.07, G04.FR.08 (B01.FR.13: the reservation holds)",
    (_S.UNAVAILABLE, _S.FAULTED): "§3.23 Faulted",
    (_S.FAULTED, _S.AVAILABLE): "fault cleared: back to the original status",
    (_S.FAULTED, _S.OCCUPIED): "fault cleared: back to the original status",
    (_S.FAULTED, _S.RESERVED): "fault cleared: back to the original status",
    (_S.FAULTED, _S.UNAVAILABLE): "fault cleared: back to the original status (G03.FR.08)",
}


@dataclass(slots=True)
class Connector:
    """One connector of one EVSE: its facts, and the status they give.

    `apply(event)` changes the facts and returns the new status when the status changed (the
    caller sends StatusNotification, G01), None when it did not (G01.FR.08: no notification
    for what did not change)."""

    evse_id: int
    connector_id: int
    plugged: bool = False
    reserved: bool = False
    inoperative: bool = False
    faulted: bool = False
    in_transaction: bool = False
    status: Status = field(init=False)

    def __post_init__(self) -> None:
        self.status = self.derive()

    def derive(self) -> Status:
        """The status the facts give (`STATUS_RULES`)."""
        facts = _Facts(self.plugged, self.reserved, self.inoperative, self.faulted,
                       self.in_transaction)
        return next(status for holds, status, _ in STATUS_RULES if holds(facts))

    def apply(self, event: Event) -> Status | None:
        """Take `event`; the new status if it changed, else None."""
        match event:
            case Event.PLUG_IN:
                self.plugged = True
            case Event.PLUG_OUT:
                self.plugged = False
            case Event.RESERVE:
                self.reserved = True
            case Event.RESERVATION_ENDED:
                self.reserved = False
            case Event.INOPERATIVE:
                self.inoperative = True
            case Event.OPERATIVE:
                self.inoperative = False
            case Event.FAULT:
                self.faulted = True
            case Event.FAULT_CLEARED:
                self.faulted = False
        return self.refresh()

    def set_in_transaction(self, running: bool) -> Status | None:
        """A transaction started or ended on this connector's EVSE (G03.FR.05: a scheduled
        unavailability takes effect at its end)."""
        self.in_transaction = running
        return self.refresh()

    def refresh(self) -> Status | None:
        new = self.derive()
        if new is self.status:
            return None
        if (self.status, new) not in TRANSITIONS:
            raise LocalProtocolError(f"connector {self.evse_id}/{self.connector_id}: "
                                     f"{self.status} -> {new} is no 2.0.1 transition")
        self.status = new
        return new
