"""OCPP 2.0.1 under real concurrency on PostgreSQL (issue 17 point 3): the ConcurrentTx check
and the insert of a station's transaction are one store step.

Independent stations (`tests/csms/peer201.py`, the `ocpp` package's v201 ChargePoint) on their
own websocket connections, split over two CSMS instances that share one PostgreSQL database
(each its own store connection and group-commit worker: two writers, as two processes would
be), all start a transaction with the same idToken at once. Checked separately (a lookup, then
the insert) every one of them would see "no running transaction" and be Accepted.
"""

from __future__ import annotations

import asyncio
import contextlib

from ocpp.v201.enums import TransactionEventEnumType as Event
from ocpp.v201.enums import TriggerReasonEnumType as Trigger

from csms.central import CentralSystem
from csms.store import open_store
from tests.csms.peer201 import station
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

STATIONS = 12


async def test_one_token_started_at_many_stations_at_once_is_accepted_once(
    pg_url: str,  # noqa: F811  (the fixture)
) -> None:
    with open_store(pg_url) as store:
        store.upsert_id_tag("TAG-OK")
    async with contextlib.AsyncExitStack() as stack:
        instances = [
            await stack.enter_async_context(
                CentralSystem(port=0, db=pg_url, log_dir=None, call_timeout=5))
            for _ in range(2)
        ]  # fmt: skip
        stations = [
            await stack.enter_async_context(station(instances[n % 2].url(f"CS{n}"), f"CS{n}"))
            for n in range(STATIONS)
        ]  # fmt: skip
        await asyncio.gather(*(cs.boot() for cs in stations))
        replies = await asyncio.gather(*(
            cs.event(Event.started, f"tx-{n}", 0, Trigger.authorized, token="TAG-OK")
            for n, cs in enumerate(stations)
        ))  # fmt: skip
    statuses = [reply.id_token_info["status"] for reply in replies]
    assert sorted(statuses) == ["Accepted"] + ["ConcurrentTx"] * (STATIONS - 1), statuses
    with open_store(pg_url) as store:
        rows = [store.get_transaction(store.station_transaction(f"CS{n}", f"tx-{n}"))
                for n in range(STATIONS)]  # fmt: skip
    # what was answered is what was stored: one Running transaction for the token
    assert [(row["id_tag_status"], row["status"]) for row in rows] == [
        ("Accepted", "Running") if status == "Accepted" else ("ConcurrentTx", "NotAuthorized")
        for status in statuses
    ]
