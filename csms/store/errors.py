"""The errors every store raises, whatever its backend.

A backend translates its driver's exceptions into these (the SQLite backend in
`csms.store._sqlite_base`, PostgreSQL next), so services, the HTTP API and the handlers catch
`Conflict` or `StoreUnavailable`, never `sqlite3.IntegrityError` or a psycopg error:

    StoreError
    ├── NotFound            a write named a row that does not exist
    ├── Conflict            a uniqueness or integrity rule refused the write
    │   └── ReservationIdTaken
    ├── InsufficientFundsError
    ├── SchemaVersionError  the database is newer than this code
    ├── StoreUnavailable    the backend cannot work now (disk full, I/O error, server down)
    │   └── WriteConflict   a concurrent transaction got in the way: run the call again
    ├── UnsupportedStore    `open_store` was given a URL no backend here serves
    └── InvalidStoreUrl     a URL of a backend here, but malformed (libpq cannot parse it)

Nothing was written when one of these is raised by a write method (each write is atomic).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of the errors a store raises on purpose."""


class NotFound(StoreError, LookupError):
    """A write named a row that does not exist (unknown charger, transaction, deployment...)."""


#: the name the code used before the tree had `NotFound`; the same class
NotFoundError = NotFound


class Conflict(StoreError):
    """The write would break a uniqueness or integrity rule (a duplicate email, RFID id, user
    id...); nothing was written."""


class ReservationIdTaken(Conflict):
    """A reservationId given for a new reservation belongs to another charger's reservation."""

    def __init__(self, reservation_id: int) -> None:
        super().__init__(f"reservationId {reservation_id} belongs to another charger")
        self.reservation_id = reservation_id


class InsufficientFundsError(StoreError):
    """A wallet deduction was refused: the balance does not cover it (nothing was written)."""


class SchemaVersionError(StoreError):
    """The database was written by a newer ChargeBench; refuse rather than corrupt it."""


class StoreUnavailable(StoreError):
    """The backend could not do the work now (disk full, I/O error, lock timeout, server gone);
    nothing of the failed call is durable, and retrying later may succeed."""


class WriteConflict(StoreUnavailable):
    """A concurrent transaction got in the way (PostgreSQL broke a deadlock, or refused a
    serialization); nothing of the call was written and running it again is right (group
    commit does, `csms.groupcommit`)."""


class UnsupportedStore(StoreError, ValueError):
    """`open_store` was given a URL whose backend this installation does not have."""


class InvalidStoreUrl(StoreError, ValueError):
    """A PostgreSQL URL that libpq cannot parse; the message never repeats its password."""


__all__ = [
    "Conflict",
    "InsufficientFundsError",
    "InvalidStoreUrl",
    "NotFound",
    "NotFoundError",
    "ReservationIdTaken",
    "SchemaVersionError",
    "StoreError",
    "StoreUnavailable",
    "UnsupportedStore",
    "WriteConflict",
]
