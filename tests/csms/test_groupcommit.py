"""Group commit (csms.groupcommit, Store.run_group): many calls, one transaction, each alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from csms.groupcommit import GroupCommitter, one_by_one
from csms.store import NotFoundError, StoreUnavailable, open_store


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
        outcomes = store.run_group([
            lambda: store.record_heartbeat("CP1", "2025-01-17T10:00:00Z"),
            lambda: store.record_heartbeat("NOPE", "2025-01-17T10:00:00Z"),
            lambda: store.get_charger("CP1")["last_heartbeat"],
        ])  # fmt: skip
        assert outcomes[0] == (True, None)
        assert not outcomes[1][0] and isinstance(outcomes[1][1], NotFoundError)
        # the third call sees the first one's write, in the same transaction
        assert outcomes[2] == (True, "2025-01-17T10:00:00.000000Z")
        assert committed_heartbeat(store.path, "CP1") == "2025-01-17T10:00:00.000000Z"

    def test_partial_write_of_failing_call_rolled_back(self, store):
        """A call that wrote, then raised, leaves none of its writes (its savepoint)."""

        def half_then_fail() -> None:
            store.record_heartbeat("CP1", "2025-01-17T11:00:00Z")
            raise RuntimeError("boom")

        outcomes = store.run_group([half_then_fail])
        assert not outcomes[0][0]
        assert committed_heartbeat(store.path, "CP1") is None

    def test_one_by_one_fallback(self):
        """A store without run_group still gets (ok, value) per call."""
        assert one_by_one([lambda: 1, lambda: 1 / 0])[0] == (True, 1)
        assert isinstance(one_by_one([lambda: 1 / 0])[0][1], ZeroDivisionError)


class TestGroupCommitter:
    async def test_results_after_commit(self, store):
        """Concurrent callers get their results, which are committed when they see them."""
        committer = GroupCommitter(store)
        try:
            ids = [f"CP{n}" for n in range(2, 52)]
            await asyncio.gather(*(committer.run(store.upsert_charger, i) for i in ids))

            async def beat(charger_id: str) -> str | None:
                await committer.run(store.record_heartbeat, charger_id, "2025-01-17T10:00:00Z")
                return committed_heartbeat(store.path, charger_id)

            seen = await asyncio.gather(*(beat(i) for i in ids))
            assert set(seen) == {"2025-01-17T10:00:00.000000Z"}
            assert committer.calls == 100
            with pytest.raises(NotFoundError):
                await committer.run(store.record_heartbeat, "NOPE")
        finally:
            await committer.close()

    async def test_failed_commit_fails_the_group(self):
        """When the COMMIT fails, every call of the group gets the error: nothing is acked."""

        class DiskFull:
            def run_group(self, calls):
                raise StoreUnavailable("database or disk is full")

        committer = GroupCommitter(DiskFull())
        try:
            results = await asyncio.gather(committer.run(lambda: 1), committer.run(lambda: 2),
                                           return_exceptions=True)  # fmt: skip
            assert all(isinstance(r, StoreUnavailable) for r in results)
        finally:
            await committer.close()
