"""SQLite store, part 6: what OCPP 2.0.1 stations add (schema version 4, `SCHEMA_4`).

Connector status per EVSE and connector, and transactions the station names with its own string
transactionId, told as a sequence of TransactionEvents. A 2.0.1 transaction is also a row of
`transactions` (one registry for billing, the API and the dashboard): the station's id maps to
it in `station_transactions`, and every event is kept by seqNo in `transaction_events`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from csms.store import metering
from csms.store._sqlite_base import SqliteBase
from csms.store._sqlite_sessions import _insert_meter_rows
from csms.store.base import CostBasis, EvseConnector, StationVariable, TransactionEventResult
from csms.store.timestamps import TimeLike, to_iso

ACCEPTED = "Accepted"
CONCURRENT_TX = "ConcurrentTx"
#: the register a transaction's energy is read from (2.0.1 part 2 J, MeasurandEnumType default)
ENERGY_REGISTER = "Energy.Active.Import.Register"


class StationsMixin(SqliteBase):
    def record_evse_status(
        self, charger_id: str, evse_id: int, connector_id: int, status: str,
        timestamp: TimeLike,
    ) -> None:  # fmt: skip
        """See `Store.record_evse_status`."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO evse_connectors(charger_id, evse_id, connector_id, status,"
                " timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(charger_id, evse_id, connector_id) DO UPDATE SET"
                " status = excluded.status, timestamp = excluded.timestamp,"
                " received_at = excluded.received_at",
                (charger_id, evse_id, connector_id, status, to_iso(timestamp), self._now()),
            )

    def list_evse_connectors(self, charger_id: str | None = None) -> list[EvseConnector]:
        """See `Store.list_evse_connectors`."""
        if charger_id is None:
            return self._all(
                "SELECT * FROM evse_connectors ORDER BY charger_id, evse_id, connector_id", ()
            )
        return self._all(
            "SELECT * FROM evse_connectors WHERE charger_id = ? ORDER BY evse_id, connector_id",
            (charger_id,),
        )

    # Device model (schema 5): absent instances are '', absent EVSE/connector ids 0 ---------------

    _VARIABLE_KEY = ("charger_id, component, component_instance, evse_id, connector_id,"
                     " variable, variable_instance, attribute_type")  # fmt: skip

    def record_station_variables(
        self, charger_id: str, rows: Iterable[Mapping[str, Any]], timestamp: TimeLike | None = None
    ) -> None:
        """See `Store.record_station_variables`."""
        at = to_iso(timestamp) or self._now()
        full, values = [], []
        for row in rows:
            key = (charger_id, row["component"], row.get("component_instance") or "",
                   row.get("evse_id") or 0, row.get("connector_id") or 0, row["variable"],
                   row.get("variable_instance") or "",
                   row.get("attribute_type") or "Actual")  # fmt: skip
            if "mutability" in row:
                characteristics = row.get("characteristics")
                full.append((*key, row.get("value"), row["mutability"],
                             _flag(row.get("persistent")), _flag(row.get("constant")),
                             None if characteristics is None else json.dumps(characteristics),
                             at))  # fmt: skip
            else:
                values.append((*key, row.get("value"), at))
        with self._write() as conn:
            if full:
                conn.executemany(
                    f"INSERT INTO station_variables({self._VARIABLE_KEY}, value, mutability,"
                    " persistent, constant, characteristics, reported_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    f" ON CONFLICT({self._VARIABLE_KEY}) DO UPDATE SET value = excluded.value,"
                    " mutability = excluded.mutability, persistent = excluded.persistent,"
                    " constant = excluded.constant, characteristics = excluded.characteristics,"
                    " reported_at = excluded.reported_at",
                    full,
                )  # fmt: skip
            if values:
                conn.executemany(
                    f"INSERT INTO station_variables({self._VARIABLE_KEY}, value, reported_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    f" ON CONFLICT({self._VARIABLE_KEY}) DO UPDATE SET value = excluded.value,"
                    " reported_at = excluded.reported_at",
                    values,
                )  # fmt: skip

    def list_station_variables(
        self, charger_id: str, *, component: str | None = None
    ) -> list[StationVariable]:
        """See `Store.list_station_variables`."""
        where, params = "charger_id = ?", [charger_id]
        if component is not None:
            where, params = where + " AND component = ?", [*params, component]
        rows = self._all(
            f"SELECT * FROM station_variables WHERE {where} ORDER BY component,"
            " component_instance, evse_id, connector_id, variable, variable_instance,"
            " attribute_type",
            tuple(params),
        )  # fmt: skip
        for row in rows:
            for name in ("component_instance", "variable_instance"):
                row[name] = row[name] or None
            for name in ("evse_id", "connector_id"):
                row[name] = row[name] or None
            for name in ("persistent", "constant"):
                row[name] = None if row[name] is None else bool(row[name])
            if row["characteristics"] is not None:
                row["characteristics"] = json.loads(row["characteristics"])
        return rows

    def record_transaction_event(
        self,
        charger_id: str,
        station_tx_id: str,
        seq_no: int,
        event_type: str,
        timestamp: TimeLike,
        *,
        trigger_reason: str,
        offline: bool = False,
        charging_state: str | None = None,
        evse_id: int | None = None,
        id_token: str | None = None,
        id_token_status: str | None = None,
        stopped_reason: str | None = None,
        meter_values: Iterable[dict[str, Any]] = (),
        with_cost_basis: bool = False,
    ) -> TransactionEventResult:
        """See `Store.record_transaction_event`."""
        at = to_iso(timestamp)
        now = self._now()
        with self._write() as conn:
            fresh = conn.execute(
                "INSERT INTO transaction_events(charger_id, station_tx_id, seq_no, event_type,"
                " trigger_reason, timestamp, offline, charging_state, id_token, evse_id,"
                " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(charger_id, station_tx_id, seq_no) DO NOTHING",
                (charger_id, station_tx_id, seq_no, event_type, trigger_reason, at, int(offline),
                 charging_state, id_token, evse_id, now),
            ).rowcount == 1  # fmt: skip
            # the transaction row and when its first energy register reading was taken, in one
            # round: the event's further writes are only those that change something
            row = conn.execute(
                _LOOKUP_WITH_COST if with_cost_basis else _LOOKUP,
                (ENERGY_REGISTER, *((ENERGY_REGISTER,) * 2 * with_cost_basis), charger_id,
                 station_tx_id),
            ).fetchone() if fresh else conn.execute(
                "SELECT transaction_id FROM station_transactions"
                " WHERE charger_id = ? AND station_tx_id = ?",
                (charger_id, station_tx_id),
            ).fetchone()  # fmt: skip
            if fresh and id_token and id_token_status == ACCEPTED and conn.execute(
                "SELECT 1 FROM transactions WHERE id_tag = ? AND stop_time IS NULL"
                " AND status = 'Running' AND id <> ? LIMIT 1",
                (id_token, -1 if row is None else int(row[0])),
            ).fetchone() is not None:
                # E05 / 1.6 §7.2 policy: the token already runs another transaction. Checked
                # under this write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: the write
                # lock), so no second start for the token can slip in between
                id_token_status = CONCURRENT_TX
            if row is None:
                # the first event we hear of (normally Started, seqNo 0); a transaction whose
                # Started is lost still gets a row, so none of its data is dropped
                status = "Running" if id_token_status in (None, ACCEPTED) else "NotAuthorized"
                transaction_id = self._insert_transaction(  # type: ignore[attr-defined]
                    conn, charger_id, evse_id or 0, id_token or "", id_token_status, 0, at,
                    None, status, now,
                )  # fmt: skip
                conn.execute(
                    "INSERT INTO station_transactions(charger_id, station_tx_id, transaction_id)"
                    " VALUES (?, ?, ?)", (charger_id, station_tx_id, transaction_id),
                )  # fmt: skip
                # as the row was just written: nothing to fill in, no reading before these
                connector, tag, first_reading, basis = evse_id or 0, id_token or "", None, None
            else:
                transaction_id = int(row[0])
                if fresh:
                    connector, tag, first_reading = int(row[1]), row[2], row[3]
                    basis = _basis(row) if with_cost_basis else None
            if not fresh:  # a retried event (our reply was lost): stored once already
                stored = conn.execute(
                    "SELECT id_tag_status FROM transactions WHERE id = ? AND id_tag = ?",
                    (transaction_id, id_token or ""),
                ).fetchone() if id_token else None
                return TransactionEventResult(
                    transaction_id, True, self._gaps(conn, charger_id, station_tx_id),
                    stored[0] if stored else id_token_status,
                    self.cost_basis(transaction_id) if with_cost_basis else None)
            if id_token and tag == "":  # the token may come after the start (E02.FR.01)
                # not accepted (ConcurrentTx too): NotAuthorized, as a start with that token is
                running = "Running" if id_token_status in (None, ACCEPTED) else "NotAuthorized"
                conn.execute(
                    "UPDATE transactions SET id_tag = ?, id_tag_status = ?, updated_at = ?,"
                    " status = CASE WHEN status = 'Running' THEN ? ELSE status END"
                    " WHERE id = ? AND id_tag = ''",
                    (id_token, id_token_status, now, running, transaction_id),
                )
            if evse_id and connector == 0:  # the EVSE may be known only later (E01.FR.09)
                conn.execute(
                    "UPDATE transactions SET connector_id = ? WHERE id = ? AND connector_id = 0",
                    (evse_id, transaction_id),
                )
                connector = evse_id
            rows = metering.flatten(list(meter_values))
            if rows:
                _insert_meter_rows(conn, charger_id, evse_id or connector, rows, transaction_id)
                earliest = min((to_iso(r["timestamp"]) or "" for r in rows if _is_register(r)),
                               default=None)  # fmt: skip
                # meter_start is the first reading: changed only by one no later than it
                if earliest is not None and (first_reading is None
                                             or earliest <= first_reading):  # fmt: skip
                    started = self._start_reading(conn, transaction_id)
                    if basis is not None and started is not None:
                        basis["meter_start"] = started
                if basis is not None:
                    _newer_reading(basis, rows)
            if event_type == "Ended":
                self._end(conn, transaction_id, at, stopped_reason, id_token, now)
                basis = None  # closed: read again below
            if with_cost_basis and basis is None:
                basis = self.cost_basis(transaction_id)
            # the gaps are read once the transaction Ended, when the CSMS can tell: reading
            # every seqNo on each event made a long transaction's events ever dearer
            missing = self._gaps(conn, charger_id, station_tx_id) if event_type == "Ended" else ()
            return TransactionEventResult(
                transaction_id, False, missing, id_token_status if id_token else None, basis
            )

    @staticmethod
    def _start_reading(conn: Any, transaction_id: int) -> int | None:
        """A running transaction's meter_start is its first energy register reading (a 2.0.1
        Started need not carry one): running energy and cost (I02) count from it. The
        meter_start set, or None when the transaction has no reading or is closed."""
        first = conn.execute(
            "SELECT norm_value FROM meter_values WHERE transaction_id = ? AND measurand = ?"
            " AND norm_unit = 'Wh' AND norm_value IS NOT NULL AND phase IS NULL"
            " ORDER BY timestamp, id LIMIT 1", (transaction_id, ENERGY_REGISTER),
        ).fetchone()  # fmt: skip
        if first is None:
            return None
        start = int(Decimal(first[0]))
        updated = conn.execute(
            "UPDATE transactions SET meter_start = ? WHERE id = ? AND stop_time IS NULL",
            (start, transaction_id),
        ).rowcount
        return start if updated else None

    def _end(
        self, conn: Any, transaction_id: int, at: str | None, reason: str | None,
        id_token: str | None,
        now: str,
    ) -> None:  # fmt: skip
        """Close the transaction once. Its energy is the span of its energy register over the
        meter values of its events (first to last reading, Wh); with fewer than two readings
        there is none to bill, and the transaction goes to billing review."""
        if conn.execute("SELECT stop_time FROM transactions WHERE id = ?",
                        (transaction_id,)).fetchone()[0] is not None:  # fmt: skip
            return
        readings = [
            Decimal(r[0]) for r in conn.execute(
                "SELECT norm_value FROM meter_values WHERE transaction_id = ? AND measurand = ?"
                " AND norm_unit = 'Wh' AND norm_value IS NOT NULL AND phase IS NULL"
                " ORDER BY timestamp, id", (transaction_id, ENERGY_REGISTER),
            ).fetchall()
        ]  # fmt: skip
        start = stop = energy = None
        if len(readings) >= 2:
            start, stop = int(readings[0]), int(readings[-1])
            energy = stop - start if stop >= start else None
        conn.execute(
            "UPDATE transactions SET meter_start = coalesce(?, meter_start), meter_stop = ?,"
            " stop_time = ?, stop_reason = ?, id_tag_stop = ?, energy_wh = ?, status = ?,"
            " updated_at = ? WHERE id = ?",
            (start, stop, at, reason or "Local", id_token, energy,
             "Stopped" if energy is not None else "BillingReview", now, transaction_id),
        )  # fmt: skip

    @staticmethod
    def _gaps(conn: Any, charger_id: str, station_tx_id: str) -> tuple[int, ...]:
        """The seqNos missing between the first and the last event received (part 2 E §1.3.2:
        the CSMS has every event once it holds the Started, the Ended and each seqNo between)."""
        seen = sorted(int(r[0]) for r in conn.execute(
            "SELECT seq_no FROM transaction_events WHERE charger_id = ? AND station_tx_id = ?",
            (charger_id, station_tx_id),
        ).fetchall())  # fmt: skip
        if not seen:
            return ()
        present = set(seen)
        return tuple(n for n in range(seen[0], seen[-1]) if n not in present)

    def station_transaction(self, charger_id: str, station_tx_id: str) -> int | None:
        """See `Store.station_transaction`."""
        row = self._one(
            "SELECT transaction_id FROM station_transactions"
            " WHERE charger_id = ? AND station_tx_id = ?", (charger_id, station_tx_id),
        )  # fmt: skip
        return None if row is None else int(row["transaction_id"])

    def cost_basis(self, transaction_id: int) -> CostBasis | None:
        """See `Store.cost_basis`."""
        row = self._one(f"SELECT {_COST_COLUMNS} FROM transactions t WHERE t.id = ?",
                        (ENERGY_REGISTER, ENERGY_REGISTER, transaction_id))  # fmt: skip
        return None if row is None else _basis(tuple(row.values()), 0)

    def station_tx_id(self, transaction_id: int) -> str | None:
        """See `Store.station_tx_id`."""
        row = self._one("SELECT station_tx_id FROM station_transactions WHERE transaction_id = ?",
                        (transaction_id,))  # fmt: skip
        return None if row is None else str(row["station_tx_id"])

    def list_transaction_events(self, charger_id: str, station_tx_id: str) -> list[dict]:
        """See `Store.list_transaction_events`."""
        rows = self._all(
            "SELECT * FROM transaction_events WHERE charger_id = ? AND station_tx_id = ?"
            " ORDER BY seq_no", (charger_id, station_tx_id),
        )  # fmt: skip
        for row in rows:
            row["offline"] = bool(row["offline"])
        return rows


__all__ = ["StationsMixin"]


#: what `Store.cost_basis` is read from (a transactions row `t`; parameters: the energy
#: register measurand twice): meter_start, stop_time, amount, the charger's tariff else the
#: global one, and the newest register reading's time and value
_COST_COLUMNS = (
    "t.meter_start AS meter_start, t.stop_time AS stop_time, t.amount AS amount,"
    " (SELECT r.rate_per_kwh FROM tariffs r WHERE r.charger_id IN (t.charger_id, '')"
    " ORDER BY r.charger_id = '' LIMIT 1) AS rate_per_kwh,"
    " (SELECT m.timestamp FROM meter_values m WHERE m.transaction_id = t.id"
    " AND m.measurand = ? ORDER BY m.timestamp DESC, m.id DESC LIMIT 1) AS latest_at,"
    " (SELECT m.norm_value FROM meter_values m WHERE m.transaction_id = t.id"
    " AND m.measurand = ? ORDER BY m.timestamp DESC, m.id DESC LIMIT 1) AS latest_reading"
)
#: a TransactionEvent's lookup (parameter: the register measurand, then the station's ids):
#: its station transaction, the row's EVSE and token, and when its first energy register
#: reading was taken; with the cost basis after those (`_COST_COLUMNS`)
_LOOKUP = (
    "SELECT s.transaction_id, t.connector_id, t.id_tag, (SELECT m.timestamp FROM"
    " meter_values m WHERE m.transaction_id = s.transaction_id AND m.measurand = ?"
    " AND m.norm_unit = 'Wh' AND m.norm_value IS NOT NULL AND m.phase IS NULL"
    " ORDER BY m.timestamp, m.id LIMIT 1) AS first_reading_at{cost}"
    " FROM station_transactions s JOIN"
    " transactions t ON t.id = s.transaction_id"
    " WHERE s.charger_id = ? AND s.station_tx_id = ?"
)
_LOOKUP_WITH_COST = _LOOKUP.format(cost=f", {_COST_COLUMNS}")
_LOOKUP = _LOOKUP.format(cost="")
#: where the cost columns start in a `_LOOKUP_WITH_COST` row
_COST_AT = 4


def _basis(row: Any, at: int = _COST_AT) -> CostBasis:
    """The `CostBasis` of the `_COST_COLUMNS` in `row` from index `at`."""
    start, stop, amount, rate, latest_at, latest = (row[i] for i in range(at, at + 6))
    return {"meter_start": int(start), "stop_time": stop,
            "amount": None if amount is None else Decimal(amount),
            "rate_per_kwh": None if rate is None else Decimal(rate),
            "latest_reading": None if latest is None else Decimal(latest),
            "latest_at": latest_at}  # fmt: skip


def _newer_reading(basis: CostBasis, rows: list[dict[str, Any]]) -> None:
    """`basis` (read before `rows` were stored) as it is after: the newest energy register
    reading by time, and among equal times the last stored (as `cost_basis` orders)."""
    for row in rows:
        if row["measurand"] != ENERGY_REGISTER:
            continue
        at = to_iso(row["timestamp"]) or ""
        if basis["latest_at"] is None or at >= basis["latest_at"]:
            value = row["norm_value"]
            basis["latest_at"] = at
            basis["latest_reading"] = None if value is None else Decimal(value)


def _is_register(row: Mapping[str, Any]) -> bool:
    """A `metering.flatten` row `_start_reading` counts: the energy register in Wh."""
    return (row["measurand"] == ENERGY_REGISTER and row["norm_unit"] == "Wh"
            and row["norm_value"] is not None and row["phase"] is None)  # fmt: skip


def _flag(value: object) -> int | None:
    return None if value is None else int(bool(value))
