"""`chargebench csms --workers 2` as real processes on one PostgreSQL (issue 17 point 5): the
chargers spread over both workers (SO_REUSEPORT), an action sent through the one API port reaches
its charger whichever worker holds it (LISTEN/NOTIFY, a large one through the message table), a
charger that reconnects to the other worker has its old connection closed, the API lists one
fleet, and SIGTERM stops everything with 143.

The chargers are the `ocpp` package's `ocpp.v16.ChargePoint` (a peer we did not write) over plain
websockets; which worker holds a charger is read from the database (the session recorded for its
live connection starts with the worker's id).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.protocol import State
from websockets.typing import Subprotocol

from csms.api.chargers_api import FOLLOWED
from tests.csms.peer201 import station
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "workers-admin-token"
SLOW = "slow"  # a DataTransfer vendorId the peer answers after `SLOW_SECONDS`
SLOW_SECONDS = 4.0


class Peer(ChargePoint):
    """Answers DataTransfer with its own id and the data it got: proof of who was reached."""

    def __init__(self, cp_id: str, ws: websockets.ClientConnection) -> None:
        super().__init__(cp_id, ws)
        self.transfers = 0

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **more: object) -> object:
        self.transfers += 1
        if vendor_id == SLOW:
            await asyncio.sleep(SLOW_SECONDS)
        return call_result.DataTransfer(status="Accepted",
                                        data=f"{self.id}:{more.get('data', '')}")  # fmt: skip


class Charger:
    """One peer's connection and its reader task."""

    def __init__(self, cp_id: str, ws: websockets.ClientConnection) -> None:
        self.peer = Peer(cp_id, ws)
        self.ws = ws
        self.task = asyncio.get_running_loop().create_task(self.peer.start())

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[dict]:  # noqa: F811
    """`chargebench csms --workers 2` (ports 0) and its endpoints; stopped by SIGTERM after."""
    env = {**os.environ, "CHARGEBENCH_DB": pg_url, "CHARGEBENCH_ADMIN_TOKEN": TOKEN,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "chargebench", "csms", "--workers", "2", "--port", "0",
         "--api-port", "0", "--log-dir", str(tmp_path / "logs")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    info: dict = {"proc": proc, "db": pg_url}
    try:
        assert proc.stdout is not None
        for _ in range(6):
            line = proc.stdout.readline()
            if not line:
                break
            if match := re.match(r"OCPP endpoint: (ws://[^{]+)", line):
                info["ocpp"] = match[1]
            if match := re.match(r"HTTP API: (http://[^/]+)/", line):
                info["api"] = match[1]
            if line.startswith("workers:"):
                info["pids"] = [int(pid) for pid in line.split("pids ")[1].split()]
                break
        assert "ocpp" in info and "api" in info, info
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def holders(db: str) -> dict[str, str]:
    """charger id -> worker id of its live connection, as recorded."""
    with psycopg.connect(db, autocommit=True) as conn:
        rows = conn.execute("SELECT id, online_session FROM chargers WHERE online != 0")
        return {cp_id: session.split(".", 1)[0] for cp_id, session in rows}


def is_held(db: str, cp_id: str) -> bool:
    return cp_id in holders(db)


def is_closed(charger: Charger) -> bool:
    return charger.ws.state is State.CLOSED


async def connect(ocpp: str, cp_id: str) -> Charger:
    ws = await websockets.connect(f"{ocpp}{cp_id}", subprotocols=[Subprotocol("ocpp1.6")],
                                  compression=None, open_timeout=10)  # fmt: skip
    return Charger(cp_id, ws)


async def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def api(base: str, *, keep_alive: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    """An API client that opens a new TCP connection per request, so the kernel picks the
    worker each time; `keep_alive`: one connection, so one worker serves every request (and
    forwards those for the other worker's chargers)."""
    limits = httpx.Limits(max_keepalive_connections=1 if keep_alive else 0,
                          max_connections=1 if keep_alive else None)  # fmt: skip
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


async def spread(info: dict, chargers: dict[str, Charger]) -> dict[str, str]:
    """Connect chargers until both workers hold some; their holders."""
    held: dict[str, str] = {}
    for n in range(40):
        cp_id = f"CP{n:02d}"
        chargers[cp_id] = await connect(info["ocpp"], cp_id)
        await wait_until(functools.partial(is_held, info["db"], cp_id))
        held = holders(info["db"])
        if n >= 5 and len(set(held.values())) == 2:
            return held
    raise AssertionError(f"40 connections all went to one worker: {held}")


@pytest.mark.slow
async def test_two_workers_route_actions_replace_connections_and_stop(cluster: dict) -> None:
    """Both workers hold chargers; every action through the API port reaches its charger,
    small and large (over 8000 bytes), a silent one is 504; the API lists the whole fleet; a
    reconnection to the other worker closes the old connection; SIGTERM exits 143."""
    chargers: dict[str, Charger] = {}
    try:
        held = await spread(cluster, chargers)
        by_worker: dict[str, str] = {}
        for cp_id, holder in held.items():
            by_worker.setdefault(holder, cp_id)
        assert len(by_worker) == 2
        async with api(cluster["api"]) as client:
            for round_ in range(8):
                for cp_id in by_worker.values():
                    reply = await client.post(f"/api/chargers/{cp_id}/actions/DataTransfer",
                                              json={"vendorId": "test", "data": str(round_)})
                    assert reply.status_code == 200, reply.text
                    assert reply.json()["data"] == f"{cp_id}:{round_}"
            for cp_id in by_worker.values():
                assert chargers[cp_id].peer.transfers == 8
        # one API worker for both chargers: one of them is the other worker's, forwarded
        async with api(cluster["api"], keep_alive=True) as client:
            for cp_id in by_worker.values():
                big = "x" * 9000  # over PostgreSQL's NOTIFY payload limit, both ways
                reply = await client.post(f"/api/chargers/{cp_id}/actions/DataTransfer",
                                          json={"vendorId": "test", "data": big})
                assert reply.status_code == 200, reply.text
                assert reply.json()["data"] == f"{cp_id}:{big}"
            for cp_id in by_worker.values():  # no reply in time: 504, local or forwarded
                reply = await client.post(f"/api/chargers/{cp_id}/actions/DataTransfer",
                                          params={"timeout": 1}, json={"vendorId": SLOW})
                assert reply.status_code == 504, reply.text
        async with api(cluster["api"]) as client:

            # one fleet: every worker's API lists every live connection
            for _ in range(10):
                listed = (await client.get("/api/chargers", params={"limit": 100})).json()
                rows = listed["items"] if isinstance(listed, dict) else listed
                live = {row["id"] for row in rows if row.get("connection")}
                if live == set(chargers):
                    break
                await asyncio.sleep(1.2)  # the other worker's list is read every second
            assert live == set(chargers)

        # reconnect a charger until it lands on the other worker: the old one is closed
        cp_id, first = next(iter(held.items()))
        old = chargers[cp_id]
        for _ in range(20):
            new = await connect(cluster["ocpp"], cp_id)
            await wait_until(functools.partial(is_closed, old), timeout=10)
            worker: str | None = holders(cluster["db"]).get(cp_id)
            chargers[cp_id] = new
            await old.close()
            if worker is not None and worker != first:
                break
            old = new
        else:
            raise AssertionError("20 reconnections all went to the same worker")
        async with api(cluster["api"]) as client:
            reply = await client.post(f"/api/chargers/{cp_id}/actions/DataTransfer",
                                      json={"vendorId": "test", "data": "again"})
            assert reply.status_code == 200 and reply.json()["data"] == f"{cp_id}:again"

            # an independent 2.0.1 station: a report in two NotifyReport parts (B08) comes back
            # joined, whichever worker the API request reaches
            async with station(f"{cluster['ocpp']}ST201", "ST201") as st:
                await st.boot()
                for request_id in range(11, 15):
                    reply = await client.post("/api/chargers/ST201/actions/GetReport",
                                              json={"requestId": request_id})
                    assert reply.status_code == 200, reply.text
                    report = reply.json()[FOLLOWED]
                    assert (report["requestId"], report["complete"], report["parts"]) == (
                        request_id, True, 2)
                    assert [item["variable"]["name"] for item in report["reportData"]] == [
                        "HeartbeatInterval", "OfflineThreshold"]
    finally:
        for charger in chargers.values():
            await charger.close()
    proc = cluster["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 143
    stderr = proc.stderr.read()
    assert "Traceback" not in stderr, stderr


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_cluster_with_one_line(cluster: dict) -> None:
    """SIGKILL of one worker: the parent says so in one line, stops the other, exits 1."""
    proc = cluster["proc"]
    victim = cluster["pids"][1]
    os.kill(victim, signal.SIGKILL)
    assert proc.wait(30) == 1
    stderr = proc.stderr.read()
    assert "Traceback" not in stderr, stderr
    said = [line for line in stderr.splitlines() if "exited" in line]
    assert said == [f"chargebench: csms: worker 1 (pid {victim}) exited with code -9; "
                    "stopping the others"], stderr
    with contextlib.suppress(ProcessLookupError):  # the other worker stopped too
        os.kill(cluster["pids"][0], 0)
        raise AssertionError("worker 0 still runs")


def test_sqlite_with_workers_is_one_line_exit_2(tmp_path: Path) -> None:
    """SQLite is one embedded writer: --workers 2 on it is refused before anything starts."""
    done = subprocess.run(
        [sys.executable, "-m", "chargebench", "csms", "--workers", "2", "--port", "0",
         "--db", str(tmp_path / "csms.db")],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "SQLite" in lines[0] and "postgresql://" in lines[0], lines


@pytest.mark.slow
async def test_ui_events_of_every_worker(cluster: dict) -> None:
    """The operator UI's live events (`GET /ui/events`, one stream served by one worker) carry
    every worker's events: chargers connecting to either worker are all announced (the other
    worker's through LISTEN/NOTIFY), and so is a StatusNotification of each."""
    seen: list[dict] = []

    async def read(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/ui/events") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))

    chargers: dict[str, Charger] = {}
    async with api(cluster["api"], keep_alive=True) as client:
        reader = asyncio.get_running_loop().create_task(read(client))
        try:
            await asyncio.sleep(0.5)  # the stream is open before the first charger
            held = await spread(cluster, chargers)
            assert len(set(held.values())) == 2, held

            def announced() -> bool:
                return {e["cp_id"] for e in seen if e.get("kind") == "connection"} >= set(held)

            await wait_until(announced, timeout=10)
            for cp_id in held:
                peer = chargers[cp_id].peer
                boot = await peer.call(call.BootNotification(charge_point_model="M",
                                                             charge_point_vendor="V"))
                assert boot is not None and boot.status == "Accepted", boot
                assert await peer.call(call.StatusNotification(
                    connector_id=1, error_code="NoError", status="Available")) is not None

            def statuses() -> bool:
                return {e["cp_id"] for e in seen if e.get("kind") == "status"} >= set(held)

            await wait_until(statuses, timeout=10)
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            for charger in chargers.values():
                await charger.close()
