"""Contract: the unit of work (all or nothing, explicit) and durability (every backend)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from csms.groupcommit import run_group
from csms.store import NotFound, Store, StoreError
from tests.csms.store_contract.backends import Backend


class TestUnitOfWork:
    def test_commits_together(self, store: Store, backend: Backend) -> None:
        """Writes made on the unit of work are seen by another connection once the block exits,
        not before."""
        with backend.open() as other:
            with store.unit_of_work() as uow:
                uow.upsert_id_tag("A")
                uow.upsert_id_tag("B")
                assert [t["id_tag"] for t in uow.list_id_tags()] == ["A", "B"]  # its own writes
            assert [t["id_tag"] for t in other.list_id_tags()] == ["A", "B"]

    def test_rolls_back_everything(self, store: Store) -> None:
        """An exception leaving the block leaves nothing of it behind."""
        with pytest.raises(RuntimeError), store.unit_of_work() as uow:
            uow.upsert_id_tag("A")
            raise RuntimeError
        assert store.list_id_tags() == []

    def test_failed_write_inside_is_undone_alone(self, store: Store) -> None:
        """A write that fails inside is rolled back to its savepoint; the rest commits."""
        with store.unit_of_work() as uow:
            uow.upsert_id_tag("A")
            with pytest.raises(NotFound):
                uow.upsert_connector("ghost", 1)
        assert [t["id_tag"] for t in store.list_id_tags()] == ["A"]

    def test_a_write_on_the_store_inside_is_refused(self, store: Store) -> None:
        """The transaction is explicit: a write on the store itself inside the block does not
        join it silently (nor commit on its own in the middle of it)."""
        with store.unit_of_work() as uow:
            uow.upsert_id_tag("A")
            with pytest.raises(StoreError):
                store.upsert_id_tag("B")
        assert [t["id_tag"] for t in store.list_id_tags()] == ["A"]

    def test_the_unit_of_work_ends_with_its_block(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.upsert_id_tag("A")
        with pytest.raises(StoreError):
            uow.upsert_id_tag("B")
        store.upsert_id_tag("B")  # the store itself works again
        assert len(store.list_id_tags()) == 2

    def test_another_thread_neither_joins_nor_is_rolled_back(self, store: Store) -> None:
        """A write from another thread during the block is its own transaction: the block's
        rollback leaves it standing (SQLite: it waits for the block; a server: it runs beside)."""
        inside = threading.Event()

        def other() -> None:
            inside.wait(10)
            store.upsert_id_tag("OTHER")

        thread = threading.Thread(target=other)
        thread.start()
        with pytest.raises(RuntimeError), store.unit_of_work() as uow:
            uow.upsert_id_tag("A")
            inside.set()
            time.sleep(0.2)  # the other write is attempted while the block is open
            raise RuntimeError
        thread.join(10)
        assert [t["id_tag"] for t in store.list_id_tags()] == ["OTHER"]

    def test_not_nested(self, store: Store) -> None:
        with store.unit_of_work(), pytest.raises(StoreError):
            store.unit_of_work().__enter__()


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from csms.store import open_store

    store = open_store(sys.argv[1])
    store.upsert_charger("CP1")
    tx_id = store.start_transaction("CP1", 1, "TAG", 42, "2025-01-17T10:00:00Z")
    store.append_log([{"ts": "2025-01-17T10:00:00Z", "cp_id": "CP1", "dir": "cp->cs",
                       "type": "CALL", "id": "m1", "action": "StartTransaction", "payload": {}}])
    sys.stdout.write(f"{tx_id}\\n")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # no close(), no checkpoint, no atexit
    """
)


class TestGroupCommit:
    """Group commit (`csms.groupcommit.run_group`) is one unit of work per group, each call on
    it in a savepoint of its own (the savepoints the PostgreSQL backend sends lazily,
    csms.store.postgres._savepoint_step)."""

    def test_a_failing_call_leaves_nothing_and_the_others_stand(self, store: Store) -> None:
        store.upsert_id_tag("PARENT")

        def half_then_fail(uow: Store) -> None:
            uow.upsert_id_tag("HALF")
            uow.upsert_connector("ghost", 1)  # NotFound: this call's writes are undone

        def recover_inside(uow: Store) -> str:
            uow.upsert_id_tag("BEFORE")
            with contextlib.suppress(NotFound):  # the failed write alone is undone; goes on
                uow.upsert_connector("ghost", 1)
            uow.upsert_id_tag("AFTER")
            return "done"

        outcomes = run_group(store, [
            lambda uow: uow.upsert_id_tag("FIRST"), half_then_fail, recover_inside,
            lambda uow: uow.get_id_tag("HALF"), lambda uow: uow.upsert_id_tag("LAST"),
        ])  # fmt: skip
        assert [ok for ok, _ in outcomes] == [True, False, True, True, True], outcomes
        assert isinstance(outcomes[1][1], NotFound)
        assert outcomes[2][1] == "done" and outcomes[3][1] is None
        tags = sorted(t["id_tag"] for t in store.list_id_tags())
        assert tags == ["AFTER", "BEFORE", "FIRST", "LAST", "PARENT"]

    def test_calls_without_statements_and_an_empty_group(self, store: Store) -> None:
        assert run_group(store, []) == []
        assert run_group(store, [lambda uow: 1, lambda uow: None]) == [(True, 1), (True, None)]
        store.upsert_id_tag("A")  # the store works after them
        assert [t["id_tag"] for t in store.list_id_tags()] == ["A"]

    def test_calls_write_on_the_unit_of_work_only(self, store: Store, backend: Backend) -> None:
        """The group is explicit: a call gets the unit of work; a write on the store itself
        from inside the group fails (alone) instead of joining it by being on its thread;
        nothing of the group is visible to another connection before its one COMMIT, all of
        it after; the unit of work is dead once the group is done."""
        given: list[Store] = []
        with backend.open() as other:

            def first(uow: Store) -> None:
                given.append(uow)
                uow.upsert_id_tag("A")

            def unseen_yet(uow: Store) -> bool:
                return other.get_id_tag("A") is None  # another connection: not committed

            outcomes = run_group(store, [
                first, lambda uow: store.upsert_id_tag("ON-THE-STORE"), unseen_yet,
            ])  # fmt: skip
            assert outcomes[0] == (True, None) and outcomes[2] == (True, True), outcomes
            assert not outcomes[1][0] and isinstance(outcomes[1][1], StoreError)
            assert given[0] is not store
            assert [t["id_tag"] for t in other.list_id_tags()] == ["A"]
        with pytest.raises(StoreError):
            given[0].upsert_id_tag("LATE")
        with pytest.raises(StoreError), store.savepoint():  # no unit of work: no savepoint
            pass


def test_committed_write_survives_sigkill(backend: Backend) -> None:
    """A transaction whose method returned is found after the writer is SIGKILLed."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, backend.url], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    tx_id = int(child.stdout)
    with backend.open() as again:
        tx = again.get_transaction(tx_id)
        assert tx is not None and tx["meter_start"] == 42 and tx["status"] == "Running"
        assert [r.action for r in again.query_log()] == ["StartTransaction"]
