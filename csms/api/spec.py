"""Operations declared once in a route table, served as Starlette routes and described in OpenAPI.

    LIST_USERS = Operation("GET", "/api/users", "List users", list_users, listing=USERS)
    app = serve(ROUTES, ctx)          # csms.api.server
    document = openapi(ROUTES)        # GET /api/openapi.json

An endpoint is a module-level `async def endpoint(call: Call)`; it finds the CSMS's parts in
`call.ctx`. Each route checks, in order: the method (405 with `Allow`), the bearer token (401),
the role (403 for ADMIN-only operations), path and query parameters (422 naming the parameter),
the JSON body against the declared schema (422 naming the field). Any of them, or the endpoint,
finding the store unavailable answers 503 with Retry-After (csms.outage). The OpenAPI document is
generated from the same table, every status an operation can answer included, so the two
cannot drift (tests/csms/test_api_schemathesis.py checks it from outside).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from csms.api.jsonio import ApiError, DecimalJSONResponse, loads
from csms.api.listing import Listing
from csms.api.params import Param, parse_all
from csms.outage import RETRY_AFTER
from csms.services.users import Principal
from csms.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from csms.api.context import Context

Authenticate = Callable[[str], Awaitable[Principal | None]]


def presented_token(request: Request, *, basic: bool = False) -> str | None:
    """The token a request presents: `Authorization: Bearer T`, or with `basic` the password of
    `Authorization: Basic` (what a browser sends)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if basic and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


@dataclass(slots=True)
class Call:
    """One authenticated, validated request as an endpoint sees it."""

    request: Request
    ctx: Context
    principal: Principal | None  # None only for operations declared auth=False
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any = None


Endpoint = Callable[[Call], Awaitable[Any]]

#: The body of every error answer.
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "field": {"type": "string", "description": "the parameter or body field at fault"},
    },
}
#: Response headers of every list (listing.respond).
LIST_HEADERS = {
    "X-Total-Count": {"description": "rows matching the filters, all pages",
                      "required": True, "schema": {"type": "integer", "minimum": 0}},
    "X-Limit": {"description": "page size", "required": True,
                "schema": {"type": "integer", "minimum": 1}},
    "X-Offset": {"description": "rows skipped", "required": True,
                 "schema": {"type": "integer", "minimum": 0}},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Operation:
    """One row of the route table."""

    method: str
    path: str
    summary: str
    endpoint: Endpoint
    admin: bool = True
    path_params: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    #: the body may be left out (an empty body is `{}`)
    body_optional: bool = False
    #: how the body is parsed (default: money as Decimal) and, instead of the generic schema
    #: check, how it is checked (raises ApiError 422 naming the field)
    load: Callable[[bytes], Any] = loads
    check: Callable[[Any], None] | None = None
    listing: Listing | None = None
    tag: str = "business"
    #: False: no Bearer token (the OpenAPI document, payment webhooks signed otherwise)
    auth: bool = True
    #: the password of HTTP Basic counts as the token too (the dashboard: a browser asks for it)
    basic: bool = False
    #: OpenAPI security requirements and the 401 challenge of an operation that checks its
    #: caller itself (auth=False; the signed payment webhook)
    security: tuple[dict[str, list], ...] | None = None
    challenge: str | None = None
    #: the success status and what it carries (JSON schema; None: any JSON)
    ok: int = 200
    result: dict[str, Any] | None = None
    media: str = "application/json"
    #: headers of the success answer, as OpenAPI header objects
    headers: dict[str, Any] = field(default_factory=dict)
    #: answers beyond the common ones: {"409": "charger not online"} (error bodies)
    responses: dict[str, str] = field(default_factory=dict)
    description: str = ""
    #: OpenAPI operationId (default: the endpoint's name)
    name: str = ""
    #: why the operation is left out of the OpenAPI document ("": it is in it); such an
    #: operation is listed under the document's `x-undocumented` with this reason (the
    #: operator UI's pages and forms: HTML behind a session cookie, no API)
    undocumented: str = ""
    validator: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.body is not None and self.validator is None and self.check is None:
            object.__setattr__(self, "validator", Draft202012Validator(self.body))

    @property
    def query_params(self) -> tuple[Param, ...]:
        return (*self.query, *(self.listing.all_params if self.listing else ()))

    @property
    def www_authenticate(self) -> str:
        """The challenge of this operation's 401 answers."""
        if self.challenge is not None:
            return self.challenge
        return 'Basic realm="ChargeBench CSMS"' if self.basic else "Bearer"

    @property
    def operation_id(self) -> str:
        return self.name or self.endpoint.__name__

    def statuses(self) -> dict[str, str]:
        """Every status this operation can answer, with why (the OpenAPI `responses`)."""
        out = {str(self.ok): "OK"}
        if self.auth:
            out["401"] = "missing or unknown token"
            out["403"] = "role or ownership does not allow it"
        elif self.challenge is not None:
            out["401"] = "missing or bad credentials"
        if self.path_params or self.query_params or self.body is not None:
            out["422"] = "invalid input; `field` names it"
        out.update(self.responses)
        out["503"] = "the store is unavailable; retry after Retry-After seconds"
        return out


def _field_of(error: ValidationError) -> str:
    """The body field a schema error is about (`amount`, `items.0.id`, or `body`)."""
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [name for name in required if name not in error.instance]
        path += missing[:1]
    elif (error.validator == "additionalProperties" and isinstance(error.instance, dict)
          and isinstance(error.schema, Mapping)):
        known = set(error.schema.get("properties", {}))
        path += sorted(set(error.instance) - known)[:1]
    return ".".join(path) or "body"


# Serving ---------------------------------------------------------------------------------------


def routes(table: Sequence[Operation], ctx: Context, authenticate: Authenticate) -> list[Route]:
    """One Starlette route per path, dispatching on the method (405 with `Allow` otherwise)."""
    by_path: dict[str, dict[str, Operation]] = {}
    for op in table:
        by_path.setdefault(op.path, {})[op.method] = op
    return [_route(path, ops, ctx, authenticate) for path, ops in by_path.items()]


def _route(path: str, ops: dict[str, Operation], ctx: Context, authenticate: Authenticate) -> Route:
    allow = ", ".join(sorted({*ops, *(["HEAD"] if "GET" in ops else [])}))

    async def handle(request: Request) -> Response:
        op = ops.get(request.method)
        if op is None and request.method == "HEAD":
            op = ops.get("GET")  # the GET's headers; the server sends no body
        if op is None:
            return DecimalJSONResponse({"error": f"{request.method} not allowed here"},
                                       status_code=405, headers={"Allow": allow})  # fmt: skip
        try:
            return await _serve(op, ctx, authenticate, request)
        except ApiError as error:
            return error.response(challenge=op.www_authenticate)
        except StoreUnavailable as error:  # nothing done; the client may retry (csms.outage)
            if ctx.refusals is not None:
                ctx.refusals.refused(f"{request.method} {request.url.path}", error)
            return DecimalJSONResponse(
                {"error": "the store is unavailable; retry later"}, status_code=503,
                headers={"Retry-After": str(RETRY_AFTER)},
            )  # fmt: skip

    return Route(path, _EveryMethod(handle), name=path)


class _EveryMethod:
    """An ASGI app for a Starlette route without a method list: every method reaches the
    handler, so an undeclared one (QUERY, TRACE...) gets our 405 with the true `Allow`."""

    def __init__(self, handle: Callable[[Request], Awaitable[Response]]) -> None:
        self.handle = handle

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)


async def _serve(op: Operation, ctx: Context, authenticate: Authenticate,
                 request: Request) -> Response:  # fmt: skip
    principal = None
    if op.auth:
        token = presented_token(request, basic=op.basic)
        if token is not None:
            principal = await authenticate(token)
        if principal is None:
            raise ApiError(401, "a valid token is required")
        if op.admin and not principal.is_admin:
            raise ApiError(403, "ADMIN role required")
    call = Call(
        request,
        ctx,
        principal,
        parse_all(op.path_params, request.path_params),
        parse_all(op.query_params, request.query_params),
    )
    if op.body is not None:
        raw = await request.body()
        call.body = {} if op.body_optional and not raw.strip() else op.load(raw)
        if op.check is not None:
            op.check(call.body)
        else:
            error = best_match(op.validator.iter_errors(call.body))
            if error is not None:
                raise ApiError(422, error.message, field=_field_of(error))
    result = await op.endpoint(call)
    if isinstance(result, Response):
        return result
    return DecimalJSONResponse(result, status_code=op.ok)


# Documentation ---------------------------------------------------------------------------------


def _parameter(param: Param, where: str) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": where,
        "required": where == "path" or param.required,
        "schema": param.schema(),
        "description": param.description,
    }


def _responses(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, why in op.statuses().items():
        if code == str(op.ok):
            out[code] = _success(op)
            continue
        answer: dict[str, Any] = {
            "description": why,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if code == "401":
            answer["headers"] = {"WWW-Authenticate": {
                "required": True, "description": op.www_authenticate,
                "schema": {"type": "string"}}}  # fmt: skip
        elif code == "503":
            answer["headers"] = {"Retry-After": {
                "required": True, "description": "seconds to wait before retrying",
                "schema": {"type": "string"}}}  # fmt: skip
        out[code] = answer
    return out


def _success(op: Operation) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": op.statuses()[str(op.ok)]}
    if op.listing is not None:
        columns = op.listing.columns
        always = op.listing.always if op.listing.always is not None else columns
        item = {"type": "object", "required": list(always),
                "properties": {name: {} for name in columns}}  # fmt: skip
        answer["description"] = f"a page of {op.listing.name}"
        answer["headers"] = dict(LIST_HEADERS)
        answer["content"] = {
            "application/json": {"schema": {"type": "array", "items": op.result or item}},
            "text/csv": {"schema": {"type": "string"}},
        }
    else:
        answer["content"] = {op.media: {"schema": op.result if op.result is not None else {}}}
        if op.headers:
            answer["headers"] = op.headers
    return answer


def openapi(table: Sequence[Operation], *, title: str, version: str = "1",
            description: str = "") -> dict[str, Any]:  # fmt: skip
    """The OpenAPI 3.1 document of every operation of `table`."""
    paths: dict[str, dict[str, Any]] = {}
    undocumented: dict[str, dict[str, str]] = {}
    for op in table:
        if op.undocumented:
            undocumented.setdefault(op.path, {})[op.method.lower()] = op.undocumented
            continue
        operation: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.operation_id,
            "tags": [op.tag],
            "parameters": [_parameter(p, "path") for p in op.path_params]
            + [_parameter(p, "query") for p in op.query_params],
            "responses": _responses(op),
        }
        if op.description:
            operation["description"] = op.description
        if op.security is not None:
            operation["security"] = list(op.security)
        elif op.auth:
            operation["security"] = [{"bearer": []}, *([{"basic": []}] if op.basic else [])]
            operation["x-role"] = "ADMIN" if op.admin else "ADMIN or USER (own data)"
        else:
            operation["security"] = []
        if op.body is not None:
            operation["requestBody"] = {
                "required": not op.body_optional,
                "content": {"application/json": {"schema": op.body}},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "x-undocumented": undocumented,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "any user name, an ADMIN token as the password",
                },
                "webhookSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Signature",
                    "description": "HMAC-SHA256 (hex) of the raw body with the provider secret",
                },
            },
            "schemas": {"Error": ERROR},
        },
    }
