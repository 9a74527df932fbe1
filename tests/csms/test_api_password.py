"""PUT /api/chargers/{id}/password over real sockets: the security whitepaper's A01 order
(ChangeConfiguration AuthorizationKey first, stored only once the charger accepted), checked by
what the CSMS then admits at the WebSocket handshake.

The charger is the `ocpp` package's ChargePoint (a peer we did not write) or our scripted one.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.exceptions import InvalidStatus

from chargebench.security import basic_auth_header
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint

TOKEN = "password-api-admin"
OLD = "old-key-16-chars-x"  # 18 characters of text (A00.FR.205: 16-20 bytes)


class Peer(ChargePoint):
    """The `ocpp` package's charge point, answering ChangeConfiguration with `status`."""

    def __init__(self, cp_id: str, ws, status: str = "Accepted") -> None:
        super().__init__(cp_id, ws)
        self.status = status
        self.changes: list[tuple[str, str]] = []

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        self.changes.append((key, value))
        return call_result.ChangeConfiguration(status=self.status)


async def open_ws(csms, cp_id: str, key: str):
    return await websockets.connect(
        csms.url(cp_id), subprotocols=["ocpp1.6"], compression=None, open_timeout=10,
        additional_headers={"Authorization": basic_auth_header(cp_id, key)},
    )  # fmt: skip


async def admitted(csms, cp_id: str, key: str) -> bool:
    """Does the CSMS open an OCPP connection for `cp_id` with `key`? (a 401 is False)"""
    try:
        ws = await open_ws(csms, cp_id, key)
    except InvalidStatus as refused:
        assert refused.response.status_code == 401
        return False
    await csms.connections.wait_for(cp_id, timeout=5)
    await ws.close()
    async with asyncio.timeout(5):  # the CSMS has let the connection go (not "connected" now)
        while cp_id in csms.connections:
            await asyncio.sleep(0.01)
    return True


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=2,
                             unknown_chargers="refuse") as central:  # fmt: skip
        for cp_id in ("CP1", "CP2"):
            central.store.upsert_charger(cp_id, registration_status="Accepted",
                                         security_profile=1)  # fmt: skip
            central.store.set_charger_password(cp_id, OLD)
        yield central


@pytest.fixture
async def api(csms):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    base = f"http://127.0.0.1:{csms.api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=headers) as client:
        yield client


async def test_rotation_with_an_independent_charger(csms, api):
    """A connected charger is sent the new key first; after its Accepted the new key admits,
    the old one is refused (A01.FR.03), and the generated key is answered once."""
    ws = await open_ws(csms, "CP1", OLD)
    peer = Peer("CP1", ws)
    reader = asyncio.create_task(peer.start())
    try:
        boot = await peer.call(call.BootNotification(charge_point_model="M",
                                                     charge_point_vendor="V"))  # fmt: skip
        assert boot.status == "Accepted"
        reply = await api.put("/api/chargers/CP1/password")
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        new = answer.pop("authorization_key")
        assert answer == {"charger_id": "CP1", "outcome": "Accepted", "stored": True,
                          "sent": True, "reply": {"status": "Accepted"}}  # fmt: skip
        assert reply.headers["Cache-Control"] == "no-store"
        # OCPP-J 1.6 §6.2.2: 40 hex digits of a 20-byte key
        assert peer.changes == [("AuthorizationKey", new)] and len(new) == 40
        int(new, 16)
    finally:
        await ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    assert not await admitted(csms, "CP1", OLD)
    ws = await open_ws(csms, "CP1", new)  # the charger reconnects with the new key (A01 step 4)
    peer = Peer("CP1", ws)
    reader = asyncio.create_task(peer.start())
    try:
        boot = await peer.call(call.BootNotification(charge_point_model="M",
                                                     charge_point_vendor="V"))  # fmt: skip
        assert boot.status == "Accepted"
    finally:
        await ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


@pytest.mark.parametrize("status", ["Rejected", "NotSupported"])
async def test_refused_change_keeps_the_old_key(csms, api, status):
    """Rejected or NotSupported: nothing is stored, the old key still admits, the new one not
    (A01.FR.04); the answer says so and does not hand out a key that was never set."""
    new = "0123456789abcdef0123456789ABCDEF01234567"
    async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1", auth_key=OLD) as cp:
        await cp.boot()
        cp.replies["ChangeConfiguration"] = {"status": status}
        reply = await api.put("/api/chargers/CP1/password", json={"authorization_key": new})
        assert reply.json() == {"charger_id": "CP1", "outcome": status, "stored": False,
                                "sent": True, "reply": {"status": status}}  # fmt: skip
        # sent as the hex form in upper case (the CSMS compares a key's hex in one case)
        sent = {"key": "AuthorizationKey", "value": new.upper()}
        assert await cp.next_call() == ("ChangeConfiguration", sent)
    assert await admitted(csms, "CP1", OLD)
    assert not await admitted(csms, "CP1", new)


async def test_offline_charger_is_refused_unless_asked_to_store(csms, api):
    """Not connected: 409 and nothing changes by default; `if_offline: store` stores the key
    for the next connection (the operator configures the charger)."""
    new = "new-key-for-cp2-0001"
    refused = await api.put("/api/chargers/CP2/password", json={"authorization_key": new})
    assert refused.status_code == 409
    assert await admitted(csms, "CP2", OLD)
    stored = await api.put("/api/chargers/CP2/password",
                           json={"authorization_key": new, "if_offline": "store"})  # fmt: skip
    assert stored.json() == {"charger_id": "CP2", "outcome": "Stored", "stored": True,
                             "sent": False, "reply": None}  # fmt: skip
    assert not await admitted(csms, "CP2", OLD)
    assert await admitted(csms, "CP2", new)


async def test_invalid_requests(csms, api):
    """Keys outside A00.FR.205 (16-20 bytes, or 32-40 hex digits of an even count), unknown
    fields, unknown chargers and USER-less callers are refused before anything is sent. Keys
    only OCPP 2.0.1 allows (a passwordString of 16-40 characters) are refused for a connected
    1.6 charger; keys no version allows even when it is not connected."""
    for key in ("short", "x" * 41, "0" * 42, "sixteen chars with spaces"):
        reply = await api.put("/api/chargers/CP1/password", json={"authorization_key": key})
        assert (reply.status_code, reply.json()["field"]) == (422, "authorization_key"), key
    async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1", auth_key=OLD) as cp:
        await cp.boot()
        for key in ("x" * 21, "0" * 33, "g" * 32):
            reply = await api.put("/api/chargers/CP1/password", json={"authorization_key": key})
            assert (reply.status_code, reply.json()["field"]) == (422, "authorization_key"), key
            assert "AuthorizationKey" in reply.json()["error"]
    reply = await api.put("/api/chargers/CP1/password", json={"password": OLD})
    assert (reply.status_code, reply.json()["field"]) == (422, "password")
    assert (await api.put("/api/chargers/NOPE/password")).status_code == 404
    anonymous = await api.put("/api/chargers/CP1/password", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert await admitted(csms, "CP1", OLD)


async def test_rotation_with_the_simulated_charger(csms, api, tmp_path):
    """End to end with our simulator at profile 1: it accepts the generated key, reconnects
    with it at once (A01 steps 3-4) and is admitted; the old key is refused afterwards."""
    from chargebench.clock import Clock
    from sim.chargepoint import ChargePoint as SimulatedChargePoint
    from tests.sim.conftest import make_config

    config = make_config("CP1", Security={"SecurityProfile": 1, "AuthorizationKey": OLD})
    sim = SimulatedChargePoint(config, csms_url=csms.url().rstrip("/"), clock=Clock(1),
                               state_dir=tmp_path / "CP1")  # fmt: skip
    await sim.start()
    try:
        await sim.wait_booted(10)
        first = await csms.connections.wait_for("CP1", timeout=5)
        reply = await api.put("/api/chargers/CP1/password")
        assert (reply.status_code, reply.json()["outcome"]) == (200, "Accepted"), reply.text
        new = reply.json()["authorization_key"]
        async with asyncio.timeout(10):  # the same charger, a new connection, the new key
            while (conn := csms.connections.get("CP1")) is None or conn is first:
                await asyncio.sleep(0.02)
        assert sim.config.get("Security", "AuthorizationKey", None) == new
        assert not await admitted(csms, "CP1", OLD)
    finally:
        await sim.stop()
