"""The PostgreSQL store under real concurrency (issue 17 point 3): many connections at once.

SQLite's single writer hid read-then-write races; here every worker thread opens its OWN store,
so each is a separate PostgreSQL connection (a separate server backend process), and a barrier
releases them together. Each test asserts the invariant that a lost race would break: one
running transaction per tag, no lost wallet update, one deduction per transaction, one link per
remote start.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from csms.store import InsufficientFundsError, SchemaVersionError, open_store
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

WORKERS = 16
T0 = "2025-01-17T10:00:00Z"
ROOT = Path(__file__).resolve().parents[2]


def race(url: str, work: Callable[[Any, int], Any], workers: int = WORKERS) -> list[Any]:
    """Run `work(store, i)` in `workers` threads, each on its own connection, released together;
    the results (or exceptions) in worker order."""
    stores = [open_store(url) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            results[i] = work(stores[i], i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a worker hung"
    finally:
        for s in stores:
            s.close()
    return results


@pytest.fixture
def url(pg_url: str) -> str:  # noqa: F811  (the fixture)
    with open_store(pg_url) as store:
        store.upsert_location("LOC", "Hub")
        for n in range(WORKERS):
            store.upsert_charger(f"CP{n}", location_id="LOC", vendor="V", model="M")
            store.upsert_connector(f"CP{n}", 1)
        store.create_user("U1", "Ann", "RFID-1")
    return pg_url


def test_connections_really_are_concurrent(url: str) -> None:
    """The witness that the races below are real: the server sees WORKERS client backends."""
    def count(store: Any, i: int) -> int:
        with psycopg.connect(url) as conn:
            return int(conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchone()[0])

    assert max(race(url, count)) >= WORKERS


def test_one_tag_on_many_chargers_starts_once(url: str) -> None:
    """ConcurrentTx (1.6 §7.2): the same idTag starting at 16 chargers at once is Accepted at
    exactly one; the check and the insert are one atomic step across connections."""
    results = race(url, lambda s, i: s.begin_transaction(f"CP{i}", 1, "RFID-1", 0, T0))
    assert all(not isinstance(r, Exception) for r in results), results
    statuses = sorted(str(r.id_tag_status) for r in results)
    assert statuses.count("Accepted") == 1, statuses
    assert statuses.count("ConcurrentTx") == WORKERS - 1, statuses
    assert len({r.transaction_id for r in results}) == WORKERS  # distinct ids


def test_replayed_start_on_many_connections_is_one_transaction(url: str) -> None:
    """A StartTransaction retried on 16 connections at once allocates one transactionId."""
    results = race(url, lambda s, i: s.start_transaction("CP0", 1, "RFID-1", 7, T0))
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    with open_store(url) as store:
        assert len(store.list_transactions(charger_id="CP0")) == 1


def test_wallet_credits_lose_no_update(url: str) -> None:
    """16 top-ups of 1.00 at once leave 16.00 and 16 ledger rows whose running balances are
    1.00 .. 16.00 (a lost update would repeat one)."""
    results = race(url, lambda s, i: s.wallet_credit("U1", Decimal("1.00"), reference=f"pay-{i}"))
    assert all(not isinstance(r, Exception) for r in results), results
    with open_store(url) as store:
        assert Decimal(store.get_wallet("U1")["balance"]) == Decimal(WORKERS)
        ledger = store.list_wallet_transactions(user_id="U1")
    after = sorted(Decimal(entry["balance_after"]) for entry in ledger)
    assert after == [Decimal(n) for n in range(1, WORKERS + 1)]


def test_replayed_webhook_credits_once(url: str) -> None:
    """The same payment reference delivered on 16 connections at once is credited once."""
    race(url, lambda s, i: s.wallet_credit("U1", Decimal("5.00"), reference="pay-same"))
    with open_store(url) as store:
        assert Decimal(store.get_wallet("U1")["balance"]) == Decimal("5.00")
        assert len(store.list_wallet_transactions(user_id="U1")) == 1


def test_replayed_stop_bills_exactly_once(url: str) -> None:
    """The deduction for one stopped transaction, replayed on 16 connections, happens once."""
    with open_store(url) as store:
        store.wallet_credit("U1", Decimal("100.00"), reference="pay-0")
        tx = store.start_transaction("CP0", 1, "RFID-1", 0, T0)
        store.stop_transaction(tx, 1000, "2025-01-17T11:00:00Z")
    results = race(url, lambda s, i: s.wallet_debit_for_transaction("U1", tx, Decimal("30.00")))
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r["id"] for r in results}) == 1
    with open_store(url) as store:
        assert Decimal(store.get_wallet("U1")["balance"]) == Decimal("70.00")


def test_debits_never_overdraw(url: str) -> None:
    """16 different transactions of 30.00 against 100.00 at once: exactly 3 are paid, the rest
    are refused, and the balance is 10.00, never negative."""
    with open_store(url) as store:
        store.wallet_credit("U1", Decimal("100.00"), reference="pay-0")
        txs = [store.start_transaction(f"CP{i}", 1, f"T{i}", 0, T0) for i in range(WORKERS)]
    results = race(url, lambda s, i: s.wallet_debit_for_transaction("U1", txs[i], Decimal(30)))
    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, InsufficientFundsError)]
    assert len(paid) == 3 and len(refused) == WORKERS - 3, results
    with open_store(url) as store:
        assert Decimal(store.get_wallet("U1")["balance"]) == Decimal("10.00")


def test_remote_start_links_once(url: str) -> None:
    """One pending remote start, 16 StartTransactions linking it at once: one link wins."""
    with open_store(url) as store:
        remote = store.create_remote_start("CP0", 1, "RFID-1", T0, user_id="U1")
        txs = [store.start_transaction("CP0", 1, "RFID-1", i, T0) for i in range(WORKERS)]
    results = race(url, lambda s, i: s.link_remote_start(
        "CP0", 1, "RFID-1", txs[i], requested_since="2000-01-01T00:00:00Z"))
    assert [r for r in results if r is not None] == [remote["id"]], results
    with open_store(url) as store:
        assert store.get_remote_start(remote["id"])["status"] == "Started"


def test_concurrent_connections_of_one_charger_each_see_the_one_before(url: str) -> None:
    """`connect_charger` of one charger on many connections at once (a charger reconnecting to
    several workers): each reads the session recorded before it with the row locked, so the
    sessions form one chain: one saw the charger offline, every other saw a distinct
    predecessor, and the one recorded last is nobody's predecessor. (Unlocked, two would read
    the same predecessor and one connection would be left open, replaced by nobody.)"""
    results = race(url, lambda s, i: s.connect_charger("CP0", profile=0, session=f"s{i}")[1])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count(None) == 1, results
    seen = [r for r in results if r is not None]
    assert len(set(seen)) == len(seen) == WORKERS - 1, results
    with open_store(url) as store:
        last = store._one("SELECT online_session FROM chargers WHERE id = 'CP0'")  # type: ignore[attr-defined]
    assert last["online_session"] not in seen and last["online_session"] in {
        f"s{i}" for i in range(WORKERS)}


def test_newer_database_refused(pg_url: str) -> None:  # noqa: F811
    """A database migrated by a newer ChargeBench: `open_store` raises, `chargebench csms`
    says so in one line and exits 2 (the database is left as it was)."""
    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version(version) VALUES (999)")
    with pytest.raises(SchemaVersionError):
        open_store(pg_url)
    done = subprocess.run(
        [sys.executable, "-m", "chargebench", "csms", "--port", "0", "--db", pg_url],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode == 2, done
    assert len(done.stderr.strip().splitlines()) == 1 and "999" in done.stderr, done.stderr
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 999
