"""A frame the core refused never passes a case, however well it fits the expectation.

Since conformance matches through `chargebench.matching`, 1 and 1.0 are the same JSON number
there; whether 1.0 may stand in an integer field is the schema's question (1.6 declares
draft-04, where it may not). A charger sending `connectorId: 1.0` gets a CALLERROR from the
harness core, and the case waiting for that StatusNotification must fail, naming the refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from chargebench.ocppj import Role
from conformance.expect import Mismatch
from conformance.harness import HarnessPeer


@contextlib.asynccontextmanager
async def harness_receiving(connector_id: object) -> AsyncIterator[tuple[HarnessPeer, list]]:
    """A harness playing the CSMS, after a raw charge point sent it a StatusNotification with
    `connector_id`; and the frame the harness answered with."""
    peers: asyncio.Queue[HarnessPeer] = asyncio.Queue()

    async def handler(ws):
        peer = HarnessPeer(ws, Role.CENTRAL_SYSTEM, timeout=2,
                           handlers={"StatusNotification": lambda payload: {}})
        peer.booted.set()
        await peers.put(peer)
        await peer._reader

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"],
                     compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=["ocpp1.6"],
                           compression=None) as client:
            peer = await peers.get()
            await client.send(json.dumps([2, "s1", "StatusNotification", {
                "connectorId": connector_id, "status": "Available", "errorCode": "NoError"}]))
            answer = json.loads(await asyncio.wait_for(client.recv(), 5))
            try:
                yield peer, answer
            finally:
                await peer.close()


@pytest.mark.parametrize("connector_id", [1.0, "1"])
async def test_a_refused_frame_fails_the_case_that_waits_for_it(connector_id):
    async with harness_receiving(connector_id) as (peer, answer):
        assert answer[0] == 4 and answer[1] == "s1"  # OCPP-J 1.6 §4.2.3: CALLERROR
        if connector_id == 1.0:
            assert answer[2] in {"TypeConstraintViolation", "FormationViolation"}, answer
        with pytest.raises(Mismatch) as raised:
            await peer.wait_for("StatusNotification", {"connectorId": 1}, timeout=1)
        if connector_id == 1.0:  # the same number: it matched, and the refusal is the reason
            assert "refused" in str(raised.value), str(raised.value)


async def test_the_same_frame_with_an_integer_passes():
    async with harness_receiving(1) as (peer, answer):
        assert answer[0] == 3, answer  # CALLRESULT: the harness's handler took it
        frame = await peer.wait_for("StatusNotification", {"connectorId": 1}, timeout=1)
        assert frame.payload["connectorId"] == 1
