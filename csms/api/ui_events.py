"""Server-sent events of the operator UI (`GET /ui/events`, `?cp_id=` for one charger): what
the CSMS's registry and handlers publish (connections, status notifications, transactions
started, metered, stopped), one JSON object per `data:` line (HTML Living Standard §9.2).

Each stream has a bounded queue (a slow browser loses events, never the CSMS's memory; the
pages re-fetch their regions, so a lost event is only a late refresh), a comment line every
`KEEPALIVE_S` seconds, and a bounded life (`MAX_LIFE_S`): the browser's EventSource
reconnects by itself (`retry:`). `close_streams` ends every open stream (the API's shutdown
would otherwise wait for them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from csms.api.spec import Call
from csms.api.ui_auth import guard

__all__ = ["close_streams", "events"]

KEEPALIVE_S = 15.0
MAX_LIFE_S = 300.0
QUEUE = 1000
RETRY_MS = 1000


def _streams(app: Any) -> set[asyncio.Queue]:
    if not hasattr(app.state, "ui_streams"):
        app.state.ui_streams = set()
    return app.state.ui_streams


def close_streams(app: Any) -> None:
    """End every open event stream of `app` (they see a None and finish)."""
    for queue in list(_streams(app)):
        try:
            queue.put_nowait(None)
        except asyncio.QueueFull:
            queue.get_nowait()
            queue.put_nowait(None)


@guard(html=False)
async def events(call: Call) -> Response:
    """`GET /ui/events`: the event stream."""
    registry = call.ctx.registry
    only = call.request.query_params.get("cp_id")
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE)
    streams = _streams(call.request.app)

    def listener(event: dict[str, Any]) -> None:
        if only is not None and event.get("cp_id") != only:
            return
        if not queue.full():
            queue.put_nowait(event)

    async def stream() -> AsyncIterator[str]:
        registry.listeners.add(listener)
        streams.add(queue)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_LIFE_S
        try:
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            while (left := deadline - loop.time()) > 0:
                try:
                    event = await asyncio.wait_for(queue.get(), min(KEEPALIVE_S, left))
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield f"data: {json.dumps(event, default=str)}\n\n"
        finally:
            registry.listeners.discard(listener)
            streams.discard(queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store",
                                      "X-Accel-Buffering": "no"})  # fmt: skip
