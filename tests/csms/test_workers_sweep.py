"""What a stopped worker of `--workers N` left online is cleared, and only that (csms.cluster):
a worker that starts clears the chargers of workers with no PostgreSQL connection, never those of
a running one (a single process's `mark_all_offline` would), and a running worker's sweep clears
a dead one's at the second sweep that finds it gone. Two CSMS workers in this process, one real
PostgreSQL."""

from __future__ import annotations

from csms.central import CentralSystem
from csms.cluster import Cluster
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

DEAD = "w9_00000000.ocpp1.6.aaaaaaaaaaaa"  # a worker id no PostgreSQL connection carries


def online(csms: CentralSystem, cp_id: str) -> bool:
    charger = csms.store.get_charger(cp_id)
    assert charger is not None
    return charger["online"]


async def test_a_starting_worker_clears_only_stopped_workers_chargers(pg_url: str) -> None:  # noqa: F811
    """Worker 1 starts while worker 0 runs: worker 0's charger stays online, the dead one's not."""
    first = Cluster(pg_url, 0)
    async with CentralSystem(port=0, db=pg_url, log_dir=None, cluster=first) as csms:
        for cp_id, session in (("LIVE", first.session_id("ocpp1.6")), ("GONE", DEAD)):
            csms.store.upsert_charger(cp_id)
            csms.store.set_online(cp_id, True, session=session)
        async with CentralSystem(port=0, db=pg_url, log_dir=None, cluster=Cluster(pg_url, 1)):
            assert online(csms, "LIVE")
            assert not online(csms, "GONE")


async def test_a_dead_workers_chargers_go_offline_at_the_second_sweep(pg_url: str) -> None:  # noqa: F811
    """One sweep that finds a worker gone is not believed (it may be reconnecting); two are."""
    cluster = Cluster(pg_url, 0)
    async with CentralSystem(port=0, db=pg_url, log_dir=None, cluster=cluster) as csms:
        for cp_id, session in (("LIVE", cluster.session_id("ocpp2.0.1")), ("GONE", DEAD)):
            csms.store.upsert_charger(cp_id)
            csms.store.set_online(cp_id, True, session=session)
        assert await cluster.sweep() == 0
        assert online(csms, "GONE")
        assert await cluster.sweep() == 1
        assert not online(csms, "GONE") and online(csms, "LIVE")
        assert await cluster.sweep() == 0
