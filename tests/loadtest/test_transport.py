"""The gevent transport against a CSMS that calls the charger and leaves one CALL unanswered."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from chargebench.ocppj import OcppSession, Role, Session, serve
from loadtest._bench import ServerProcess


async def start_probing_csms() -> int:
    """Sends GetConfiguration on connect, echoes the answer in DataTransfer, ignores Heartbeat."""

    async def handler(ws) -> None:
        answered: dict = {}
        got_answer = asyncio.Event()

        async def echo(_payload: dict) -> dict:
            await got_answer.wait()
            return {"status": "Accepted", "data": json.dumps(answered)}

        async def never(_payload: dict) -> dict:
            await asyncio.Event().wait()
            return {}

        handlers = {
            "BootNotification": lambda p: {"status": "Accepted", "interval": 60,
                                           "currentTime": "2026-01-01T00:00:00.000Z"},
            "DataTransfer": echo,
            "Heartbeat": never,
        }
        session = Session(ws, OcppSession(Role.CENTRAL_SYSTEM), handlers)
        reader = session.start()
        answered.update(await session.call("GetConfiguration", {"key": ["HeartbeatInterval"]}))
        got_answer.set()
        await reader

    server = await serve(handler, "127.0.0.1", 0)
    return server.sockets[0].getsockname()[1]


def test_calls_answers_and_timeouts_are_recorded():
    """Replies wake the caller, CSMS CALLs get handler answers, a silent CSMS is a timeout."""
    with ServerProcess(start_probing_csms) as csms:
        done = subprocess.run([sys.executable, "-m", "tests.loadtest.gevent_probe",
                               str(csms.port)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["boot"] == "Accepted"
    assert result["answered"]["configurationKey"][0]["key"] == "HeartbeatInterval"
    assert result["timed_out"]
    assert result["events"] == [
        ["WS", "connect", None, False],
        ["OCPP", "BootNotification", None, True],
        ["OCPP", "DataTransfer", None, True],
        ["OCPP", "Heartbeat", "CallTimeout", False],
    ]
