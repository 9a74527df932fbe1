"""The fleet's screen and control API: `chargebench sim --ui PORT` (and `run`/`demo --ui PORT`).

One route table, `ROUTES` (the CSMS API's `csms.api.spec.Operation`s, so the app and its
OpenAPI document come from the same declarations and the same generator):

    GET  /api/fleet                          chargers with each connector's state (filters, pages)
    GET  /api/fleet/{cp_id}                  one charger
    POST /api/fleet/{cp_id}/actions/{action} one control action on one charger
    POST /api/fleet/actions/{action}         the same action on a selection (ids, or a filter)
    GET  /api/openapi.json                   this API
    GET  /                                   the page (sim.ui_page), polling /api/fleet
    GET|POST /login, POST /logout            the only thing reachable without a token

Actions are those of the control surface (`sim.control.ControlSurface`): what a user, an EV or a
fault does to a charge point, reported to the CSMS by its OCPP flows.

Access (`Guard`): every route but /login needs the admin token (`--admin-token`,
$CHARGEBENCH_ADMIN_TOKEN; one is generated when none is given): either `Authorization: Bearer
TOKEN` (scripts), or the session cookie that /login sets in exchange for it (the page). A
session's POSTs must carry its `X-CSRF-Token` (the page has it; another site's form cannot set a
header, and the cookie is SameSite=Strict too), else 403. No token: 401 (API) or a redirect to
/login (pages).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

import uvicorn
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from csms.api import spec
from csms.api.jsonio import ApiError, DecimalJSONResponse
from csms.api.params import Param
from csms.api.spec import Call, Operation, presented_token
from sim.connector import ConnectorError, ConnectorStatus

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint
    from sim.fleet import Fleet

__all__ = ["ACTIONS", "ROUTES", "FleetView", "UiServer", "UiThread", "create_app", "new_token",
           "openapi_document"]

log = logging.getLogger(__name__)

TITLE = "ChargeBench fleet control API"
#: the session cookie the login sets (HttpOnly, SameSite=Strict)
COOKIE = "chargebench_fleet"
#: the header a session's POST carries its CSRF token in
CSRF_HEADER = "X-CSRF-Token"
#: wall-clock seconds one action may take (present_id_tag waits for the CSMS's Authorize)
ACTION_TIMEOUT = 30.0
#: connector actions, with whether connector 0 (the charge point as a whole) is allowed
CONNECTOR_ACTIONS = {"plug_in": False, "plug_out": False, "present_id_tag": False,
                     "ev_full": False, "fault": True, "clear_fault": True}
#: actions on the charge point as a whole
CHARGER_ACTIONS = ("go_offline", "go_online", "power_loss")
ACTIONS = (*CONNECTOR_ACTIONS, *CHARGER_ACTIONS)


@dataclass(slots=True)
class FleetView:
    """What the screen shows and drives: the charge points of now (a scenario's change as it
    runs), their id tags (the page offers the first), the admin token and the open sessions.
    `loop` is the event loop the charge points live on when it is not the server's (`UiThread`:
    each scenario of `chargebench run` has a loop of its own); actions run there."""

    charge_points: Callable[[], Sequence[ChargePoint]]
    token: str
    tags: Callable[[str], Sequence[str]] = lambda _cp_id: ()
    #: session id -> its CSRF token
    sessions: dict[str, str] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop | None = None

    def show(self, charge_points: Sequence[ChargePoint],
             loop: asyncio.AbstractEventLoop | None = None) -> None:  # fmt: skip
        """Show these charge points from now on (a scenario's; none when it ended)."""
        shown = tuple(charge_points)
        self.charge_points = lambda: shown
        self.loop = loop

    async def run(self, action: Coroutine[Any, Any, Any]) -> Any:
        """Await `action` on the charge points' loop."""
        loop = self.loop
        if loop is None or loop is asyncio.get_running_loop():
            return await action
        if loop.is_closed():
            action.close()
            raise ApiError(409, "the scenario of this charger has ended")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(action, loop))

    @classmethod
    def of_fleet(cls, fleet: Fleet, token: str) -> FleetView:
        from sim.chargepoint import ChargePoint  # only needed at run time here

        tags = {identity.cp_id: identity.id_tags for identity in fleet.identities}
        # the 1.6 charge points: the control UI does not drive 2.0.1 stations yet
        return cls(lambda: [cp for cp in fleet.charge_points if isinstance(cp, ChargePoint)],
                   token, lambda cp_id: tags.get(cp_id, ()))

    def find(self, cp_id: str) -> ChargePoint:
        for cp in self.charge_points():
            if cp.id == cp_id:
                return cp
        raise ApiError(404, f"unknown charger {cp_id!r}", field="cp_id")

    def token_ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(),
                                                             self.token.encode())

    def open_session(self) -> tuple[str, str]:
        sid, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.sessions[sid] = csrf
        return sid, csrf


# State -----------------------------------------------------------------------------------------


def charger_state(cp: ChargePoint, tags: Sequence[str] = ()) -> dict[str, Any]:
    """One charger as the API and the page show it."""
    return {
        "id": cp.id,
        "online": cp.online,
        "registration": cp.registration,
        "queued": len(cp.queue),
        "status": cp.connector0.status.value,
        "id_tags": list(tags),
        "connectors": [{
            "connector": port.id,
            "status": port.status.value,
            "error_code": port.connector.error_code.value,
            "plugged": port.plugged,
            "transaction": None if port.tx is None else cp.queue.csms_tx_id(port.tx.local_id),
            "id_tag": None if port.tx is None else port.tx.id_tag,
            "meter_wh": round(port.meter.energy_wh),
            "session_wh": None if port.tx is None
            else round(port.meter.energy_wh) - port.tx.meter_start,
        } for port in cp.ports],
    }


CONNECTOR = {
    "type": "object",
    "required": ["connector", "status", "error_code", "plugged", "transaction", "id_tag",
                 "meter_wh", "session_wh"],
    "properties": {
        "connector": {"type": "integer", "minimum": 1},
        "status": {"enum": [s.value for s in ConnectorStatus]},
        "error_code": {"enum": [c.value for c in ConnectorError]},
        "plugged": {"type": "boolean"},
        "transaction": {"type": ["integer", "null"],
                        "description": "the CSMS's transaction id (null: none running, or "
                                       "its StartTransaction not answered yet)"},
        "id_tag": {"type": ["string", "null"]},
        "meter_wh": {"type": "integer", "description": "the energy register"},
        "session_wh": {"type": ["integer", "null"],
                       "description": "energy of the running transaction"},
    },
}
CHARGER = {
    "type": "object",
    "required": ["id", "online", "registration", "queued", "status", "id_tags", "connectors"],
    "properties": {
        "id": {"type": "string"},
        "online": {"type": "boolean", "description": "connected and accepted"},
        "registration": {"type": ["string", "null"]},
        "queued": {"type": "integer", "description": "messages waiting for the connection"},
        "status": {"type": "string", "description": "connector 0 (the charge point)"},
        "id_tags": {"type": "array", "items": {"type": "string"}},
        "connectors": {"type": "array", "items": CONNECTOR},
    },
}


def _matches(cp: ChargePoint, match: str | None, status: str | None,
             online: bool | None) -> bool:  # fmt: skip
    """The filter of lists and selections: id substring, any connector in `status`, online."""
    return ((match is None or match.lower() in cp.id.lower())
            and (status is None or any(p.status.value == status for p in cp.ports))
            and (online is None or cp.online == online))  # fmt: skip


# Endpoints -------------------------------------------------------------------------------------


def _view(call: Call) -> FleetView:
    """The fleet this UI serves: `csms.api.spec` routes carry it as their context object (typed
    there as the CSMS's `Context`, which this server does not have)."""
    return cast("FleetView", call.ctx)


async def list_chargers(call: Call) -> dict[str, Any]:
    """`GET /api/fleet`: a page of the chargers matching the filters, with fleet-wide counts."""
    view = _view(call)
    q = call.query
    every = view.charge_points()
    found = [cp for cp in every if _matches(cp, q["match"], q["status"], q["online"])]
    statuses: dict[str, int] = {}
    for cp in every:
        for port in cp.ports:
            statuses[port.status.value] = statuses.get(port.status.value, 0) + 1
    page = found[q["offset"]:q["offset"] + q["limit"]]
    return {
        "total": len(every),
        "matching": len(found),
        "online": sum(1 for cp in every if cp.online),
        "statuses": statuses,
        "chargers": [charger_state(cp, view.tags(cp.id)) for cp in page],
    }


async def get_charger(call: Call) -> dict[str, Any]:
    """`GET /api/fleet/{cp_id}`."""
    view = _view(call)
    cp = view.find(call.path["cp_id"])
    return charger_state(cp, view.tags(cp.id))


def _arguments(view: FleetView, action: str, body: dict[str, Any], cp: ChargePoint
               ) -> dict[str, Any]:
    """The keyword arguments of `action` on `cp` from a request body; ApiError 404 naming
    the connector the charger lacks, 409 for a tag when none is given or known."""
    if action in CHARGER_ACTIONS:
        return {}
    connector = body.get("connector", 1)
    low = 0 if CONNECTOR_ACTIONS[action] else 1
    if not low <= connector <= len(cp.ports):  # the schema cannot know this charger's count
        raise ApiError(404, f"{cp.id} has no connector {connector} for {action} "
                       f"({low}..{len(cp.ports)})", field="connector")  # fmt: skip
    if action == "present_id_tag":
        tag = body.get("id_tag") or next(iter(view.tags(cp.id)), None)
        if tag is None:
            raise ApiError(409, f"no id tag known for {cp.id}: give id_tag", field="id_tag")
        return {"tag": tag, "connector": body.get("connector")}
    if action == "fault":
        return {"connector": connector, "error_code": body.get("error_code", "OtherError")}
    return {"connector": connector}


async def _perform(view: FleetView, cp: ChargePoint, action: str, kwargs: dict[str, Any]) -> Any:
    """Run one control action; its failure as ApiError (409, 504), never an unhandled error."""
    try:
        async with asyncio.timeout(ACTION_TIMEOUT):
            result = await view.run(getattr(cp, action)(**kwargs))
    except ApiError:
        raise
    except TimeoutError:
        raise ApiError(504, f"{cp.id}: {action} did not finish in {ACTION_TIMEOUT:g} s") from None
    except Exception as error:  # the charger's state refused it; the message says why
        log.warning("%s: %s failed", cp.id, action, exc_info=True)
        raise ApiError(409, f"{cp.id}: {action} failed: {error}") from None
    return result


async def act(call: Call) -> dict[str, Any]:
    """`POST /api/fleet/{cp_id}/actions/{action}`."""
    view = _view(call)
    cp = view.find(call.path["cp_id"])
    action = call.path["action"]
    result = await _perform(view, cp, action, _arguments(view, action, call.body, cp))
    return {"id": cp.id, "action": action, "result": result,
            "charger": charger_state(cp, view.tags(cp.id))}


async def act_many(call: Call) -> dict[str, Any]:
    """`POST /api/fleet/actions/{action}`: the action on every selected charger, concurrently;
    one charger's failure is in its result, not the answer's status."""
    view = _view(call)
    body, action = call.body, call.path["action"]
    chosen = [view.find(cp_id) for cp_id in body["ids"]] if "ids" in body else view.charge_points()
    chosen = [cp for cp in chosen
              if _matches(cp, body.get("match"), body.get("status"), body.get("online"))]
    # every refusal (a connector or tag one of them lacks) before anything is done
    plans = [(cp, _arguments(view, action, body, cp)) for cp in chosen]

    async def one(cp: ChargePoint, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"id": cp.id, "ok": True,
                    "result": await _perform(view, cp, action, kwargs)}
        except ApiError as error:
            return {"id": cp.id, "ok": False, "error": str(error)}

    results = await asyncio.gather(*(one(cp, kwargs) for cp, kwargs in plans))
    return {"action": action, "selected": len(results),
            "ok": sum(1 for r in results if r["ok"]), "results": results}


async def page(call: Call) -> Response:
    """`GET /`: the fleet page of this session."""
    from sim import ui_page

    view = _view(call)
    sid = call.request.cookies.get(COOKIE, "")
    return HTMLResponse(ui_page.render(csrf=view.sessions.get(sid, "")),
                        headers={"Cache-Control": "no-store"})


def _redirect(to: str) -> Response:
    """303 See Other to `to`, with a link for whatever does not follow it."""
    return HTMLResponse(f'<a href="{to}">{to}</a>', status_code=303, headers={"Location": to})


def _logged_in(view: FleetView) -> Response:
    sid, _csrf = view.open_session()
    response = _redirect("/")
    response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/")
    return response


async def login_form(call: Call) -> Response:
    """`GET /login`: the form; `?token=` (the link printed at start) logs in at once."""
    from sim import ui_page

    view = _view(call)
    token = call.query["token"]
    if token is not None and view.token_ok(token):
        return _logged_in(view)
    return HTMLResponse(ui_page.login(wrong=token is not None),
                        status_code=401 if token is not None else 200)


async def login(call: Call) -> Response:
    """`POST /login` with the form's `token` (application/x-www-form-urlencoded)."""
    from sim import ui_page

    view = _view(call)
    form = parse_qs((await call.request.body()).decode("utf-8", "replace"))
    if view.token_ok(next(iter(form.get("token", [])), None)):
        return _logged_in(view)
    return HTMLResponse(ui_page.login(wrong=True), status_code=401)


async def logout(call: Call) -> Response:
    """`POST /logout`: the session ends (its cookie is forgotten too)."""
    view = _view(call)
    view.sessions.pop(call.request.cookies.get(COOKIE, ""), None)
    response = _redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


# Route table -----------------------------------------------------------------------------------

_CP_ID = Param("cp_id", description="charge point id", min_length=1, max_length=48)
_ACTION = Param("action", enum=ACTIONS, description="a control action (sim.control)")
_ARGS = {
    "connector": {"type": "integer", "minimum": 0, "maximum": 64,
                  "description": "default 1; 0 (the charge point) for fault and clear_fault; "
                                 "present_id_tag without it picks the connector as a user "
                                 "would"},
    "id_tag": {"type": "string", "minLength": 1, "maxLength": 20,
               "description": "present_id_tag: the card presented (1.6 IdToken, 20 chars); "
                              "default: the charger's first known tag (409 when none)"},
    "error_code": {"enum": [c.value for c in ConnectorError if c.value != "NoError"],
                   "description": "fault: the StatusNotification errorCode (default "
                                  "OtherError)"},
}  # fmt: skip
ACTION_BODY = {"type": "object", "additionalProperties": False, "properties": _ARGS}
SELECTION_BODY = {
    "type": "object",
    "additionalProperties": False,
    "anyOf": [{"required": [key]} for key in ("ids", "match", "status", "online")],  # _SELECTORS
    "properties": {
        "ids": {"type": "array", "items": {"type": "string"}, "maxItems": 100000,
                "description": "these chargers (404 naming an unknown one)"},
        "match": {"type": "string", "description": "ids containing this (\"\": all)"},
        "status": {"enum": [s.value for s in ConnectorStatus],
                   "description": "chargers with a connector in this status"},
        "online": {"type": "boolean"},
        **_ARGS,
    },
}
_SELECTORS = ("ids", "match", "status", "online")
_SELECTION_VALIDATOR = Draft202012Validator(SELECTION_BODY)


def _check_selection(body: Any) -> None:
    """The schema's check, with a message that says how to select when nothing does."""
    if isinstance(body, dict) and not any(key in body for key in _SELECTORS):
        raise ApiError(422, "select chargers with ids, match, status or online "
                       '(match "" selects all)', field="ids")  # fmt: skip
    error = best_match(_SELECTION_VALIDATOR.iter_errors(body))
    if error is not None:
        raise ApiError(422, error.message, field=spec._field_of(error))


ACTION_RESULT = {
    "type": "object",
    "required": ["id", "action", "result", "charger"],
    "properties": {"id": {"type": "string"}, "action": {"enum": list(ACTIONS)},
                   "result": {"description": "present_id_tag: whether the tag was accepted"},
                   "charger": CHARGER},
}  # fmt: skip
_AUTH = {"401": "missing or wrong token", "403": "a session's POST without its X-CSRF-Token"}
_SECURITY: tuple[dict[str, list[str]], ...] = ({"bearer": []}, {"session": []})


def _op(method: str, path: str, summary: str, endpoint: Any, **kw: Any) -> Operation:
    """An operation behind `Guard` (which checks the token before the route runs)."""
    responses = {**_AUTH, **kw.pop("responses", {})}
    return Operation(method, path, summary, endpoint, auth=False, security=_SECURITY,
                     challenge="Bearer", responses=responses, tag=kw.pop("tag", "fleet"), **kw)


ROUTES: tuple[Operation, ...] = (
    _op("GET", "/api/fleet", "The chargers with each connector's state", list_chargers,
        query=(Param("match", match="contains", description="id contains (any case)"),
               Param("status", enum=tuple(s.value for s in ConnectorStatus),
                     description="a connector is in this status"),
               Param("online", type="boolean"),
               Param("limit", type="integer", default=100, minimum=1, maximum=1000),
               Param("offset", type="integer", default=0, minimum=0)),
        result={"type": "object", "required": ["total", "matching", "online", "statuses",
                                               "chargers"],
                "properties": {"total": {"type": "integer"}, "matching": {"type": "integer"},
                               "online": {"type": "integer"},
                               "statuses": {"type": "object", "additionalProperties":
                                            {"type": "integer"}},
                               "chargers": {"type": "array", "items": CHARGER}}}),
    _op("GET", "/api/fleet/{cp_id}", "One charger", get_charger, path_params=(_CP_ID,),
        result=CHARGER, responses={"404": "unknown charger"}),
    _op("POST", "/api/fleet/{cp_id}/actions/{action}", "A control action on one charger", act,
        path_params=(_CP_ID, _ACTION), body=ACTION_BODY, body_optional=True,
        result=ACTION_RESULT,
        responses={"404": "unknown charger, or no such connector on it for this action",
                   "409": "the charger's state refused it",
                   "504": f"not done in {ACTION_TIMEOUT:g} s"},
        description="Actions: " + ", ".join(ACTIONS) + ". A user, an EV or a fault does it; "
                    "the charger reports it to its CSMS as OCPP says."),
    _op("POST", "/api/fleet/actions/{action}", "A control action on a selection", act_many,
        path_params=(_ACTION,), body=SELECTION_BODY, check=_check_selection,
        responses={"404": "an unknown charger in ids, or a connector a selected charger lacks"},
        description="Select by `ids`, and/or the filters `match`, `status`, `online` (all "
                    "given must hold; at least one; `match: \"\"` selects every charger). "
                    "Each charger's failure is in its result."),
    _op("GET", "/", "The fleet page (HTML)", page, tag="page", media="text/html",
        result={"type": "string"}),
    Operation("GET", "/login", "The login page (HTML); ?token= logs in", login_form,
              auth=False, tag="page", media="text/html", result={"type": "string"},
              query=(Param("token", description="the admin token (the link printed at "
                                                "start)"),),
              responses={"401": "wrong token"}),
    Operation("POST", "/login", "Log in with the form's token (sets the session cookie)",
              login, auth=False, tag="page", ok=303, media="text/html",
              responses={"401": "wrong token"}),
    _op("POST", "/logout", "End the session", logout, tag="page", ok=303, media="text/html"),
)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of `ROUTES`, by the CSMS API's generator."""
    document = spec.openapi(ROUTES, title=TITLE, description=__doc__.split("\n\n")[0])
    document["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "the admin token"},
        "session": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                    "description": f"set by /login; POSTs also need the {CSRF_HEADER} header "
                                   "of the page"},
    }  # fmt: skip
    for method in ("get", "post"):  # the login answers a wrong token with its form again
        document["paths"]["/login"][method]["responses"]["401"] = {
            "description": "wrong token (the form again, saying so)",
            "content": {"text/html": {"schema": {"type": "string"}}}}
    document["paths"]["/api/openapi.json"] = {"get": {
        "summary": "This document", "operationId": "openapi", "tags": ["meta"],
        "security": list(_SECURITY), "parameters": [],
        "responses": {"200": {"description": "OpenAPI 3.1",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      "401": {"description": _AUTH["401"]}},
    }}  # fmt: skip
    return document


# Access ----------------------------------------------------------------------------------------


class Guard:
    """ASGI middleware: nothing but /login without the token; a session's POST needs its CSRF
    token. Bearer requests carry no cookie a browser could add on its own: no CSRF check."""

    OPEN = frozenset({"/login"})

    def __init__(self, app: Any, view: FleetView) -> None:
        self.app = app
        self.view = view

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(Request(scope))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        if request.url.path in self.OPEN:
            return None
        if "authorization" in request.headers:
            if self.view.token_ok(presented_token(request)):
                return None
            return ApiError(401, "wrong token").response()
        csrf = self.view.sessions.get(request.cookies.get(COOKIE, ""))
        if csrf is None:
            if request.url.path.startswith("/api/") or request.method not in ("GET", "HEAD"):
                return ApiError(401, "log in: a Bearer token or the session of /login is "
                                "required").response()
            return _redirect("/login")
        if request.method not in ("GET", "HEAD") and not hmac.compare_digest(
                request.headers.get(CSRF_HEADER, "").encode(), csrf.encode()):
            return ApiError(403, f"a session's {request.method} needs its {CSRF_HEADER} "
                            "header").response()
        return None


def create_app(view: FleetView) -> Any:
    """The ASGI app of one fleet view (no global state: a test may run several)."""
    document = openapi_document()

    async def openapi(request: Request) -> DecimalJSONResponse:
        return DecimalJSONResponse(document)

    async def nobody(token: str) -> None:  # Guard authenticates; the table has no auth=True
        return None

    async def not_found(request: Request, exc: Exception) -> DecimalJSONResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return DecimalJSONResponse({"error": f"no route {request.url.path}"}, status_code=status)

    app = Starlette(routes=[Route("/api/openapi.json", openapi, methods=["GET"]),
                            *spec.routes(ROUTES, view, nobody)],  # type: ignore[arg-type]
                    exception_handlers={404: not_found})
    app.router.redirect_slashes = False
    return Guard(app, view)


# Serving ---------------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the command running the fleet owns SIGINT and
    SIGTERM (uvicorn's would take them over and re-raise them when it stops)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class UiServer:
    """uvicorn serving `create_app(view)` on 127.0.0.1:`port` as a task of the current loop.
    The socket is bound in the constructor, so a port in use is an OSError before anything
    runs (the CLI's exit 2)."""

    def __init__(self, view: FleetView, port: int = 0, host: str = "127.0.0.1") -> None:
        self.view = view
        self.socket = socket.create_server((host, port), reuse_port=False)
        self.server = _Server(uvicorn.Config(
            create_app(view), log_level="warning", lifespan="off", access_log=False))
        self._task: asyncio.Task | None = None

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def login_url(self) -> str:
        """The link that logs a browser in (printed once at start)."""
        return self.url(f"/login?token={self.view.token}")

    async def start(self) -> UiServer:
        self._task = asyncio.get_running_loop().create_task(
            self.server.serve(sockets=[self.socket]))
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise OSError("the fleet UI did not start")
            await asyncio.sleep(0.01)
        return self

    async def close(self) -> None:
        if self._task is not None:
            self.server.should_exit = True
            await self._task
            self._task = None
        self.socket.close()

    async def __aenter__(self) -> UiServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class UiThread:
    """`UiServer` on an event loop in a thread of its own: for commands that run several
    loops one after the other (`chargebench run`: one per scenario), which `view.show()` each
    scenario's charge points with its loop. The socket is bound by the constructor."""

    #: wall seconds to wait for the server to start or stop
    WAIT = 10.0

    def __init__(self, view: FleetView, port: int = 0) -> None:
        self.ui = UiServer(view, port)
        self._thread = threading.Thread(target=self._serve, name="fleet-ui", daemon=True)
        self._failed: BaseException | None = None

    def _serve(self) -> None:
        try:
            asyncio.run(self.ui.server.serve(sockets=[self.ui.socket]))
        except BaseException as error:  # reported by start()
            self._failed = error

    def start(self) -> UiThread:
        self._thread.start()
        deadline = time.monotonic() + self.WAIT
        while not self.ui.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise OSError(f"the fleet UI did not start: {self._failed}")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        self.ui.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(self.WAIT)
        self.ui.socket.close()


def new_token() -> str:
    """A token for a run that was given none."""
    return secrets.token_urlsafe(18)
