"""The SQLite store on a real database file: round trips, idempotence, durability."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from csms.store import NotFoundError, SchemaVersionError, SqliteStore, Store
from csms.store.metering import normalise

T0 = "2025-01-17T10:00:00Z"
T1 = "2025-01-17T11:00:00Z"
CHEAP = 2**4  # scrypt cost for tests: the real cost is exercised once, in test_default_cost


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
def store(db: Path):
    with SqliteStore(db) as s:
        s.upsert_location("LOC", "Hub")
        s.upsert_charger("CP1", location_id="LOC", vendor="V", model="M", security_profile=1)
        s.upsert_connector("CP1", 1, connector_type="Type2", max_power_w=22000)
        yield s


class TestOpening:
    def test_implements_the_interface(self, store: SqliteStore) -> None:
        """SqliteStore satisfies the Store protocol that handlers are written against."""
        assert isinstance(store, Store)

    def test_wal_and_full_sync(self, db: Path, store: SqliteStore) -> None:
        """The file is in WAL mode and commits fsync (synchronous=FULL, value 2)."""
        assert raw(db, "PRAGMA journal_mode") == "wal"  # persistent: any client sees it
        # synchronous is per connection: only the store's own connection can tell
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2

    def test_schema_version_recorded_once(self, db: Path, store: SqliteStore) -> None:
        """Reopening does not duplicate the schema_version row or lose data."""
        store.close()
        with SqliteStore(db) as again:
            assert again.get_charger("CP1") is not None
        assert raw(db, "SELECT count(*) FROM schema_version") == 1

    def test_newer_schema_refused(self, db: Path, store: SqliteStore) -> None:
        """A database written by a newer version is refused instead of being corrupted."""
        store.close()
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE schema_version SET version = 999")
        with pytest.raises(SchemaVersionError):
            SqliteStore(db)

    def test_bad_synchronous_rejected(self, db: Path) -> None:
        """Only the documented durability levels are accepted."""
        with pytest.raises(ValueError):
            SqliteStore(db, synchronous="OFF")


class TestAssets:
    def test_location_round_trip(self, store: SqliteStore) -> None:
        """A location comes back with every field; upsert replaces it."""
        store.upsert_location("L2", "Site", address="A", timezone="Asia/Kolkata", latitude=1.5,
                              longitude=2.5)  # fmt: skip
        assert store.get_location("L2") == {
            "id": "L2", "name": "Site", "address": "A", "timezone": "Asia/Kolkata",
            "latitude": 1.5, "longitude": 2.5,
        }  # fmt: skip
        store.upsert_location("L2", "Renamed")
        assert store.get_location("L2")["name"] == "Renamed"
        assert [loc["id"] for loc in store.list_locations()] == ["L2", "LOC"]
        assert store.get_location("nope") is None

    def test_charger_upsert_keeps_unspecified_fields(self, store: SqliteStore) -> None:
        """Upserting one field leaves the others as stored."""
        store.upsert_charger("CP1", serial="SN1")
        charger = store.get_charger("CP1")
        assert (charger["serial"], charger["vendor"], charger["security_profile"]) == (
            "SN1",
            "V",
            1,
        )
        assert charger["registration_status"] == "Pending"
        assert charger["online"] is False and charger["has_password"] is False

    def test_charger_list_filters(self, store: SqliteStore) -> None:
        """Chargers filter by location, online flag and registration status."""
        store.upsert_charger("CP2", registration_status="Accepted")
        store.set_online("CP2", True, T0)
        assert [c["id"] for c in store.list_chargers(online=True)] == ["CP2"]
        assert [c["id"] for c in store.list_chargers(location_id="LOC")] == ["CP1"]
        assert [c["id"] for c in store.list_chargers(registration_status="Accepted")] == ["CP2"]
        assert [c["id"] for c in store.list_chargers(limit=1, offset=1)] == ["CP2"]

    def test_password_is_hashed_and_verifies(self, db: Path, store: SqliteStore) -> None:
        """The basic-auth key is stored salted and hashed, never in clear, and verifies."""
        store.set_charger_password("CP1", "s3cret-key-0123456", n=CHEAP)
        assert store.verify_charger_password("CP1", "s3cret-key-0123456")
        assert not store.verify_charger_password("CP1", "wrong-key-01234567")
        assert not store.verify_charger_password("unknown", "s3cret-key-0123456")
        assert store.get_charger("CP1")["has_password"] is True
        assert "auth_key_hash" not in store.get_charger("CP1")
        assert b"s3cret-key-0123456" not in db.read_bytes() + Path(f"{db}-wal").read_bytes()
        store.set_charger_password("CP1", None)
        assert not store.verify_charger_password("CP1", "s3cret-key-0123456")

    def test_default_cost(self, db: Path, store: SqliteStore) -> None:
        """With the default scrypt cost the hash records n=16384 and still verifies."""
        store.set_charger_password("CP1", "another-key-0123456")
        stored = raw(db, "SELECT auth_key_hash FROM chargers")
        assert stored.startswith("scrypt$16384$8$1$")
        assert store.verify_charger_password("CP1", "another-key-0123456")

    def test_boot_heartbeat_online(self, store: SqliteStore) -> None:
        """Boot, heartbeat and online state are stored; startup clears stale online flags."""
        charger = store.record_boot("CP1", vendor="V2", model="M2", firmware_version="1.2.3",
                                    serial="SN9", timestamp=T0)  # fmt: skip
        assert (charger["vendor"], charger["firmware_version"], charger["serial"]) == (
            "V2", "1.2.3", "SN9"
        )  # fmt: skip
        assert charger["last_boot"] == "2025-01-17T10:00:00.000000Z"
        store.record_heartbeat("CP1", T1)
        store.set_online("CP1", True, T1)
        charger = store.get_charger("CP1")
        assert charger["last_heartbeat"] == charger["online_since"] == "2025-01-17T11:00:00.000000Z"
        assert charger["online"] is True
        assert store.mark_all_offline() == 1
        assert store.get_charger("CP1")["online"] is False

    def test_writes_about_unknown_charger_raise(self, store: SqliteStore) -> None:
        """Writes naming a charger that does not exist raise NotFoundError, not silently pass."""
        with pytest.raises(NotFoundError):
            store.record_boot("ghost", vendor="V", model="M")
        with pytest.raises(NotFoundError):
            store.record_heartbeat("ghost")
        with pytest.raises(NotFoundError):
            store.upsert_connector("ghost", 1)

    def test_highest_profile_remembered(self, store: SqliteStore) -> None:
        """The highest security profile ever connected at never goes down."""
        assert store.note_connected_profile("CP1", 2) == 2
        assert store.note_connected_profile("CP1", 1) == 2
        store.set_security_profile("CP1", 3)
        charger = store.get_charger("CP1")
        assert (charger["security_profile"], charger["max_profile_seen"]) == (3, 2)

    def test_status_updates_connector_and_history(self, store: SqliteStore) -> None:
        """A StatusNotification sets the connector's state and is appended to history."""
        store.record_status("CP1", 1, "Charging", timestamp=T0)
        store.record_status("CP1", 1, "Faulted", error_code="GroundFailure", info="i",
                            vendor_id="vx", vendor_error_code="E7", timestamp=T1)  # fmt: skip
        store.record_status("CP1", 0, "Available")  # connector 0 is created on the fly
        connector = store.get_connector("CP1", 1)
        assert connector["status"] == "Faulted" and connector["error_code"] == "GroundFailure"
        assert connector["vendor_error_code"] == "E7" and connector["connector_type"] == "Type2"
        assert [c["connector_id"] for c in store.list_connectors("CP1")] == [0, 1]
        store.upsert_charger("CP2")
        store.record_status("CP2", 1, "Available")
        every = [(c["charger_id"], c["connector_id"]) for c in store.list_connectors()]
        assert every == [("CP1", 0), ("CP1", 1), ("CP2", 1)]
        assert [h["status"] for h in store.status_history("CP1", 1)] == ["Faulted", "Charging"]
        assert len(store.status_history("CP1")) == 3

    def test_id_tag_round_trip(self, store: SqliteStore) -> None:
        """An id tag keeps status, expiry (canonical UTC) and parent; it can be deleted."""
        store.upsert_id_tag("GROUP")
        store.upsert_id_tag("T1", status="Blocked", expiry_date="2030-01-01T05:30:00+05:30",
                            parent_id_tag="GROUP")  # fmt: skip
        assert store.get_id_tag("T1") == {
            "id_tag": "T1", "status": "Blocked", "expiry_date": "2030-01-01T00:00:00.000000Z",
            "parent_id_tag": "GROUP",
        }  # fmt: skip
        assert [t["id_tag"] for t in store.list_id_tags(parent_id_tag="GROUP")] == ["T1"]
        assert store.delete_id_tag("T1") and not store.delete_id_tag("T1")
        assert store.get_id_tag("T1") is None

    def test_tariff_specific_then_global(self, store: SqliteStore) -> None:
        """A charger's own tariff wins, else the global fallback; rates stay exact Decimals."""
        assert store.get_tariff("CP1") is None
        store.set_tariff(None, "10.50")
        assert store.get_tariff("CP1") == {
            "charger_id": None, "rate_per_kwh": Decimal("10.50"), "currency": "INR"
        }  # fmt: skip
        store.set_tariff("CP1", Decimal("15.25"), "EUR")
        assert store.get_tariff("CP1")["rate_per_kwh"] == Decimal("15.25")
        assert store.get_tariff("CP9")["charger_id"] is None
        assert len(store.list_tariffs()) == 2

    @pytest.mark.parametrize("bad", [10.5, "abc", "-1", "NaN"])
    def test_tariff_rejects_floats_and_garbage(self, store: SqliteStore, bad: object) -> None:
        """Money never goes in as a float, a negative or a non-number."""
        with pytest.raises(ValueError):
            store.set_tariff(None, bad)  # type: ignore[arg-type]


class TestTransactions:
    def test_start_allocates_unique_increasing_ids(self, store: SqliteStore) -> None:
        """Each start gets a new integer transactionId, stored with all its fields."""
        a = store.start_transaction("CP1", 1, "TAG", 100, T0)
        b = store.start_transaction("CP1", 1, "TAG", 200, T1, id_tag_status="Blocked")
        assert isinstance(a, int) and b > a
        tx = store.get_transaction(a)
        assert (tx["charger_id"], tx["connector_id"], tx["id_tag"], tx["meter_start"]) == (
            "CP1", 1, "TAG", 100
        )  # fmt: skip
        assert tx["start_time"] == "2025-01-17T10:00:00.000000Z" and tx["status"] == "Running"
        assert store.get_transaction(b)["id_tag_status"] == "Blocked"

    def test_retried_start_returns_same_id(self, store: SqliteStore) -> None:
        """A StartTransaction replayed after a lost reply gets the id already allocated."""
        first = store.start_transaction("CP1", 1, "TAG", 100, T0)
        assert store.start_transaction("CP1", 1, "TAG", 100, "2025-01-17T10:00:00+00:00") == first
        assert len(store.list_transactions()) == 1

    def test_stop_is_idempotent(self, store: SqliteStore) -> None:
        """A second stop returns the stored result and changes nothing."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 250, T0)
        first = store.stop_transaction(tx_id, 18750, T1, reason="EVDisconnected", id_tag="TAG2")
        assert first["energy_wh"] == 18500 and first["status"] == "Stopped"
        assert (first["stop_reason"], first["id_tag_stop"]) == ("EVDisconnected", "TAG2")
        again = store.stop_transaction(tx_id, 99999, "2025-01-18T00:00:00Z", reason="Other")
        assert again == first

    def test_stop_defaults(self, store: SqliteStore) -> None:
        """Omitted reason means Local; a meter going backwards gives no energy, not a negative."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 500, T0)
        tx = store.stop_transaction(tx_id, 100, T1)
        assert tx["stop_reason"] == "Local" and tx["energy_wh"] is None

    def test_stop_unknown_transaction(self, store: SqliteStore) -> None:
        """Stopping an id the store never allocated raises NotFoundError."""
        with pytest.raises(NotFoundError):
            store.stop_transaction(4242, 1, T1)

    def test_billing_outcome_round_trip(self, store: SqliteStore) -> None:
        """Billing status, rate and amount are stored and returned as exact Decimals."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 0, T0)
        store.stop_transaction(tx_id, 8500, T1)
        store.set_transaction_billing(tx_id, "Completed", tariff_rate=Decimal("10.00"),
                                      amount=Decimal("85.00"), currency="INR")  # fmt: skip
        tx = store.get_transaction(tx_id)
        assert (tx["status"], tx["amount"], tx["tariff_rate"]) == (
            "Completed", Decimal("85.00"), Decimal("10.00")
        )  # fmt: skip
        with pytest.raises(NotFoundError):
            store.set_transaction_billing(999, "Completed")

    def test_active_and_list(self, store: SqliteStore) -> None:
        """Active lookups see only running transactions; list filters by tag, status and time."""
        old = store.start_transaction("CP1", 1, "A", 0, T0)
        store.stop_transaction(old, 10, T0)
        running = store.start_transaction("CP1", 1, "B", 10, T1)
        assert store.active_transaction("CP1", 1)["id"] == running
        assert store.active_transaction_for_tag("B")["id"] == running
        assert store.active_transaction_for_tag("A") is None
        assert [t["id"] for t in store.list_transactions()] == [running, old]
        assert [t["id"] for t in store.list_transactions(id_tag="A")] == [old]
        assert [t["id"] for t in store.list_transactions(status="Running")] == [running]
        assert [t["id"] for t in store.list_transactions(since=T1)] == [running]
        assert [t["id"] for t in store.list_transactions(until=T1)] == [old]

    def test_ids_unique_across_reopen_even_after_delete(self, db: Path, store: SqliteStore) -> None:
        """A reopened store never hands out an id again, even if the newest row was deleted."""
        first = store.start_transaction("CP1", 1, "TAG", 0, T0)
        second = store.start_transaction("CP1", 1, "TAG", 1, T1)
        store.close()
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM transactions WHERE id = ?", (second,))
        with SqliteStore(db) as again:
            third = again.start_transaction("CP1", 1, "TAG", 2, "2025-01-17T12:00:00Z")
        assert third > second > first

    def test_threads_get_distinct_ids(self, store: SqliteStore) -> None:
        """Concurrent starts from worker threads (asyncio.to_thread) never share an id."""
        ids: list[int] = []

        def start(n: int) -> None:
            ids.append(store.start_transaction("CP1", 1, f"T{n}", n, T0))

        threads = [threading.Thread(target=start, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(ids)) == 20

    def test_start_consumes_reservation(self, store: SqliteStore) -> None:
        """A transaction started on a reservation marks it Used and links it."""
        reservation = store.create_reservation("CP1", 1, "TAG", T1, parent_id_tag="G")
        tx_id = store.start_transaction("CP1", 1, "TAG", 0, T0, reservation_id=reservation)
        stored = store.get_reservation(reservation)
        assert (stored["status"], stored["transaction_id"]) == ("Used", tx_id)


class TestMeterValues:
    PAYLOAD = [
        {
            "timestamp": "2025-01-17T10:35:00Z",
            "sampledValue": [
                {"value": "5420"},  # every optional field omitted: spec defaults apply
                {"value": "230.5", "measurand": "Voltage", "unit": "V", "phase": "L1"},
                {"value": "16200", "measurand": "Current.Import", "unit": "mA"},
                {"value": "3.73", "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "5.42", "measurand": "Energy.Active.Import.Register", "unit": "kWh",
                 "context": "Sample.Clock", "location": "Inlet"},
                {"value": "AB12", "format": "SignedData"},
            ],
        }
    ]  # fmt: skip

    def test_every_sample_stored_and_normalised(self, store: SqliteStore) -> None:
        """Each sampledValue is a row, as sent plus normalised to Wh/W/A/V exactly."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 0, T0)
        assert store.add_meter_values("CP1", 1, self.PAYLOAD, transaction_id=tx_id) == 6
        rows = store.list_meter_values(transaction_id=tx_id)
        got = [(r["measurand"], r["value"], r["unit"], r["norm_value"], r["norm_unit"])
               for r in rows]  # fmt: skip
        assert got == [
            ("Energy.Active.Import.Register", "5420", None, Decimal("5420"), "Wh"),
            ("Voltage", "230.5", "V", Decimal("230.5"), "V"),
            ("Current.Import", "16200", "mA", Decimal("16.2"), "A"),
            ("Power.Active.Import", "3.73", "kW", Decimal("3730"), "W"),
            ("Energy.Active.Import.Register", "5.42", "kWh", Decimal("5420"), "Wh"),
            ("Energy.Active.Import.Register", "AB12", None, None, None),
        ]
        first = rows[0]
        assert (first["context"], first["location"], first["format"]) == (
            "Sample.Periodic", "Outlet", "Raw"
        )  # fmt: skip
        assert rows[1]["phase"] == "L1" and rows[4]["context"] == "Sample.Clock"
        assert rows[0]["timestamp"] == "2025-01-17T10:35:00.000000Z"
        assert len(store.list_meter_values(measurand="Voltage")) == 1
        assert len(store.list_meter_values(charger_id="CP1", connector_id=1, limit=2)) == 2

    @pytest.mark.parametrize(
        ("value", "measurand", "unit", "expected"),
        [
            ("1.5", "Energy.Reactive.Import.Register", "kvarh", ("1500", "varh")),
            ("300", "Temperature", "K", ("26.85", "Celsius")),
            ("212", "Temperature", "Fahrenheit", ("100", "Celsius")),
            ("55", "SoC", None, ("55", "Percent")),
            ("50.0", "Frequency", None, ("50", None)),
            ("12", "Voltage", None, ("12", "V")),
        ],
    )
    def test_normalise_units(self, value, measurand, unit, expected) -> None:
        """Unit conversions (and the measurand's unit when none is sent) are exact."""
        assert normalise(value, measurand, unit) == expected


class TestMessageLog:
    @staticmethod
    def record(n: int, **over: object) -> dict:
        base = {
            "ts": f"2025-01-17T10:00:{n:02d}.123456+00:00", "cp_id": "CP1", "dir": "cp->cs",
            "type": "CALL", "id": f"m{n}", "action": "Heartbeat", "payload": {}, "latency_ms": None,
            "session": "s1",
        }  # fmt: skip
        return {**base, **over}

    def test_batch_round_trip(self, store: SqliteStore) -> None:
        """append_log writes a batch; records come back in trace shape with their payload."""
        records = [self.record(n, payload={"n": n, "text": "₹"}) for n in range(50)]
        records.append(self.record(50, type="CALLRESULT", latency_ms=12.5, payload=[1, "x"]))
        assert store.append_log(records) == 51
        assert store.append_log([]) == 0
        got = store.query_log(limit=None)
        assert len(got) == 51
        assert {k: got[0][k] for k in records[0]} == {
            **records[0], "ts": "2025-01-17T10:00:00.123456Z"
        }  # fmt: skip
        assert got[-1]["payload"] == [1, "x"] and got[-1]["latency_ms"] == 12.5

    def test_filters_and_paging(self, store: SqliteStore) -> None:
        """Queries filter by charger, action, type, direction, time range, and page."""
        store.append_log(
            [
                self.record(1),
                self.record(2, cp_id="CP2"),
                self.record(3, action="StartTransaction"),
                self.record(4, type="CALLERROR", dir="cs->cp"),
                self.record(5),
            ]
        )
        ids = lambda rows: [r["id"] for r in rows]  # noqa: E731
        assert ids(store.query_log(cp_id="CP2")) == ["m2"]
        assert ids(store.query_log(action="StartTransaction")) == ["m3"]
        assert ids(store.query_log(type="CALLERROR")) == ["m4"]
        assert ids(store.query_log(direction="cs->cp")) == ["m4"]
        assert ids(store.query_log(msg_id="m5")) == ["m5"]
        since, until = "2025-01-17T10:00:02Z", "2025-01-17T10:00:04.123456Z"
        assert ids(store.query_log(since=since, until=until)) == ["m2", "m3"]
        assert ids(store.query_log(cp_id="CP1", limit=2, offset=1)) == ["m3", "m4"]
        assert ids(store.query_log(limit=1, newest_first=True)) == ["m5"]

    def test_batch_is_all_or_nothing(self, store: SqliteStore) -> None:
        """A bad record rolls back the whole batch."""
        with pytest.raises(KeyError):
            store.append_log([self.record(1), {"ts": T0}])
        with pytest.raises(sqlite3.IntegrityError):
            store.append_log([self.record(1), self.record(2, cp_id=None)])
        assert store.query_log() == []


class TestOperations:
    def test_firmware_deployment_history(self, store: SqliteStore) -> None:
        """Notifications move the newest open deployment and build its history; Idle does not."""
        dep = store.create_firmware_deployment("CP1", "https://fw/1.bin", T0, retries=3,
                                               retry_interval=60)  # fmt: skip
        for status in ("Downloading", "Downloaded", "Installing"):
            assert store.record_firmware_status("CP1", status, timestamp=T1) == dep
        assert store.record_firmware_status("CP1", "Idle") is None
        assert store.record_firmware_status("CP1", "Installed") == dep
        assert store.record_firmware_status("CP1", "Downloading") is None  # nothing open
        got = store.get_firmware_deployment(dep)
        assert got["status"] == "Installed" and got["retries"] == 3
        assert [h["status"] for h in got["history"]] == [
            "Pending", "Downloading", "Downloaded", "Installing", "Installed"
        ]  # fmt: skip
        assert [d["id"] for d in store.list_firmware_deployments(charger_id="CP1")] == [dep]

    def test_firmware_request_id_and_manual_status(self, store: SqliteStore) -> None:
        """A signed notification names its deployment; the CSMS can set its own statuses."""
        a = store.create_firmware_deployment("CP1", "u", T0)
        b = store.create_firmware_deployment("CP1", "u", T0)
        assert store.record_firmware_status("CP1", "Downloading", request_id=a) == a
        assert store.get_firmware_deployment(b)["status"] == "Pending"
        store.set_firmware_deployment_status(b, "SendFailed")
        assert [d["id"] for d in store.list_firmware_deployments(status="SendFailed")] == [b]
        with pytest.raises(NotFoundError):
            store.set_firmware_deployment_status(999, "Cancelled")

    def test_diagnostics_requests(self, store: SqliteStore) -> None:
        """GetDiagnostics and GetLog requests track file name and status notifications."""
        diag = store.create_diagnostics_request("CP1", "ftp://up", start_time=T0, stop_time=T1)
        log = store.create_diagnostics_request("CP1", "ftp://up", log_type="SecurityLog")
        store.set_diagnostics_file_name(diag, "diag.zip")
        assert store.record_diagnostics_status("CP1", "Uploading") == diag
        assert store.record_diagnostics_status("CP1", "Idle") is None
        assert store.record_diagnostics_status("CP1", "Uploaded", request_id=log) == log
        store.set_diagnostics_status(diag, "UploadFailed")
        got = store.get_diagnostics_request(diag)
        assert (got["file_name"], got["status"], got["start_time"]) == (
            "diag.zip", "UploadFailed", "2025-01-17T10:00:00.000000Z"
        )  # fmt: skip
        assert store.get_diagnostics_request(log)["status"] == "Uploaded"
        assert len(store.list_diagnostics_requests(charger_id="CP1")) == 2

    def test_reservations(self, store: SqliteStore) -> None:
        """Reservations get store-allocated ids and keep their status."""
        r = store.create_reservation("CP1", 1, "TAG", T1)
        store.set_reservation_status(r, "Accepted")
        assert store.get_reservation(r)["status"] == "Accepted"
        assert [x["id"] for x in store.list_reservations(charger_id="CP1", status="Accepted")] == [
            r
        ]
        with pytest.raises(NotFoundError):
            store.set_reservation_status(999, "Cancelled")

    def test_local_list_versions(self, store: SqliteStore) -> None:
        """Only an accepted SendLocalList moves the version; every attempt is logged."""
        entries = [{"idTag": "TAG", "idTagInfo": {"status": "Accepted"}}]
        assert store.get_local_list_version("CP1") is None
        store.record_local_list_update("CP1", 3, "Full", entries, "Accepted", T0)
        store.record_local_list_update("CP1", 4, "Differential", [], "VersionMismatch", T1)
        assert store.get_local_list_version("CP1") == 3
        store.set_local_list_version("CP1", 7)
        assert store.get_local_list_version("CP1") == 7
        updates = store.list_local_list_updates("CP1")
        assert [u["status"] for u in updates] == ["Accepted", "VersionMismatch"]
        assert updates[0]["entries"] == entries

    def test_charging_profiles_replace_and_clear(self, store: SqliteStore) -> None:
        """Same id or same stackLevel+purpose replaces (1.6 §5.16); clears follow §5.5."""

        def profile(pid: int, level: int, purpose: str = "TxDefaultProfile") -> dict:
            schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": []}
            return {"chargingProfileId": pid, "stackLevel": level,
                    "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
                    "chargingSchedule": schedule}  # fmt: skip

        store.record_charging_profile("CP1", 1, profile(1, 0), "Accepted", T0)
        store.record_charging_profile("CP1", 1, profile(2, 0), "Accepted", T0)  # replaces 1
        store.record_charging_profile("CP1", 1, profile(3, 1), "Rejected", T0)
        store.record_charging_profile("CP1", 0, profile(4, 0, "ChargePointMaxProfile"), "Accepted")
        active = store.list_charging_profiles("CP1")
        assert [p["profile_id"] for p in active] == [2, 4]
        assert active[0]["profile"]["chargingSchedule"]["chargingRateUnit"] == "A"
        assert len(store.list_charging_profiles("CP1", active_only=False)) == 4
        assert store.clear_charging_profiles("CP1", purpose="ChargePointMaxProfile") == 1
        assert store.clear_charging_profiles("CP1", profile_id=2) == 1
        assert store.list_charging_profiles("CP1") == []

    def test_certificates(self, store: SqliteStore) -> None:
        """Installed certificates are listed until removed."""
        store.add_certificate("CP1", "CentralSystemRootCertificate", pem="PEM", serial_number="01",
                              hash_algorithm="SHA256", issuer_key_hash="k1")  # fmt: skip
        store.add_certificate("CP1", "ChargePointCertificate", serial_number="02")
        got = store.list_certificates("CP1", certificate_type="CentralSystemRootCertificate")
        assert [c["pem"] for c in got] == ["PEM"]
        assert store.remove_certificate("CP1", serial_number="01", issuer_key_hash="k1") == 1
        assert [c["serial_number"] for c in store.list_certificates("CP1")] == ["02"]
        assert len(store.list_certificates("CP1", include_removed=True)) == 2

    def test_configuration_baseline_and_reported(self, store: SqliteStore) -> None:
        """Baselines replace or merge; reported keys upsert with their readonly flag."""
        store.set_config_baseline(
            "CP1", {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"}
        )
        store.set_config_baseline("CP1", {"HeartbeatInterval": "120"}, replace=False)
        assert store.get_config_baseline("CP1") == {
            "HeartbeatInterval": "120", "MeterValueSampleInterval": "60"
        }  # fmt: skip
        store.set_config_baseline("CP1", {"NumberOfConnectors": "2"})
        assert store.get_config_baseline("CP1") == {"NumberOfConnectors": "2"}
        store.record_reported_config("CP1", [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ], T0)  # fmt: skip
        reported = store.get_reported_config("CP1")
        assert reported["NumberOfConnectors"] == {
            "value": "2", "readonly": True, "reported_at": "2025-01-17T10:00:00.000000Z"
        }  # fmt: skip

    def test_security_events(self, store: SqliteStore) -> None:
        """Security events are kept newest first and filter by time."""
        store.add_security_event("CP1", "FirmwareUpdated", T0)
        store.add_security_event("CP1", "InvalidCentralSystemCertificate", T1, tech_info="x")
        assert [e["type"] for e in store.list_security_events(charger_id="CP1")] == [
            "InvalidCentralSystemCertificate", "FirmwareUpdated"
        ]  # fmt: skip
        assert len(store.list_security_events(since=T1)) == 1


class TestBatch:
    def test_batch_commits_together(self, store: SqliteStore) -> None:
        """Writes inside batch() become visible together when the block exits."""
        with store.batch():
            store.upsert_id_tag("A")
            store.upsert_id_tag("B")
        assert [t["id_tag"] for t in store.list_id_tags()] == ["A", "B"]

    def test_batch_rolls_back_everything(self, store: SqliteStore) -> None:
        """An exception inside batch() leaves nothing of the batch behind."""
        with pytest.raises(RuntimeError), store.batch():
            store.upsert_id_tag("A")
            raise RuntimeError
        assert store.list_id_tags() == []

    def test_failed_write_inside_batch_is_undone_alone(self, store: SqliteStore) -> None:
        """A write that fails inside a batch is rolled back to its savepoint; the rest commits."""
        with store.batch():
            store.upsert_id_tag("A")
            with pytest.raises(NotFoundError):
                store.upsert_connector("ghost", 1)
        assert [t["id_tag"] for t in store.list_id_tags()] == ["A"]


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from csms.store.sqlite import SqliteStore

    store = SqliteStore(sys.argv[1])
    tx_id = store.start_transaction("CP1", 1, "TAG", 42, "2025-01-17T10:00:00Z")
    store.append_log([{"ts": "2025-01-17T10:00:00Z", "cp_id": "CP1", "dir": "cp->cs",
                       "type": "CALL", "id": "m1", "action": "StartTransaction", "payload": {}}])
    sys.stdout.write(f"{tx_id}\\n")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # no close(), no checkpoint, no atexit
    """
)


def test_committed_write_survives_sigkill(db: Path, store: SqliteStore) -> None:
    """A transaction whose method returned is found after the writer is SIGKILLed."""
    store.close()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(db)], capture_output=True, text=True, timeout=30,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    tx_id = int(child.stdout)
    assert Path(f"{db}-wal").stat().st_size > 0  # the data lives in the WAL, not checkpointed
    with SqliteStore(db) as again:
        tx = again.get_transaction(tx_id)
        assert tx is not None and tx["meter_start"] == 42 and tx["status"] == "Running"
        assert [r["action"] for r in again.query_log()] == ["StartTransaction"]


def test_log_payload_is_json_text(db: Path, store: SqliteStore) -> None:
    """The payload column holds JSON text, readable by any SQLite client."""
    store.append_log([TestMessageLog.record(1, payload={"a": 1})])
    assert json.loads(raw(db, "SELECT payload FROM message_log")) == {"a": 1}
