"""SQLite store, part 7: what a 2.0.1 station notifies beyond its device model and its
transactions (schema version 8, `SCHEMA_8`), kept per station so the API can show it.

External charging limits (K11/K12 NotifyChargingLimit, cleared by K13 ClearedChargingLimit),
the status of a Local Controller publishing firmware (L03 PublishFirmwareStatusNotification),
the display messages a station reported (O04 NotifyDisplayMessages) and the customer
information it sent in parts (N09 NotifyCustomerInformation, joined into one result).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from csms.store._sqlite_base import SqliteBase
from csms.store.base import (
    CustomerInformation,
    DisplayMessage,
    ExternalChargingLimit,
    PublishFirmwareStatus,
)
from csms.store.timestamps import TimeLike, to_iso

#: the EVSE id of a limit on the station as a whole (NotifyChargingLimit without evseId; EVSE
#: ids are > 0 in 2.0.1)
STATION = 0


class StationReportsMixin(SqliteBase):
    # K11/K12/K13 external charging limits ----------------------------------------------------

    def record_charging_limit(
        self, charger_id: str, evse_id: int | None, source: str, *,
        is_grid_critical: bool | None = None, schedules: list[dict[str, Any]] | None = None,
        timestamp: TimeLike | None = None,
    ) -> None:  # fmt: skip
        """See `Store.record_charging_limit`."""
        critical = None if is_grid_critical is None else int(is_grid_critical)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO external_charging_limits(charger_id, evse_id, source,"
                " is_grid_critical, schedules, reported_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(charger_id, evse_id, source) DO UPDATE SET"
                " is_grid_critical = excluded.is_grid_critical, schedules = excluded.schedules,"
                " reported_at = excluded.reported_at",
                (charger_id, evse_id or STATION, source, critical,
                 None if schedules is None else json.dumps(schedules),
                 to_iso(timestamp) or self._now()),
            )  # fmt: skip

    def clear_charging_limit(self, charger_id: str, source: str, evse_id: int | None) -> int:
        """See `Store.clear_charging_limit`."""
        where, params = "charger_id = ? AND source = ?", list[object]([charger_id, source])
        if evse_id is not None:
            where, params = where + " AND evse_id = ?", [*params, evse_id]
        with self._write() as conn:
            return int(conn.execute(f"DELETE FROM external_charging_limits WHERE {where}",
                                    tuple(params)).rowcount)  # fmt: skip

    def list_charging_limits(self, charger_id: str) -> list[ExternalChargingLimit]:
        """See `Store.list_charging_limits`."""
        rows = self._all(
            "SELECT * FROM external_charging_limits WHERE charger_id = ? ORDER BY evse_id, source",
            (charger_id,),
        )
        for row in rows:
            row["evse_id"] = row["evse_id"] or None
            row["is_grid_critical"] = _flag(row["is_grid_critical"])
            row["schedules"] = _json(row["schedules"])
        return rows

    # L03 publish-firmware status ----------------------------------------------------------------

    def record_publish_firmware_status(
        self, charger_id: str, status: str, *, request_id: int | None = None,
        locations: list[str] | None = None, timestamp: TimeLike | None = None,
    ) -> None:  # fmt: skip
        """See `Store.record_publish_firmware_status`."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO publish_firmware_status(charger_id, status, request_id, locations,"
                " reported_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(charger_id) DO UPDATE SET"
                " status = excluded.status, request_id = excluded.request_id,"
                " locations = excluded.locations, reported_at = excluded.reported_at",
                (charger_id, status, request_id,
                 None if locations is None else json.dumps(locations),
                 to_iso(timestamp) or self._now()),
            )  # fmt: skip

    def get_publish_firmware_status(self, charger_id: str) -> PublishFirmwareStatus | None:
        """See `Store.get_publish_firmware_status`."""
        row = self._one("SELECT * FROM publish_firmware_status WHERE charger_id = ?",
                        (charger_id,))  # fmt: skip
        if row is not None:
            row["locations"] = _json(row["locations"])
        return row

    # O04 display messages -----------------------------------------------------------------------

    def record_display_messages(
        self, charger_id: str, request_id: int, messages: Iterable[Mapping[str, Any]],
        timestamp: TimeLike | None = None,
    ) -> None:  # fmt: skip
        """See `Store.record_display_messages`."""
        at = to_iso(timestamp) or self._now()
        rows = [(charger_id, int(m["id"]), request_id, json.dumps(m, sort_keys=True), at)
                for m in messages]  # fmt: skip
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO display_messages(charger_id, message_id, request_id, info,"
                " reported_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(charger_id, message_id)"
                " DO UPDATE SET request_id = excluded.request_id, info = excluded.info,"
                " reported_at = excluded.reported_at",
                rows,
            )

    def remove_display_message(self, charger_id: str, message_id: int) -> bool:
        """See `Store.remove_display_message`."""
        with self._write() as conn:
            return bool(conn.execute(
                "DELETE FROM display_messages WHERE charger_id = ? AND message_id = ?",
                (charger_id, message_id)).rowcount)  # fmt: skip

    def forget_display_messages(self, charger_id: str, *,
                                besides_request: int | None = None) -> int:  # fmt: skip
        """See `Store.forget_display_messages`."""
        where, params = "charger_id = ?", list[object]([charger_id])
        if besides_request is not None:
            where, params = where + " AND request_id <> ?", [*params, besides_request]
        with self._write() as conn:
            return int(conn.execute(f"DELETE FROM display_messages WHERE {where}",
                                    tuple(params)).rowcount)  # fmt: skip

    def list_display_messages(self, charger_id: str) -> list[DisplayMessage]:
        """See `Store.list_display_messages`."""
        rows = self._all(
            "SELECT * FROM display_messages WHERE charger_id = ? ORDER BY message_id",
            (charger_id,),
        )
        for row in rows:
            row["info"] = json.loads(row["info"])
        return rows

    # N09 customer information -------------------------------------------------------------------

    def record_customer_information(
        self, charger_id: str, request_id: int, seq_no: int, data: str, *, tbc: bool,
        generated_at: TimeLike, timestamp: TimeLike | None = None,
    ) -> bool:  # fmt: skip
        """See `Store.record_customer_information`."""
        with self._write() as conn:
            return bool(conn.execute(
                "INSERT INTO customer_information(charger_id, request_id, seq_no, data, tbc,"
                " generated_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(charger_id, request_id, seq_no) DO NOTHING",
                (charger_id, request_id, seq_no, data, int(tbc), to_iso(generated_at),
                 to_iso(timestamp) or self._now()),
            ).rowcount)  # fmt: skip

    def list_customer_information(
        self, charger_id: str, *, request_id: int | None = None
    ) -> list[CustomerInformation]:
        """See `Store.list_customer_information`."""
        where, params = "charger_id = ?", list[object]([charger_id])
        if request_id is not None:
            where, params = where + " AND request_id = ?", [*params, request_id]
        parts = self._all(
            f"SELECT * FROM customer_information WHERE {where} ORDER BY request_id, seq_no",
            tuple(params),
        )
        results: dict[int, list[dict[str, Any]]] = {}
        for part in parts:
            results.setdefault(int(part["request_id"]), []).append(part)
        return [_joined(charger_id, rid, rows) for rid, rows in results.items()]


def _joined(charger_id: str, request_id: int, parts: list[dict[str, Any]]) -> CustomerInformation:
    """One request's parts as one result: the data in seqNo order; complete once the part
    without `tbc` came and no seqNo before it is missing (N09; part 2 generic FR.05/06: the
    parts of a message split with tbc are numbered from 0)."""
    seen = {int(p["seq_no"]) for p in parts}
    last = max((int(p["seq_no"]) for p in parts if not p["tbc"]), default=None)
    end = max(seen) if last is None else last
    missing = [n for n in range(end) if n not in seen]
    return {
        "charger_id": charger_id, "request_id": request_id,
        "data": "".join(p["data"] for p in parts), "parts": len(parts),
        "complete": last is not None and not missing, "missing_seq_nos": missing,
        "generated_at": parts[0]["generated_at"], "received_at": max(p["received_at"]
                                                                     for p in parts),
    }  # fmt: skip


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


__all__ = ["STATION", "StationReportsMixin"]
