"""The OpenAPI document of the CSMS API: generated from the one route table, so every route
the app serves is in it (the schemathesis suite, test_api_schemathesis.py, checks that the
answers agree with it)."""

from __future__ import annotations

import httpx

from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.v201 import OCPP201
from csms.api.server import ROUTES
from tests.csms import business_fixtures

# Fixtures shared with the other business API tests.
admin = business_fixtures.admin
base_url = business_fixtures.base_url
central = business_fixtures.central
ctx = business_fixtures.ctx


async def fetch_document(admin: httpx.AsyncClient) -> dict:
    async with httpx.AsyncClient(base_url=str(admin.base_url)) as anonymous:
        reply = await anonymous.get("/api/openapi.json")  # no token needed
    assert reply.status_code == 200
    return reply.json()


async def test_openapi_document_lists_every_route(admin):
    """OpenAPI 3.1 with every operation of the route table, the actions endpoint once per
    CSMS-initiated action (issue 14 point 8), the password API and the dashboard."""
    document = await fetch_document(admin)
    assert document["openapi"].startswith("3.1")
    served = {(op.method.lower(), op.path) for op in ROUTES if not op.undocumented}
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert served | {("get", "/api/openapi.json")} == documented
    # the operator UI's pages and forms are left out, each with its reason
    left_out = {(op.method.lower(), op.path): op.undocumented for op in ROUTES if op.undocumented}
    assert left_out and all(left_out.values())
    assert {(m, p): why for p, ops in document["x-undocumented"].items()
            for m, why in ops.items()} == left_out
    actions = {path.rsplit("/", 1)[1] for path in document["paths"] if "/actions/" in path}
    assert actions == set(OCPP16.cs_initiated) | set(OCPP201.cs_initiated)
    for path in ("/api/chargers/{cp_id}/password", "/dashboard", "/api/chargers/{cp_id}/log"):
        assert path in document["paths"], path
    lists = document["paths"]["/api/chargers"]["get"]["parameters"]
    assert {"limit", "offset", "format", "vendor", "serial", "model"} <= {p["name"] for p in lists}


async def test_every_list_documents_x_total_count(admin):
    """Each list operation's 200 answer declares X-Total-Count as a required header."""
    document = await fetch_document(admin)
    lists = [op for op in ROUTES if op.listing is not None]
    assert len(lists) >= 15
    for op in lists:
        headers = document["paths"][op.path][op.method.lower()]["responses"]["200"]["headers"]
        assert headers["X-Total-Count"]["required"], op.path


async def test_statuses_are_documented_per_operation(admin):
    """What an operation can answer is in its `responses`: 401/403 where a token is needed,
    422 where there is input, 404/409/502/504 where a charger is involved, 503 with Retry-After
    everywhere (the store unavailable)."""
    document = await fetch_document(admin)
    reset = document["paths"]["/api/chargers/{cp_id}/actions/Reset"]["post"]
    assert {"200", "401", "403", "404", "409", "422", "502", "503", "504"} == set(
        reset["responses"])
    for op in ROUTES:
        if op.path in document["paths"]:
            answer = document["paths"][op.path][op.method.lower()]["responses"]["503"]
            assert answer["headers"]["Retry-After"]["required"], op.path
    reset_16 = reset["requestBody"]["content"]["application/json"]["schema"]["anyOf"][0]
    assert reset_16["required"] == ["type"]
    reserve = document["paths"]["/api/chargers/{cp_id}/actions/ReserveNow"]["post"]
    body = reserve["requestBody"]["content"]["application/json"]["schema"]["anyOf"][0]
    assert "reservationId" not in body["required"]  # the CSMS allocates one when left out
    assert body["properties"]["reservationId"]["maximum"] == 2**31 - 1
    assert "X-OCPP-Reservation-Id" in reserve["responses"]["200"]["headers"]
    webhook = document["paths"]["/api/payments/webhook"]["post"]
    assert webhook["security"] == [{"webhookSignature": []}]
    assert "403" not in webhook["responses"] and "401" in webhook["responses"]
    chargers = document["paths"]["/api/chargers"]["get"]
    assert "404" not in chargers["responses"]
