"""SQLite store, part 2: charging sessions (transactions, meter values) and the message log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from chargebench.trace import TraceRecord
from csms.states import IdTagStatus, TransactionStatus, optional
from csms.store import metering
from csms.store._sqlite_base import SqliteBase, page, where
from csms.store._sqlite_states import REMOTE_START, TRANSACTION, all_states, states
from csms.store.base import (
    MeterValueRow,
    NotFoundError,
    RemoteStart,
    Transaction,
    TransactionStart,
)
from csms.store.timestamps import TimeLike, to_iso

# default=str: a trace payload that is not JSON (a raw broken frame object) is kept as text.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _transaction(row: dict[str, Any]) -> Transaction:
    for money in ("tariff_rate", "amount"):
        if row[money] is not None:
            row[money] = Decimal(row[money])
    return states(row, TRANSACTION)


def _insert_meter_rows(conn: Any, charger_id: str, connector_id: int,
                       rows: list[dict[str, Any]], transaction_id: int | None) -> None:  # fmt: skip
    """Insert `metering.flatten` rows on `conn`, inside the caller's write transaction (a 2.0.1
    TransactionEvent stores its meter values in its own, `StationsMixin`)."""
    conn.executemany(
        "INSERT INTO meter_values(charger_id, connector_id, transaction_id, timestamp,"
        " value, measurand, phase, unit, context, location, format, norm_value,"
        " norm_unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                charger_id,
                connector_id,
                transaction_id,
                to_iso(row["timestamp"]),
                row["value"],
                row["measurand"],
                row["phase"],
                row["unit"],
                row["context"],
                row["location"],
                row["format"],
                row["norm_value"],
                row["norm_unit"],
            )
            for row in rows
        ],
    )


def _meter_row(row: dict[str, Any]) -> MeterValueRow:
    if row["norm_value"] is not None:
        row["norm_value"] = Decimal(row["norm_value"])
    return row  # type: ignore[return-value]


def _log_ts(ts: Any) -> str | None:
    """`to_iso` for trace timestamps, which are UTC `isoformat(timespec="microseconds")`
    (chargebench.trace): rewritten, not parsed, since the boot storm of 10 000 chargers logs
    60 000 of them (parsing was 3 % of the CSMS's CPU, loadtest.bench_fleet)."""
    if type(ts) is str and len(ts) == 32 and ts.endswith("+00:00"):
        return ts[:26] + "Z"
    return to_iso(ts)


def _utf8(value: Any) -> Any:
    """`value` with lone surrogates written as `\\udXXX` escapes (valid JSON inside strings)."""
    if type(value) is str:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _log_record(row: dict[str, Any]) -> TraceRecord:
    """A message-log row as the trace record it was written from, numbered by its row."""
    return TraceRecord(
        ts=row["ts"], cp_id=row["cp_id"], dir=row["dir"], type=row["type"], id=row["msg_id"],
        action=row["action"],
        payload=None if row["payload"] is None else json.loads(row["payload"]),
        latency_ms=row["latency_ms"], session=row["session"] or "", seq=row["seq"],
    )


#: Transaction statuses decided at the start (billing adds Completed / BillingFailed / ...).
RUNNING, NOT_AUTHORIZED = TransactionStatus.RUNNING, TransactionStatus.NOT_AUTHORIZED
BILLING_REVIEW = TransactionStatus.BILLING_REVIEW
ACCEPTED, CONCURRENT_TX = IdTagStatus.ACCEPTED, IdTagStatus.CONCURRENT_TX
#: billing_retries.reason of a transaction closed because its connector started another
STALE_REASON = "STALE_CLOSED: connector {connector} started transaction {new} at {at}"


class SessionsMixin(SqliteBase):
    # Transactions ------------------------------------------------------------------------------

    def begin_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: TimeLike,
        *,
        reservation_id: int | None = None,
        id_tag_status: str | None = ACCEPTED,
    ) -> TransactionStart:
        """See `Store.begin_transaction`. Check and insert run under one BEGIN IMMEDIATE (inside
        a group commit: one savepoint of the one writer), so two StartTransactions for the same
        tag can never both see "no running transaction" (issue 15 point 6)."""
        start_time = to_iso(timestamp)
        now = self._now()
        with self._write() as conn:
            row = self._retried_start(conn, charger_id, connector_id, id_tag, meter_start,
                                      start_time)  # fmt: skip
            if row is not None:
                return TransactionStart(int(row[0]), optional(IdTagStatus, row[1]), (), True)
            status = id_tag_status
            if status == ACCEPTED and conn.execute(
                "SELECT 1 FROM transactions WHERE id_tag = ? AND stop_time IS NULL"
                " AND status = 'Running' AND NOT (charger_id = ? AND connector_id = ?) LIMIT 1",
                (id_tag, charger_id, connector_id),
            ).fetchone() is not None:
                status = CONCURRENT_TX  # 1.6 §7.2: the tag is already in a transaction
            stale = [
                int(r[0]) for r in conn.execute(
                    "SELECT id FROM transactions WHERE charger_id = ? AND connector_id = ?"
                    " AND stop_time IS NULL AND start_time <= ?",
                    (charger_id, connector_id, start_time),
                ).fetchall()
            ]
            transaction_id = self._insert_transaction(
                conn, charger_id, connector_id, id_tag, status, meter_start, start_time,
                reservation_id, RUNNING if status == ACCEPTED else NOT_AUTHORIZED, now,
            )  # fmt: skip
            reason = STALE_REASON.format(connector=connector_id, new=transaction_id, at=start_time)
            for old in stale:
                # errata v4 §3.17: the charger should have stopped it; it never did. Closed at
                # the new start, no meterStop guessed: an administrator decides the bill.
                conn.execute(
                    "UPDATE transactions SET stop_time = ?, stop_reason = 'Other',"
                    " status = 'BillingReview', updated_at = ? WHERE id = ?",
                    (start_time, now, old),
                )
                conn.execute(
                    "INSERT INTO billing_retries(transaction_id, state, reason, attempts,"
                    " first_failed_at, last_attempt_at, next_attempt_at)"
                    " VALUES (?, 'Review', ?, 0, ?, ?, ?) ON CONFLICT(transaction_id) DO UPDATE"
                    " SET state = 'Review', reason = excluded.reason",
                    (old, reason, now, now, now),
                )
            return TransactionStart(
                transaction_id, optional(IdTagStatus, status), tuple(stale), False
            )

    def _insert_transaction(
        self, conn: Any, charger_id: str, connector_id: int, id_tag: str,
        id_tag_status: str | None, meter_start: int, start_time: str | None,
        reservation_id: int | None, status: str, now: str,
    ) -> int:  # fmt: skip
        cursor = conn.execute(
            "INSERT INTO transactions(charger_id, connector_id, id_tag, id_tag_status,"
            " meter_start, start_time, reservation_id, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (charger_id, connector_id, id_tag, id_tag_status, meter_start, start_time,
             reservation_id, status, now, now),
        )  # fmt: skip
        transaction_id = int(cursor.lastrowid)
        if reservation_id is not None:
            # 1.6 §5.13: a transaction started on a reservation consumes it.
            conn.execute(
                "UPDATE reservations SET status = 'Used', transaction_id = ?, updated_at = ?"
                " WHERE id = ? AND charger_id = ?",
                (transaction_id, now, reservation_id, charger_id),
            )
        return transaction_id

    @staticmethod
    def _retried_start(
        conn: Any, charger_id: str, connector_id: int, id_tag: str, meter_start: int,
        start_time: str | None,
    ) -> Any:
        """(id, id_tag_status) of a StartTransaction already stored with these values, or None:
        a charge point that lost our reply retries the same message (1.6 transaction message
        retries) and must get the id already allocated, not a second transaction."""
        return conn.execute(
            "SELECT id, id_tag_status FROM transactions WHERE charger_id = ?"
            " AND connector_id = ? AND id_tag = ? AND meter_start = ? AND start_time = ?",
            (charger_id, connector_id, id_tag, meter_start, start_time),
        ).fetchone()

    def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: TimeLike,
        *,
        reservation_id: int | None = None,
        id_tag_status: str | None = "Accepted",
    ) -> int:
        """Allocate the OCPP transactionId (1.6 §4.8) and commit before it is sent back.

        A charge point that lost our reply retries the same StartTransaction (1.6 transaction
        message retries): the same charger, connector, tag, meterStart and timestamp return the id
        already allocated instead of opening a second transaction.
        """
        start_time = to_iso(timestamp)
        now = self._now()
        with self._write() as conn:
            row = self._retried_start(conn, charger_id, connector_id, id_tag, meter_start,
                                      start_time)  # fmt: skip
            if row is not None:
                return int(row[0])
            return self._insert_transaction(
                conn, charger_id, connector_id, id_tag, id_tag_status, meter_start, start_time,
                reservation_id, RUNNING, now,
            )  # fmt: skip

    def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: TimeLike,
        *,
        reason: str | None = None,
        id_tag: str | None = None,
    ) -> Transaction:
        """Close the transaction; status becomes `Stopped` until billing sets its outcome.

        Idempotent: a retried StopTransaction returns the stored result and changes nothing,
        so the energy is billed once. Raises NotFoundError for an unknown transactionId.
        """
        with self._write() as conn:
            row = conn.execute(
                "SELECT meter_start, stop_time, meter_stop, status FROM transactions WHERE id = ?",
                (transaction_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"transaction {transaction_id}")
            if row["stop_time"] is not None and row["meter_stop"] is None:
                # closed as stale by a later start (begin_transaction): the charger's own late
                # stop still brings the reading the billing review needs
                energy = meter_stop - row["meter_start"]
                conn.execute(
                    "UPDATE transactions SET meter_stop = ?, energy_wh = ?, id_tag_stop = ?,"
                    " updated_at = ? WHERE id = ?",
                    (meter_stop, energy if 0 <= energy < 2**63 else None, id_tag, self._now(),
                     transaction_id),
                )  # fmt: skip
            if row["stop_time"] is None:
                energy = meter_stop - row["meter_start"]
                conn.execute(
                    "UPDATE transactions SET meter_stop = ?, stop_time = ?, stop_reason = ?,"
                    " id_tag_stop = ?, energy_wh = ?, status = 'Stopped', updated_at = ?"
                    " WHERE id = ?",
                    (
                        meter_stop,
                        to_iso(timestamp),
                        reason or "Local",  # 1.6 §4.10: omitted only when Local
                        id_tag,
                        # meter replaced or wrapped, or beyond 64 bits: no guess
                        energy if 0 <= energy < 2**63 else None,
                        self._now(),
                        transaction_id,
                    ),
                )
        return self.get_transaction(transaction_id)  # type: ignore[return-value]

    def set_transaction_billing(
        self,
        transaction_id: int,
        status: str,
        *,
        tariff_rate: Decimal | None = None,
        amount: Decimal | None = None,
        currency: str | None = None,
    ) -> None:
        """Record billing's outcome (seeds/001 §4.1: Completed, or BillingFailed to retry)."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE transactions SET status = ?, tariff_rate = coalesce(?, tariff_rate),"
                " amount = coalesce(?, amount), currency = coalesce(?, currency),"
                " updated_at = ? WHERE id = ?",
                (
                    status,
                    None if tariff_rate is None else str(tariff_rate),
                    None if amount is None else str(amount),
                    currency,
                    self._now(),
                    transaction_id,
                ),
            )
            self._require(cursor, f"transaction {transaction_id}")

    def get_transaction(self, transaction_id: int) -> Transaction | None:
        row = self._one("SELECT * FROM transactions WHERE id = ?", (transaction_id,))
        return None if row is None else _transaction(row)

    def active_transaction(self, charger_id: str, connector_id: int) -> Transaction | None:
        row = self._one(
            "SELECT * FROM transactions WHERE charger_id = ? AND connector_id = ?"
            " AND stop_time IS NULL ORDER BY id DESC LIMIT 1",
            (charger_id, connector_id),
        )
        return None if row is None else _transaction(row)

    def active_transaction_for_tag(self, id_tag: str) -> Transaction | None:
        row = self._one(
            "SELECT * FROM transactions WHERE id_tag = ? AND stop_time IS NULL"
            " AND status = 'Running' ORDER BY id DESC LIMIT 1",
            (id_tag,),
        )
        return None if row is None else _transaction(row)

    def list_transactions(
        self,
        *,
        charger_id: str | None = None,
        id_tag: str | None = None,
        status: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[Transaction]:
        """Newest first; `since`/`until` bound the start time (until is exclusive)."""
        clause, params = where(
            {
                "charger_id": charger_id,
                "id_tag": id_tag,
                "status": status,
                "start_time >=": to_iso(since),
                "start_time <": to_iso(until),
            }
        )
        rows = self._all(
            f"SELECT * FROM transactions{clause} ORDER BY id DESC{page(limit, offset)}", params
        )
        return [_transaction(row) for row in rows]

    # Remote starts (pending transaction records, seeds/001 §4.3 step 5d) -------------------

    def create_remote_start(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        requested_at: TimeLike,
        *,
        user_id: str | None = None,
    ) -> RemoteStart:
        """Committed before RemoteStartTransaction goes out, so a StartTransaction that
        overtakes the API's bookkeeping still finds the record to link."""
        at = to_iso(requested_at)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO remote_starts(user_id, charger_id, connector_id, id_tag, status,"
                " requested_at, updated_at) VALUES (?, ?, ?, ?, 'Pending', ?, ?)",
                (user_id, charger_id, connector_id, id_tag, at, self._now()),
            )
        return self.get_remote_start(int(cursor.lastrowid))  # type: ignore[arg-type, return-value]

    def update_remote_start(
        self,
        remote_start_id: int,
        *,
        status: str | None = None,
        reply_status: str | None = None,
        reason: str | None = None,
    ) -> RemoteStart:
        """A final status (Started, Expired...) is never overwritten: the reply to
        RemoteStartTransaction may arrive after the StartTransaction it caused."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE remote_starts SET reply_status = coalesce(?, reply_status),"
                " reason = coalesce(?, reason), updated_at = ?,"
                " status = CASE WHEN status = 'Pending' THEN coalesce(?, status) ELSE status END"
                " WHERE id = ?",
                (reply_status, reason, self._now(), status, remote_start_id),
            )
            self._require(cursor, f"remote start {remote_start_id}")
        return self.get_remote_start(remote_start_id)  # type: ignore[return-value]

    def link_remote_start(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        transaction_id: int,
        *,
        requested_since: TimeLike,
    ) -> int | None:
        """Read first, write only on a match: every StartTransaction asks, few are remote."""
        match = "charger_id = ? AND connector_id = ? AND id_tag = ? AND status = 'Pending'"
        params = (charger_id, connector_id, id_tag)
        if self._one(f"SELECT 1 FROM remote_starts WHERE {match}", params) is None:
            return None
        with self._write() as conn:
            row = conn.execute(
                f"SELECT id FROM remote_starts WHERE {match} AND requested_at >= ?"
                " ORDER BY id DESC LIMIT 1",
                (*params, to_iso(requested_since)),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE remote_starts SET status = 'Started', transaction_id = ?, updated_at = ?"
                " WHERE id = ?",
                (transaction_id, self._now(), row[0]),
            )
            return int(row[0])

    def expire_remote_starts(self, requested_before: TimeLike) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE remote_starts SET status = 'Expired', updated_at = ?,"
                " reason = coalesce(reason, 'no StartTransaction in time')"
                " WHERE status = 'Pending' AND requested_at < ?",
                (self._now(), to_iso(requested_before)),
            )
            return cursor.rowcount

    def get_remote_start(self, remote_start_id: int) -> RemoteStart | None:
        row = self._one("SELECT * FROM remote_starts WHERE id = ?", (remote_start_id,))
        return states(row, REMOTE_START)

    def list_remote_starts(
        self,
        *,
        user_id: str | None = None,
        charger_id: str | None = None,
        connector_id: int | None = None,
        status: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[RemoteStart]:
        clause, params = where(
            {
                "user_id": user_id,
                "charger_id": charger_id,
                "connector_id": connector_id,
                "status": status,
            }
        )
        return all_states(self._all(
            f"SELECT * FROM remote_starts{clause} ORDER BY id DESC{page(limit, offset)}", params
        ), REMOTE_START)  # fmt: skip

    # Meter values ------------------------------------------------------------------------------

    def add_meter_values(
        self,
        charger_id: str,
        connector_id: int,
        meter_values: list[dict[str, Any]],
        *,
        transaction_id: int | None = None,
    ) -> int:
        """Store every sampledValue, as sent and normalised (see `metering.py`).

        `meter_values` is the wire shape: MeterValues.req `meterValue` or StopTransaction.req
        `transactionData` (camelCase keys).
        """
        rows = metering.flatten(meter_values)
        with self._write() as conn:
            _insert_meter_rows(conn, charger_id, connector_id, rows, transaction_id)
        return len(rows)

    def list_meter_values(
        self,
        *,
        transaction_id: int | None = None,
        charger_id: str | None = None,
        connector_id: int | None = None,
        measurand: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[MeterValueRow]:
        """Oldest first, in the order received within one timestamp (`newest_first`: the
        reverse, so `limit=1` is the latest reading)."""
        clause, params = where(
            {
                "transaction_id": transaction_id,
                "charger_id": charger_id,
                "connector_id": connector_id,
                "measurand": measurand,
            }
        )
        order = "timestamp DESC, id DESC" if newest_first else "timestamp, id"
        rows = self._all(
            f"SELECT * FROM meter_values{clause} ORDER BY {order}{page(limit, offset)}",
            params,
        )
        return [_meter_row(row) for row in rows]

    # Message log -------------------------------------------------------------------------------

    def append_log(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Insert trace records (DESIGN.md "Trace records") in ONE transaction: one fsync per batch.

        Each record: ts, cp_id, dir, type, id, action, payload, latency_ms, session (the last
        five optional). Payload is any JSON value and comes back as the same value.
        """
        rows = [
            (
                _log_ts(record["ts"]),
                record["cp_id"],
                record["dir"],
                record["type"],
                record.get("id"),
                record.get("action"),
                _dumps(record.get("payload")),
                record.get("latency_ms"),
                record.get("session"),
            )
            for record in records
        ]
        if not rows:
            return 0
        sql = (
            "INSERT INTO message_log(ts, cp_id, dir, type, msg_id, action, payload,"
            " latency_ms, session) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try:
            with self._write() as conn:
                conn.executemany(sql, rows)
        except UnicodeEncodeError:
            # a lone surrogate (the session core refuses such frames; this is the last guard):
            # kept as its JSON escape rather than losing the whole batch
            with self._write() as conn:
                conn.executemany(sql, [tuple(_utf8(v) for v in row) for row in rows])
        return len(rows)

    def query_log(
        self,
        *,
        cp_id: str | None = None,
        action: str | None = None,
        type: str | None = None,
        direction: str | None = None,
        msg_id: str | None = None,
        session: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[TraceRecord]:
        """Filter the message log (seeds/001 §6.4); `until` is exclusive, order is by time."""
        clause, params = where(
            {
                "cp_id": cp_id,
                "action": action,
                "type": type,
                "dir": direction,
                "msg_id": msg_id,
                "session": session,
                "ts >=": to_iso(since),
                "ts <": to_iso(until),
            }
        )
        order = "ts DESC, id DESC" if newest_first else "ts, id"
        rows = self._all(
            "SELECT id AS seq, ts, cp_id, dir, type, msg_id, action, payload, latency_ms,"
            f" session FROM message_log{clause} ORDER BY {order}{page(limit, offset)}",
            params,
        )
        return [_log_record(row) for row in rows]

    def log_latencies(
        self,
        *,
        direction: str | None = None,
        type: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
    ) -> list[float]:
        """The `latency_ms` of the matching log records that have one (benchmarks' p99)."""
        clause, params = where(
            {"dir": direction, "type": type, "ts >=": to_iso(since), "ts <=": to_iso(until)}
        )
        clause += (" AND" if clause else " WHERE") + " latency_ms IS NOT NULL"
        rows = self._all(f"SELECT latency_ms FROM message_log{clause}", params)
        return [row["latency_ms"] for row in rows]
