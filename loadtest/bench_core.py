"""OCPP round trips per second: raw websockets vs the `ocpp` package vs our session core.

    python -m loadtest.bench_core --clients 100 --seconds 10
    python -m loadtest.bench_core --clients 100 --seconds 10 --ocpp both   # 1.6 beside 2.0.1

Each server runs in its own process on 127.0.0.1; one load process drives it with `--clients`
raw websocket clients, each sending a Heartbeat CALL (by default) and waiting for the reply, for
`--seconds`.
(a) raw websockets echo (json parse + reply): the ceiling; (b) the `ocpp` package's ChargePoint
(`ocpp.v16` or `ocpp.v201`) with its defaults; (c) our core and asyncio adapter with full
validation of request and reply, in the version agreed in the handshake (one port speaks both,
as the CSMS does).

`--ocpp 2.0.1` runs the same three over the subprotocol "ocpp2.0.1": the clients send 2.0.1
Heartbeats (HeartbeatRequest is `{}` in 2.0.1 as in 1.6, G02; the reply's currentTime too), the
`ocpp` package serves with `ocpp.v201`, our core validates against the 2.0.1 schemas (draft-06).
`--ocpp both` measures every server in 1.6 and then in 2.0.1, back to back in the same run, and
prints the figures side by side with the ratio 2.0.1 / 1.6 (issue 18: within 20 %).

`--mix charging` replaces the Heartbeat by a charging session's messages, each client repeating
them in turn: 1.6 StatusNotification, StartTransaction, MeterValues (energy, power, current,
voltage), StopTransaction; 2.0.1 their equivalents StatusNotification (evseId,
connectorStatus), TransactionEvent Started, Updated (the same four samples), Ended. Every server
answers them (the raw echo with its one reply); the figures count round trips of any CALL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from loadtest._bench import ServerProcess, raise_fd_limit, run_in_process, side_by_side

HOST = "127.0.0.1"

#: the versions benchmarked, by the name `--ocpp` takes, and their OCPP-J subprotocols
#: (OCPP-J 1.6 §3.1.2, OCPP-J 2.0.1 §3.1.2 Table 1)
SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}

_ACCEPTED = {"status": "Accepted"}
_TAG = "LOADTEST"


def mix_calls(mix: str, ocpp: str) -> list[str]:
    """The CALLs a client repeats in turn, each as the tail of its frame after the message id:
    `"Action",{payload}]`. Payloads from `loadtest.messages`, valid against the schemas."""
    from loadtest import messages as m

    calls: list[tuple[str, dict]]
    if mix == "heartbeat":
        calls = [("Heartbeat", {})]  # 1.6 §6.29, 2.0.1 G02: the request is empty in both
    elif ocpp == "1.6":
        calls = [
            ("StatusNotification", m.status_notification(1, "Charging")),
            ("StartTransaction", m.start_transaction(1, _TAG, 1000)),
            ("MeterValues", m.meter_values(1, 1, 1500, 7400.0)),
            ("StopTransaction", m.stop_transaction(1, _TAG, 2000)),
        ]
    else:
        calls = [
            ("StatusNotification", m.status_notification_201(1, 1, "Occupied")),
            ("TransactionEvent", m.transaction_event("Started", 0, "tx-1", "Authorized",
                                                     id_tag=_TAG)),
            ("TransactionEvent", m.transaction_event("Updated", 1, "tx-1", "MeterValuePeriodic",
                                                     meter=m.meter_value_201(1500, 7400.0))),
            ("TransactionEvent", m.transaction_event("Ended", 2, "tx-1", "StopAuthorized",
                                                     id_tag=_TAG, stopped_reason="Local")),
        ]
    return [f'"{action}",{json.dumps(payload, separators=(",", ":"))}]'
            for action, payload in calls]


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


async def start_python_ocpp(ocpp: str = "1.6") -> int:
    """The `ocpp` package's central system for version `ocpp` ("1.6" or "2.0.1")."""
    import logging

    from ocpp.routing import on
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed
    from websockets.typing import Subprotocol

    if ocpp == "1.6":
        from ocpp.v16 import ChargePoint, call_result
    else:
        from ocpp.v201 import ChargePoint, call_result

    logging.getLogger("ocpp").setLevel(logging.WARNING)

    class CentralSystem(ChargePoint):
        @on("Heartbeat")
        def on_heartbeat(self):
            return call_result.Heartbeat(current_time=_now())

        @on("StatusNotification")
        def on_status_notification(self, **_):
            return call_result.StatusNotification()

        @on("StartTransaction")  # 1.6
        def on_start_transaction(self, **_):
            return call_result.StartTransaction(transaction_id=1, id_tag_info=_ACCEPTED)

        @on("MeterValues")  # 1.6
        def on_meter_values(self, **_):
            return call_result.MeterValues()

        @on("StopTransaction")  # 1.6
        def on_stop_transaction(self, **_):
            return call_result.StopTransaction(id_tag_info=_ACCEPTED)

        @on("TransactionEvent")  # 2.0.1
        def on_transaction_event(self, id_token=None, **_):
            return call_result.TransactionEvent(id_token_info=_ACCEPTED if id_token else None)

    async def handler(ws) -> None:
        with contextlib.suppress(ConnectionClosed):
            await CentralSystem(ws.request.path.strip("/"), ws).start()

    server = await serve(
        handler, HOST, 0, compression=None, subprotocols=[Subprotocol(SUBPROTOCOLS[ocpp])],
        backlog=1024
    )
    return server.sockets[0].getsockname()[1]


def _handlers_201() -> dict:
    """Answers to the 2.0.1 CALLs of both mixes (1.6: the scripted CSMS's table)."""
    return {
        "Heartbeat": lambda payload: {"currentTime": _now()},
        "StatusNotification": lambda payload: {},
        # idTokenInfo where the event carries an idToken (E01.FR.10-12)
        "TransactionEvent": lambda payload: (
            {"idTokenInfo": _ACCEPTED} if "idToken" in payload else {}),
    }


async def start_chargebench() -> int:
    """Our core on a port that speaks 1.6 and 2.0.1; each session in the agreed version."""
    from chargebench.ocppj import OcppSession, Role, Session, serve, version_for
    from loadtest.scripted_csms import handler_table

    handlers = {"1.6": handler_table(), "2.0.1": _handlers_201()}

    async def handler(ws) -> None:
        version = version_for(ws.subprotocol)
        core = OcppSession(Role.CENTRAL_SYSTEM, version=version)
        await Session(ws, core, handlers[version.name]).run()

    server = await serve(handler, HOST, 0, backlog=1024)
    return server.sockets[0].getsockname()[1]


def drive(port: int, clients: int, seconds: float, warmup: float,
          subprotocol: str = "ocpp1.6", negotiates: bool = True,
          calls: list[str] | None = None) -> float:
    """Round trips per second over `seconds`, after `warmup`; runs in the load process.
    The clients offer `subprotocol` only; a server that `negotiates` must agree to it (the raw
    echo agrees to none), so a figure is never measured in another version than printed. Each
    client sends `calls` (`mix_calls`; default the Heartbeat) in turn, one at a time; a
    CALLERROR stops the run, so a figure never counts refusals."""
    tails = calls or ['"Heartbeat",{}]']
    raise_fd_limit()
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    async def main() -> float:
        counting = False
        count = 0
        stop_at = 0.0

        async def client(n: int) -> None:
            nonlocal count
            url = f"ws://{HOST}:{port}/CP{n}"
            async with connect(
                url, subprotocols=[Subprotocol(subprotocol)], compression=None, proxy=None
            ) as ws:
                if negotiates and ws.subprotocol != subprotocol:
                    raise RuntimeError(f"server agreed to {ws.subprotocol}, not {subprotocol}")
                i = 0
                while time.monotonic() < stop_at or not counting:
                    i += 1
                    await ws.send(f'[2,"{i}",{tails[i % len(tails)]}')
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


def measure(start: Callable[..., Any], clients: int, seconds: float, warmup: float,
            ocpp: str = "1.6", mix: str = "heartbeat") -> float:
    """Round trips per second of the server `start` starts, driven in `ocpp` with `mix`."""
    args = (ocpp,) if start is start_python_ocpp else ()
    with ServerProcess(start, *args) as server:
        return run_in_process(drive, server.port, clients, seconds, warmup, SUBPROTOCOLS[ocpp],
                              start is not start_raw, mix_calls(mix, ocpp))


#: the measured figures, in print order, and the servers behind them
SERVERS = (
    ("raw_rt_s", start_raw),
    ("python_ocpp_rt_s", start_python_ocpp),
    ("chargebench_rt_s", start_chargebench),
)


def derived(results: dict[str, float]) -> dict[str, str]:
    """The printed figures of one version: round trips/s, then our core against the two
    baselines measured in the same run (as far as they were measured)."""
    figures = {name: f"{value:.0f}" for name, value in results.items()}
    ours = results.get("chargebench_rt_s")
    if ours is not None:
        figures["vs_python_ocpp"] = f"{ours / results['python_ocpp_rt_s']:.2f}"
        figures["ratio_vs_raw"] = f"{ours / results['raw_rt_s']:.2f}"
    return figures


def log(message: str) -> None:
    print(f"[bench_core {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_one(ocpp: str, args: argparse.Namespace, results: dict[str, float]) -> None:
    """Measure every server in `ocpp`, printing each figure as it is measured."""
    if ocpp != "1.6":
        print(f"ocpp={ocpp}", flush=True)
    if args.mix != "heartbeat":
        print(f"mix={args.mix}", flush=True)
    for name, start in SERVERS:
        results[name] = measure(start, args.clients, args.seconds, args.warmup, ocpp, args.mix)
        print(f"{name}={results[name]:.0f}", flush=True)
    figures = derived(results)
    for name in ("vs_python_ocpp", "ratio_vs_raw"):
        print(f"{name}={figures[name]}", flush=True)


def run_both(args: argparse.Namespace, v16: dict[str, float], v201: dict[str, float]) -> None:
    """Each server in both versions back to back, so a change in the machine's load falls on
    both halves of a ratio alike; which version goes first alternates from server to server
    and round to round (a first measurement tends to differ). With `--rounds` N each figure is
    the median of its N measurements. Progress on stderr."""
    samples: dict[tuple[str, str], list[float]] = {}
    order = [("1.6", v16), ("2.0.1", v201)]
    for round_ in range(args.rounds):
        for n, (name, start) in enumerate(SERVERS):
            for ocpp, results in order if (n + round_) % 2 == 0 else order[::-1]:
                value = measure(start, args.clients, args.seconds, args.warmup, ocpp, args.mix)
                samples.setdefault((ocpp, name), []).append(value)
                results[name] = statistics.median(samples[ocpp, name])
                log(f"round {round_ + 1} {name} ocpp {ocpp} mix {args.mix}: {value:.0f}")


def print_both(v16: dict[str, float], v201: dict[str, float], mix: str, rounds: int) -> None:
    if mix != "heartbeat":
        print(f"mix={mix}", flush=True)
    if rounds > 1:
        print(f"rounds={rounds} (medians)", flush=True)
    for line in side_by_side(derived(v16), derived(v201), ("1.6", "2.0.1", "2.0.1/1.6")):
        print(line, flush=True)
    if "chargebench_rt_s" in v201:
        print(f"chargebench_201_vs_16={v201['chargebench_rt_s'] / v16['chargebench_rt_s']:.2f}",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_core", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--ocpp", choices=("1.6", "2.0.1", "both"), default="1.6",
                        help="the OCPP version the clients speak (default 1.6); both: 1.6 and "
                        "2.0.1 in the same run, side by side with the ratio 2.0.1/1.6")
    parser.add_argument("--mix", choices=("heartbeat", "charging"), default="heartbeat",
                        help="the CALLs each client repeats: the Heartbeat (default) or a "
                        "charging session's status and transaction messages, in the version's "
                        "own form")
    parser.add_argument("--rounds", type=int, default=1,
                        help="with --ocpp both: measure every figure this many times, "
                        "alternating which version goes first, and print the medians")
    parser.add_argument("--min-ratio", type=float, default=None, metavar="R",
                        help="with --ocpp both: exit 1 when our core's 2.0.1/1.6 round trips "
                        "ratio is below R (issue 18 asks for within 20 %%: 0.8)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients and --seconds must be positive, --warmup not negative")
    if args.rounds < 1 or (args.rounds > 1 and args.ocpp != "both"):
        parser.error("--rounds takes a positive count; more than 1 needs --ocpp both")
    if args.min_ratio is not None and (args.ocpp != "both" or args.min_ratio <= 0):
        parser.error("--min-ratio takes a positive ratio and needs --ocpp both")
    v16: dict[str, float] = {}
    v201: dict[str, float] = {}
    try:
        if args.ocpp != "both":
            run_one(args.ocpp, args, v16)
            return 0
        run_both(args, v16, v201)
    except KeyboardInterrupt:
        if args.ocpp == "both" and v16:
            print_both(v16, v201, args.mix, args.rounds)  # what finished
        print("bench_core: interrupted", file=sys.stderr)
        return 130
    print_both(v16, v201, args.mix, args.rounds)
    ratio = v201["chargebench_rt_s"] / v16["chargebench_rt_s"]
    if args.min_ratio is not None and ratio < args.min_ratio:
        print(f"bench_core: 2.0.1/1.6 = {ratio:.2f}, below --min-ratio {args.min_ratio}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
