"""The OCPP 1.6 connector status table (§4.9), as data, for both roles.

`TRANSITIONS` is the spec's table of allowed status changes (A2..I8, with erratum 3.20 adding
B6). The simulator enforces it on its own connectors (`sim.connector.Connector`); the CSMS
checks the StatusNotifications it is sent against it (`transition_problem`); the docs and the
conformance catalogue read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ocpp.v16.enums import ChargePointStatus

__all__ = [
    "CONNECTOR_ZERO_STATUSES",
    "EV_COMMUNICATION_ERROR_STATUSES",
    "TRANSITIONS",
    "TRANSITION_EVENTS",
    "transition_problem",
    "transitions_for",
]

_S = ChargePointStatus

# Table rows (letters) and columns (digits) of 1.6 §4.9.
_ROWS = {
    "A": _S.available,
    "B": _S.preparing,
    "C": _S.charging,
    "D": _S.suspended_ev,
    "E": _S.suspended_evse,
    "F": _S.finishing,
    "G": _S.reserved,
    "H": _S.unavailable,
    "I": _S.faulted,
}
_COLUMNS = {
    "1": _S.available,
    "2": _S.preparing,
    "3": _S.charging,
    "4": _S.suspended_ev,
    "5": _S.suspended_evse,
    "6": _S.finishing,
    "7": _S.reserved,
    "8": _S.unavailable,
    "9": _S.faulted,
}

#: Event that leads to each allowed transition, by its cell name (1.6 §4.9, second table).
TRANSITION_EVENTS: Mapping[str, str] = MappingProxyType(
    {
        "A2": "Usage is initiated (insert plug, bay occupancy, present idTag, push start button, "
        "RemoteStartTransaction.req)",
        "A3": "Can be possible in a Charge Point without an authorization means",
        "A4": "Similar to A3 but the EV does not start charging",
        "A5": "Similar to A3 but the EVSE does not allow charging",
        "A7": "A ReserveNow message is received that reserves the connector",
        "A8": "A ChangeAvailability message is received that sets the connector to Unavailable",
        "A9": "A fault is detected that prevents further charging operations",
        "B1": "Intended usage is ended (plug removed, bay no longer occupied, second presentation "
        "of idTag, time out (ConnectionTimeOut) on expected user action)",
        "B3": "All prerequisites for charging are met and charging process starts",
        "B4": "All prerequisites for charging are met but EV does not start charging",
        "B5": "All prerequisites for charging are met but EVSE does not allow charging",
        "B6": "Timed out: usage was initiated but idTag not presented within timeout (errata 3.20)",
        "B9": "A fault is detected that prevents further charging operations",
        "C1": "Charging session ends while no user action is required (e.g. fixed cable was "
        "removed on EV side)",
        "C4": "Charging stops upon EV request (e.g. S2 is opened)",
        "C5": "Charging stops upon EVSE request (smart charging restriction, transaction "
        "invalidated by StartTransaction.conf)",
        "C6": "Transaction is stopped by user or RemoteStopTransaction and further user action is "
        "required (remove cable, leave parking bay)",
        "C8": "Charging session ends, no user action is required and the connector is scheduled "
        "to become Unavailable",
        "C9": "A fault is detected that prevents further charging operations",
        "D1": "Charging session ends while no user action is required",
        "D3": "Charging resumes upon request of the EV (e.g. S2 is closed)",
        "D5": "Charging is suspended by EVSE (e.g. due to a smart charging restriction)",
        "D6": "Transaction is stopped and further user action is required",
        "D8": "Charging session ends, no user action is required and the connector is scheduled "
        "to become Unavailable",
        "D9": "A fault is detected that prevents further charging operations",
        "E1": "Charging session ends while no user action is required",
        "E3": "Charging resumes because the EVSE restriction is lifted",
        "E4": "The EVSE restriction is lifted but the EV does not start charging",
        "E6": "Transaction is stopped and further user action is required",
        "E8": "Charging session ends, no user action is required and the connector is scheduled "
        "to become Unavailable",
        "E9": "A fault is detected that prevents further charging operations",
        "F1": "All user actions completed",
        "F2": "User restarts charging session (reconnects cable, presents idTag again), creating a "
        "new Transaction",
        "F8": "All user actions completed and the connector is scheduled to become Unavailable",
        "F9": "A fault is detected that prevents further charging operations",
        "G1": "Reservation expires or a CancelReservation message is received",
        "G2": "Reservation identity is presented",
        "G8": "Reservation expires or a CancelReservation message is received and the connector "
        "is scheduled to become Unavailable",
        "G9": "A fault is detected that prevents further charging operations",
        "H1": "Connector is set Available by a ChangeAvailability message",
        "H2": "Connector is set Available after a user had interacted with the Charge Point",
        "H3": "Connector is set Available and no user action is required to start charging",
        "H4": "Similar to H3 but the EV does not start charging",
        "H5": "Similar to H3 but the EVSE does not allow charging",
        "H9": "A fault is detected that prevents further charging operations",
        **{
            f"I{n}": "Fault is resolved and status returns to the pre-fault state"
            for n in "12345678"
        },
    }
)

#: (from, to) -> cell name, for every transition 1.6 §4.9 allows on a connector > 0.
TRANSITIONS: Mapping[tuple[ChargePointStatus, ChargePointStatus], str] = MappingProxyType(
    {(_ROWS[cell[0]], _COLUMNS[cell[1]]): cell for cell in TRANSITION_EVENTS}
)

#: 1.6 §4.9: "For ConnectorId 0, only a limited set is applicable".
CONNECTOR_ZERO_STATUSES = frozenset({_S.available, _S.unavailable, _S.faulted})

#: 1.6 §4.9: EVCommunicationError SHALL only be used with these statuses (as a warning).
EV_COMMUNICATION_ERROR_STATUSES = frozenset(
    {_S.preparing, _S.suspended_ev, _S.suspended_evse, _S.finishing}
)


def transitions_for(connector_id: int) -> Mapping[tuple[ChargePointStatus, ChargePointStatus], str]:
    """The allowed transitions of a connector: the full table, or its 0-subset for connector 0."""
    if connector_id > 0:
        return TRANSITIONS
    return MappingProxyType(
        {
            pair: cell
            for pair, cell in TRANSITIONS.items()
            if pair[0] in CONNECTOR_ZERO_STATUSES and pair[1] in CONNECTOR_ZERO_STATUSES
        }
    )


def transition_problem(connector_id: int, old: str | None, new: str) -> str | None:
    """Why 1.6 §4.9 does not allow connector `connector_id` to go from `old` to `new`, or None.

    An unknown previous status (None: first report, e.g. after a reboot) allows any status; so
    does an unchanged one (a repeated report carries a new error code or info)."""
    try:
        target = ChargePointStatus(new)
    except ValueError:
        return f"unknown status {new!r}"
    if connector_id == 0 and target not in CONNECTOR_ZERO_STATUSES:
        return f"connector 0 cannot be {new} (1.6 §4.9: only Available, Unavailable, Faulted)"
    if old is None or old == new:
        return None
    try:
        source = ChargePointStatus(old)
    except ValueError:
        return None
    if (source, target) in transitions_for(connector_id):
        return None
    return f"{old} -> {new} is not in the 1.6 §4.9 table"

