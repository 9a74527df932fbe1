"""Peers for the suite's own tests: mutants of the reference peers, and peers that do nothing.

A mutant wraps the websocket of a correct peer and rewrites what it sends; the conformance cases
must fail against each, naming the expected and the received frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve


class RewritingSocket:
    """Passes frames through `rewrite` on the way out; None drops the frame."""

    def __init__(self, ws: Any, rewrite: Callable[[str], str | None]) -> None:
        self.ws, self.rewrite = ws, rewrite

    async def send(self, text: str) -> None:
        out = self.rewrite(text)
        if out is not None:
            await self.ws.send(out)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    def __aiter__(self):
        return self.ws.__aiter__()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ws, name)


def _wrong_code(text: str) -> str:
    frame = json.loads(text)
    if frame[0] == 4:
        frame[2] = "GenericError"
    return json.dumps(frame)


def _no_errors(text: str) -> str | None:
    return None if json.loads(text)[0] == 4 else text


#: name -> rewrite of outgoing frames
MUTANTS: dict[str, Callable[[str], str | None]] = {
    "wrong-code": _wrong_code,  # every CALLERROR says GenericError
    "ignores-malformed": _no_errors,  # never sends a CALLERROR
}


def mutant(name: str) -> Callable[[Any], RewritingSocket]:
    rewrite = MUTANTS[name]
    return lambda ws: RewritingSocket(ws, rewrite)


async def inert_csms(port: int = 0) -> Any:
    """A websocket server that upgrades every request (ocpp1.6 when offered, else without a
    subprotocol) and then does nothing at all: no refusal, no close, no frame."""

    async def handler(ws: Any) -> None:
        await ws.wait_closed()

    def agree(connection: Any, offered: list[str]) -> str | None:
        return "ocpp1.6" if "ocpp1.6" in offered else None

    return await ws_serve(handler, "127.0.0.1", port, select_subprotocol=agree)


async def inert_charge_point(url: str) -> None:
    """Connects (again and again) and then does nothing at all."""
    while True:
        with contextlib.suppress(Exception):
            async with ws_connect(url, subprotocols=["ocpp1.6"]) as ws:
                await ws.wait_closed()
        await asyncio.sleep(0.2)
