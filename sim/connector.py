"""OCPP 1.6 connector status machine (§4.9), as data.

`TRANSITIONS` is the spec's table of allowed status changes (A2..I8, with erratum 3.20 adding
B6); the docs and the conformance catalogue read it, `Connector.transition()` enforces it. Each
accepted change returns a `StatusChange`, which the I/O layer sends as StatusNotification.req
(errata 3.19: a status change SHALL be notified). An illegal change raises `IllegalTransition`:
the simulator's own logic is wrong, not the peer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargebench.ocppj.errors import LocalProtocolError

__all__ = [
    "CONNECTOR_ZERO_STATUSES",
    "EV_COMMUNICATION_ERROR_STATUSES",
    "TRANSITIONS",
    "TRANSITION_EVENTS",
    "Connector",
    "IllegalTransition",
    "StatusChange",
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


class IllegalTransition(LocalProtocolError):
    """The simulator asked for a status change 1.6 §4.9 does not allow: a harness bug."""

    def __init__(self, connector_id: int, old: ChargePointStatus, new: Any, reason: str) -> None:
        super().__init__(f"connector {connector_id}: {old} -> {new}: {reason}")
        self.connector_id = connector_id
        self.old = old
        self.new = new


@dataclass(frozen=True)
class StatusChange:
    """One status change (or error report) to send as StatusNotification.req (1.6 §6.47)."""

    connector_id: int
    status: ChargePointStatus
    error_code: ChargePointErrorCode
    previous: ChargePointStatus
    cell: str | None  # the §4.9 table cell (e.g. "C4"); None for an error report
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    timestamp: datetime | None = None

    def to_payload(self) -> dict[str, Any]:
        """StatusNotification.req payload (camelCase, optional fields left out when unset)."""
        payload: dict[str, Any] = {
            "connectorId": self.connector_id,
            "errorCode": self.error_code.value,
            "status": self.status.value,
        }
        if self.timestamp is not None:
            payload["timestamp"] = self.timestamp.isoformat()
        for key, value in (
            ("info", self.info),
            ("vendorId", self.vendor_id),
            ("vendorErrorCode", self.vendor_error_code),
        ):
            if value is not None:
                payload[key] = value
        return payload


class Connector:
    """The status of one connector (or of the charge point as a whole, connector 0)."""

    def __init__(
        self,
        connector_id: int,
        status: ChargePointStatus = ChargePointStatus.available,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
    ) -> None:
        """Start in `status`, e.g. Unavailable restored after a reboot (1.6 §4.9: persistent)."""
        if connector_id < 0:
            raise ValueError(f"connector id {connector_id} < 0")
        self.connector_id = connector_id
        self._table = transitions_for(connector_id)
        self._status = ChargePointStatus(status)
        self.error_code = ChargePointErrorCode(error_code)
        _check_fields(connector_id, self._status, self._status, self.error_code, None, None, None)
        self.info: str | None = None
        self.pre_fault_status: ChargePointStatus | None = None

    @property
    def status(self) -> ChargePointStatus:
        return self._status

    def allowed(self, new_status: ChargePointStatus) -> bool:
        """Whether 1.6 §4.9 allows moving from the current status to `new_status`."""
        return (self._status, ChargePointStatus(new_status)) in self._table

    def transition(
        self,
        new_status: ChargePointStatus,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
        info: str | None = None,
        *,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
        timestamp: datetime | None = None,
    ) -> StatusChange:
        """Move to `new_status` and return the StatusNotification to send.

        Staying in the same status is allowed only to report a different error code or info
        (1.6 §4.9: a non-Faulted status with an error code is a warning). Leaving Faulted goes
        to any status the table allows; `pre_fault_status` says where the fault struck (I1-I8).
        Raises IllegalTransition for anything else.
        """
        new = ChargePointStatus(new_status)
        code = ChargePointErrorCode(error_code)
        old = self._status
        _check_fields(self.connector_id, old, new, code, info, vendor_id, vendor_error_code)
        if new == old:
            if code == self.error_code and info == self.info:
                raise IllegalTransition(self.connector_id, old, new, "no change to report")
            cell = None
        else:
            cell = self._table.get((old, new))
            if cell is None:
                allowed = sorted(
                    f"{to} ({c})" for (frm, to), c in self._table.items() if frm == old
                )
                raise IllegalTransition(
                    self.connector_id, old, new, f"not in 1.6 §4.9; allowed: {', '.join(allowed)}"
                )
        if new == ChargePointStatus.faulted and old != ChargePointStatus.faulted:
            self.pre_fault_status = old
        elif new != ChargePointStatus.faulted:
            self.pre_fault_status = None
        self._status, self.error_code, self.info = new, code, info
        return StatusChange(
            connector_id=self.connector_id,
            status=new,
            error_code=code,
            previous=old,
            cell=cell,
            info=info,
            vendor_id=vendor_id,
            vendor_error_code=vendor_error_code,
            timestamp=timestamp,
        )

    def snapshot(self, timestamp: datetime | None = None) -> StatusChange:
        """The current status as a StatusNotification, without changing anything.

        For the notifications after BootNotification.conf(Accepted) (errata 3.22) and on
        TriggerMessage(StatusNotification).
        """
        return StatusChange(
            connector_id=self.connector_id,
            status=self._status,
            error_code=self.error_code,
            previous=self._status,
            cell=None,
            info=self.info,
            timestamp=timestamp,
        )

    def __repr__(self) -> str:
        return f"Connector({self.connector_id}, {self._status.value}, {self.error_code.value})"


def _check_fields(
    connector_id: int,
    old: ChargePointStatus,
    new: ChargePointStatus,
    code: ChargePointErrorCode,
    info: str | None,
    vendor_id: str | None,
    vendor_error_code: str | None,
) -> None:
    """Field rules of StatusNotification.req (1.6 §4.9, §6.47) checked before sending."""
    if connector_id == 0 and new not in CONNECTOR_ZERO_STATUSES:
        raise IllegalTransition(
            connector_id, old, new, "connector 0 is Available/Unavailable/Faulted"
        )
    if new == ChargePointStatus.faulted and code == ChargePointErrorCode.no_error:
        raise IllegalTransition(connector_id, old, new, "Faulted needs an error code, not NoError")
    if (
        code == ChargePointErrorCode.ev_communication_error
        and new not in EV_COMMUNICATION_ERROR_STATUSES
    ):
        raise IllegalTransition(
            connector_id,
            old,
            new,
            "EVCommunicationError only with Preparing, SuspendedEV, "
            "SuspendedEVSE or Finishing (1.6 §4.9)",
        )
    for name, value, limit in (
        ("info", info, 50),
        ("vendorId", vendor_id, 255),
        ("vendorErrorCode", vendor_error_code, 50),
    ):
        if value is not None and len(value) > limit:
            raise IllegalTransition(connector_id, old, new, f"{name} longer than {limit}")
