"""The store methods a CSMS worker of `--workers N` needs beyond `csms.store.base.Store`.

Only PostgreSQL serves several processes (SQLite is one embedded writer), so these are a mixin on
`PostgresStore` and `ClusterStore` is what a worker opens. They reuse what the store already
keeps per charger: the online flag and the session of the connection that set it. A worker's
session ids start with its worker id (`csms.cluster.session_id`), so `online_session` names the
process holding a charger's live connection, and a worker whose PostgreSQL connection is gone is
a worker that is gone (`clear_dead_sessions`).
"""

from __future__ import annotations

from typing import Any

from csms.cluster import SESSION_SEPARATOR
from csms.store.postgres import PostgresStore


class ClusterMixin:
    """Store steps of the cluster; run them as any store call (a unit of work's too)."""

    _one: Any
    _write: Any

    def online_session(self, charger_id: str) -> str | None:
        """The session of the charger's live connection as recorded, None when offline."""
        row = self._one(
            "SELECT online_session FROM chargers WHERE id = ? AND online != 0", (charger_id,)
        )
        return None if row is None else row["online_session"]

    def notify(self, channel: str, payload: str) -> None:
        """NOTIFY `channel` when the current transaction commits (never when it rolls back):
        in a unit of work, the listener hears of a write only once it is durable."""
        with self._write() as conn:
            conn.execute("SELECT pg_notify(?, ?)", (channel, payload))

    def clear_dead_sessions(self) -> int:
        """Mark offline every charger whose recorded connection belongs to no running worker
        (no PostgreSQL session carries its worker id as application_name): what a killed
        process left behind. Workers that run are untouched, unlike `mark_all_offline`, which a
        worker must not call while others serve. Returns how many were cleared."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE chargers SET online = 0, online_since = NULL, online_session = NULL"
                " WHERE online != 0 AND (online_session IS NULL OR"
                " split_part(online_session, ?, 1) NOT IN (SELECT application_name"
                " FROM pg_stat_activity WHERE application_name IS NOT NULL))",
                (SESSION_SEPARATOR,),
            )
            return int(cursor.rowcount)


    def workers_gone(self) -> set[str]:
        """Worker ids named by a live charger's recorded session that have no PostgreSQL
        connection now (`sweep` in `csms.cluster` asks twice before it believes it)."""
        with self._write() as conn:  # one snapshot of both tables
            rows = conn.execute(
                "SELECT DISTINCT split_part(online_session, ?, 1) AS worker FROM chargers"
                " WHERE online != 0 AND online_session IS NOT NULL EXCEPT"
                " SELECT application_name FROM pg_stat_activity"
                " WHERE application_name IS NOT NULL",
                (SESSION_SEPARATOR,),
            ).fetchall()
        return {row["worker"] for row in rows}

    def clear_sessions_of(self, workers: list[str]) -> int:
        """Mark offline every charger whose recorded connection belongs to one of `workers`
        (a connection recorded meanwhile by a running worker is left alone)."""
        if not workers:
            return 0
        marks = ", ".join("?" for _ in workers)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE chargers SET online = 0, online_since = NULL, online_session = NULL"
                f" WHERE online != 0 AND split_part(online_session, ?, 1) IN ({marks})",
                (SESSION_SEPARATOR, *workers),
            )
            return int(cursor.rowcount)


class ClusterStore(ClusterMixin, PostgresStore):
    """`PostgresStore` with the cluster's steps (see the module docstring)."""


def open_cluster_store(url: str, **options: Any) -> ClusterStore:
    """The `ClusterStore` at a postgresql:// URL (as `csms.store.open_store` would open it)."""
    from csms.store.opening import _libpq_url

    return ClusterStore(_libpq_url(url), **options)


__all__ = ["ClusterMixin", "ClusterStore", "open_cluster_store"]
