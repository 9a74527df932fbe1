"""The business HTTP API of the CSMS: users, wallets, payments, tariffs, billing (seeds/001 §5.4,
§7.2, §7.3), plus the resource lists (`resources.py`) and analytics (`analytics_api.py`).

    app = create_app(csms)                           # standalone Starlette app (tests, tools)
    Starlette(routes=[*business.routes(csms), ...])  # or mounted into csms.api.server

Auth: `Authorization: Bearer <token>`, either the configured admin token (ADMIN) or a user's API
token (their role). A USER token reaches only its own profile, wallet and sessions (403 else).
The OpenAPI document is `GET /api/openapi.json` (no token needed).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from csms.api import analytics_api, resources
from csms.api.context import Context
from csms.api.jsonio import ApiError, DecimalJSONResponse
from csms.api.listing import Listing
from csms.api.params import Param
from csms.api.spec import Api, Call
from csms.services import users, wallet
from csms.services.billing import money
from csms.services.payments import PaymentError

MONEY = {"type": ["string", "number"], "description": 'decimal, at most 2 places ("500.00")'}
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
USER_ID = (Param("user_id", description="user id"),)

USERS = Listing(
    "users",
    columns=("id", "name", "email", "role", "rfid_card_id", "active", "created_at"),
    params=(
        Param("name", match="contains"),
        Param("email", match="contains"),
        Param("role", enum=users.ROLES),
        Param("active", "boolean"),
    ),
)
WALLET_HISTORY = Listing(
    "wallet_transactions",
    columns=(
        "id",
        "created_at",
        "type",
        "amount",
        "balance_after",
        "currency",
        "transaction_id",
        "reference",
    ),
    params=(Param("type", enum=("TOP_UP", "CHARGE_DEDUCT")),),
    store_pages=True,
)
TARIFFS = Listing(
    "tariffs",
    columns=("charger_id", "rate_per_kwh", "currency"),
    params=(Param("charger_id"), Param("currency")),
)
RETRIES = Listing(
    "billing_retries",
    columns=(
        "transaction_id",
        "state",
        "reason",
        "attempts",
        "first_failed_at",
        "last_attempt_at",
        "next_attempt_at",
    ),
    params=(Param("state", enum=("Pending", "Done", "Review")),),
)


def _amount(body: dict, name: str) -> Any:
    try:
        return wallet.parse_amount(body[name])
    except ValueError as error:
        raise ApiError(422, f"{name}: {error}", field=name) from None


def register(api: Api, ctx: Context) -> None:
    """Users, wallets, payments, tariffs and billing operations."""
    from csms.api.listing import respond

    store = ctx.store

    # Users ---------------------------------------------------------------------------------

    @api.op(
        "POST",
        "/api/users",
        "Create a user (virtual RFID id, id tag, wallet) and a token",
        body={
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "email": {"type": ["string", "null"], "maxLength": 254},
                "role": {"enum": list(users.ROLES)},
                "currency": CURRENCY,
            },
        },
    )
    async def create_user(call: Call) -> Any:
        body = call.body
        try:
            user = await ctx.db(
                users.create_user,
                store,
                body["name"],
                email=body.get("email"),
                role=body.get("role", users.USER),
                currency=body.get("currency", "INR"),
            )
        except sqlite3.IntegrityError:
            raise ApiError(409, "email already in use", field="email") from None
        token = await ctx.db(users.issue_token, store, user["id"])
        return DecimalJSONResponse({"user": user, "token": token}, status_code=201)

    @api.op("GET", "/api/users", "List users", listing=USERS)
    async def list_users(call: Call) -> Any:
        return await respond(call.request, USERS, lambda f: store.list_users(), call.query)

    @api.op(
        "GET",
        "/api/users/{user_id}",
        "A user's profile and wallet",
        admin=False,
        path_params=USER_ID,
    )
    async def get_user(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        return {**user, "wallet": await ctx.db(store.get_wallet, user["id"])}

    @api.op(
        "PATCH",
        "/api/users/{user_id}",
        "Activate or deactivate an account (and its tag)",
        path_params=USER_ID,
        body={
            "type": "object",
            "additionalProperties": False,
            "required": ["active"],
            "properties": {"active": {"type": "boolean"}},
        },
    )
    async def patch_user(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        await ctx.db(store.set_user_active, user["id"], call.body["active"])
        return await ctx.db(store.get_user, user["id"])

    @api.op(
        "POST",
        "/api/users/{user_id}/tokens",
        "Issue another API token (shown once)",
        admin=False,
        path_params=USER_ID,
    )
    async def new_token(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        token = await ctx.db(users.issue_token, store, user["id"])
        return DecimalJSONResponse({"token": token}, status_code=201)

    @api.op(
        "POST",
        "/api/users/{user_id}/remote-start",
        "Start charging for the user (001 §4.3): active account, charger online, "
        "connector Available; the idTag is the user's virtual RFID id",
        admin=False,
        path_params=USER_ID,
        body={
            "type": "object",
            "additionalProperties": False,
            "required": ["charger_id", "connector_id"],
            "properties": {
                "charger_id": {"type": "string", "minLength": 1},
                "connector_id": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        },
    )
    async def remote_start(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        try:
            reply = await users.remote_start(
                store,
                ctx.registry,
                ctx.send,
                user,
                call.body["charger_id"],
                call.body["connector_id"],
            )
        except users.RemoteStartRefused as refused:
            raise ApiError(refused.status, str(refused)) from None
        except Exception as error:  # the charger did not answer properly: not our 500
            raise ApiError(502, f"{type(error).__name__}: {error}") from None
        return {"idTag": user["rfid_card_id"], "reply": reply}

    # Wallets and payments --------------------------------------------------------------------

    @api.op(
        "GET", "/api/users/{user_id}/wallet", "Wallet balance", admin=False, path_params=USER_ID
    )
    async def get_wallet(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        return await ctx.db(store.get_wallet, user["id"])

    @api.op(
        "POST",
        "/api/users/{user_id}/wallet/top-up",
        "Add funds through the payment gateway (TOP_UP once the payment is captured)",
        admin=False,
        path_params=USER_ID,
        body={
            "type": "object",
            "additionalProperties": False,
            "required": ["amount"],
            "properties": {"amount": MONEY},
        },
    )
    async def top_up(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        amount = _amount(call.body, "amount")
        order, entry = await ctx.db(wallet.top_up, store, ctx.payments, user["id"], amount)
        return DecimalJSONResponse(
            {
                "order": {
                    "id": order.id,
                    "status": order.status,
                    "amount": order.amount,
                    "currency": order.currency,
                },
                "wallet_transaction": entry,
                "wallet": await ctx.db(store.get_wallet, user["id"]),
            },
            status_code=201,
        )

    @api.op(
        "GET",
        "/api/users/{user_id}/wallet/transactions",
        "Wallet history with running balance (001 §7.3), newest first",
        admin=False,
        path_params=USER_ID,
        listing=WALLET_HISTORY,
    )
    async def wallet_history(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])

        def fetch(filters: dict, limit: int, offset: int) -> list:
            return store.list_wallet_transactions(
                user_id=user["id"], type=filters["type"], limit=limit, offset=offset
            )

        return await respond(call.request, WALLET_HISTORY, fetch, call.query)

    @api.op(
        "POST",
        "/api/payments/webhook",
        "Payment provider webhook (signed with X-Signature, HMAC-SHA256 of the body)",
        auth=False,
        body={"type": "object"},
    )
    async def payment_webhook(call: Call) -> Any:
        raw = await call.request.body()
        try:
            order = ctx.payments.verify_webhook(raw, call.request.headers.get("x-signature", ""))
            entry = await ctx.db(wallet.credit_paid_order, store, order)
        except PaymentError as error:
            raise ApiError(400, str(error)) from None
        except (LookupError, ValueError) as error:
            raise ApiError(422, str(error)) from None
        return {"wallet_transaction": entry}

    # Tariffs and billing ---------------------------------------------------------------------

    @api.op(
        "GET",
        "/api/tariffs",
        "Tariffs (charger_id null: the global fallback)",
        admin=False,
        listing=TARIFFS,
    )
    async def list_tariffs(call: Call) -> Any:
        return await respond(call.request, TARIFFS, lambda f: store.list_tariffs(), call.query)

    @api.op(
        "PUT",
        "/api/tariffs",
        "Set a charger's rate, or the global one (charger_id null)",
        body={
            "type": "object",
            "additionalProperties": False,
            "required": ["rate_per_kwh"],
            "properties": {
                "charger_id": {"type": ["string", "null"], "minLength": 1},
                "rate_per_kwh": MONEY,
                "currency": CURRENCY,
            },
        },
    )
    async def set_tariff(call: Call) -> Any:
        body = call.body
        try:
            rate = wallet.parse_amount(body["rate_per_kwh"], maximum=money("100000"))
        except ValueError as error:
            raise ApiError(422, f"rate_per_kwh: {error}", field="rate_per_kwh") from None
        charger_id = body.get("charger_id")
        if charger_id is not None and await ctx.db(store.get_charger, charger_id) is None:
            raise ApiError(404, f"unknown charger {charger_id!r}", field="charger_id")
        await ctx.db(store.set_tariff, charger_id, rate, body.get("currency", "INR"))
        return {
            "charger_id": charger_id,
            "rate_per_kwh": rate,
            "currency": body.get("currency", "INR"),
        }

    @api.op("GET", "/api/billing/retries", "Billing retry queue and review flags", listing=RETRIES)
    async def list_retries(call: Call) -> Any:
        return await respond(
            call.request, RETRIES, lambda f: store.list_billing_retries(), call.query
        )

    @api.op("POST", "/api/billing/retry", "Run the billing retry pass now (what the worker does)")
    async def retry_now(call: Call) -> Any:
        outcomes = await ctx.billing.retry_due()
        return [
            {
                "transaction_id": o.transaction_id,
                "status": o.status,
                "amount": o.amount,
                "reason": o.reason,
            }
            for o in outcomes
        ]


def build_api(ctx: Context) -> Api:
    api = Api("ChargeBench CSMS business API")
    register(api, ctx)
    resources.register(api, ctx)
    analytics_api.register(api, ctx)
    return api


def routes(csms: Any, *, ctx: Context | None = None) -> list[Route]:
    """Every business route plus `GET /api/openapi.json`, for mounting into the CSMS's app."""
    ctx = ctx or Context.of(csms)
    api = build_api(ctx)
    document = api.openapi()

    async def authenticate(token: str) -> users.Principal | None:
        return await ctx.db(users.authenticate, ctx.store, token, admin_token=ctx.admin_token)

    async def openapi(request: Request) -> DecimalJSONResponse:
        return DecimalJSONResponse(document)

    return [Route("/api/openapi.json", openapi), *api.routes(authenticate)]


def create_app(csms: Any, *, ctx: Context | None = None) -> Starlette:
    """A standalone app with only the business routes (the CSMS's own app mounts `routes`)."""
    return Starlette(routes=routes(csms, ctx=ctx))


__all__ = ["Context", "build_api", "create_app", "routes"]
