"""The connector status machine of OCPP 1.6 §4.9, and the simulator's connector vocabulary.

`ConnectorStatus` and `ConnectorError` are the simulator's own StrEnums: the statuses of the
§4.9 table (the finest model either version has) and the error codes of 1.6 §7.6, each with
the word 1.6 puts in StatusNotification.req. The 1.6 module sends them as they are; a 2.0.1
module maps them to ConnectorStatusEnumType (Preparing..Finishing are Occupied) and to its
own error reporting. Nothing here imports a version's enumerations.

`TRANSITIONS` is the spec's table of allowed status changes (A2..I8, with erratum 3.20 adding
B6), kept in the core (`chargebench.ocppj.v16.connectors`) so the CSMS checks the statuses it is
sent against the same data; `Connector.transition()` enforces it. Each
accepted change returns a `StatusChange`, which the I/O layer sends as StatusNotification.req
(errata 3.19: a status change SHALL be notified). An illegal change raises `IllegalTransition`:
the simulator's own logic is wrong, not the peer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chargebench.ocppj.errors import LocalProtocolError
from chargebench.ocppj.v16.connectors import (
    CONNECTOR_ZERO_STATUSES,
    EV_COMMUNICATION_ERROR_STATUSES,
    TRANSITION_EVENTS,
    TRANSITIONS,
    transitions_for,
)

__all__ = [
    "CONNECTOR_ZERO_STATUSES",
    "EV_COMMUNICATION_ERROR_STATUSES",
    "TRANSITIONS",
    "TRANSITION_EVENTS",
    "Connector",
    "ConnectorError",
    "ConnectorStatus",
    "IllegalTransition",
    "StatusChange",
    "transitions_for",
]


class ConnectorStatus(StrEnum):
    """A connector's status: the rows and columns of 1.6 §4.9 (values: 1.6 §7.7)."""

    available = "Available"
    preparing = "Preparing"
    charging = "Charging"
    suspended_evse = "SuspendedEVSE"
    suspended_ev = "SuspendedEV"
    finishing = "Finishing"
    reserved = "Reserved"
    unavailable = "Unavailable"
    faulted = "Faulted"


class ConnectorError(StrEnum):
    """What is wrong with a connector, `no_error` when nothing is (values: 1.6 §7.6)."""

    connector_lock_failure = "ConnectorLockFailure"
    ev_communication_error = "EVCommunicationError"
    ground_failure = "GroundFailure"
    high_temperature = "HighTemperature"
    internal_error = "InternalError"
    local_list_conflict = "LocalListConflict"
    no_error = "NoError"
    other_error = "OtherError"
    over_current_failure = "OverCurrentFailure"
    over_voltage = "OverVoltage"
    power_meter_failure = "PowerMeterFailure"
    power_switch_failure = "PowerSwitchFailure"
    reader_failure = "ReaderFailure"
    reset_failure = "ResetFailure"
    under_voltage = "UnderVoltage"
    weak_signal = "WeakSignal"


class IllegalTransition(LocalProtocolError):
    """The simulator asked for a status change 1.6 §4.9 does not allow: a harness bug."""

    def __init__(self, connector_id: int, old: ConnectorStatus, new: Any, reason: str) -> None:
        super().__init__(f"connector {connector_id}: {old} -> {new}: {reason}")
        self.connector_id = connector_id
        self.old = old
        self.new = new


@dataclass(frozen=True)
class StatusChange:
    """One status change (or error report) to send as StatusNotification.req (1.6 §6.47)."""

    connector_id: int
    status: ConnectorStatus
    error_code: ConnectorError
    previous: ConnectorStatus
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
        status: ConnectorStatus = ConnectorStatus.available,
        error_code: ConnectorError = ConnectorError.no_error,
    ) -> None:
        """Start in `status`, e.g. Unavailable restored after a reboot (1.6 §4.9: persistent)."""
        if connector_id < 0:
            raise ValueError(f"connector id {connector_id} < 0")
        self.connector_id = connector_id
        self._table = transitions_for(connector_id)
        self._status = ConnectorStatus(status)
        self.error_code = ConnectorError(error_code)
        _check_fields(connector_id, self._status, self._status, self.error_code, None, None, None)
        self.info: str | None = None
        self.pre_fault_status: ConnectorStatus | None = None

    @property
    def status(self) -> ConnectorStatus:
        return self._status

    def allowed(self, new_status: ConnectorStatus) -> bool:
        """Whether 1.6 §4.9 allows moving from the current status to `new_status`."""
        return (self._status, ConnectorStatus(new_status)) in self._table

    def transition(
        self,
        new_status: ConnectorStatus,
        error_code: ConnectorError = ConnectorError.no_error,
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
        new = ConnectorStatus(new_status)
        code = ConnectorError(error_code)
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
        if new == ConnectorStatus.faulted and old != ConnectorStatus.faulted:
            self.pre_fault_status = old
        elif new != ConnectorStatus.faulted:
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
    old: ConnectorStatus,
    new: ConnectorStatus,
    code: ConnectorError,
    info: str | None,
    vendor_id: str | None,
    vendor_error_code: str | None,
) -> None:
    """Field rules of StatusNotification.req (1.6 §4.9, §6.47) checked before sending."""
    if connector_id == 0 and new not in CONNECTOR_ZERO_STATUSES:
        raise IllegalTransition(
            connector_id, old, new, "connector 0 is Available/Unavailable/Faulted"
        )
    if new == ConnectorStatus.faulted and code == ConnectorError.no_error:
        raise IllegalTransition(connector_id, old, new, "Faulted needs an error code, not NoError")
    if (
        code == ConnectorError.ev_communication_error
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
