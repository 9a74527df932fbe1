"""SQLite store, part 5: how many rows each paged list matches (the API's X-Total-Count).

Each `count_*` takes the filters of the list it counts (`list_transactions`, `query_log`, ...)
and builds the same WHERE clause; one COUNT(*) query, no rows fetched.
"""

from __future__ import annotations

from typing import Any

from csms.store._sqlite_base import SqliteBase, where
from csms.store.timestamps import TimeLike, to_iso


class CountsMixin(SqliteBase):
    def _count(self, table: str, filters: dict[str, Any]) -> int:
        clause, params = where(filters)
        row = self._one(f"SELECT COUNT(*) AS n FROM {table}{clause}", params)
        return int(row["n"]) if row else 0

    def count_transactions(
        self,
        *,
        charger_id: str | None = None,
        id_tag: str | None = None,
        status: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
    ) -> int:
        return self._count("transactions", {
            "charger_id": charger_id, "id_tag": id_tag, "status": status,
            "start_time >=": to_iso(since), "start_time <": to_iso(until),
        })  # fmt: skip

    def count_log(
        self,
        *,
        cp_id: str | None = None,
        action: str | None = None,
        type: str | None = None,
        direction: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
    ) -> int:
        return self._count("message_log", {
            "cp_id": cp_id, "action": action, "type": type, "dir": direction,
            "ts >=": to_iso(since), "ts <": to_iso(until),
        })  # fmt: skip

    def count_meter_values(
        self, *, transaction_id: int | None = None, measurand: str | None = None
    ) -> int:
        return self._count(
            "meter_values", {"transaction_id": transaction_id, "measurand": measurand}
        )

    def count_wallet_transactions(
        self, *, user_id: str | None = None, type: str | None = None
    ) -> int:
        return self._count("wallet_transactions", {"user_id": user_id, "type": type})

    def count_remote_starts(
        self,
        *,
        user_id: str | None = None,
        charger_id: str | None = None,
        status: str | None = None,
    ) -> int:
        return self._count(
            "remote_starts", {"user_id": user_id, "charger_id": charger_id, "status": status}
        )
