"""What only the SQLite backend promises: WAL and fsync, its file, its schema table, the
translation of `sqlite3` errors. The one test module besides the backend that imports sqlite3:
it reads the file with a plain connection, a witness independent of the store's own."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from csms.store import (
    Conflict,
    NotFound,
    SchemaVersionError,
    Store,
    StoreUnavailable,
    open_store,
)
from csms.store.migrations import MIGRATIONS
from tests.csms.store_contract.backends import CHEAP, T0, T1


def raw(db: Path, sql: str) -> object:
    """First column of the first row, read with a plain sqlite3 connection (not the store's)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "csms.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with open_store(db) as s:
        s.upsert_charger("CP1")
        s.upsert_connector("CP1", 1)
        yield s


class TestFile:
    def test_wal_and_full_sync(self, db: Path, store: Store) -> None:
        """The file is in WAL mode and commits fsync (synchronous=FULL, value 2)."""
        assert raw(db, "PRAGMA journal_mode") == "wal"  # persistent: any client sees it
        # synchronous is per connection: only the store's own connection can tell
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # type: ignore[attr-defined]

    def test_schema_version_recorded_once(self, db: Path, store: Store) -> None:
        """Reopening does not duplicate the schema_version row or lose data."""
        store.close()
        with open_store(db) as again:
            assert again.get_charger("CP1") is not None
        assert raw(db, "SELECT count(*) FROM schema_version") == len(MIGRATIONS)

    def test_newer_schema_refused(self, db: Path, store: Store) -> None:
        """A database written by a newer version is refused instead of being corrupted."""
        store.close()
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE schema_version SET version = 999")
        with pytest.raises(SchemaVersionError):
            open_store(db)

    def test_bad_synchronous_rejected(self, db: Path) -> None:
        """Only the documented durability levels are accepted."""
        with pytest.raises(ValueError):
            open_store(db, synchronous="OFF")

    def test_password_never_in_the_file(self, db: Path, store: Store) -> None:
        """The basic-auth key is stored salted and hashed, never in clear."""
        store.set_charger_password("CP1", "s3cret-key-0123456", n=CHEAP)
        assert b"s3cret-key-0123456" not in db.read_bytes() + Path(f"{db}-wal").read_bytes()

    def test_default_cost(self, db: Path, store: Store) -> None:
        """With the default scrypt cost the hash records n=16384 and still verifies."""
        store.set_charger_password("CP1", "another-key-0123456")
        stored = raw(db, "SELECT auth_key_hash FROM chargers")
        assert isinstance(stored, str) and stored.startswith("scrypt$16384$8$1$")
        assert store.verify_charger_password("CP1", "another-key-0123456")

    def test_ids_unique_across_reopen_even_after_delete(self, db: Path, store: Store) -> None:
        """A reopened store never hands out an id again, even if the newest row was deleted."""
        first = store.start_transaction("CP1", 1, "TAG", 0, T0)
        second = store.start_transaction("CP1", 1, "TAG", 1, T1)
        store.close()
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM transactions WHERE id = ?", (second,))
        with open_store(db) as again:
            third = again.start_transaction("CP1", 1, "TAG", 2, "2025-01-17T12:00:00Z")
        assert third > second > first

    def test_log_payload_is_json_text(self, db: Path, store: Store) -> None:
        """The payload column holds JSON text, readable by any SQLite client."""
        store.append_log([{"ts": T0, "cp_id": "CP1", "dir": "cp->cs", "type": "CALL",
                           "id": "m1", "action": "Heartbeat", "payload": {"a": 1}}])  # fmt: skip
        assert json.loads(str(raw(db, "SELECT payload FROM message_log"))) == {"a": 1}

    def test_a_database_from_before_gains_the_session_column(self, db: Path, store: Store) -> None:
        """Stores written before the compare-and-set open and work (the column is added)."""
        store.close()
        with sqlite3.connect(db) as conn:
            conn.execute("ALTER TABLE chargers DROP COLUMN online_session")
        with open_store(db) as again:
            again.set_online("CP1", True, session="A")
            assert again.set_online("CP1", False, session="A") is True


    def test_a_database_of_version_6_keeps_its_serials_as_registered(self, db: Path,
                                                                     store: Store) -> None:
        """Migration 8 on a file written before it: the serial each charger had (which the
        operator or a boot wrote: it cannot be told any more) becomes its registered serial, so
        a station certificate that admitted it before still does; the new tables are made."""
        store.upsert_charger("CP1", serial="SN-OLD")
        store.close()
        with sqlite3.connect(db) as conn:
            conn.execute("ALTER TABLE chargers DROP COLUMN registered_serial")
            for table in ("external_charging_limits", "publish_firmware_status",
                          "display_messages", "customer_information"):  # fmt: skip
                conn.execute(f"DROP TABLE {table}")
            conn.execute("DELETE FROM schema_version WHERE version = 8")
        with open_store(db) as again:
            assert again.get_charger("CP1")["registered_serial"] == "SN-OLD"
            assert again.list_charging_limits("CP1") == []
        assert raw(db, "SELECT max(version) FROM schema_version") == 8


class TestTranslatedErrors:
    """Driver errors leave the backend as `csms.store.errors` classes, never as sqlite3's."""

    def test_unique_violation_is_a_conflict(self, store: Store) -> None:
        store.create_user("U1", "Asha", "RFID-1", email="a@example.com")
        with pytest.raises(Conflict) as caught:
            store.create_user("U2", "Ravi", "RFID-2", email="a@example.com")
        assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
        assert store.get_user("U2") is None and store.get_id_tag("RFID-2") is None

    def test_foreign_key_violation_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFound):
            store.upsert_connector("ghost", 1)

    def test_a_write_the_database_refuses_is_unavailable(self, store: Store) -> None:
        """A real SQLite refusal (a read-only connection: what a full or failing disk gives)
        arrives as StoreUnavailable, and the store works again once the cause is gone."""
        conn = store._conn  # type: ignore[attr-defined]
        conn.execute("PRAGMA query_only = ON")
        with pytest.raises(StoreUnavailable) as caught:
            store.record_heartbeat("CP1", T0)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        conn.execute("PRAGMA query_only = OFF")
        store.record_heartbeat("CP1", T0)
        assert store.get_charger("CP1")["last_heartbeat"] == "2025-01-17T10:00:00.000000Z"

    def test_an_unopenable_file_is_unavailable(self, tmp_path: Path) -> None:
        with pytest.raises(StoreUnavailable):
            open_store(tmp_path / "no-such-dir" / "csms.db")
