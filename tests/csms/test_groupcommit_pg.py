"""Group commit on PostgreSQL (issue 17.4): several groups at once, each on its own connection;
a group tried first without savepoints; the write lock only for serialising writes.

Real server (tests/pgserver.py), real connections. The invariants of the SQLite tests
(tests/csms/test_groupcommit.py) are asserted here through the PostgreSQL path, which differs:
a group runs first without savepoints and again with them when anything in it failed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from csms.groupcommit import GroupCommitter, run_group
from csms.store import Conflict, NotFoundError, StoreError, StoreUnavailable, open_store
from csms.store.postgres import WRITE_LOCK
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

T0 = "2025-01-17T10:00:00Z"


@pytest.fixture
def url(pg_url: str) -> str:  # noqa: F811  (the fixture)
    with open_store(pg_url) as store:
        for n in (1, 2):
            store.upsert_charger(f"CP{n}")
        store.create_user("U1", "Ann", "RFID-1")
    return pg_url


def heartbeat(url: str, charger_id: str) -> str | None:
    """What another connection reads: committed data only."""
    with open_store(url) as other:
        charger = other.get_charger(charger_id)
    return charger and charger["last_heartbeat"]


def test_a_failing_call_fails_alone(url: str) -> None:
    """The no-savepoint try fails as a whole; the group runs again with savepoints: the calls
    around the failing one commit, the failing one leaves nothing, even its first write."""

    def half_then_fail(uow: Any) -> None:
        uow.record_heartbeat("CP2", T0)
        raise RuntimeError("boom")

    with open_store(url) as store:
        outcomes = run_group(store, [
            lambda uow: uow.record_heartbeat("CP1", T0),
            lambda uow: uow.record_heartbeat("NOPE", T0),
            half_then_fail,
            lambda uow: uow.get_charger("CP1")["last_heartbeat"],
        ])  # fmt: skip
    assert outcomes[0] == (True, None)
    assert not outcomes[1][0] and isinstance(outcomes[1][1], NotFoundError)
    assert not outcomes[2][0] and isinstance(outcomes[2][1], RuntimeError)
    assert outcomes[3] == (True, "2025-01-17T10:00:00.000000Z")
    assert heartbeat(url, "CP1") == "2025-01-17T10:00:00.000000Z"
    assert heartbeat(url, "CP2") is None


def test_a_caught_failure_is_undone_and_loses_nothing_else(url: str) -> None:
    """Calls that catch a failure and go on. Without savepoints, a caught store error left the
    server's transaction aborted (its COMMIT would silently roll back: success reported for
    nothing), and a caught exception from a savepoint block left that block's write in place.
    Either spoils the no-savepoint try; the group runs again with savepoints: the undone write
    stays undone, and every other write stands."""

    def undo_own_write(uow: Any) -> str:
        try:
            with uow.savepoint():
                uow.record_heartbeat("CP2", T0)
                raise ValueError("changed my mind")
        except ValueError:
            return "undone"

    def tolerant(uow: Any) -> str:  # last: no later statement meets the aborted transaction
        try:
            uow.create_user("U2", "Bob", "RFID-1")  # the RFID card is taken: Conflict
        except Conflict:
            return "taken"
        return "created"

    with open_store(url) as store:
        outcomes = run_group(store, [
            lambda uow: uow.record_heartbeat("CP1", T0), undo_own_write, tolerant,
        ])  # fmt: skip
        assert outcomes == [(True, None), (True, "undone"), (True, "taken")]
        outcomes = run_group(store, [lambda uow: uow.upsert_charger("CP3"), tolerant])
        assert outcomes == [(True, None), (True, "taken")]
    assert heartbeat(url, "CP1") == "2025-01-17T10:00:00.000000Z"
    assert heartbeat(url, "CP2") is None
    with open_store(url) as other:
        assert other.get_charger("CP3") is not None


def test_groups_run_side_by_side_so_a_slow_call_holds_only_its_own(url: str) -> None:
    """Issue 17.4: one slow call (a lock wait, a slow charger's write) holds its own group; the
    other workers go on committing everyone else's calls meanwhile."""
    release = threading.Event()

    def slow(uow: Any) -> str:
        uow.record_heartbeat("CP1", T0)
        release.wait(10)
        return "slow"

    async def main() -> tuple[list[str], float]:
        with open_store(url) as store:
            db = GroupCommitter(store)
            assert db.workers > 1
            slow_call = asyncio.ensure_future(db.run(slow))
            await asyncio.sleep(0.2)  # the slow call's group is running
            began = time.monotonic()
            quick = [await db.run(lambda uow: uow.record_heartbeat("CP2", T0)) for _ in range(20)]
            took = time.monotonic() - began
            assert not slow_call.done()
            release.set()
            order = [await slow_call]
            await db.close()
        return order + [str(q) for q in quick], took

    results, took = asyncio.run(main())
    assert results == ["slow"] + ["None"] * 20
    assert took < 5, f"20 quick calls took {took:.1f} s behind a slow one"
    assert heartbeat(url, "CP1") == heartbeat(url, "CP2") == "2025-01-17T10:00:00.000000Z"


def test_a_deadlocked_call_runs_again(url: str) -> None:
    """Two groups writing the same two rows in opposite orders deadlock; PostgreSQL aborts one
    (WriteConflict), which is undone and queued again: both calls succeed, both writes stand."""
    both_first = threading.Barrier(2)

    def writer(first: str, second: str, stamp: str) -> Any:
        tries = []

        def call(uow: Any) -> int:
            tries.append(1)
            uow.record_heartbeat(first, stamp)
            if len(tries) == 1:
                both_first.wait(10)  # each holds its first row: the cycle is certain
            uow.record_heartbeat(second, stamp)
            return len(tries)

        return call

    async def main() -> list[int]:
        with open_store(url) as store:
            db = GroupCommitter(store, max_group=1, workers=2)
            results = await asyncio.gather(
                db.run(writer("CP1", "CP2", "2025-01-17T10:00:00Z")),
                db.run(writer("CP2", "CP1", "2025-01-17T11:00:00Z")),
            )
            await db.close()
        return list(results)

    tries = asyncio.run(main())
    assert sorted(tries) == [1, 2], tries  # one ran once, the deadlock victim twice
    assert heartbeat(url, "CP1") == heartbeat(url, "CP2")  # the retried call wrote last


def test_only_serialising_writes_take_the_write_lock(url: str) -> None:
    """With WRITE_LOCK held elsewhere, a charger's own row writes (LOCK_FREE) still commit,
    while a wallet credit (a read-then-write) waits for the lock and then commits."""
    with psycopg.connect(url, autocommit=True) as holder, open_store(url) as store:
        holder.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        store.record_status("CP1", 1, "Available")
        store.record_heartbeat("CP1", T0)
        credited = threading.Event()
        thread = threading.Thread(
            target=lambda: (store.wallet_credit("U1", Decimal("5")), credited.set()))
        thread.start()
        assert not credited.wait(1.0), "a wallet write ran without the write lock"
        holder.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
        assert credited.wait(10)
        thread.join(10)
        assert Decimal(store.get_wallet("U1")["balance"]) == Decimal("5")


def test_connection_lost_mid_unit_fails_to_its_end(url: str) -> None:
    """A unit of work whose connection is cut: its later writes and its COMMIT fail (never
    run in autocommit on a new connection), nothing of it is committed, and the store works
    again afterwards."""
    with open_store(url) as store, psycopg.connect(url, autocommit=True) as admin:
        with pytest.raises(StoreError), store.unit_of_work() as uow:
            uow.record_heartbeat("CP1", T0)
            pid = uow._conn._conn.info.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            time.sleep(0.2)
            with pytest.raises(StoreUnavailable):
                uow.record_heartbeat("CP2", T0)
        assert heartbeat(url, "CP1") is None and heartbeat(url, "CP2") is None
        store.record_heartbeat("CP2", T0)
    assert heartbeat(url, "CP2") == "2025-01-17T10:00:00.000000Z"


def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first words of every round trip the store's connections make from now on."""
    from csms.store import postgres

    sent: list[str] = []
    original = postgres._PgConnection._attempt

    def counted(self: Any, sql: str, send: Any, **kwargs: Any) -> Any:
        sent.append(" ".join(sql.split()[:2]))
        return original(self, sql, send, **kwargs)

    monkeypatch.setattr(postgres._PgConnection, "_attempt", counted)
    return sent


def statuses(url: str, charger_id: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(
            "SELECT connector_id, status FROM connectors WHERE charger_id = %s"
            " ORDER BY connector_id", (charger_id,))]


def test_deferred_writes_ride_with_the_commit(url: str, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:  # fmt: skip
    """A group of StatusNotifications and MeterValues (`DEFERRED`: nothing read back) is one
    round trip, its COMMIT; a read after a deferred write sees it (sent first, in order); and
    nothing is visible to others before the COMMIT (commit before reply)."""
    sent = round_trips(monkeypatch)
    sample = [{"timestamp": T0, "sampledValue": [{"value": "10"}]}]
    with open_store(url) as store:
        sent.clear()  # the open's own
        outcomes = run_group(store, [
            lambda uow: uow.record_status("CP1", 0, "Available"),
            lambda uow: uow.record_status("CP1", 1, "Preparing"),
            lambda uow: uow.add_meter_values("CP1", 1, sample),
            lambda uow: uow.record_status("CP2", 1, "Available"),
        ])  # fmt: skip
        assert [ok for ok, _ in outcomes] == [True] * 4 and outcomes[2][1] == 1
        assert sent == ["COMMIT"], sent
        assert statuses(url, "CP1") == [(0, "Available"), (1, "Preparing")]
        sent.clear()
        outcomes = run_group(store, [
            lambda uow: uow.record_status("CP2", 1, "Charging"),
            lambda uow: uow.list_connectors("CP2")[0]["status"],
        ])  # fmt: skip
        assert outcomes == [(True, None), (True, "Charging")], outcomes
        assert len(sent) == 2, sent  # the read (with the write before it), the COMMIT


def test_a_failing_deferred_write_fails_alone(url: str) -> None:
    """A deferred write that fails (a status of a charger that does not exist: its foreign key)
    surfaces at the COMMIT; the group runs again with savepoints, where nothing is deferred:
    that call alone fails with NotFound, the others commit."""
    with open_store(url) as store:
        outcomes = run_group(store, [
            lambda uow: uow.record_status("CP1", 1, "Available"),
            lambda uow: uow.record_status("NOPE", 1, "Available"),
            lambda uow: uow.record_status("CP2", 1, "Faulted"),
        ])  # fmt: skip
    assert outcomes[0] == (True, None) and outcomes[2] == (True, None), outcomes
    assert not outcomes[1][0] and isinstance(outcomes[1][1], NotFoundError), outcomes
    assert statuses(url, "CP1") == [(1, "Available")]
    assert statuses(url, "CP2") == [(1, "Faulted")]
    assert statuses(url, "NOPE") == []


def test_reads_before_any_write_cost_no_transaction(url: str, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:  # fmt: skip
    """A group whose calls only read (a MeterValues' check of its transaction, admission's
    lookup) sends its reads alone: no BEGIN, no COMMIT round trip. Once a write was queued,
    reads run inside the transaction and see it; a write method's own reads (FOR UPDATE)
    are never sent early."""
    sent = round_trips(monkeypatch)
    with open_store(url) as store:
        sent.clear()
        outcomes = run_group(store, [lambda uow: uow.get_charger("CP1")["id"],
                                     lambda uow: uow.charger_or_case_twin("cp2")[1]])
        assert outcomes == [(True, "CP1"), (True, "CP2")] and len(sent) == 2, sent
        assert not [s for s in sent if "BEGIN" in s or "COMMIT" in s], sent
        sent.clear()
        outcomes = run_group(store, [
            lambda uow: uow.get_charger("CP1")["online"],
            lambda uow: uow.connect_charger("CP1", profile=0, session="s1")[1],
            lambda uow: uow.get_charger("CP1")["online"],
        ])  # fmt: skip
        assert outcomes == [(True, False), (True, None), (True, True)], outcomes
        assert sent[-1] == "COMMIT" and len(sent) == 4, sent
        assert store.get_charger("CP1")["online"] is True
