"""`open_store(url)`: the one place a store backend is chosen and built.

    store = open_store("csms.db")                   # a plain path: SQLite
    store = open_store("sqlite:///csms.db")         # the same (SQLAlchemy's spelling:
    store = open_store("sqlite:////var/lib/cb.db")  #  three slashes, then the path)
    store = open_store("postgresql://u:pw@host/db") # PostgreSQL (csms.store.postgres)

Callers get the `Store` interface and the `csms.store.errors` tree, never a backend class.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from csms.store.base import Store
from csms.store.errors import UnsupportedStore

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES = frozenset({"postgresql", "postgres", "postgresql+psycopg", "postgresql+asyncpg"})


def sqlite_path(url: str | Path) -> str | None:
    """The SQLite file of `url` (a plain path or `sqlite:///PATH`); None for another scheme."""
    text = str(url)
    match = _SCHEME.match(text)
    if match is None:
        return text
    if match.group(1).lower() != "sqlite":
        return None
    rest = text[match.end():]
    if rest in ("", "/"):
        return ":memory:"
    if not rest.startswith("/"):
        raise UnsupportedStore("a sqlite URL has no host: write sqlite:///PATH")
    return rest[1:]


def store_file(url: str | Path) -> str | None:
    """The SQLite file `url` names (None for a server URL a backend here serves); raises
    `UnsupportedStore` for a URL no backend serves and `InvalidStoreUrl` for a PostgreSQL URL
    libpq cannot parse, without repeating it (it may hold a password). Lets a command line
    check `--db` before it starts anything."""
    path = sqlite_path(url)
    if path is None:
        scheme = _SCHEME.match(str(url)).group(1).lower()  # type: ignore[union-attr]
        if scheme in _POSTGRES:
            from csms.store.postgres import check_url

            check_url(_libpq_url(str(url)))
            return None
        raise UnsupportedStore(f"no store backend for {scheme}:// URLs (use a SQLite path)")
    return path


def _libpq_url(url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://` spelling as libpq reads it."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)


def open_store(
    url: str | Path,
    *,
    synchronous: str = "FULL",
    clock: Callable[[], datetime] | None = None,
) -> Store:
    """Open (and create or migrate) the store named by `url`.

    `synchronous` is SQLite's durability setting (FULL: an acknowledged write survives power
    loss; NORMAL only for load tests); `clock` stamps the rows' created/updated times.
    Raises `UnsupportedStore` for a URL no backend here serves (the message never repeats the
    URL: it may hold a password), `StoreUnavailable` when the database cannot be opened and
    `SchemaVersionError` when it is newer than this code.
    """
    path = store_file(url)
    if path is None:  # a PostgreSQL URL (store_file raised for any other server URL)
        from csms.store.postgres import PostgresStore

        return PostgresStore(_libpq_url(str(url)), synchronous=synchronous, clock=clock)
    from csms.store.sqlite import SqliteStore

    return SqliteStore(path, synchronous=synchronous, clock=clock)


__all__ = ["open_store", "sqlite_path", "store_file"]
