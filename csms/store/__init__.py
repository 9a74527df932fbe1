"""CSMS persistence: the `Store` interface and its implementations (SQLite by default)."""

from csms.store.base import NotFoundError, SchemaVersionError, Store, StoreError
from csms.store.sqlite import SqliteStore

__all__ = ["NotFoundError", "SchemaVersionError", "SqliteStore", "Store", "StoreError"]
