"""The CSMS's domain states, one StrEnum each: what a stored status may be.

The store converts at its boundary: rows come out with these members (a StrEnum is a `str`, so
`tx["status"] == "Completed"`, JSON and the HTTP API see the same text as before), and the
values go into the database as their text. A value outside its enum in a database is a bug or a
foreign writer: reading it raises ValueError rather than passing it on.

OCPP's own enumerations (what goes on the wire) stay with the `ocpp` package's schemas; the ones
here are the states the CSMS keeps, several of which extend an OCPP enumeration.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class RegistrationStatus(StrEnum):
    """A charger's registration (1.6 §7.46 RegistrationStatus, answered in BootNotification)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class IdTagStatus(StrEnum):
    """An id tag's status (1.6 §7.2 AuthorizationStatus); ConcurrentTx only on a transaction,
    as the status its StartTransaction was answered. A 2.0.1 transaction keeps the status its
    token was answered, in 2.0.1's words (AuthorizationStatusEnumType adds Unknown, NoCredit
    and the NotAllowed/NotAt ones); an id tag itself is one of the first four."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"
    UNKNOWN = "Unknown"
    NO_CREDIT = "NoCredit"
    NOT_ALLOWED_TYPE_EVSE = "NotAllowedTypeEVSE"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"
    NOT_AT_THIS_TIME = "NotAtThisTime"


class TransactionStatus(StrEnum):
    """A transaction's life (seeds/001 §4.1, §5.4): running, stopped, then billed or not."""

    RUNNING = "Running"
    #: started with an id tag that was not Accepted (1.6 §4.8: the transaction exists anyway)
    NOT_AUTHORIZED = "NotAuthorized"
    #: the stop is committed, billing not decided yet
    STOPPED = "Stopped"
    COMPLETED = "Completed"
    BILLING_FAILED = "BillingFailed"
    BILLING_REVIEW = "BillingReview"


class BillingRetryState(StrEnum):
    """An entry of the billing retry queue (seeds/001 §5.4)."""

    PENDING = "Pending"
    DONE = "Done"
    REVIEW = "Review"


class RemoteStartStatus(StrEnum):
    """A pending transaction record of a remote start (seeds/001 §4.3 step 5d)."""

    PENDING = "Pending"
    STARTED = "Started"
    REJECTED = "Rejected"
    FAILED = "Failed"
    EXPIRED = "Expired"


class ReservationStatus(StrEnum):
    """A reservation: Requested until the charger answers ReserveNow.conf (1.6 §7.42
    ReservationStatus: Accepted, Faulted, Occupied, Rejected, Unavailable), then Cancelled,
    Used by a transaction or Expired."""

    REQUESTED = "Requested"
    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"
    CANCELLED = "Cancelled"
    USED = "Used"
    EXPIRED = "Expired"


class Role(StrEnum):
    """An API user's role (seeds/001 §7.2)."""

    ADMIN = "ADMIN"
    USER = "USER"


class WalletEntryType(StrEnum):
    """A wallet ledger row (seeds/001 §7.3)."""

    TOP_UP = "TOP_UP"
    CHARGE_DEDUCT = "CHARGE_DEDUCT"


def optional(enum: type[E], value: str | None) -> E | None:
    """`enum(value)`, None kept (nullable columns)."""
    return None if value is None else enum(value)
