"""The HTTP API served next to the OCPP endpoint, driven with httpx against a real socket."""

from __future__ import annotations

import httpx
import pytest

from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint

TOKEN = "s3cret-admin"


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=2) as central:  # fmt: skip
        central.store.upsert_charger("CP1", registration_status="Accepted")
        central.store.upsert_charger("CP2", registration_status="Accepted")
        yield central


@pytest.fixture
async def api(csms):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@pytest.fixture
async def cp(csms):
    async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as client:
        await client.boot()
        yield client


async def test_token_required(csms, api):
    """Without the admin Bearer token (or with a wrong one) every endpoint answers 401."""
    base = f"http://127.0.0.1:{csms.api_port}"
    async with httpx.AsyncClient(base_url=base) as anonymous:
        assert (await anonymous.get("/api/chargers")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await anonymous.get("/api/chargers", headers=wrong)).status_code == 401
        # any byte may arrive in a header: refused as a wrong token, never a 500
        accented = {"Authorization": "Bearer s3cr\xe9t".encode("latin-1")}
        for path in ("/api/chargers", "/api/chargers/CP1/log"):
            assert (await anonymous.get(path, headers=accented)).status_code == 401


async def test_action_returns_charger_reply(api, cp):
    """POST .../actions/Reset sends the payload and answers the charger's reply."""
    cp.replies["Reset"] = {"status": "Rejected"}
    response = await api.post("/api/chargers/CP1/actions/Reset", json={"type": "Hard"})
    assert (response.status_code, response.json()) == (200, {"status": "Rejected"})
    assert await cp.next_call() == ("Reset", {"type": "Hard"})


async def test_action_errors(api, cp):
    """404 unknown charger or action, 409 not connected, 422 naming the invalid field."""
    assert (await api.post("/api/chargers/NOPE/actions/Reset", json={"type": "Soft"})
            ).status_code == 404  # fmt: skip
    assert (await api.post("/api/chargers/CP1/actions/Heartbeat", json={})).status_code == 404
    assert (await api.post("/api/chargers/CP2/actions/Reset", json={"type": "Soft"})
            ).status_code == 409  # fmt: skip
    bad = await api.post("/api/chargers/CP1/actions/Reset", json={"type": "Sideways"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "type"


async def test_action_timeout_is_504(api, cp):
    """A charger that never answers gives 504 once the call times out."""
    import asyncio

    release = asyncio.Event()

    async def silent(payload):
        await release.wait()
        return {"status": "Accepted"}

    cp.replies["ClearCache"] = silent
    try:
        url = "/api/chargers/CP1/actions/ClearCache"
        assert (await api.post(url, params={"timeout": "0.2"})).status_code == 504
    finally:
        release.set()


async def test_reserve_now_reports_allocated_id(csms, api, cp):
    """The CSMS allocates reservationId; the request actually sent comes back in a header."""
    import json

    response = await api.post("/api/chargers/CP1/actions/ReserveNow", json={
        "connectorId": 1, "idTag": "T", "expiryDate": "2030-01-01T00:00:00Z"})
    assert response.status_code == 200
    sent = json.loads(response.headers["X-OCPP-Request"])
    assert csms.store.get_reservation(sent["reservationId"])["status"] == "Accepted"


async def test_list_and_log(api, cp):
    """GET /api/chargers shows live connections; GET .../log the charger's messages."""
    chargers = {c["id"]: c for c in (await api.get("/api/chargers")).json()}
    assert chargers["CP1"]["connection"]["registration"] == "Accepted"
    assert chargers["CP2"]["connection"] is None
    await cp.call("Heartbeat")
    log = (await api.get("/api/chargers/CP1/log", params={"action": "Heartbeat"})).json()
    assert sorted(r["type"] for r in log) == ["CALL", "CALLRESULT"]
    assert (await api.get("/api/chargers/NOPE/log")).status_code == 404
