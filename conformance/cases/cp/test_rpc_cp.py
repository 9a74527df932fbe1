"""OCPP-J robustness of a charge point under test in the opening handshake (OCPP-J 1.6 §3.2)."""

from __future__ import annotations

import asyncio

import pytest

from conformance.robustness import ready


@pytest.mark.octt("RPC_027")
async def test_closes_connection_without_subprotocol(peer, listener, cb):
    """RPC_027: a handshake answered without Sec-WebSocket-Protocol is closed by the charge point
    before any CALL (OCPP-J 1.6 §3.2, RFC 6455 §4.1), and it reconnects afterwards (§5.4)."""
    await ready(peer, "cp")
    listener.refuse_subprotocol_once = True
    await peer.close()
    window = cb.reconnect_timeout  # real chargers back off 30 s and more
    try:
        frames, closed = await asyncio.wait_for(listener.unnegotiated.get(), window)
    except TimeoutError:
        pytest.fail(f"the charge point did not reconnect within {window:g} s "
                    "(--cb-reconnect-timeout)")
    assert not frames, f"expected no frame without a subprotocol; received: {frames}"
    assert closed, "expected the charge point to close the connection; it stayed open"
    try:
        await listener.reconnection(peer, window)
    except TimeoutError:
        pytest.fail(f"the charge point did not connect again with a subprotocol within "
                    f"{window:g} s (OCPP-J 1.6 §5.4, --cb-reconnect-timeout)")
