"""The business HTTP API of the CSMS: users, wallets, payments, tariffs, billing (seeds/001 §5.4,
§7.2, §7.3), plus the resource lists (`resources.py`) and analytics (`analytics_api.py`).

    app = create_app(csms)                           # standalone Starlette app (tests, tools)
    Starlette(routes=[*business.routes(csms), ...])  # or mounted into csms.api.server

Auth: `Authorization: Bearer <token>`, either the configured admin token (ADMIN) or a user's API
token (their role). A USER token reaches only its own profile, wallet, sessions, remote starts
and stats (403 else).
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
from csms.api.listing import Listing, respond
from csms.api.params import Param
from csms.api.resources import SINCE, UNTIL
from csms.api.spec import Api, Call
from csms.services import analytics, remote, users, wallet
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
REMOTE_STARTS = Listing(
    "remote_starts",
    columns=(
        "id",
        "charger_id",
        "connector_id",
        "id_tag",
        "status",
        "reply_status",
        "transaction_id",
        "reason",
        "requested_at",
        "updated_at",
    ),
    params=(Param("charger_id"), Param("status", enum=remote.STATUSES)),
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
        "Start charging for the user (001 §4.3): active account, charger online, connector "
        "Available; a Pending record (its `id` is returned) is committed before "
        "RemoteStartTransaction (idTag: the user's virtual RFID id) and linked to the "
        "transaction when the charger's StartTransaction comes",
        admin=False,
        path_params=USER_ID,
        responses={
            "201": "the record and the charger's reply (a Rejected reply: record Rejected)",
            "404": "unknown user or charger",
            "409": "charger not online, connector not Available, or a remote start pending",
            "502": "the charger answered with a CALLERROR or an invalid reply (record Failed)",
            "504": "no reply in time (record Failed)",
        },
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
        record, reply = await ctx.relay(
            remote.start(
                store,
                ctx.registry,
                ctx.send,
                user,
                call.body["charger_id"],
                call.body["connector_id"],
                now=ctx.clock.now(),
                timeout=ctx.remote_start_timeout,
            )
        )
        return DecimalJSONResponse(
            {"id": record["id"], "idTag": user["rfid_card_id"], "reply": reply,
             "remote_start": record},
            status_code=201,
        )  # fmt: skip

    async def expire_remote_starts() -> None:
        await ctx.db(remote.expire, store, ctx.clock.now(), ctx.remote_start_timeout)

    @api.op(
        "GET",
        "/api/users/{user_id}/remote-starts",
        "The user's remote starts (pending records and how each ended), newest first",
        admin=False,
        path_params=USER_ID,
        listing=REMOTE_STARTS,
    )
    async def list_remote_starts(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        await expire_remote_starts()

        def fetch(filters: dict, limit: int, offset: int) -> list:
            return store.list_remote_starts(
                user_id=user["id"],
                charger_id=filters["charger_id"],
                status=filters["status"],
                limit=limit,
                offset=offset,
            )

        return await respond(call.request, REMOTE_STARTS, fetch, call.query)

    @api.op(
        "GET",
        "/api/remote-starts/{remote_start_id}",
        "One remote start: Pending, then Started (with transaction_id), Rejected, Failed or "
        "Expired (no StartTransaction in time); what the app polls for 001 §4.3 step 8",
        admin=False,
        path_params=(Param("remote_start_id", "integer", minimum=1, maximum=2**63 - 1),),
    )
    async def get_remote_start(call: Call) -> Any:
        await expire_remote_starts()
        record = await ctx.db(store.get_remote_start, call.path["remote_start_id"])
        if record is None:
            raise ApiError(404, f"unknown remote start {call.path['remote_start_id']}")
        if not call.principal.may_see(record["user_id"]):  # type: ignore[union-attr]
            raise ApiError(403, "a USER token sees only its own data")
        return record

    @api.op(
        "GET",
        "/api/users/{user_id}/stats",
        "The user's charging totals (001 §7.4 For Users): sessions, energy, spending, average "
        "cost per kWh; lifetime, or sessions started in [since, until)",
        admin=False,
        path_params=USER_ID,
        query=(SINCE, UNTIL),
    )
    async def user_stats(call: Call) -> Any:
        user = await ctx.user_in_scope(call, call.path["user_id"])
        since, until = call.query["since"], call.query["until"]

        def compute() -> dict:
            wallet_row = store.get_wallet(user["id"])
            currency = wallet_row["currency"] if wallet_row else None
            sessions = store.list_transactions(
                id_tag=user["rfid_card_id"], since=since, until=until, limit=None
            )
            return analytics.personal_summary(sessions, currency)

        return {"user_id": user["id"], "since": since, "until": until, **await ctx.db(compute)}

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
