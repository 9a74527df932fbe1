"""The HTTP API served next to the OCPP endpoint, driven with httpx against a real socket."""

from __future__ import annotations

import json

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
    """Without a reservationId the CSMS allocates one; the id used comes back in
    X-OCPP-Reservation-Id and in the request sent (X-OCPP-Request)."""
    response = await api.post("/api/chargers/CP1/actions/ReserveNow", json={
        "connectorId": 1, "idTag": "T", "expiryDate": "2030-01-01T00:00:00Z"})
    assert response.status_code == 200
    sent = json.loads(response.headers["X-OCPP-Request"])
    assert int(response.headers["X-OCPP-Reservation-Id"]) == sent["reservationId"]
    assert (await cp.next_call())[1]["reservationId"] == sent["reservationId"]
    assert csms.store.get_reservation(sent["reservationId"])["status"] == "Accepted"


async def test_reserve_now_keeps_the_callers_reservation_id(csms, api, cp):
    """Issue 15 point 10: a given reservationId is the one sent and stored; given again for the
    same charger it replaces that reservation (1.6 §5.13); another charger's is 409 naming
    the field, and nothing is sent."""
    reserve = {"connectorId": 1, "idTag": "T", "expiryDate": "2030-01-01T00:00:00Z",
               "reservationId": 4242}
    response = await api.post("/api/chargers/CP1/actions/ReserveNow", json=reserve)
    assert (response.status_code, response.headers["X-OCPP-Reservation-Id"]) == (200, "4242")
    assert await cp.next_call() == ("ReserveNow", reserve)
    stored = csms.store.get_reservation(4242)
    assert (stored["charger_id"], stored["id_tag"], stored["status"]) == ("CP1", "T", "Accepted")
    replacement = {**reserve, "idTag": "OTHER"}
    response = await api.post("/api/chargers/CP1/actions/ReserveNow", json=replacement)
    assert response.headers["X-OCPP-Reservation-Id"] == "4242"
    assert csms.store.get_reservation(4242)["id_tag"] == "OTHER"
    await cp.next_call()
    # a later allocation never takes an id a caller chose
    allocated = await api.post("/api/chargers/CP1/actions/ReserveNow",
                               json={k: v for k, v in reserve.items() if k != "reservationId"})
    assert int(allocated.headers["X-OCPP-Reservation-Id"]) > 4242
    await cp.next_call()
    async with await ScriptedChargePoint.connect(csms.url("CP2"), "CP2") as other:
        await other.boot()
        taken = await api.post("/api/chargers/CP2/actions/ReserveNow", json=reserve)
        assert (taken.status_code, taken.json()["field"]) == (409, "reservationId")
        assert other.calls.empty()
    assert csms.store.get_reservation(4242)["charger_id"] == "CP1"
    too_big = await api.post("/api/chargers/CP1/actions/ReserveNow",
                             json={**reserve, "reservationId": 2**31})
    assert (too_big.status_code, too_big.json()["field"]) == (422, "reservationId")


async def test_cancel_of_an_unknown_reservation_is_relayed(api, cp):
    """CancelReservation for an id the CSMS never made is the charger's to answer (no 500)."""
    cp.replies["CancelReservation"] = {"status": "Accepted"}
    response = await api.post("/api/chargers/CP1/actions/CancelReservation",
                              json={"reservationId": 777})
    assert (response.status_code, response.json()) == (200, {"status": "Accepted"})


async def test_list_and_log(api, cp):
    """GET /api/chargers shows live connections; GET .../log the charger's messages, paged
    with X-Total-Count like every list."""
    chargers = {c["id"]: c for c in (await api.get("/api/chargers")).json()}
    assert chargers["CP1"]["connection"]["registration"] == "Accepted"
    assert chargers["CP2"]["connection"] is None
    await cp.call("Heartbeat")
    response = await api.get("/api/chargers/CP1/log", params={"action": "Heartbeat"})
    assert sorted(r["type"] for r in response.json()) == ["CALL", "CALLRESULT"]
    assert response.headers["X-Total-Count"] == "2"
    assert (await api.get("/api/chargers/NOPE/log")).status_code == 404


async def test_every_list_sends_x_total_count(api, cp):
    """Issue 14 point 8: /api/transactions and /api/log (paged in the store) count all
    matching rows, not the page."""
    await cp.call("Heartbeat")
    await cp.call("Heartbeat")
    page = await api.get("/api/log", params={"charger_id": "CP1", "limit": 1})
    total = int(page.headers["X-Total-Count"])
    assert len(page.json()) == 1 and total >= 6  # boot, two heartbeats: CALL + CALLRESULT
    for connector in (1, 2):
        await cp.start_transaction(f"T{connector}", connector_id=connector)
    page = await api.get("/api/transactions", params={"limit": 1})
    assert (len(page.json()), page.headers["X-Total-Count"]) == (1, "2")
    csv = await api.get("/api/transactions", params={"format": "csv", "charger_id": "CP2"})
    assert csv.headers["X-Total-Count"] == "0"


async def test_unknown_routes_and_methods(csms, api):
    """Every answer is JSON: an unknown path 404, a known path with an undeclared method 405
    with `Allow`, an action that is not CSMS-initiated 404."""
    missing = await api.get("/api/nothing-here")
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/json")
    wrong = await api.delete("/api/chargers")
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "GET, HEAD")
    assert (await api.head("/api/chargers")).headers["X-Total-Count"] == "2"
    assert (await api.post("/api/chargers/CP1/actions/Heartbeat", json={})).status_code == 404
    assert (await api.get("/api/chargers/")).status_code == 404  # no redirect to the list


async def test_a_large_request_is_not_echoed_in_a_header(api, cp):
    """A SendLocalList of 1,000 entries is answered normally; the request it sent is too long
    for a header (a client refuses big ones), so X-OCPP-Request is left out."""
    entries = [{"idTag": f"TAG{i:05d}", "idTagInfo": {"status": "Accepted"}} for i in range(1000)]
    response = await api.post("/api/chargers/CP1/actions/SendLocalList", json={
        "listVersion": 1, "updateType": "Full", "localAuthorizationList": entries})
    assert (response.status_code, response.json()) == (200, {"status": "Accepted"})
    assert "X-OCPP-Request" not in response.headers
