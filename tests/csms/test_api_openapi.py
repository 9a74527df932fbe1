"""The OpenAPI document of the business API, and a bounded property test: requests generated
from it (hypothesis) against the running server never produce a server error."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.csms import business_fixtures
from tests.csms.business_fixtures import ADMIN_TOKEN, new_user

# Fixtures shared with the other business API tests.
admin = business_fixtures.admin
base_url = business_fixtures.base_url
central = business_fixtures.central
ctx = business_fixtures.ctx

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.sampled_from(["", "0", "1.005", "NaN", "Infinity", "1e309", "CP001", "Accepted", "INR"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def query_value(schema: dict) -> st.SearchStrategy[str]:
    """Mostly valid values for the declared type, sometimes garbage."""
    valid: st.SearchStrategy[str]
    if "enum" in schema:
        valid = st.sampled_from(schema["enum"])
    elif schema.get("type") == "integer":
        valid = st.integers(
            schema.get("minimum", -5) - 1, min(schema.get("maximum", 10**6), 10**6) + 1
        ).map(str)
    elif schema.get("type") == "boolean":
        valid = st.sampled_from(["true", "false"])
    elif schema.get("format") == "date-time":
        valid = st.sampled_from(
            [
                "2025-01-17T10:00:00Z",
                "2025-01-17T10:00:00+05:30",
                "2025-01-17",
                "9999-12-31T23:59:59Z",
            ]
        )
    else:
        valid = st.sampled_from(["CP001", "a", "U-1"])
    return st.one_of(valid, st.text(max_size=8))


def body_value(schema: dict) -> st.SearchStrategy:
    props = schema.get("properties", {})
    if not props:
        return JSON
    fields = {
        name: st.one_of(st.sampled_from(sub.get("enum", [None])), SCALARS)
        for name, sub in props.items()
    }
    return st.fixed_dictionaries({}, optional=fields) | JSON


def requests_for(document: dict, path_values: dict[str, list[str]]) -> st.SearchStrategy:
    """(method, url, params, body) for every operation of the document."""
    per_operation = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            path_params = {
                p["name"]: st.one_of(
                    st.sampled_from(path_values.get(p["name"], ["x"])),
                    st.text(alphabet="abc19-_", min_size=1, max_size=6),
                )
                for p in op["parameters"]
                if p["in"] == "path"
            }
            query = {
                p["name"]: query_value(p["schema"]) for p in op["parameters"] if p["in"] == "query"
            }
            body_schema = (
                (op.get("requestBody") or {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            per_operation.append(
                st.tuples(
                    st.just(method.upper()),
                    st.just(path),
                    st.fixed_dictionaries(path_params),
                    st.fixed_dictionaries({}, optional=query),
                    body_value(body_schema) if body_schema is not None else st.none(),
                )
            )
    return st.one_of(per_operation)


async def test_openapi_document_lists_every_route(admin):
    """GET /api/openapi.json (no token) is OpenAPI 3.1 and documents the business routes."""
    async with httpx.AsyncClient(base_url=str(admin.base_url)) as anonymous:
        document = (await anonymous.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    for path in (
        "/api/chargers",
        "/api/transactions",
        "/api/log",
        "/api/users/{user_id}/wallet",
        "/api/analytics/energy",
        "/api/tariffs",
        "/api/reservations",
        "/api/firmware-deployments",
        "/api/locations",
        "/api/id-tags",
    ):
        assert path in document["paths"], path
    lists = document["paths"]["/api/chargers"]["get"]["parameters"]
    assert {"limit", "offset", "format", "vendor", "serial", "model"} <= {p["name"] for p in lists}


async def test_generated_requests_never_fail_with_5xx(central, admin):
    """Hypothesis requests built from the OpenAPI document get no 5xx from any route (≤ ~15 s)."""
    central.store.upsert_charger("CP001", registration_status="Accepted")
    user = (await new_user(admin, "Fuzz", top_up="100"))["user"]
    tx = central.store.start_transaction("CP001", 1, user["rfid_card_id"], 0, "2025-01-17T10:00Z")
    document = (await admin.get("/api/openapi.json")).json()
    values = {
        "user_id": [user["id"]],
        "cp_id": ["CP001"],
        "transaction_id": [str(tx)],
        "id_tag": [user["rfid_card_id"]],
    }
    base = str(admin.base_url)
    failures: list[str] = []

    client = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    )
    statuses: set[int] = set()

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests_for(document, values))
    def check(request) -> None:
        method, path, path_params, params, body = request
        url = re.sub(
            r"\{(\w+)\}",
            lambda m: (
                httpx.URL("/" + path_params[m[1]]).raw_path.decode().lstrip("/").replace("/", "%2F")
                or "x"
            ),
            path,
        )
        content = None if body is None else json.dumps(body).encode()
        reply = client.request(method, url, params=params, content=content)
        statuses.add(reply.status_code)
        if reply.status_code >= 500:
            failures.append(f"{method} {url} {params} {body!r} -> {reply.status_code}")
        assert reply.status_code < 500, failures[-1]

    try:
        await asyncio.wait_for(asyncio.to_thread(check), timeout=60)
    finally:
        client.close()
    assert {200, 404, 422} <= statuses  # the generator reaches past validation, too
