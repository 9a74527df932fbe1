"""WebSocket keepalive of the CSMS (csms.server.KeepAlive): one task pings every connection."""

from __future__ import annotations

import asyncio

from chargebench.ocppj import connect
from csms.central import CentralSystem


async def eventually(predicate, timeout: float = 3) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_answered_pings_keep_the_connection(tmp_path):
    """A charger that answers Pings stays connected across many intervals."""
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             ws_ping_interval=0.2) as csms:  # fmt: skip
        ws = await connect(csms.url("CP1"))
        conn = await csms.connections.wait_for("CP1", timeout=2)
        await eventually(lambda: conn.pong is not None and conn.pong.done())
        await asyncio.sleep(1.0)
        assert csms.connections.get("CP1") is conn
        await ws.close()


async def test_unanswered_ping_closes_the_connection(tmp_path):
    """No Pong by the next Ping (one interval later): the CSMS closes the connection."""
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             ws_ping_interval=0.2) as csms:  # fmt: skip
        ws = await connect(csms.url("CP1"), close_timeout=0.5)
        await csms.connections.wait_for("CP1", timeout=2)
        ws.transport.pause_reading()  # a peer that no longer reads never sends its Pong
        await eventually(lambda: "CP1" not in csms.connections, timeout=5)
        ws.transport.abort()


async def test_no_pings_when_disabled(tmp_path):
    """ws_ping_interval=None: no Ping is ever sent (the heartbeat monitor alone watches)."""
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             ws_ping_interval=None) as csms:  # fmt: skip
        ws = await connect(csms.url("CP1"))
        conn = await csms.connections.wait_for("CP1", timeout=2)
        await asyncio.sleep(0.3)
        assert conn.pong is None
        await ws.close()
