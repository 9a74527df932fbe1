"""Heartbeat round trips per second: raw websockets vs the `ocpp` package vs our session core.

    python -m loadtest.bench_core --clients 100 --seconds 10

Each server runs in its own process on 127.0.0.1; one load process drives it with `--clients`
raw websocket clients, each sending a Heartbeat CALL and waiting for the reply, for `--seconds`.
(a) raw websockets echo (json parse + reply): the ceiling; (b) the `ocpp` package's ChargePoint
with its defaults; (c) our core and asyncio adapter with full validation of request and reply.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

from loadtest._bench import ServerProcess, raise_fd_limit, run_in_process

HOST = "127.0.0.1"


def _now() -> str:
    from datetime import UTC, datetime

    from chargebench.clock import iso

    return iso(datetime.now(UTC))


async def start_raw() -> int:
    from websockets.asyncio.server import serve

    async def handler(ws) -> None:
        async for text in ws:
            message = json.loads(text)
            await ws.send(json.dumps([3, message[1], {"currentTime": _now()}]))

    server = await serve(handler, HOST, 0, compression=None, backlog=1024)
    return server.sockets[0].getsockname()[1]


async def start_python_ocpp() -> int:
    import logging

    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    logging.getLogger("ocpp").setLevel(logging.WARNING)

    class CentralSystem(ChargePoint):
        @on("Heartbeat")
        def on_heartbeat(self):
            return call_result.Heartbeat(current_time=_now())

    async def handler(ws) -> None:
        with contextlib.suppress(ConnectionClosed):
            await CentralSystem(ws.request.path.strip("/"), ws).start()

    server = await serve(
        handler, HOST, 0, compression=None, subprotocols=["ocpp1.6"], backlog=1024
    )
    return server.sockets[0].getsockname()[1]


async def start_chargebench() -> int:
    from chargebench.ocppj import OcppSession, Role, Session, serve

    handlers = {"Heartbeat": lambda payload: {"currentTime": _now()}}

    async def handler(ws) -> None:
        await Session(ws, OcppSession(Role.CENTRAL_SYSTEM), handlers).run()

    server = await serve(handler, HOST, 0, backlog=1024)
    return server.sockets[0].getsockname()[1]


def drive(port: int, clients: int, seconds: float, warmup: float) -> float:
    """Round trips per second over `seconds`, after `warmup`; runs in the load process."""
    raise_fd_limit()
    from websockets.asyncio.client import connect

    async def main() -> float:
        counting = False
        count = 0
        stop_at = 0.0

        async def client(n: int) -> None:
            nonlocal count
            url = f"ws://{HOST}:{port}/CP{n}"
            async with connect(
                url, subprotocols=["ocpp1.6"], compression=None, proxy=None
            ) as ws:
                i = 0
                while time.monotonic() < stop_at or not counting:
                    i += 1
                    await ws.send(f'[2,"{i}","Heartbeat",{{}}]')
                    reply = json.loads(await ws.recv())
                    if reply[0] != 3:
                        raise RuntimeError(f"unexpected reply {reply}")
                    if counting:
                        count += 1

        stop_at = time.monotonic() + warmup + seconds + 3600
        tasks = [asyncio.create_task(client(n)) for n in range(clients)]
        await asyncio.sleep(warmup)
        counting = True
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(*tasks)
        return count / (time.monotonic() - started)

    return asyncio.run(main())


def measure(start, clients: int, seconds: float, warmup: float) -> float:
    with ServerProcess(start) as server:
        return run_in_process(drive, server.port, clients, seconds, warmup)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_core", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    results = {}
    for name, start in (
        ("raw_rt_s", start_raw),
        ("python_ocpp_rt_s", start_python_ocpp),
        ("chargebench_rt_s", start_chargebench),
    ):
        results[name] = measure(start, args.clients, args.seconds, args.warmup)
        print(f"{name}={results[name]:.0f}", flush=True)
    print(f"vs_python_ocpp={results['chargebench_rt_s'] / results['python_ocpp_rt_s']:.2f}")
    print(f"ratio_vs_raw={results['chargebench_rt_s'] / results['raw_rt_s']:.2f}")


if __name__ == "__main__":
    main()
