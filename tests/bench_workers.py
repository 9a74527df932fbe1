"""`python -m tests.bench_workers [N]`: the cost of routing an action to another worker (issue 17
point 5), measured in one run on a throw-away PostgreSQL (loadtest/pgserver.py).

Starts `chargebench csms --workers 2`, connects `ocpp.v16` chargers until both workers hold one,
then sends N DataTransfer actions to each through ONE kept-alive API connection (so one worker
serves them all): one charger is that worker's own (a local call), the other is the other
worker's (forwarded over LISTEN/NOTIFY). Which is which is read from the same API connection
(`/api/chargers`: another worker's connection is listed with its `worker`). Prints both latencies
and their ratio.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from loadtest.pgserver import PgServer
from tests.csms.test_workers import TOKEN, Charger, connect, holders


async def measure(url: str, count: int) -> None:
    env = {**os.environ, "CHARGEBENCH_DB": url, "CHARGEBENCH_ADMIN_TOKEN": TOKEN}
    logs = tempfile.mkdtemp(prefix="bench-workers-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chargebench", "csms", "--workers", "2", "--port", "0",
         "--api-port", "0", "--log-dir", logs],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    info: dict[str, str] = {}
    for _ in range(5):
        line = proc.stdout.readline()
        if match := re.match(r"OCPP endpoint: (ws://[^{]+)", line):
            info["ocpp"] = match[1]
        if match := re.match(r"HTTP API: (http://[^/]+)/", line):
            info["api"] = match[1]
    chargers: dict[str, Charger] = {}
    try:
        for n in range(40):
            cp_id = f"B{n:02d}"
            chargers[cp_id] = await connect(info["ocpp"], cp_id)
            await asyncio.sleep(0.2)
            held = holders(url)
            if len(set(held.values())) == 2:
                break
        one_each: dict[str, str] = {}
        for cp_id, worker in held.items():
            one_each.setdefault(worker, cp_id)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=info["api"], timeout=30, limits=limits,
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            await asyncio.sleep(1.5)  # the other worker's connections are read every second
            listed = (await client.get("/api/chargers", params={"limit": 100})).json()
            rows = listed["items"] if isinstance(listed, dict) else listed
            remote = {row["id"] for row in rows if (row.get("connection") or {}).get("worker")}
            times: dict[str, list[float]] = {cp_id: [] for cp_id in one_each.values()}
            for i in range(count + 1):
                for cp_id in one_each.values():
                    began = time.perf_counter()
                    reply = await client.post(f"/api/chargers/{cp_id}/actions/DataTransfer",
                                              json={"vendorId": "bench", "data": str(i)})
                    assert reply.status_code == 200 and reply.json()["data"] == f"{cp_id}:{i}"
                    if i:  # the first round warms up
                        times[cp_id].append((time.perf_counter() - began) * 1000)
        (local,) = [cp_id for cp_id in times if cp_id not in remote]
        (forwarded,) = [cp_id for cp_id in times if cp_id in remote]

        def figures(values: list[float]) -> tuple[float, float]:
            return statistics.median(values), statistics.quantiles(values, n=20)[18]

        local_median, local_p95 = figures(times[local])
        far_median, far_p95 = figures(times[forwarded])
        print(f"{count} DataTransfer actions each through one API connection (one worker):")
        print(f"  local     ({local}): median {local_median:.1f} ms, p95 {local_p95:.1f} ms")
        print(f"  forwarded ({forwarded}): median {far_median:.1f} ms, p95 {far_p95:.1f} ms")
        print(f"  forwarded/local: median x{far_median / local_median:.2f}, "
              f"p95 x{far_p95 / local_p95:.2f}")
    finally:
        for charger in chargers.values():
            await charger.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with PgServer.start() as server:
        asyncio.run(measure(server.create_database("bench_workers"), count))


if __name__ == "__main__":
    main()
