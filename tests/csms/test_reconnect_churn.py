"""Connection churn under one charge point id (issue 15 point 4): after many connections opened
and closed, overlapping and replacing each other, a normal reconnect shows the charger online,
and the last close shows it offline. Real websockets, real SQLite."""

from __future__ import annotations

import asyncio

from chargebench.ocppj import connect
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint


async def eventually(predicate, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def churn(url: str, rounds: int, width: int) -> None:
    async def one() -> None:
        try:
            ws = await connect(url)
        except (OSError, Exception):  # a replaced handshake may be cut: churn goes on
            return
        await ws.close()

    for _ in range(rounds):
        await asyncio.gather(*(one() for _ in range(width)))


async def test_online_after_churn_then_offline_after_close(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=tmp_path / "logs",
                             call_timeout=5) as csms:  # fmt: skip
        csms.store.upsert_charger("CP1", registration_status="Accepted")
        url = csms.url("CP1")
        for attempt in range(5):
            await churn(url, rounds=10, width=30)
            async with await ScriptedChargePoint.connect(url, "CP1") as cp:
                assert (await cp.boot())["status"] == "Accepted"
                await eventually(lambda: "CP1" in csms.connections)
                await asyncio.sleep(0.05)  # the churn's last unregisters have run
                assert csms.store.get_charger("CP1")["online"], f"offline after churn {attempt}"
                assert csms.connections.get("CP1").session.ws.state.name == "OPEN"
            await eventually(lambda: "CP1" not in csms.connections)
            await eventually(lambda: not csms.store.get_charger("CP1")["online"])


async def test_stale_old_connection_never_takes_the_new_one_offline(tmp_path):
    """The heartbeat monitor judging the previous connection stale while the charger's new
    connection registers must not leave the charger marked offline."""
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             call_timeout=5) as csms:  # fmt: skip
        csms.store.upsert_charger("CP1", registration_status="Accepted")
        url = csms.url("CP1")
        failures = 0
        for _ in range(20):
            old = await ScriptedChargePoint.connect(url, "CP1")
            await eventually(lambda: "CP1" in csms.connections)
            old_conn = csms.connections.get("CP1")
            old_conn.last_seen = -1e9  # silent for ages: the monitor will judge it stale

            async def reconnect() -> ScriptedChargePoint:
                return await ScriptedChargePoint.connect(url, "CP1")

            new, _ = await asyncio.gather(reconnect(), csms.monitor.check())
            await eventually(lambda old=old_conn: csms.connections.get("CP1") not in (None, old))
            await new.boot()
            await asyncio.sleep(0.05)
            if not csms.store.get_charger("CP1")["online"]:
                failures += 1
            await old.close()
            await new.close()
            await eventually(lambda: "CP1" not in csms.connections)
        assert failures == 0


def test_offline_write_of_an_old_session_changes_nothing(tmp_path):
    """The store's compare-and-set: the late offline write of connection A after connection B
    recorded itself leaves the charger online; B's own offline write takes it offline."""
    from csms.store import open_store

    with open_store(tmp_path / "s.db") as store:
        store.upsert_charger("CP1")
        store.set_online("CP1", True, session="A")
        store.set_online("CP1", True, session="B")
        assert store.set_online("CP1", False, session="A") is False
        assert store.get_charger("CP1")["online"]
        assert store.set_online("CP1", False, session="B") is True
        assert not store.get_charger("CP1")["online"]
