"""CSMS persistence: the `Store` interface, `open_store(url)` and the errors every backend raises.

Callers use only these names: the backend (SQLite today, `csms.store.sqlite`; PostgreSQL next)
is chosen by the URL and stays behind the interface.
"""

from csms.store.base import Store
from csms.store.errors import (
    Conflict,
    InsufficientFundsError,
    InvalidStoreUrl,
    NotFound,
    NotFoundError,
    ReservationIdTaken,
    SchemaVersionError,
    StoreError,
    StoreUnavailable,
    UnsupportedStore,
    WriteConflict,
)
from csms.store.opening import open_store

__all__ = [
    "Conflict",
    "InsufficientFundsError",
    "InvalidStoreUrl",
    "NotFound",
    "NotFoundError",
    "ReservationIdTaken",
    "SchemaVersionError",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "UnsupportedStore",
    "WriteConflict",
    "open_store",
]
