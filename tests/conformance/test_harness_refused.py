"""A frame the core refused never passes a case, however well it fits the expectation.

Since conformance matches through `chargebench.matching`, 1 and 1.0 are the same JSON number
there; whether 1.0 may stand in an integer field is the schema's question (1.6 declares
draft-04, where it may not). A charger sending `connectorId: 1.0` gets a CALLERROR from the
harness core, and the case waiting for that StatusNotification must fail, naming the refusal.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from chargebench.ocppj import Role
from conformance.expect import Mismatch
from conformance.harness import HarnessPeer


async def _harness_receiving(connector_id: object) -> tuple[HarnessPeer, list]:
    """A harness playing the CSMS, and the raw charge point's frame with `connector_id`."""
    peers: asyncio.Queue[HarnessPeer] = asyncio.Queue()
    answers: list = []

    async def handler(ws):
        peer = HarnessPeer(ws, Role.CENTRAL_SYSTEM, timeout=2,
                           handlers={"StatusNotification": lambda payload: {}})
        peer.booted.set()
        await peers.put(peer)
        await peer._reader

    server = await serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"], compression=None)
    port = server.sockets[0].getsockname()[1]
    client = await connect(f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=["ocpp1.6"],
                           compression=None)
    peer = await peers.get()
    await client.send(json.dumps([2, "s1", "StatusNotification", {
        "connectorId": connector_id, "status": "Available", "errorCode": "NoError"}]))
    answers.append(json.loads(await asyncio.wait_for(client.recv(), 5)))
    peer._cleanup = (client, server)  # type: ignore[attr-defined]
    return peer, answers


async def _close(peer: HarnessPeer) -> None:
    client, server = peer._cleanup  # type: ignore[attr-defined]
    await client.close()
    await peer.close()
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("connector_id", [1.0, "1"])
async def test_a_refused_frame_fails_the_case_that_waits_for_it(connector_id):
    peer, answers = await _harness_receiving(connector_id)
    try:
        assert answers[0][0] == 4 and answers[0][1] == "s1"  # OCPP-J 1.6 §4.2.3: CALLERROR
        if connector_id == 1.0:
            assert answers[0][2] in {"TypeConstraintViolation", "FormationViolation"}, answers
        with pytest.raises(Mismatch) as raised:
            await peer.wait_for("StatusNotification", {"connectorId": 1}, timeout=1)
        if connector_id == 1.0:  # the same number: it matched, and the refusal is the reason
            assert "refused" in str(raised.value), str(raised.value)
    finally:
        await _close(peer)


async def test_the_same_frame_with_an_integer_passes():
    peer, answers = await _harness_receiving(1)
    try:
        assert answers[0][0] == 3, answers  # CALLRESULT: the harness's handler took it
        frame = await peer.wait_for("StatusNotification", {"connectorId": 1}, timeout=1)
        assert frame.payload["connectorId"] == 1
    finally:
        await _close(peer)
