"""The CSMS's HTTP API: a small Starlette app served by uvicorn in the CSMS's own event loop.

    POST /api/chargers/{id}/actions/{Action}   body: the OCPP payload; answer: the charger's reply
                                               (?timeout=SECONDS overrides the call timeout)
    GET  /api/chargers                         chargers with live connection status
    GET  /api/chargers/{id}/log                the charger's message log (?limit=&action=&type=)
    GET  /dashboard                            the operator's page (csms.api.dashboard)

Every request needs `Authorization: Bearer <admin token>`. Action errors: 404 unknown charger or
action, 409 not connected, 422 invalid payload (naming the field), 502 the charger answered with
a CALLERROR or an invalid reply, 504 no reply in time.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chargebench.ocppj import OCPP16, CallErrorReply, CallFailed, CallTimeout, RemoteProtocolError
from chargebench.ocppj.validation import check_payload
from csms import commands
from csms.api import business
from csms.api.dashboard import dashboard_route
from csms.api.spec import presented_token
from csms.services.users import same_token

if TYPE_CHECKING:
    from csms.central import CentralSystem


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def create_app(csms: CentralSystem) -> Starlette:
    """The API of one running CSMS (no global state: a test may run several)."""
    token = csms.config.admin_token

    def authorized(request: Request) -> bool:
        if not token:
            return False  # no token configured: the API refuses everything
        given = presented_token(request)
        return given is not None and same_token(given, token)

    def guarded(endpoint):
        async def wrapper(request: Request) -> JSONResponse:
            if not authorized(request):
                return JSONResponse({"error": "admin token required"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
            return await endpoint(request)

        return wrapper

    async def charger_log(request: Request) -> JSONResponse:
        cp_id = request.path_params["cp_id"]
        if await asyncio.to_thread(csms.store.get_charger, cp_id) is None:
            return _error(404, f"unknown charger {cp_id!r}")
        query = request.query_params
        try:
            limit = int(query.get("limit", 100))
        except ValueError:
            return _error(422, "limit must be an integer", field="limit")
        await csms.trace.flush()  # include what is still buffered
        records = await asyncio.to_thread(
            csms.store.query_log, cp_id=cp_id, action=query.get("action"),
            type=query.get("type"), limit=limit,
        )  # fmt: skip
        return JSONResponse(json.loads(json.dumps(records, default=str)))

    async def action(request: Request) -> JSONResponse:
        cp_id = request.path_params["cp_id"]
        name = request.path_params["action"]
        if name not in OCPP16.cs_initiated:
            return _error(404, f"{name} is not a CSMS-initiated OCPP 1.6 action")
        if await asyncio.to_thread(csms.store.get_charger, cp_id) is None:
            return _error(404, f"unknown charger {cp_id!r}")
        try:
            payload = await request.json() if await request.body() else {}
        except ValueError:
            return _error(422, "body is not JSON")
        if not isinstance(payload, dict):
            return _error(422, "body must be a JSON object")
        try:
            raw = request.query_params.get("timeout")
            timeout = None if raw is None else float(raw)
        except ValueError:
            return _error(422, "timeout must be a number of seconds", field="timeout")
        problem = _invalid(name, payload)
        if problem is not None:
            return _error(422, str(problem), field=problem.path or None)
        try:
            result = await commands.execute(csms, cp_id, name, payload, timeout=timeout)
        except commands.NotConnected as exc:
            return _error(409, str(exc))
        except CallTimeout as exc:
            return _error(504, str(exc))
        except CallErrorReply as exc:
            return _error(502, str(exc), code=exc.code, description=exc.description)
        except CallFailed as exc:
            return _error(502, str(exc))
        return JSONResponse(result.reply, headers={"X-OCPP-Request": json.dumps(result.request)})

    return Starlette(routes=[
        *business.routes(csms),
        dashboard_route(csms),
        Route("/api/chargers/{cp_id}/log", guarded(charger_log)),
        Route("/api/chargers/{cp_id}/actions/{action}", guarded(action), methods=["POST"]),
    ])  # fmt: skip


def _invalid(action: str, payload: dict) -> RemoteProtocolError | None:
    """The schema problem of a request payload (the session core's own validator), if any.
    Fields the CSMS allocates itself are filled with a placeholder first."""
    allocated = commands.ALLOCATED_FIELDS.get(action)
    if allocated is not None:
        payload = {**payload, allocated: payload.get(allocated, 0)}
    try:
        check_payload(OCPP16, action, payload, response=False)
    except RemoteProtocolError as error:
        return error
    return None


class ApiServer:
    """uvicorn running `create_app(csms)` as a task of the current event loop."""

    def __init__(self, csms: CentralSystem) -> None:
        config = csms.config
        self.config = uvicorn.Config(
            create_app(csms), host=config.api_host or config.host, port=config.api_port or 0,
            log_level="warning", lifespan="off", access_log=False,
        )  # fmt: skip
        self.server = uvicorn.Server(self.config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.server.serve())
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
        await self._task
        self._task = None
