"""A fast scripted CSMS on the session core: answers every charge-point-initiated 1.6 action.

bench_core's `start_chargebench` answers Heartbeat only; load users also boot, authorize and run
transactions, so this one answers those too, always positively, with no store behind it. It is
the stand-in wherever the built-in CSMS (`csms/`) is not available, and the ceiling to compare
the built-in one against. Start it in its own process: `ServerProcess(start_scripted_csms)`.
"""

from __future__ import annotations

import itertools

from chargebench.ocppj import OcppSession, Role, Session, serve
from loadtest.bench_core import HOST
from loadtest.messages import now

_ACCEPTED_TAG = {"idTagInfo": {"status": "Accepted"}}


def handler_table(heartbeat_interval: int = 300) -> dict:
    """Handlers for every action a 1.6 charge point initiates; transaction ids per process."""
    transaction_ids = itertools.count(1)
    return {
        "BootNotification": lambda p: {
            "status": "Accepted", "currentTime": now(), "interval": heartbeat_interval},
        "Heartbeat": lambda p: {"currentTime": now()},
        "StatusNotification": lambda p: {},
        "Authorize": lambda p: _ACCEPTED_TAG,
        "StartTransaction": lambda p: {"transactionId": next(transaction_ids), **_ACCEPTED_TAG},
        "StopTransaction": lambda p: _ACCEPTED_TAG,
        "MeterValues": lambda p: {},
        "DataTransfer": lambda p: {"status": "Accepted"},
        "DiagnosticsStatusNotification": lambda p: {},
        "FirmwareStatusNotification": lambda p: {},
    }


async def start_scripted_csms(port: int = 0, heartbeat_interval: int = 300) -> int:
    """Serve on 127.0.0.1:`port` (0: any free port) and return the port."""
    handlers = handler_table(heartbeat_interval)

    async def handler(ws) -> None:
        await Session(ws, OcppSession(Role.CENTRAL_SYSTEM), handlers).run()

    server = await serve(handler, HOST, port, backlog=2048)
    return server.sockets[0].getsockname()[1]
