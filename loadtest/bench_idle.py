"""Memory per idle OCPP session held by a server on our core and adapter.

    python -m loadtest.bench_idle --sessions 10000

The server (one process) accepts `--sessions` charge-point connections from a load process; each
sends one Heartbeat, then idles. Prints the server's RSS growth per session, measured with psutil,
against the same server's RSS before the connections.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import time

import psutil

from loadtest._bench import ServerProcess, raise_fd_limit
from loadtest.bench_core import HOST, start_chargebench

_spawn = mp.get_context("spawn")


def hold(port: int, sessions: int, ready, release) -> None:
    """Open `sessions` connections, one Heartbeat each, then hold them until released."""
    raise_fd_limit()
    from websockets.asyncio.client import connect

    async def main() -> None:
        gate = asyncio.Semaphore(200)
        sockets = []

        async def one(n: int) -> None:
            async with gate:
                ws = await connect(f"ws://{HOST}:{port}/ocpp/CP{n}", subprotocols=["ocpp1.6"],
                                   compression=None, proxy=None, open_timeout=60,
                                   ping_interval=None)
                await ws.send('[2,"1","Heartbeat",{}]')
                await ws.recv()
                sockets.append(ws)

        await asyncio.gather(*(one(n) for n in range(sessions)))
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, release.wait)
        for ws in sockets:
            ws.transport.abort()

    asyncio.run(main())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_idle",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10000)
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 15000:
        parser.error("--sessions must be between 1 and 15000 (ulimit -n is 20000)")
    with ServerProcess(start_chargebench) as server:
        process = psutil.Process(server.process.pid)
        time.sleep(0.5)
        gc.collect()
        before = process.memory_info().rss
        ready, release = _spawn.Event(), _spawn.Event()
        load = _spawn.Process(target=hold, args=(server.port, args.sessions, ready, release))
        started = time.monotonic()
        load.start()
        if not ready.wait(300):
            load.kill()
            raise SystemExit("connections did not all open within 300 s")
        connect_s = time.monotonic() - started
        time.sleep(1.0)
        after = process.memory_info().rss
        release.set()
        load.join(30)
    print(f"sessions={args.sessions}")
    print(f"connect_s={connect_s:.1f}")
    print(f"server_rss_before_kb={before // 1024}")
    print(f"server_rss_after_kb={after // 1024}")
    print(f"kb_per_session={(after - before) / 1024 / args.sessions:.1f}")


if __name__ == "__main__":
    main()
