"""Group commit (csms.groupcommit): many calls, one unit of work, each alone in a savepoint."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from csms.groupcommit import GroupCommitter, run_group
from csms.store import NotFoundError, StoreError, StoreUnavailable, open_store


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path / "csms.db") as opened:
        opened.upsert_charger("CP1")
        yield opened


def committed_heartbeat(db: str, charger_id: str) -> str | None:
    """What another connection (a restarted CSMS) reads: only committed data."""
    with open_store(db) as other:
        charger = other.get_charger(charger_id)
    return charger and charger["last_heartbeat"]


class TestRunGroup:
    def test_failing_call_fails_alone(self, store):
        """A call that raises leaves nothing behind; the calls around it still commit."""
        outcomes = run_group(store, [
            lambda uow: uow.record_heartbeat("CP1", "2025-01-17T10:00:00Z"),
            lambda uow: uow.record_heartbeat("NOPE", "2025-01-17T10:00:00Z"),
            lambda uow: uow.get_charger("CP1")["last_heartbeat"],
        ])  # fmt: skip
        assert outcomes[0] == (True, None)
        assert not outcomes[1][0] and isinstance(outcomes[1][1], NotFoundError)
        # the third call sees the first one's write, in the same transaction
        assert outcomes[2] == (True, "2025-01-17T10:00:00.000000Z")
        assert committed_heartbeat(store.path, "CP1") == "2025-01-17T10:00:00.000000Z"

    def test_partial_write_of_failing_call_rolled_back(self, store):
        """A call that wrote, then raised, leaves none of its writes (its savepoint)."""

        def half_then_fail(uow) -> None:
            uow.record_heartbeat("CP1", "2025-01-17T11:00:00Z")
            raise RuntimeError("boom")

        outcomes = run_group(store, [half_then_fail])
        assert not outcomes[0][0]
        assert committed_heartbeat(store.path, "CP1") is None

    def test_the_group_is_explicit(self, store):
        """A call writes on the unit of work it is given: a write on the store itself, from
        the group's own thread, does not join the group silently; it fails, alone."""
        outcomes = run_group(store, [
            lambda uow: store.record_heartbeat("CP1", "2025-01-17T10:00:00Z"),
            lambda uow: uow.upsert_charger("CP2"),
        ])  # fmt: skip
        assert not outcomes[0][0] and isinstance(outcomes[0][1], StoreError)
        assert outcomes[1][0]
        assert committed_heartbeat(store.path, "CP1") is None
        assert committed_heartbeat(store.path, "CP2") is None  # CP2 exists: committed


class TestGroupCommitter:
    async def test_results_after_commit(self, store):
        """Concurrent callers get their results, which are committed when they see them."""
        committer = GroupCommitter(store)
        try:
            ids = [f"CP{n}" for n in range(2, 52)]
            await asyncio.gather(*(committer.run(lambda uow, i=i: uow.upsert_charger(i))
                                   for i in ids))

            async def beat(charger_id: str) -> str | None:
                await committer.run(lambda uow: uow.record_heartbeat(charger_id,
                                                                     "2025-01-17T10:00:00Z"))
                return committed_heartbeat(store.path, charger_id)

            seen = await asyncio.gather(*(beat(i) for i in ids))
            assert set(seen) == {"2025-01-17T10:00:00.000000Z"}
            assert committer.calls == 100
            with pytest.raises(NotFoundError):
                await committer.run(lambda uow: uow.record_heartbeat("NOPE"))
        finally:
            await committer.close()

    async def test_failed_commit_fails_the_group(self):
        """When the COMMIT fails, every call of the group gets the error: nothing is acked."""

        class DiskFull:
            @contextlib.contextmanager
            def unit_of_work(self):
                yield self
                raise StoreUnavailable("database or disk is full")  # the COMMIT

            def savepoint(self):
                return contextlib.nullcontext()

        committer = GroupCommitter(DiskFull())  # type: ignore[arg-type]
        try:
            results = await asyncio.gather(committer.run(lambda uow: 1),
                                           committer.run(lambda uow: 2),
                                           return_exceptions=True)  # fmt: skip
            assert all(isinstance(r, StoreUnavailable) for r in results)
        finally:
            await committer.close()
