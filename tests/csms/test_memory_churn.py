"""What a closed connection leaves behind (issue 15 point 3): the CSMS as a real process, 2,000
connections opened and closed (each leaving a CALL whose answer comes after the close, as a
fuzzer or a flaky charger does), measured against a baseline taken in the same run."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from csms.testing import ScriptedChargePoint

pytestmark = pytest.mark.slow

WARM_UP, CHURN, WIDTH = 300, 2000, 50


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def churn(base: str, first: int, count: int) -> None:
    async def one(n: int) -> None:
        cp_id = f"CHURN{n}"
        cp = await ScriptedChargePoint.connect(base + cp_id, cp_id)
        try:
            await cp.boot()
            # leave without waiting: the replies (and their trace records) come after the close
            for k in range(10):
                await cp.ws.send(f'[2,"late{k}","Heartbeat",{{}}]')
        finally:
            cp.ws.transport.abort()
            await asyncio.gather(cp._reader, return_exceptions=True)

    for start in range(first, first + count, WIDTH):
        await asyncio.gather(*(one(n) for n in range(start, start + WIDTH)))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
async def test_closed_connections_leave_nothing_behind(tmp_path):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "csms", "--port", "0", "--db",
        str(tmp_path / "csms.db"), "--log-dir", str(tmp_path / "logs"),
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        async with asyncio.timeout(15):
            line = (await process.stdout.readline()).decode()
        base = line.removeprefix("OCPP endpoint: ").strip().removesuffix("{chargePointId}")
        await churn(base, 0, WARM_UP)
        await asyncio.sleep(2)  # the trace log's sweep (1 s) and flush have run
        files, rss = open_files(process.pid), rss_kib(process.pid)
        await churn(base, WARM_UP, CHURN)
        await asyncio.sleep(2)
        files_after, rss_after = open_files(process.pid), rss_kib(process.pid)
        print(f"open files {files} -> {files_after}; RSS {rss // 1024} -> {rss_after // 1024} MiB"
              f" ({rss_after / rss:.2f}x) over {CHURN} connections")
        # before the fix: one open charger.<ID>.log per closed connection (+2,000)
        assert files_after - files < 50
        assert rss_after <= rss * 1.25
    finally:
        process.terminate()
        async with asyncio.timeout(10):
            await process.wait()


async def test_what_the_registry_and_trace_log_keep_per_closed_connection(tmp_path):
    """In process, deterministic: a record that arrives after its charger left (a late reply)
    reopens charger.<ID>.log, and the sweep closes it again; a `wait_for` that timed out
    leaves no waiter behind."""
    from chargebench.trace import TraceRecord
    from csms.central import CentralSystem

    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=tmp_path / "logs",
                             call_timeout=2) as csms:  # fmt: skip
        csms.trace.sweep_interval = 3600  # this test sweeps by hand
        for n in range(50):
            cp_id = f"GONE{n}"
            async with await ScriptedChargePoint.connect(csms.url(cp_id), cp_id) as cp:
                await cp.boot()
            while cp_id in csms.connections:
                await asyncio.sleep(0.01)
            csms.trace(TraceRecord("2026-01-01T00:00:00.000000+00:00", cp_id, "cs->cp",
                                   "CALLRESULT", "late", "Heartbeat", {}, 1.0, "s"))  # fmt: skip
        assert len(csms.trace._files) == 50  # each late record reopened a file
        assert csms.trace.sweep() == 50
        assert csms.trace._files == {}
        for n in range(20):
            with pytest.raises(TimeoutError):
                await csms.connections.wait_for(f"NEVER{n}", timeout=0.01)
        assert csms.connections._waiters == {}
