"""The CSMS as a real process: an acknowledged StartTransaction survives SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from csms.store import open_store
from csms.testing import ScriptedChargePoint
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path) -> str:
    """The CSMS's --db: a SQLite file, or a fresh database on the throw-away PostgreSQL server
    (commit before reply is a promise of both backends)."""
    if request.param == "sqlite":
        return str(tmp_path / "csms.db")
    return request.getfixturevalue("pg_url")


async def start_csms(db, log_dir) -> tuple[asyncio.subprocess.Process, str]:
    """`python -m chargebench csms` on a free port; returns the process and its OCPP base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "csms", "--port", "0", "--db", str(db),
        "--log-dir", str(log_dir), stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    async with asyncio.timeout(15):
        line = (await process.stdout.readline()).decode()
    assert line.startswith("OCPP endpoint: "), line
    return process, line.removeprefix("OCPP endpoint: ").strip().removesuffix("{chargePointId}")


async def test_start_survives_sigkill_and_stop_closes_it(database, tmp_path):
    """Kill -9 right after the StartTransaction reply; after a restart on the same database the
    StopTransaction closes exactly that transaction (acknowledged means on disk)."""
    db = database
    with open_store(db) as store:
        store.upsert_charger("CP1", registration_status="Accepted")
        store.upsert_id_tag("TAG-1")
    process, base = await start_csms(db, tmp_path / "logs")
    try:
        cp = await ScriptedChargePoint.connect(base + "CP1", "CP1")
        await cp.boot()
        reply = await cp.start_transaction("TAG-1", meter_start=100)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        await cp.close()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    transaction_id = reply["transactionId"]

    process, base = await start_csms(db, tmp_path / "logs")
    try:
        # A charger reconnecting after a CSMS outage does not boot again (1.6 §4.2).
        async with await ScriptedChargePoint.connect(base + "CP1", "CP1") as cp:
            stop = await cp.stop_transaction(transaction_id, 1600, idTag="TAG-1")
            assert stop["idTagInfo"]["status"] == "Accepted"
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await process.wait() == 143  # stopped by SIGTERM: 128 + 15
    with open_store(db) as store:
        record = store.get_transaction(transaction_id)
        assert (record["meter_start"], record["meter_stop"], record["energy_wh"]) == (
            100, 1600, 1500)
        assert len(store.list_transactions(charger_id="CP1")) == 1
