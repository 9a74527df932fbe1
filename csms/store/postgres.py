"""The PostgreSQL store: `open_store("postgresql://USER@HOST:PORT/DB")` (issue 17).

Driver: psycopg 3. `python -m tests.bench_pg_driver` measures it against asyncpg on the store's
hot path (a message-log batch of 20 rows, StartTransaction's check-and-insert, a heartbeat
update), 8 connections, one server, in one run. On this project's shared 2-core machine, ratios
asyncpg/psycopg (log, start, heartbeat) over four runs: 0.88/0.55/1.14 and 1.22/1.18/0.58 at 1000
ops, 0.89/0.44/0.37 and 0.98/0.48/0.39 at 2000 ops. The machine is noisy, but asyncpg is not
faster for this workload as psycopg runs it, so speed does not decide. What decides: the `Store`
interface is synchronous (the CSMS calls it from worker threads, `asyncio.to_thread`, as it does
SQLite's), and psycopg serves that without a second event loop, while asyncpg is asyncio-only;
psycopg also speaks libpq's URLs and error classes (SQLSTATE) and has pipeline mode, which group
commit uses.

Shape: the SQL of the SQLite backend's aggregate mixins is written in the portable subset this
project keeps (TEXT times and Decimal-text money, `ON CONFLICT ... DO UPDATE`, no SQLite
functions), so this backend reuses those mixins and puts a PostgreSQL connection under them
(`_PgConnection`): `?` placeholders become `%s`, `LIMIT -1` becomes `LIMIT ALL`, `COLLATE NOCASE`
becomes `lower()`, an INSERT into a table with a generated id returns it (`lastrowid`), and driver
errors leave as `csms.store.errors` classes. One SQL text per query, two dialects.

Concurrency: SQLite has one writer (`BEGIN IMMEDIATE`); PostgreSQL has many connections and
processes. A write method that reads then writes (the ConcurrentTx check and the insert of a
transaction, a wallet's balance and its ledger row, billing a stopped transaction once, linking
a remote start, id allocation) first takes one transaction-scoped advisory lock
(`pg_advisory_xact_lock(WRITE_LOCK)`), so those steps stay atomic across every connection and
process, exactly as on SQLite. The writes of `LOCK_FREE` (a charger's own rows by key, in
single statements: boot, status, heartbeat, online flag, meter values, ...) take no lock: row
locks, upserts and unique keys are all they need, so a boot storm's writes run side by side.
Reads take no lock. Group commit runs `CONCURRENT_UNITS` groups at once, each on a `lane()`
(a connection of its own); a deadlock between two groups (two calls of one charger in two
groups) is broken by the server and the victim call runs again (`WriteConflict`).

Round trips: a group commit is tried first without savepoints (`unit_of_work_without_savepoints`:
one failure anywhere rolls it all back and the group runs again with them); with savepoints,
each call and each write method inside it has one, sent lazily in the round trip of the next
statement (`_PgConnection._savepoint_step`, libpq's pipeline mode). BEGIN and the write lock
ride with the transaction's first statement; reads before it run before it (a unit of reads
alone has no BEGIN or COMMIT: `_reads_early`); writes whose results nobody reads (`DEFERRED`:
StatusNotification, MeterValues) ride with the next statement or the COMMIT; and the boot's
writes are one statement each (`PostgresStore.connect_charger`, `record_boot`, ...). One
charger's boot (admission, connection, BootNotification, three StatusNotifications) costs 3
round trips and its share of its group's COMMIT (15, then 10, before).
`python -m loadtest.bench_store_boot` counts them; `python -m loadtest.bench_fleet --db`
measures the CSMS on both stores side by side. The message log (an append-only audit trail) is
written on a connection of its own (`PostgresStore.append_log`).

Outage: the server going away fails the calls with `StoreUnavailable` (nothing half-done),
is logged once, and the store reconnects by itself when it is back (`_PgConnection`); what the
CSMS does meanwhile is `csms.outage`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from csms.store import migrations
from csms.store._sqlite_assets import _CHARGER_COLUMNS, AssetsMixin, _charger
from csms.store._sqlite_base import SqliteBase
from csms.store._sqlite_billing import BillingMixin
from csms.store._sqlite_counts import CountsMixin
from csms.store._sqlite_ops import OpsMixin
from csms.store._sqlite_sessions import SessionsMixin
from csms.store._sqlite_station_reports import StationReportsMixin
from csms.store._sqlite_stations import StationsMixin
from csms.store.errors import (
    Conflict,
    InvalidStoreUrl,
    NotFound,
    StoreError,
    StoreUnavailable,
    WriteConflict,
)
from csms.store.migrations.statements import split_statements
from csms.store.schema import SCHEMA
from csms.store.timestamps import TimeLike, to_iso

if TYPE_CHECKING:
    from csms.store.base import Charger

log = logging.getLogger(__name__)

#: seconds a connection attempt may take (libpq's connect_timeout)
CONNECT_TIMEOUT = 10

#: the advisory lock a serialising write holds until its transaction ends (`SERIALISED_FREE`)
WRITE_LOCK = 0x43484247  # "CHBG"
#: how many units of work (group-commit groups) may run at once, each on its own connection
#: (`PostgresStore.lane`); SQLite has one writer, so its stores offer none
CONCURRENT_UNITS = 4

#: The write methods whose statements are safe without `WRITE_LOCK`: each touches the rows of
#: one charger by key with single statements (an UPDATE by id, an upsert, an INSERT of a new
#: row), reads back nothing another write could change between its statements, and none of
#: them calls a method outside this set. Every other write method (the ConcurrentTx check and
#: the insert of a transaction, wallet debits, billing a stopped transaction once, remote-start
#: linking, id allocation, ...) takes the lock first, so those read-then-write steps stay as
#: atomic as under SQLite's one writer, and nothing new is lock-free unless listed here.
LOCK_FREE = frozenset({
    "upsert_charger", "record_boot", "set_online", "note_connected_profile", "record_heartbeat",
    "connect_charger",
    "set_registration_status", "upsert_connector", "record_status", "record_evse_status",
    "add_meter_values", "add_security_event", "append_log",
})

#: The write methods whose statements may wait for the next round trip of their unit of work
#: (its next statement or its COMMIT, in one pipeline) when the unit runs without savepoints
#: (`PostgresBase.unit_of_work_without_savepoints`, a group commit's first try): they read no
#: result of their statements (no rowcount, no RETURNING) and return nothing that depends on the
#: database. A failure of one surfaces at a later statement or at the COMMIT; without savepoints
#: that fails the whole group, which `csms.groupcommit.run_group` runs again with savepoints,
#: where nothing is deferred, so each call gets its own outcome. A boot's three
#: StatusNotifications and every MeterValues cost no round trip of their own.
DEFERRED = frozenset({"record_status", "add_meter_values"})

#: the SQLite base's nested-write statements (`_PgConnection._savepoint_step`)
_SAVEPOINT_STEPS = frozenset({"SAVEPOINT w", "RELEASE w", "ROLLBACK TO w"})

#: tables whose `id` is generated: an INSERT into one returns it as `lastrowid`
_GENERATED_ID = frozenset(
    re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \(\s*id\s+INTEGER PRIMARY KEY", SCHEMA)
)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_COLUMN_LIST = re.compile(r"^\s*INSERT\s+INTO\s+\w+\s*\(([^)]*)\)", re.IGNORECASE)
_NOCASE = re.compile(r"(\w+) = \? COLLATE NOCASE")
_SCALAR_MAX = re.compile(r"\bmax\(([^(),]+),([^(),]+)\)", re.IGNORECASE)
_SCALAR_MIN = re.compile(r"\bmin\(([^(),]+),([^(),]+)\)", re.IGNORECASE)
_UPSERT = re.compile(r"ON CONFLICT\s*\([^)]*\)\s*DO UPDATE SET", re.IGNORECASE)
_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", re.DOTALL)
#: table -> its column names (to qualify them in an upsert's SET, which PostgreSQL requires)
_COLUMNS = {
    name: set(re.findall(r"^\s*(\w+)\s+[A-Z]", body, re.MULTILINE))
    for name, body in _TABLE.findall(SCHEMA)
}


def _columns_of(insert: str) -> set[str]:
    match = _COLUMN_LIST.match(insert)
    return {c.strip() for c in match.group(1).split(",")} if match else set()


def redact(url: str) -> str:
    """`url` without its password, for messages (the URL may hold one)."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _password(url: str) -> str | None:
    match = re.search(r"://[^:/@]*:([^@]*)@", url)
    return match.group(1) if match and match.group(1) else None


def scrub(text: str, url: str) -> str:
    """`text` (a libpq message) without `url`'s password: libpq quotes the URL or the bad part
    of it ("invalid percent-encoded token: "p%zz"") in its parse errors."""
    text = text.replace(url, redact(url))
    password = _password(url)
    return text.replace(password, "***") if password else text


def target(url: str) -> str:
    """`host:port/db` of `url` for log lines (never user or password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:
        return "(unparsable URL)"
    host = info.get("host") or "local socket"
    port = f":{info['port']}" if info.get("port") else ""
    return f"{host}{port}/{info.get('dbname') or info.get('user') or ''}"


def check_url(url: str) -> None:
    """`InvalidStoreUrl` unless libpq can parse `url` (its message never repeats the password):
    a command line checks `--db` before it starts anything."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise InvalidStoreUrl(f"not a PostgreSQL URL: {scrub(_first_line(exc), url)}") from None


def _qualify_upsert(sql: str) -> str:
    """In `ON CONFLICT (...) DO UPDATE SET a = coalesce(excluded.a, a)` SQLite reads the bare `a`
    as the existing row; PostgreSQL calls it ambiguous: write it `table.a` (targets stay bare)."""
    insert, upsert = _INSERT.match(sql), _UPSERT.search(sql)
    if insert is None or upsert is None:
        return sql
    table = insert.group(1)
    columns = _COLUMNS.get(table, set())

    def qualify(match: re.Match[str]) -> str:
        word, before, after = match.group(0), sql_tail[: match.start()], sql_tail[match.end():]
        if word not in columns or before.endswith("."):
            return word
        is_target = re.search(r"(^|SET|,)\s*$", before) and re.match(r"\s*=(?!=)", after)
        return word if is_target else f"{table}.{word}"

    sql_tail = sql[upsert.end():]
    return sql[: upsert.end()] + re.sub(r"\b\w+\b", qualify, sql_tail)


@functools.lru_cache(maxsize=1024)
def translate_sql(sql: str) -> str:
    """The PostgreSQL spelling of one statement of the mixins' SQL (the texts are the mixins'
    constants, a few hundred: each is translated once)."""
    sql = _qualify_upsert(sql)
    sql = _NOCASE.sub(r"lower(\1) = lower(?)", sql)
    # SQLite's scalar max(a, b) / min(a, b); one argument is the aggregate, the same in both
    sql = _SCALAR_MAX.sub(r"greatest(\1,\2)", sql)
    sql = _SCALAR_MIN.sub(r"least(\1,\2)", sql)
    sql = sql.replace("LIMIT -1", "LIMIT ALL").replace(" LIKE ", " ILIKE ")
    return sql.replace("%", "%%").replace("?", "%s")


def translate(exc: Exception) -> StoreError:
    """The `csms.store.errors` class for a psycopg error (by SQLSTATE class)."""
    import psycopg

    state = getattr(exc, "sqlstate", None) or ""
    if state in ("40P01", "40001"):  # deadlock_detected, serialization_failure
        return WriteConflict(f"PostgreSQL: {str(exc).strip()}")
    if state == "23503":  # foreign_key_violation
        return NotFound(f"referenced row does not exist ({exc})")
    if state.startswith("23"):  # integrity constraint violation
        return Conflict(str(exc).strip())
    if isinstance(exc, psycopg.OperationalError) or state.startswith(("08", "57", "53")):
        return StoreUnavailable(f"PostgreSQL: {str(exc).strip()}")
    return StoreError(f"PostgreSQL: {type(exc).__name__}: {str(exc).strip()}")


class _Row(dict[str, Any]):
    """A row readable by name and by position, like `sqlite3.Row`."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


def _value(value: Any) -> Any:
    # sum()/avg() of integers are numeric in PostgreSQL, integers in SQLite
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _param(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value  # booleans are 0/1 columns


class _Deferred(NamedTuple):
    """A write whose result nobody reads, sent in the pipeline of the next round trip
    (`DEFERRED`); `many`: `params` are the rows of an executemany."""

    sql: str
    params: Any
    many: bool = False


class _PgCursor:
    def __init__(self, rows: list[_Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows, self.rowcount, self.lastrowid = rows, rowcount, lastrowid

    def fetchone(self) -> _Row | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[_Row]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[_Row]:
        return iter(self.fetchall())


class _Health:
    """Whether the server is there, shared by the connections of one store (its lanes), so
    the server going away and coming back is said once in the log, not once per connection."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        #: monotonic time the server went away (None: it is there)
        self.lost_since: float | None = None

    def lost(self, why: str) -> None:
        with self._lock:
            if self.lost_since is not None:
                return
            self.lost_since = time.monotonic()
        log.error("PostgreSQL %s unavailable (%s): store calls fail until it is back; "
                  "reconnecting", self.target, why)  # fmt: skip

    def back(self) -> None:
        with self._lock:
            since, self.lost_since = self.lost_since, None
        if since is not None:
            log.warning("PostgreSQL %s is back after %.1f s: reconnected", self.target,
                        time.monotonic() - since)  # fmt: skip


class _NotConnected:
    """A `lazy` `_PgConnection`'s connection before its first statement."""

    closed = True

    def close(self) -> None:
        pass


_NOT_YET: Any = _NotConnected()


class _PgConnection:
    """The part of `sqlite3.Connection` the SQLite base and mixins use, on a psycopg connection.

    The server going away (stopped, restarted, network cut) fails the call in progress with
    `StoreUnavailable` (its transaction is gone, nothing of it committed) and is said once in the
    log; later calls reconnect and the first that succeeds says once that the server is back.
    A failed attempt that took t seconds (a host that drops packets: the connect timeout) is
    not repeated for t seconds, the calls in between failing at once, so a slow failure never
    holds every call; a refused connection (a stopped server) is retried at the next call.
    A transaction cut by the loss fails to its end (every statement, and its COMMIT), never
    going on in autocommit on a new connection. Committed data is the server's: nothing is lost.

    Round trips: BEGIN is sent with the transaction's first statement, a transaction that ran
    none costs none, and `WRITE_LOCK` (`lock_writes`) rides with the next statement too."""

    def __init__(self, url: str, *, health: _Health | None = None, lazy: bool = False) -> None:
        """`health`: shared with the store's other connections, which log the server going
        away and coming back; None: this connection says nothing of it (the message log's).
        `lazy`: connect at the first statement (in the thread that uses it), not now."""
        import psycopg

        self._psycopg = psycopg
        self._url = url
        self._health = health
        #: monotonic time this connection found the server gone, why, and the next attempt
        self._lost_since: float | None = None
        self._why = ""
        self._retry_at = 0.0
        #: savepoints not sent yet and statements queued for the next round trip
        #: (`_savepoint_step`; a `_Deferred` write, `DEFERRED`)
        self._levels: list[bool] = []
        self._queued: list[str | _Deferred] = []
        #: a write transaction: "" none, "pending" (its BEGIN not sent yet), "open"
        self._tx = ""
        self._want_lock = False
        #: how deep in `PostgresBase._write` blocks the running statements are (`_reads_early`)
        self.writing = 0
        #: False: savepoints are not made (`PostgresBase.unit_of_work_without_savepoints`), and
        #: a failure inside the transaction spoils it (`_spoiled`: its COMMIT rolls back, raises)
        self.savepoints = True
        self._spoiled = False
        self._conn = _NOT_YET if lazy else self._connect()

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(self._url, autocommit=True,
                                         connect_timeout=CONNECT_TIMEOUT)  # fmt: skip
        except self._psycopg.Error as exc:
            why = scrub(_first_line(exc), self._url)
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {why}") from None

    def _went_away(self, why: str, pause: float = 0.0) -> None:
        self._retry_at = time.monotonic() + pause
        self._why = why
        if self._lost_since is None:
            self._lost_since = time.monotonic()
        if self._health is not None:
            self._health.lost(why)

    def _reconnect_if_lost(self) -> None:
        """A server that went away and came back: a new connection, but only between
        transactions (a transaction cut by the loss is gone: its caller got StoreUnavailable and
        nothing of it was committed). Raises StoreUnavailable while the server is still down."""
        if not self._conn.closed:
            return
        if self._tx == "open":  # the loss took this transaction: it fails to its end
            raise StoreUnavailable(f"PostgreSQL connection lost mid-transaction ({self._why})")
        if self._lost_since is not None and time.monotonic() < self._retry_at:
            raise StoreUnavailable(self._why)
        began = time.monotonic()
        try:
            self._conn = self._connect()
        except StoreUnavailable as exc:
            self._went_away(str(exc), pause=time.monotonic() - began)
            raise
        self._lost_since = None
        if self._health is not None:
            self._health.back()

    @property
    def in_transaction(self) -> bool:
        if self._tx:
            return True
        if self._conn.closed:
            return False
        return self._conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE

    def lock_writes(self) -> None:
        """Take `WRITE_LOCK` for the rest of this transaction, in the round trip of the next
        statement (re-entrant: taking it twice is harmless, and a rolled-back savepoint may
        have released an earlier one)."""
        if self._tx:
            self._want_lock = True

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _PgCursor:
        if sql in _SAVEPOINT_STEPS:
            return self._savepoint_step(sql)
        if sql == "BEGIN IMMEDIATE":  # the SQLite base's write transaction
            # sent with the first statement (`_take_queued`)
            self._levels, self._queued, self._tx, self._want_lock = [], ["BEGIN"], "pending", False
            self._spoiled = False
            return _PgCursor([], 0, None)
        if sql in ("ROLLBACK", "COMMIT"):
            queued, state, spoiled = self._queued, self._tx, self._spoiled
            self._levels, self._queued, self._tx, self._want_lock = [], [], "", False
            self._spoiled = False
            deferred = any(isinstance(q, _Deferred) for q in queued)
            if state == "pending" and not (deferred and sql == "COMMIT"):
                return _PgCursor([], 0, None)  # nothing was sent: nothing to end
            if spoiled and sql == "COMMIT":
                if not self._conn.closed:
                    self._run("ROLLBACK", None)
                raise StoreError("a step of this unit of work failed (no savepoints): rolled "
                                 "back, nothing of it was written")
            if self._conn.closed:
                if sql == "ROLLBACK":
                    return _PgCursor([], 0, None)  # the lost connection took its transaction
                raise StoreUnavailable(f"PostgreSQL connection lost before COMMIT ({self._why})")
            if sql == "ROLLBACK":  # what was queued is undone with the rest
                return self._run(sql, None)
            if all(isinstance(q, str) for q in queued):
                # a COMMIT carries the releases still queued in its round trip
                return self._run("; ".join([*queued, sql]), None)  # type: ignore[list-item]
            # ... and the deferred writes, in its pipeline (an error there: `_commit` rolls
            # back), with the BEGIN too when they were all the transaction had
            self._queued = queued
            try:
                return self._run(sql, None, queued=True)
            finally:
                self._tx = ""
        if sql.startswith("PRAGMA"):
            raise StoreError(f"{sql.split()[1]} is SQLite-only")
        if self._reads_early(sql):
            return self._run(translate_sql(sql), tuple(_param(p) for p in params))
        if self._defers():
            self._queue_lock()
            self._queued.append(_Deferred(translate_sql(sql), tuple(_param(p) for p in params)))
            return _PgCursor([], -1, None)
        returning = False
        match = _INSERT.match(sql)
        if match and match.group(1) in _GENERATED_ID and "RETURNING" not in sql.upper():
            sql, returning = f"{sql} RETURNING id", True
        cursor = self._run(translate_sql(sql), tuple(_param(p) for p in params), queued=True)
        if returning:
            row = cursor.fetchone()
            cursor.lastrowid = None if row is None else int(row["id"])
            if match is not None and "id" in _columns_of(sql):
                # an id given by the caller (a charger's reservationId): like SQLite's
                # AUTOINCREMENT, later generated ids go above it and never collide with it
                table = match.group(1)
                self._run(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))", (),
                )
        return cursor

    def _savepoint_step(self, sql: str) -> _PgCursor:
        """SAVEPOINT, RELEASE and ROLLBACK TO of the SQLite base's nested writes, sent only
        when a statement needs them, several in one round trip.

        A group commit of 50 boots made 25 round trips per boot, 16 of them these (each call in
        a savepoint of the group, each write method in one of its own). Here a savepoint is
        established when the first statement inside it runs (nothing ran between, so it is the
        same savepoint), one in which nothing ran is neither established nor released, and the
        releases and rollbacks of established ones wait for the next statement or the COMMIT,
        in order. `self._levels`: the open savepoints, innermost last, True once established.
        Without `savepoints` they are not made, and a rollback to one spoils the transaction."""
        if not self.savepoints:
            self._spoiled = self._spoiled or sql == "ROLLBACK TO w"
            return _PgCursor([], 0, None)
        if sql == "SAVEPOINT w":
            self._levels.append(False)
        elif sql == "ROLLBACK TO w":
            if self._levels and self._levels[-1] and not self._conn.closed:
                self._queued.append("ROLLBACK TO SAVEPOINT w")
        elif self._levels and self._levels.pop() and not self._conn.closed:  # RELEASE w
            self._queued.append("RELEASE SAVEPOINT w")
        return _PgCursor([], 0, None)

    def _reads_early(self, sql: str) -> bool:
        """Whether `sql` is a read that runs before its unit of work's BEGIN: nothing of the
        transaction was sent yet (only its BEGIN is queued), and it is a plain read, not a
        statement of a write method (`writing`: a SELECT ... FOR UPDATE, a pg_notify...). Under
        READ COMMITTED it sees what it would have seen inside (every statement takes its own
        snapshot, and the transaction has written nothing); a unit of work of reads alone
        (a MeterValues' check of its transaction, admission's lookup) then costs one round
        trip and no BEGIN or COMMIT."""
        return (self._tx == "pending" and not self.writing and self._queued == ["BEGIN"]
                and _first_word(sql) == "SELECT")

    def _defers(self) -> bool:
        """Whether a statement now is a deferred write: in a transaction without savepoints
        (`unit_of_work_without_savepoints`), from a `DEFERRED` method."""
        return bool(self._tx and not self.savepoints and getattr(_deferred, "depth", 0))

    def _queue_lock(self) -> None:
        """The write lock asked for before a deferred write goes before it."""
        if self._want_lock:
            self._queued.append(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            self._want_lock = False

    def _take_queued(self) -> list[str | _Deferred]:
        """The BEGIN not sent yet, the queued releases and rollbacks, the savepoints not yet
        established, then the write lock if asked for: what the next statement sends first, in
        the same round trip (`_attempt`)."""
        for level, established in enumerate(self._levels):
            if not established:
                self._queued.append("SAVEPOINT w")
                self._levels[level] = True
        if self._want_lock:
            self._queued.append(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            self._want_lock = False
        queued, self._queued = self._queued, []
        return queued

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> _PgCursor:
        if self._defers():
            if rows:
                self._queue_lock()
                self._queued.append(_Deferred(translate_sql(sql),
                                              [tuple(_param(p) for p in r) for r in rows], True))
            return _PgCursor([], -1, None)

        def send(cur: Any) -> None:
            cur.executemany(translate_sql(sql), [tuple(_param(p) for p in r) for r in rows])

        return self._attempt(sql, send, queued=True)

    def _run(self, sql: str, params: Sequence[Any] | None, *, queued: bool = False) -> _PgCursor:
        return self._attempt(sql, lambda cur: cur.execute(sql, params), queued=queued)

    def _attempt(self, sql: str, send: Any, *, queued: bool = False) -> _PgCursor:
        """`send(cursor)` and its results, driver errors as `csms.store.errors`; with `queued`,
        the statements `_take_queued` holds (no parameters, no results) go first in the same
        round trip (libpq's pipeline mode: the results are read once the block has ended).

        A connection found dead when a transaction begins, or by a read outside one, is
        replaced and the statement sent once more: the server restarted while we were idle,
        and nothing was done on the dead one."""
        before: list[str | _Deferred] = []
        for last in (False, True):
            self._reconnect_if_lost()
            if queued and not before:
                before = self._take_queued()
            begins = bool(before) and before[0] == "BEGIN"  # type: ignore[comparison-overlap]
            idle = self._conn.info.transaction_status == self._psycopg.pq.TransactionStatus.IDLE
            try:
                with self._conn.cursor() as cur:
                    if before:
                        self._pipelined(before, send, cur)
                    else:
                        send(cur)
                    if begins:
                        self._tx = "open"
                    rows: list[_Row] = []
                    # the names from the result itself: `cur.description` builds a Column
                    # object per column at each access (a tenth of a boot's store time)
                    result = cur.pgresult
                    if result is not None and result.nfields:
                        names = [result.fname(i).decode() for i in range(result.nfields)]
                        rows = [_Row(zip(names, map(_value, r), strict=True))
                                for r in cur.fetchall()]  # fmt: skip
                    return _PgCursor(rows, cur.rowcount, None)
            except self._psycopg.Error as exc:
                if begins:
                    self._tx = "open"  # the BEGIN went: ROLLBACK ends it
                if self._tx and not self.savepoints:
                    self._spoiled = True  # the server aborted the transaction: no way back
                if not self._conn.closed:
                    raise translate(exc) from exc
                # nothing was done on the dead connection: a new transaction or a lone read
                again = idle and (begins or (self._tx != "open" and _first_word(sql) == "SELECT"))
                if last or not again or self._lost_since is not None:
                    self._went_away(scrub(_first_line(exc), self._url))
                    raise translate(exc) from exc
                if begins:
                    self._tx = "pending"
        raise AssertionError("unreachable")

    def _pipelined(self, before: Sequence[str | _Deferred], send: Any, cur: Any) -> None:
        """`before`, then `send(cur)`, in one pipeline. An error inside is raised after the
        pipeline has ended, so psycopg does not log a warning of its own ("error ignored
        terminating") when ending it fails too (a dead connection): the caller says it."""
        inner: Exception | None = None
        try:
            with self._conn.pipeline():
                try:
                    for statement in before:
                        if isinstance(statement, str):
                            self._conn.execute(statement)
                        elif statement.many:
                            cur.executemany(statement.sql, statement.params)
                        else:
                            cur.execute(statement.sql, statement.params)
                    send(cur)
                except self._psycopg.Error as exc:
                    inner = exc
        except self._psycopg.Error as exc:
            raise (inner or exc) from None
        if inner is not None:
            raise inner

    #: True once `close()`d (not merely lost: a lost connection reconnects)
    closed_for_good = False

    def close(self) -> None:
        self.closed_for_good = True
        self._conn.close()


def _first_word(sql: str) -> str:
    match = re.match(r"\s*(\w+)", sql)
    return match.group(1).upper() if match else ""


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


#: per thread: how deep in `LOCK_FREE` methods the running store call is
_lock_free = threading.local()
#: ... and in `DEFERRED` ones
_deferred = threading.local()


def _without_write_lock(method: Any) -> Any:
    """`method` (one of `LOCK_FREE`) marked, while it runs on this thread, as needing no
    `WRITE_LOCK` for its writes (`PostgresBase._write`)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        _lock_free.depth = getattr(_lock_free, "depth", 0) + 1
        try:
            return method(self, *args, **kwargs)
        finally:
            _lock_free.depth -= 1

    return wrapper


class PostgresBase:
    """The SQLite base's transaction logic (`_write`, `unit_of_work`, `savepoint`) on one
    PostgreSQL connection, serialised by a lock within the process like the SQLite store's;
    `lane()` gives more connections, for units of work that run side by side."""

    def __init__(self, url: str, *, synchronous: str = "FULL", clock: Any = None) -> None:
        from csms.store._sqlite_base import _utc_now

        self.path = redact(url)  # what messages name; never the password
        self._url = url
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        self._depth = 0
        self._in_unit = False
        self._dead = False
        #: the message log's own connection (`PostgresStore.append_log`), opened when first used
        self._log_conn: _PgConnection | None = None
        self._log_lock = threading.Lock()
        #: the server's health as this store's connections see it (one log line per change)
        self._health = _Health(target(url))
        #: the connections of `lane()` views, closed with the store
        self._lanes: list[_PgConnection] = []
        self._conn: Any = _PgConnection(url, health=self._health)  # sqlite3.Connection's shape
        try:
            self._create_schema()
        except BaseException:
            self._conn.close()
            raise

    #: units of work that may run at once, each on a `lane()` (`csms.groupcommit`)
    concurrent_units = CONCURRENT_UNITS

    def lane(self) -> Any:
        """This store on a connection of its own, for one thread's units of work beside the
        others' (group commit runs `concurrent_units` groups at once); closed with the store."""
        view = copy.copy(self)
        view._conn = _PgConnection(self._url, health=self._health, lazy=True)
        view._lock, view._depth, view._in_unit, view._dead = threading.RLock(), 0, False, False
        with self._log_lock:
            self._lanes.append(view._conn)
        return view

    @contextlib.contextmanager
    def unit_of_work_without_savepoints(self) -> Iterator[Any]:
        """`unit_of_work()` without the savepoints of its writes: each costs a statement in a
        round trip's pipeline, and a boot storm's groups almost never need one. Any failure
        inside spoils the whole unit: an exception leaving the block rolls it back, and one
        that a caller caught makes the COMMIT roll back and raise `StoreError`. Group commit
        tries a group this way first and runs it again with savepoints when it fails
        (`csms.groupcommit.run_group`)."""
        with self._lock:
            self._conn.savepoints = False
            try:
                with self.unit_of_work() as uow:  # type: ignore[attr-defined]
                    yield uow
            finally:
                self._conn.savepoints = True

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        """The SQLite base's write transaction or savepoint, and `WRITE_LOCK` held from its
        first statement to the end of the transaction unless a `LOCK_FREE` method writes."""
        with SqliteBase._write(self) as conn:  # type: ignore[arg-type]
            if not getattr(_lock_free, "depth", 0):
                conn.lock_writes()
            conn.writing += 1
            try:
                yield conn
            finally:
                conn.writing -= 1

    def _create_schema(self) -> None:
        """Apply the pending migrations in one transaction; refuse a newer database."""
        with self._write() as conn:  # type: ignore[attr-defined]
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            current = conn.execute("SELECT max(version) AS v FROM schema_version").fetchone()[0]
            for step in migrations.plan(current, where="the PostgreSQL database"):
                for statement in split_statements(step.postgres):
                    if statement.startswith("CREATE TABLE IF NOT EXISTS schema_version"):
                        continue
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version(version) VALUES (?)", (step.version,))

    def _commit(self) -> None:
        try:
            self._conn.execute("COMMIT")
        except StoreError:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise


class PostgresStore(
    PostgresBase, AssetsMixin, SessionsMixin, StationsMixin, StationReportsMixin, OpsMixin,
    BillingMixin, CountsMixin,
):
    """PostgreSQL implementation of `csms.store.base.Store` (see that module for the contract).

    A few writes of every charger's boot are spelled here in one statement where the mixin
    needs two (a round trip each): 15 round trips per boot become 11."""

    def record_boot(
        self, charger_id: str, *, vendor: str, model: str, serial: str | None = None,
        firmware_version: str | None = None, iccid: str | None = None,
        imsi: str | None = None, meter_type: str | None = None,
        meter_serial: str | None = None, timestamp: TimeLike | None = None,
    ) -> Charger:
        """`AssetsMixin.record_boot`: the UPDATE returns the row (no SELECT after it)."""
        with self._write() as conn:
            row = conn.execute(
                "UPDATE chargers SET vendor = ?, model = ?, serial = coalesce(?, serial),"
                " firmware_version = ?, iccid = ?, imsi = ?, meter_type = ?, meter_serial = ?,"
                f" last_boot = ? WHERE id = ? RETURNING {_CHARGER_COLUMNS}",
                (vendor, model, serial, firmware_version, iccid, imsi, meter_type, meter_serial,
                 to_iso(timestamp) or self._now(), charger_id),
            ).fetchone()
        if row is None:
            raise NotFound(f"charger {charger_id!r}")
        return _charger(dict(row))

    def connect_charger(
        self, charger_id: str, *, profile: int, session: str,
        timestamp: TimeLike | None = None, create: bool = False,
        registration_status: str | None = None,
    ) -> tuple[Charger, str | None]:
        """`AssetsMixin.connect_charger` in one statement (four writes and two reads there).
        An existing charger: its row locked by the sub-select, which reads the session
        recorded before (a concurrent connection's, once that one committed: READ COMMITTED
        re-reads a locked row's newest version), then updated. A new one: an upsert; a
        connection of it recorded by another process between admission and here is not
        reported as `previous` (its row did not exist when this one was admitted)."""
        since = to_iso(timestamp) or self._now()
        with self._write() as conn:
            if create:
                row = conn.execute(
                    "INSERT INTO chargers(id, registration_status, max_profile_seen, online,"
                    " online_since, online_session) VALUES (?, coalesce(?, 'Pending'), ?, 1, ?,"
                    " ?) ON CONFLICT(id) DO UPDATE SET"
                    " registration_status = coalesce(?, chargers.registration_status),"
                    " max_profile_seen = greatest(chargers.max_profile_seen, ?), online = 1,"
                    " online_since = excluded.online_since,"
                    " online_session = excluded.online_session"
                    f" RETURNING {_CHARGER_COLUMNS}, NULL AS previous",
                    (charger_id, registration_status, profile, since, session,
                     registration_status, profile),
                ).fetchone()  # fmt: skip
            else:
                row = conn.execute(
                    "UPDATE chargers SET max_profile_seen = greatest(max_profile_seen, ?),"
                    " online = 1, online_since = ?, online_session = ?"
                    " FROM (SELECT id AS old_id, online AS old_online,"
                    " online_session AS old_session FROM chargers WHERE id = ? FOR UPDATE) old"
                    f" WHERE id = old.old_id RETURNING {_CHARGER_COLUMNS},"
                    " CASE WHEN old.old_online != 0 THEN old.old_session END AS previous",
                    (profile, since, session, charger_id),
                ).fetchone()  # fmt: skip
        if row is None:
            raise NotFound(f"charger {charger_id!r}")
        values = dict(row)
        previous = values.pop("previous")
        return _charger(values), previous

    def note_connected_profile(self, charger_id: str, profile: int) -> int:
        """`AssetsMixin.note_connected_profile` in one statement."""
        with self._write() as conn:
            row = conn.execute(
                "UPDATE chargers SET max_profile_seen = greatest(max_profile_seen, ?)"
                " WHERE id = ? RETURNING max_profile_seen",
                (profile, charger_id),
            ).fetchone()
        if row is None:
            raise NotFound(f"charger {charger_id!r}")
        return int(row["max_profile_seen"])

    def record_status(
        self, charger_id: str, connector_id: int, status: str, *,
        error_code: str | None = "NoError", info: str | None = None,
        vendor_id: str | None = None, vendor_error_code: str | None = None,
        timestamp: TimeLike | None = None,
    ) -> None:
        """`AssetsMixin.record_status` (the connector upserted, OCPP 1.6 §4.9, and its
        history row) in one statement."""
        values = (status, error_code, info, vendor_id, vendor_error_code, to_iso(timestamp))
        with self._write() as conn:
            conn.execute(
                "WITH c AS (INSERT INTO connectors(charger_id, connector_id, status, error_code,"
                " info, vendor_id, vendor_error_code, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(charger_id, connector_id) DO UPDATE SET status = excluded.status,"
                " error_code = excluded.error_code, info = excluded.info,"
                " vendor_id = excluded.vendor_id,"
                " vendor_error_code = excluded.vendor_error_code,"
                " timestamp = excluded.timestamp)"
                " INSERT INTO status_history(charger_id, connector_id, status, error_code, info,"
                " vendor_id, vendor_error_code, timestamp, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (charger_id, connector_id, *values, charger_id, connector_id, *values,
                 self._now()),
            )

    def append_log(self, records: Iterable[Any]) -> int:
        """The message log on a connection of its own, without the write lock: it is an
        append-only audit trail that no read-then-write depends on, and a batch of thousands
        of rows (the CSMS flushes every 0.25 s) no longer holds every charger's group commit
        behind it. Called on a unit of work (a group commit's too) it joins that transaction."""
        if self._in_unit or self._dead:  # a unit of work's own append (a group's) joins it
            return SessionsMixin.append_log(self, records)
        with self._log_lock:
            if self._log_conn is None or self._log_conn.closed_for_good:
                self._log_conn = _PgConnection(self._url)  # quiet: the others say it
            view = copy.copy(self)
            view._conn, view._lock, view._depth = self._log_conn, threading.RLock(), 0
            return SessionsMixin.append_log(view, records)

    def close(self) -> None:
        with self._log_lock:
            if self._log_conn is not None:
                self._log_conn.close()
            for lane in self._lanes:
                lane.close()
        super().close()  # type: ignore[misc]


def _deferring(method: Any) -> Any:
    """`method` (one of `DEFERRED`) marked, while it runs on this thread, as one whose writes
    may be deferred (`_PgConnection._defers`)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        _deferred.depth = getattr(_deferred, "depth", 0) + 1
        try:
            return method(self, *args, **kwargs)
        finally:
            _deferred.depth -= 1

    return wrapper


for _name in LOCK_FREE:
    setattr(PostgresStore, _name, _without_write_lock(getattr(PostgresStore, _name)))
for _name in DEFERRED:
    setattr(PostgresStore, _name, _deferring(getattr(PostgresStore, _name)))


__all__ = ["PostgresStore", "check_url", "redact", "translate_sql"]
