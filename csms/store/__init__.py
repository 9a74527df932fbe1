"""CSMS persistence: the `Store` interface and its implementations (SQLite by default)."""

from csms.store.base import (
    InsufficientFundsError,
    NotFoundError,
    SchemaVersionError,
    Store,
    StoreError,
)
from csms.store.sqlite import SqliteStore

__all__ = [
    "InsufficientFundsError",
    "NotFoundError",
    "SchemaVersionError",
    "SqliteStore",
    "Store",
    "StoreError",
]
