"""Shared fixtures of the business API tests: a real CentralSystem (OCPP over a real socket,
SQLite file in tmp_path) and the business app served by a real uvicorn on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
import pytest
import uvicorn

from csms.api.context import Context
from csms.api.server import create_app
from csms.central import CentralSystem
from csms.services.billing_service import BillingPolicy, BillingService

ADMIN_TOKEN = "admin-s3cret"


@asynccontextmanager
async def serve(app) -> AsyncIterator[str]:
    """Run `app` under uvicorn in this event loop; yield its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def central(tmp_path):
    async with CentralSystem(
        port=0, db=tmp_path / "csms.db", log_dir=None, admin_token=ADMIN_TOKEN, call_timeout=2
    ) as csms:
        yield csms


@pytest.fixture
def ctx(central) -> Context:
    """The API context, with retries due at once so a test needs no clock tricks."""
    ctx = Context.of(central)
    ctx.billing = BillingService(central.store, central.clock, BillingPolicy(retry_interval=0))
    return ctx


@pytest.fixture
async def base_url(central, ctx) -> AsyncIterator[str]:
    async with serve(create_app(central, ctx=ctx)) as url:
        yield url


@pytest.fixture
async def admin(base_url) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        yield client


async def new_user(admin: httpx.AsyncClient, name: str, top_up: str | None = None) -> dict:
    """Create a user over the API; returns {"user", "token"} (wallet topped up if asked)."""
    created = (await admin.post("/api/users", json={"name": name})).json()
    if top_up is not None:
        uid = created["user"]["id"]
        reply = await admin.post(f"/api/users/{uid}/wallet/top-up", json={"amount": top_up})
        assert reply.status_code == 201, reply.text
    return created


def as_user(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"})


def d(text: str) -> Decimal:
    return Decimal(text)
