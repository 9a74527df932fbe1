"""The CSMS's HTTP API: a small Starlette app served by uvicorn in the CSMS's own event loop.

One route table, `ROUTES`, lists every operation; the app and its OpenAPI document
(`GET /api/openapi.json`, no token) are both made from it:

    business.ROUTES        users, wallets, payments, tariffs, billing
    resources.ROUTES       locations, chargers, connectors, id tags, transactions, message log...
    analytics_api.ROUTES   energy, utilisation, sessions per hour, faults
    chargers_api.ROUTES    POST /api/chargers/{id}/actions/{Action} (one per action), the
                           charger's log, PUT /api/chargers/{id}/password
    station_reports_api.ROUTES  what a 2.0.1 station notified: charging limits, publish-firmware
                           status, display messages, customer information
    dashboard.ROUTES       GET /dashboard (HTML, Basic login)
    ui.ROUTES              the operator UI under /ui (HTML, session cookie; not in the document)

Auth: `Authorization: Bearer <token>`, the configured admin token or a user's API token
(csms.services.users). Errors are JSON `{"error", "field"?}`; each operation's statuses are in
the document (401, 403, 404, 409, 422, 502, 504...).
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from csms.api import (
    analytics_api,
    business,
    chargers_api,
    dashboard,
    resources,
    spec,
    station_reports_api,
    ui,
)
from csms.api.context import Context
from csms.api.jsonio import DecimalJSONResponse
from csms.api.ui_events import close_streams
from csms.services import users

if TYPE_CHECKING:
    from csms.central import CentralSystem

ROUTES: tuple[spec.Operation, ...] = (
    *business.ROUTES,
    *resources.ROUTES,
    *analytics_api.ROUTES,
    *chargers_api.ROUTES,
    *station_reports_api.ROUTES,
    *dashboard.ROUTES,
    *ui.ROUTES,
)
TITLE = "ChargeBench CSMS API"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of `ROUTES` (and of itself)."""
    document = spec.openapi(
        ROUTES, title=TITLE, description="Money is a decimal string with 2 places, never a float."
    )
    document["paths"]["/api/openapi.json"] = {"get": {
        "summary": "This document", "operationId": "openapi", "tags": ["meta"], "security": [],
        "parameters": [],
        "responses": {"200": {"description": "OpenAPI 3.1",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }}  # fmt: skip
    return document


def create_app(csms: CentralSystem, *, ctx: Context | None = None) -> Starlette:
    """The API of one running CSMS (no global state: a test may run several)."""
    ctx = ctx or Context.of(csms)
    document = openapi_document()

    async def authenticate(token: str) -> users.Principal | None:
        return await ctx.db(users.authenticate, ctx.store, token, admin_token=ctx.admin_token)

    async def openapi(request: Request) -> DecimalJSONResponse:
        return DecimalJSONResponse(document)

    async def not_found(request: Request, exc: Exception) -> DecimalJSONResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return DecimalJSONResponse({"error": f"no route {request.url.path}"}, status_code=status)

    app = Starlette(
        routes=[Route("/api/openapi.json", openapi, methods=["GET"]),
                *spec.routes(ROUTES, ctx, authenticate)],
        exception_handlers={404: not_found},
    )  # fmt: skip
    app.router.redirect_slashes = False  # `/api/chargers/` is no charger, not a redirect
    return app


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT, for uvicorn to listen on."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class ApiServer:
    """uvicorn running `create_app(csms)` as a task of the current event loop."""

    def __init__(self, csms: CentralSystem) -> None:
        config = csms.config
        self.csms = csms
        self.app = create_app(csms)
        self.config = uvicorn.Config(
            self.app, host=config.api_host or config.host, port=config.api_port or 0,
            log_level="warning", lifespan="off", access_log=False,
        )  # fmt: skip
        self.server = uvicorn.Server(self.config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        sockets = None
        if getattr(self.csms, "cluster", None) is not None:
            # `--workers N`: every worker serves the one API port (SO_REUSEPORT; uvicorn takes
            # a bound socket: Server.serve(sockets=...))
            sockets = [reuse_port_socket(self.config.host, self.config.port)]
        self._task = asyncio.get_running_loop().create_task(self.server.serve(sockets))
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises the startup error
                raise OSError("the HTTP API did not start")
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        close_streams(self.app)  # an open event stream would hold the shutdown
        await self._task
        self._task = None
