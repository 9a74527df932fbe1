"""Connection, durability settings and query helpers shared by the SQLite store's parts."""

from __future__ import annotations

import copy
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from csms.store import migrations
from csms.store.errors import Conflict, NotFound, StoreError, StoreUnavailable
from csms.store.migrations.statements import split_statements
from csms.store.timestamps import to_iso

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def translate(exc: sqlite3.Error) -> StoreError:
    """The `csms.store.errors` class for a driver error: callers never see `sqlite3`."""
    if isinstance(exc, sqlite3.IntegrityError):
        if "FOREIGN KEY" in str(exc):
            return NotFound(f"referenced row does not exist ({exc})")
        return Conflict(str(exc))
    return StoreUnavailable(f"{type(exc).__name__}: {exc}")


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise any `sqlite3.Error` raised in the block as its `StoreError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc) from exc


class SqliteBase:
    """One connection, serialised by a lock, in autocommit mode with explicit write transactions.

    Thread-safe so callers may use `asyncio.to_thread`; one connection because SQLite allows one
    writer anyway, and it keeps "committed before return" simple to reason about.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        clock: Clock | None = None,
    ) -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, EXTRA or NORMAL, not {synchronous!r}")
        self.path = str(path)
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        self._depth = 0  # >0 inside a unit of work or a group: nested writes become savepoints
        #: False on the store itself; a `unit_of_work()` view is True while its block runs
        self._in_unit = False
        #: True on a `unit_of_work()` view once its block has ended
        self._dead = False
        try:
            # isolation_level=None: no implicit BEGIN; `_write()` opens and commits explicitly.
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        try:
            with translated():
                self._configure(synchronous.upper())
                self._create_schema()
        except BaseException:
            self._conn.close()
            raise

    def _configure(self, synchronous: str) -> None:
        # WAL: readers never block the writer, and a commit is one append to the WAL file.
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal" and self.path != ":memory:":
            raise StoreUnavailable(f"cannot enable WAL on {self.path} (got {mode})")
        # synchronous=FULL: every COMMIT fsyncs the WAL before returning, so an acknowledged
        # write survives SIGKILL *and* power loss. NORMAL-with-WAL survives SIGKILL too (the WAL
        # is written before COMMIT returns) but may lose the last commits on power loss: only
        # for load tests that opt in explicitly.
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")

    # Lifecycle ------------------------------------------------------------------------------

    def _create_schema(self) -> None:
        """Apply the pending `csms.store.migrations` in one transaction (refuse a newer file)."""
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            steps = migrations.plan(current, where=self.path)
            for step in steps:
                for statement in split_statements(step.sqlite):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version(version) VALUES (?)", (step.version,))
            columns = {r[1] for r in conn.execute("PRAGMA table_info(chargers)").fetchall()}
            if "online_session" not in columns:  # added without a version bump: additive only
                conn.execute("ALTER TABLE chargers ADD COLUMN online_session TEXT")

    def close(self) -> None:
        """Close the connection; committed data is already on disk."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Helpers ---------------------------------------------------------------------------------

    def _now(self) -> str:
        return to_iso(self._clock())  # type: ignore[return-value]

    @contextmanager
    def unit_of_work(self) -> Iterator[Self]:
        """One all-or-nothing transaction, committed (one fsync) when the block exits:

            with store.unit_of_work() as uow:
                uow.wallet_debit_for_transaction(...)
                uow.set_transaction_billing(...)

        Call the writes on `uow`, the object yielded: it is the store's interface bound to this
        transaction, each write in a savepoint of its own (a write that raises leaves nothing of
        itself and the others stand unless the exception leaves the block). A write on the store
        itself from inside the block raises `StoreError` instead of joining the transaction
        silently; other threads wait for the block. Nothing is durable until the block exits,
        so never acknowledge a charge point from inside it. `uow` is dead after the block.
        """
        with self._lock:
            if self._depth or self._conn.in_transaction:
                raise StoreError("a unit of work or group is already open on this store")
            uow = copy.copy(self)
            with translated():
                self._conn.execute("BEGIN IMMEDIATE")
            uow._depth, uow._in_unit = 1, True
            try:
                yield uow
            except BaseException:
                with translated():
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._commit()
            finally:
                uow._depth, uow._in_unit = 0, False
                uow._dead = True

    def _commit(self) -> None:
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:  # a failed COMMIT may leave it open: undo it all
                self._conn.execute("ROLLBACK")
            raise translate(exc) from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint of this unit of work (`Store.savepoint`): an exception leaving the block
        undoes its writes alone, and the unit of work goes on (group commit: one per call)."""
        if not self._in_unit:
            raise StoreError("a savepoint belongs to a unit of work: open one with unit_of_work()")
        with self._write():
            yield

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed (durably) on exit, rolled back on any exception.

        Inside a unit of work or a group it is a savepoint instead, so a failed write leaves no
        half of itself. Driver errors leave as `csms.store.errors` classes.
        """
        with self._lock:
            if self._dead:
                raise StoreError("this unit of work has ended: use the store")
            nested = self._depth > 0
            if not nested and self._conn.in_transaction:
                raise StoreError(
                    "write on the store inside its unit of work: call it on the unit of work"
                )
            # IMMEDIATE takes the write lock now, so a read-then-write cannot be overtaken.
            with translated():
                self._conn.execute("SAVEPOINT w" if nested else "BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException as exc:
                with translated():
                    self._conn.execute("ROLLBACK TO w" if nested else "ROLLBACK")
                    if nested:
                        self._conn.execute("RELEASE w")
                if isinstance(exc, sqlite3.Error):
                    raise translate(exc) from exc
                raise
            else:
                if nested:
                    with translated():
                        self._conn.execute("RELEASE w")
                else:
                    self._commit()
            finally:
                self._depth -= 1

    # Rows are dicts shaped like the TypedDicts of base.py; typed Any so callers need no casts.
    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock, translated():
            return [dict(row) for row in self._conn.execute(sql, params).fetchall()]

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock, translated():
            row = self._conn.execute(sql, params).fetchone()
        return None if row is None else dict(row)

    @staticmethod
    def _require(cursor: sqlite3.Cursor, what: str) -> None:
        if cursor.rowcount == 0:
            raise NotFound(what)

    def _set_status(self, table: str, row_id: int, status: str, what: str) -> None:
        """`status` and `updated_at` of one row of `table` (a trusted name); NotFoundError when
        there is no such row."""
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE {table} SET status = ?, updated_at = ? WHERE id = ?",
                (status, self._now(), row_id),
            )
            self._require(cursor, what)


def where(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """`WHERE a = ? AND b = ?` for the filters that are not None (keys are trusted SQL)."""
    clauses = [
        f"{column} ?" if column.endswith(("=", "<", ">")) else f"{column} = ?"
        for column, value in filters.items()
        if value is not None
    ]
    params = [value for value in filters.values() if value is not None]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def page(limit: int | None, offset: int) -> str:
    """LIMIT/OFFSET clause from trusted ints."""
    if limit is None:
        return f" LIMIT -1 OFFSET {int(offset)}" if offset else ""
    return f" LIMIT {int(limit)} OFFSET {int(offset)}"
