"""Operations declared once, served as Starlette routes and described in OpenAPI 3.1.

    api = Api("ChargeBench CSMS business API")

    @api.op("GET", "/api/users/{user_id}", "One user", admin=False,
            path_params=(Param("user_id"),))
    async def get_user(call: Call) -> Any: ...

Each route checks, in order: bearer token (401), role (403 for ADMIN-only operations), path and
query parameters (422 naming the parameter), JSON body against the declared schema (422 naming
the field). The endpoint then gets a `Call` with everything parsed. The OpenAPI document is
generated from the same declarations, so it cannot drift from the routes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from csms.api.jsonio import ApiError, DecimalJSONResponse, loads
from csms.api.listing import Listing
from csms.api.params import Param, parse_all
from csms.services.users import Principal

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
    principal: Principal | None  # None only for operations declared auth=False
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any = None


Endpoint = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    endpoint: Endpoint
    admin: bool = True
    path_params: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    listing: Listing | None = None
    tag: str = "business"
    #: False: no Bearer token (the OpenAPI document, payment webhooks signed otherwise)
    auth: bool = True
    #: answers beyond the common ones, documented in OpenAPI: {"409": "charger not online"}
    responses: dict[str, str] = field(default_factory=dict)
    validator: Any = field(default=None, compare=False)

    @property
    def query_params(self) -> tuple[Param, ...]:
        return (*self.query, *(self.listing.all_params if self.listing else ()))


def _field_of(error: ValidationError) -> str:
    """The body field a schema error is about (`amount`, `items.0.id`, or `body`)."""
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        path += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        path += sorted(set(error.instance) - known)[:1]
    return ".".join(path) or "body"


class Api:
    """A set of operations; `routes()` serves them, `openapi()` documents them."""

    def __init__(self, title: str, version: str = "1") -> None:
        self.title = title
        self.version = version
        self.operations: list[Operation] = []

    def op(
        self, method: str, path: str, summary: str, **options: Any
    ) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            body = options.get("body")
            validator = Draft202012Validator(body) if body is not None else None
            self.operations.append(
                Operation(method, path, summary, endpoint, validator=validator, **options)
            )
            return endpoint

        return register

    # Serving -----------------------------------------------------------------------------------

    def routes(self, authenticate: Authenticate) -> list[Route]:
        return [
            Route(
                op.path,
                self._handler(op, authenticate),
                methods=[op.method],
                name=op.endpoint.__name__,
            )
            for op in self.operations
        ]

    def _handler(self, op: Operation, authenticate: Authenticate) -> Callable[..., Any]:
        async def handle(request: Request) -> Response:
            try:
                return await self._serve(op, authenticate, request)
            except ApiError as error:
                return error.response()

        return handle

    async def _serve(self, op: Operation, authenticate: Authenticate, request: Request) -> Response:
        principal = None
        if op.auth:
            token = presented_token(request)
            if token is not None:
                principal = await authenticate(token)
            if principal is None:
                raise ApiError(401, "a valid Bearer token is required")
            if op.admin and not principal.is_admin:
                raise ApiError(403, "ADMIN role required")
        call = Call(
            request,
            principal,
            parse_all(op.path_params, request.path_params),
            parse_all(op.query_params, request.query_params),
        )
        if op.validator is not None:
            call.body = loads(await request.body())
            error = best_match(op.validator.iter_errors(call.body))
            if error is not None:
                raise ApiError(422, error.message, field=_field_of(error))
        result = await op.endpoint(call)
        return result if isinstance(result, Response) else DecimalJSONResponse(result)

    # Documentation -----------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of every operation."""
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            parameters = [
                {
                    "name": p.name,
                    "in": "path",
                    "required": True,
                    "schema": p.schema(),
                    "description": p.description,
                }
                for p in op.path_params
            ] + [
                {
                    "name": p.name,
                    "in": "query",
                    "required": p.required,
                    "schema": p.schema(),
                    "description": p.description,
                }
                for p in op.query_params
            ]
            operation: dict[str, Any] = {
                "summary": op.summary,
                "operationId": op.endpoint.__name__,
                "tags": [op.tag],
                "parameters": parameters,
                "security": [{"bearer": []}] if op.auth else [],
                "x-role": "ADMIN" if op.admin else "ADMIN or USER (own data)",
                "responses": {
                    "200": {"description": "OK (lists: X-Total-Count, X-Limit, X-Offset)"},
                    "401": {"description": "missing or unknown Bearer token"},
                    "403": {"description": "role or ownership does not allow it"},
                    "422": {"description": "invalid input; `field` names it"},
                },
            }
            for code, description in op.responses.items():
                operation["responses"][code] = {"description": description}
            if op.listing is not None:
                operation["responses"]["200"]["content"] = {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    "text/csv": {"schema": {"type": "string"}},
                }
            if op.body is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": op.body}},
                }
            paths.setdefault(op.path, {})[op.method.lower()] = operation
        return {
            "openapi": "3.1.0",
            "info": {
                "title": self.title,
                "version": self.version,
                "description": "Money is a decimal string with 2 places, never a float.",
            },
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        }
