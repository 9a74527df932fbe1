"""The business HTTP API of the CSMS: users, wallets, payments, tariffs, billing (seeds/001 §5.4,
§7.2, §7.3). The resource lists are `resources.py`, analytics `analytics_api.py`.

    ROUTES: the operations below, one row each; csms.api.server serves every module's table

Auth: `Authorization: Bearer <token>`, either the configured admin token (ADMIN) or a user's API
token (their role). A USER token reaches only its own profile, wallet, sessions, remote starts
and stats (403 else).
The OpenAPI document is `GET /api/openapi.json` (no token needed); csms.api.server serves it.
"""

from __future__ import annotations

from typing import Any

from csms.api.jsonio import ApiError
from csms.api.listing import Listing, respond
from csms.api.params import Param
from csms.api.resources import SINCE, UNTIL
from csms.api.spec import Call, Operation
from csms.services import analytics, remote, users, wallet
from csms.services.billing import money
from csms.services.payments import BadSignature, PaymentError
from csms.store.errors import Conflict


def money_schema(digits: int) -> dict[str, Any]:
    """A positive amount below 10**digits with at most 2 places: a decimal string ("500.00")
    or a JSON integer, never a number with a fraction (a float on most clients)."""
    return {
        "anyOf": [
            {"type": "string",
             "pattern": rf"^(?:[1-9][0-9]{{0,{digits - 1}}}(?:\.[0-9]{{1,2}})?"
                        r"|0\.[1-9][0-9]?|0\.0[1-9])$"},
            {"type": "integer", "minimum": 1, "maximum": 10**digits - 1},
        ],
        "description": 'decimal string with at most 2 places ("500.00"), or an integer',
    }  # fmt: skip


TOP_UP = money_schema(6)  # wallet.MAX_TOP_UP is 1,000,000.00
RATE = money_schema(5)  # set_tariff's maximum is 100,000.00
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$", "not": {"pattern": "\n"}}
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


# Users ------------------------------------------------------------------------------------------


async def create_user(call: Call) -> Any:
    body, ctx = call.body, call.ctx
    try:
        user = await ctx.db(
            users.create_user,
            ctx.store,
            body["name"],
            email=body.get("email"),
            role=body.get("role", users.USER),
            currency=body.get("currency", "INR"),
        )
    except Conflict:
        raise ApiError(409, "email already in use", field="email") from None
    token = await ctx.db(users.issue_token, ctx.store, user["id"])
    return {"user": user, "token": token}


async def list_users(call: Call) -> Any:
    store = call.ctx.store
    return await respond(call.request, USERS, lambda f: store.list_users(), call.query)


async def get_user(call: Call) -> Any:
    user = await call.ctx.user_in_scope(call, call.path["user_id"])
    return {**user, "wallet": await call.ctx.db(call.ctx.store.get_wallet, user["id"])}


async def patch_user(call: Call) -> Any:
    ctx = call.ctx
    user = await ctx.user_in_scope(call, call.path["user_id"])
    await ctx.db(ctx.store.set_user_active, user["id"], call.body["active"])
    return await ctx.db(ctx.store.get_user, user["id"])


async def new_token(call: Call) -> Any:
    user = await call.ctx.user_in_scope(call, call.path["user_id"])
    return {"token": await call.ctx.db(users.issue_token, call.ctx.store, user["id"])}


async def remote_start(call: Call) -> Any:
    ctx = call.ctx
    user = await ctx.user_in_scope(call, call.path["user_id"])
    record, reply = await ctx.relay(
        remote.start(
            ctx.store,
            ctx.registry,
            ctx.send,
            user,
            call.body["charger_id"],
            call.body["connector_id"],
            now=ctx.clock.now(),
            timeout=ctx.remote_start_timeout,
        )
    )
    return {"id": record["id"], "idTag": user["rfid_card_id"], "reply": reply,
            "remote_start": record}  # fmt: skip


async def expire_remote_starts(call: Call) -> None:
    ctx = call.ctx
    await ctx.db(remote.expire, ctx.store, ctx.clock.now(), ctx.remote_start_timeout)


async def list_remote_starts(call: Call) -> Any:
    user = await call.ctx.user_in_scope(call, call.path["user_id"])
    await expire_remote_starts(call)
    store = call.ctx.store

    def fetch(filters: dict, limit: int, offset: int) -> tuple[list, int]:
        chosen = {"user_id": user["id"], "charger_id": filters["charger_id"],
                  "status": filters["status"]}  # fmt: skip
        rows = store.list_remote_starts(**chosen, limit=limit, offset=offset)
        return rows, store.count_remote_starts(**chosen)

    return await respond(call.request, REMOTE_STARTS, fetch, call.query)


async def get_remote_start(call: Call) -> Any:
    await expire_remote_starts(call)
    record = await call.ctx.db(call.ctx.store.get_remote_start, call.path["remote_start_id"])
    if record is None:
        raise ApiError(404, f"unknown remote start {call.path['remote_start_id']}")
    if not call.principal.may_see(record["user_id"]):  # type: ignore[union-attr]
        raise ApiError(403, "a USER token sees only its own data")
    return record


async def user_stats(call: Call) -> Any:
    user = await call.ctx.user_in_scope(call, call.path["user_id"])
    since, until = call.query["since"], call.query["until"]
    store = call.ctx.store

    def compute() -> dict:
        wallet_row = store.get_wallet(user["id"])
        currency = wallet_row["currency"] if wallet_row else None
        sessions = store.list_transactions(
            id_tag=user["rfid_card_id"], since=since, until=until, limit=None
        )
        return analytics.personal_summary(sessions, currency)

    return {"user_id": user["id"], "since": since, "until": until, **await call.ctx.db(compute)}


# Wallets and payments -----------------------------------------------------------------------------


async def get_wallet(call: Call) -> Any:
    user = await call.ctx.user_in_scope(call, call.path["user_id"])
    return await call.ctx.db(call.ctx.store.get_wallet, user["id"])


async def top_up(call: Call) -> Any:
    ctx = call.ctx
    user = await ctx.user_in_scope(call, call.path["user_id"])
    amount = _amount(call.body, "amount")
    order, entry = await ctx.db(wallet.top_up, ctx.store, ctx.payments, user["id"], amount)
    return {
        "order": {
            "id": order.id,
            "status": order.status,
            "amount": order.amount,
            "currency": order.currency,
        },
        "wallet_transaction": entry,
        "wallet": await ctx.db(ctx.store.get_wallet, user["id"]),
    }


async def wallet_history(call: Call) -> Any:
    user = await call.ctx.user_in_scope(call, call.path["user_id"])
    store = call.ctx.store

    def fetch(filters: dict, limit: int, offset: int) -> tuple[list, int]:
        rows = store.list_wallet_transactions(
            user_id=user["id"], type=filters["type"], limit=limit, offset=offset
        )
        return rows, store.count_wallet_transactions(user_id=user["id"], type=filters["type"])

    return await respond(call.request, WALLET_HISTORY, fetch, call.query)


async def payment_webhook(call: Call) -> Any:
    ctx = call.ctx
    raw = await call.request.body()
    try:
        order = ctx.payments.verify_webhook(raw, call.request.headers.get("x-signature", ""))
        entry = await ctx.db(wallet.credit_paid_order, ctx.store, order)
    except BadSignature as error:
        raise ApiError(401, str(error)) from None
    except (PaymentError, LookupError, ValueError) as error:
        raise ApiError(422, str(error)) from None
    return {"wallet_transaction": entry}


# Tariffs and billing ------------------------------------------------------------------------------


async def list_tariffs(call: Call) -> Any:
    store = call.ctx.store
    return await respond(call.request, TARIFFS, lambda f: store.list_tariffs(), call.query)


async def set_tariff(call: Call) -> Any:
    body, ctx = call.body, call.ctx
    try:
        rate = wallet.parse_amount(body["rate_per_kwh"], maximum=money("100000"))
    except ValueError as error:
        raise ApiError(422, f"rate_per_kwh: {error}", field="rate_per_kwh") from None
    charger_id = body.get("charger_id")
    if charger_id is not None and await ctx.db(ctx.store.get_charger, charger_id) is None:
        raise ApiError(404, f"unknown charger {charger_id!r}", field="charger_id")
    await ctx.db(ctx.store.set_tariff, charger_id, rate, body.get("currency", "INR"))
    return {"charger_id": charger_id, "rate_per_kwh": rate,
            "currency": body.get("currency", "INR")}  # fmt: skip


async def list_retries(call: Call) -> Any:
    store = call.ctx.store
    return await respond(call.request, RETRIES, lambda f: store.list_billing_retries(), call.query)


async def retry_now(call: Call) -> Any:
    outcomes = await call.ctx.billing.retry_due()
    return [
        {"transaction_id": o.transaction_id, "status": o.status, "amount": o.amount,
         "reason": o.reason}
        for o in outcomes
    ]  # fmt: skip


# Route table --------------------------------------------------------------------------------------

USER_GONE = {"404": "unknown user"}
#: what a provider posts (payments.LocalGateway.webhook_for); its signature is checked first
WEBHOOK = {
    "type": "object",
    "required": ["event", "order_id", "user_id", "amount", "currency"],
    "properties": {
        "event": {"type": "string"},
        "order_id": {"type": "string"},
        "user_id": {"type": "string"},
        "amount": {"type": "string"},
        "currency": {"type": "string"},
    },
}

ROUTES: tuple[Operation, ...] = (
    Operation(
        "POST", "/api/users", "Create a user (virtual RFID id, id tag, wallet) and a token",
        create_user, ok=201, responses={"409": "email already in use"},
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
        result={"type": "object", "required": ["user", "token"]},
    ),
    Operation("GET", "/api/users", "List users", list_users, listing=USERS),
    Operation("GET", "/api/users/{user_id}", "A user's profile and wallet", get_user,
              admin=False, path_params=USER_ID, responses=USER_GONE,
              result={"type": "object", "required": ["id", "wallet"]}),
    Operation("PATCH", "/api/users/{user_id}", "Activate or deactivate an account (and its tag)",
              patch_user, path_params=USER_ID, responses=USER_GONE,
              body={"type": "object", "additionalProperties": False, "required": ["active"],
                    "properties": {"active": {"type": "boolean"}}},
              result={"type": "object", "required": ["id", "active"]}),
    Operation("POST", "/api/users/{user_id}/tokens", "Issue another API token (shown once)",
              new_token, admin=False, path_params=USER_ID, ok=201, responses=USER_GONE,
              result={"type": "object", "required": ["token"],
                      "properties": {"token": {"type": "string"}}}),
    Operation(
        "POST", "/api/users/{user_id}/remote-start",
        "Start charging for the user (001 §4.3): active account, charger online, connector "
        "Available; a Pending record (its `id` is returned) is committed before "
        "RemoteStartTransaction (idTag: the user's virtual RFID id) and linked to the "
        "transaction when the charger's StartTransaction comes",
        remote_start, admin=False, path_params=USER_ID, ok=201,
        responses={
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
        result={"type": "object", "required": ["id", "idTag", "reply", "remote_start"]},
    ),
    Operation("GET", "/api/users/{user_id}/remote-starts",
              "The user's remote starts (pending records and how each ended), newest first",
              list_remote_starts, admin=False, path_params=USER_ID, listing=REMOTE_STARTS,
              responses=USER_GONE),
    Operation("GET", "/api/remote-starts/{remote_start_id}",
              "One remote start: Pending, then Started (with transaction_id), Rejected, Failed "
              "or Expired (no StartTransaction in time); what the app polls for 001 §4.3 step 8",
              get_remote_start, admin=False,
              path_params=(Param("remote_start_id", "integer", minimum=1, maximum=2**63 - 1),),
              responses={"404": "unknown remote start"},
              result={"type": "object", "required": ["id", "status"]}),
    Operation("GET", "/api/users/{user_id}/stats",
              "The user's charging totals (001 §7.4 For Users): sessions, energy, spending, "
              "average cost per kWh; lifetime, or sessions started in [since, until)",
              user_stats, admin=False, path_params=USER_ID, query=(SINCE, UNTIL),
              responses=USER_GONE, result={"type": "object", "required": ["user_id"]}),
    Operation("GET", "/api/users/{user_id}/wallet", "Wallet balance", get_wallet, admin=False,
              path_params=USER_ID, responses=USER_GONE, result={"type": ["object", "null"]}),
    Operation(
        "POST", "/api/users/{user_id}/wallet/top-up",
        "Add funds through the payment gateway (TOP_UP once the payment is captured)",
        top_up, admin=False, path_params=USER_ID, ok=201, responses=USER_GONE,
        body={"type": "object", "additionalProperties": False, "required": ["amount"],
              "properties": {"amount": TOP_UP}},
        result={"type": "object", "required": ["order", "wallet_transaction", "wallet"]},
    ),
    Operation("GET", "/api/users/{user_id}/wallet/transactions",
              "Wallet history with running balance (001 §7.3), newest first", wallet_history,
              admin=False, path_params=USER_ID, listing=WALLET_HISTORY, responses=USER_GONE),
    Operation(
        "POST", "/api/payments/webhook",
        "Payment provider webhook (signed with X-Signature, HMAC-SHA256 of the body)",
        payment_webhook, auth=False, body=WEBHOOK, security=({"webhookSignature": []},),
        challenge='HMAC-SHA256 header="X-Signature"',
        responses={"401": "missing or bad X-Signature",
                   "422": "not a payment.captured event of a known order"},
        result={"type": "object", "required": ["wallet_transaction"]},
    ),
    Operation("GET", "/api/tariffs", "Tariffs (charger_id null: the global fallback)",
              list_tariffs, admin=False, listing=TARIFFS),
    Operation(
        "PUT", "/api/tariffs", "Set a charger's rate, or the global one (charger_id null)",
        set_tariff, responses={"404": "unknown charger"},
        body={
            "type": "object",
            "additionalProperties": False,
            "required": ["rate_per_kwh"],
            "properties": {
                "charger_id": {"type": ["string", "null"], "minLength": 1},
                "rate_per_kwh": RATE,
                "currency": CURRENCY,
            },
        },
        result={"type": "object", "required": ["charger_id", "rate_per_kwh", "currency"]},
    ),
    Operation("GET", "/api/billing/retries", "Billing retry queue and review flags",
              list_retries, listing=RETRIES),
    Operation("POST", "/api/billing/retry",
              "Run the billing retry pass now (what the worker does)", retry_now,
              result={"type": "array", "items": {"type": "object"}}),
)  # fmt: skip
