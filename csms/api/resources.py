"""Resource lists of the business API: locations, chargers, connectors, id tags, transactions,
meter values, message log (seeds/001 §6.4), firmware deployments, reservations.

All lists go through `listing.respond` (filters, limit/offset, CSV); filters follow seeds/003
(name, serial, model, vendor, status). Transactions are visible to USER tokens, scoped to the
user's own idTag, and so is stopping a running one; everything else here is ADMIN only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chargebench.ocppj.frames import Direction, MessageType
from csms.api.jsonio import ApiError
from csms.api.listing import Listing, Row, respond
from csms.api.params import Param
from csms.api.spec import Call, Operation
from csms.services import remote
from csms.services.analytics import live_estimate
from csms.store.base import Charger, Store, Transaction
from csms.v201.tokens import ID_TOKEN_TYPES

SINCE = Param("since", "date-time", "from this time (inclusive)", match="since")
UNTIL = Param("until", "date-time", "up to this time (exclusive)", match="until")
TX_ID = (Param("transaction_id", "integer", minimum=0, maximum=2**63 - 1),)

LOCATIONS = Listing(
    "locations",
    columns=("id", "name", "address", "timezone", "latitude", "longitude"),
    params=(Param("id"), Param("name", match="contains"), Param("address", match="contains")),
)
CHARGERS = Listing(
    "chargers",
    columns=(
        "id",
        "location_id",
        "serial",
        "registered_serial",
        "vendor",
        "model",
        "firmware_version",
        "registration_status",
        "online",
        "last_heartbeat",
        "security_profile",
    ),
    params=(
        Param("name", "string", "charge point id contains", match="contains", field="id"),
        Param("serial", match="contains"),
        Param("model", match="contains"),
        Param("vendor", match="contains"),
        Param("location_id"),
        Param(
            "status",
            description="registration status",
            field="registration_status",
            enum=("Accepted", "Pending", "Rejected"),
        ),
        Param("online", "boolean"),
    ),
)
CONNECTORS = Listing(
    "connectors",
    columns=(
        "charger_id",
        "connector_id",
        "connector_type",
        "max_power_w",
        "status",
        "error_code",
        "info",
        "timestamp",
    ),
    params=(Param("status"), Param("connector_type"), Param("error_code")),
)
ID_TAGS = Listing(
    "id_tags",
    columns=("id_tag", "status", "expiry_date", "parent_id_tag", "token_type"),
    params=(
        Param("id_tag", match="contains"),
        Param("status", enum=("Accepted", "Blocked", "Expired", "Invalid")),
        Param("parent_id_tag"),
        Param("token_type", enum=ID_TOKEN_TYPES),
    ),
)
TRANSACTIONS = Listing(
    "transactions",
    columns=(
        "id",
        "charger_id",
        "connector_id",
        "id_tag",
        "user_id",
        "status",
        "start_time",
        "stop_time",
        "meter_start",
        "meter_stop",
        "energy_wh",
        "live_energy_wh",
        "tariff_rate",
        "amount",
        "estimated_cost",
        "currency",
        "stop_reason",
    ),
    params=(
        Param("charger_id"),
        Param("user_id"),
        Param("id_tag"),
        Param("status", enum=("Running", "Stopped", "Completed", "BillingFailed", "BillingReview")),
        SINCE,
        UNTIL,
    ),
    store_pages=True,
)
METER_VALUES = Listing(
    "meter_values",
    columns=(
        "timestamp",
        "measurand",
        "value",
        "unit",
        "phase",
        "context",
        "location",
        "norm_value",
        "norm_unit",
    ),
    params=(Param("measurand"),),
    store_pages=True,
)
LOG = Listing(
    "message_log",
    columns=("seq", "ts", "cp_id", "dir", "type", "id", "action", "latency_ms", "payload"),
    params=(
        Param("charger_id", field="cp_id"),
        Param("action"),
        Param("type", enum=(MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR)),
        Param("direction", enum=tuple(Direction)),
        SINCE,
        UNTIL,
    ),
    store_pages=True,
)
FIRMWARE = Listing(
    "firmware_deployments",
    columns=(
        "id",
        "charger_id",
        "location",
        "retrieve_date",
        "status",
        "retries",
        "retry_interval",
        "created_at",
        "updated_at",
    ),
    params=(Param("charger_id"), Param("status")),
)
RESERVATIONS = Listing(
    "reservations",
    columns=(
        "id",
        "charger_id",
        "connector_id",
        "id_tag",
        "expiry_date",
        "status",
        "transaction_id",
        "created_at",
    ),
    params=(Param("charger_id"), Param("status"), Param("id_tag")),
)


def with_estimates(store: Store, transactions: Sequence[Transaction]) -> list[dict[str, Any]]:
    """Owner, and for running transactions live energy and estimated cost (latest meter);
    shared by the transactions API and the dashboard."""
    rows = []
    for tx in transactions:
        row: dict[str, Any] = dict(tx)
        rows.append(row)
        owner = store.get_user_by_rfid(row["id_tag"])
        row["user_id"] = None if owner is None else owner["id"]
        if row["stop_time"] is None:
            tariff = store.get_tariff(row["charger_id"])
            meters = store.list_meter_values(
                transaction_id=row["id"], measurand="Energy.Active.Import.Register"
            )
            row.update(live_estimate(tx, meters, tariff and tariff["rate_per_kwh"]))
            row["currency"] = row["currency"] or (tariff and tariff["currency"])
    return rows


def with_connection(call: Call, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Each charger row with its live connection (None: offline)."""
    registry = call.ctx.registry
    return [{**row, "connection": None if (conn := registry.get(row["id"])) is None
             else conn.summary()} for row in rows]


async def known_charger(call: Call, cp_id: str) -> Charger:
    charger = await call.ctx.db(call.ctx.store.get_charger, cp_id)
    if charger is None:
        raise ApiError(404, f"unknown charger {cp_id!r}")
    return charger


# Assets -----------------------------------------------------------------------------------------


async def list_locations(call: Call) -> Any:
    store = call.ctx.store
    return await respond(call.request, LOCATIONS, lambda f: store.list_locations(), call.query)


async def list_chargers(call: Call) -> Any:
    store = call.ctx.store

    def fetch(f: dict) -> list:
        return store.list_chargers(
            location_id=f["location_id"], online=f["online"], registration_status=f["status"]
        )

    return await respond(call.request, CHARGERS, fetch, call.query,
                         decorate=lambda rows: with_connection(call, rows))  # fmt: skip


async def get_charger(call: Call) -> Any:
    charger = await known_charger(call, call.path["cp_id"])
    connectors = await call.ctx.db(call.ctx.store.list_connectors, charger["id"])
    return {**with_connection(call, [charger])[0], "connectors": connectors}


async def list_connectors(call: Call) -> Any:
    charger = await known_charger(call, call.path["cp_id"])
    store = call.ctx.store
    return await respond(
        call.request, CONNECTORS, lambda f: store.list_connectors(charger["id"]), call.query
    )


async def list_id_tags(call: Call) -> Any:
    store = call.ctx.store
    return await respond(call.request, ID_TAGS, lambda f: store.list_id_tags(), call.query)


async def put_id_tag(call: Call) -> Any:
    id_tag, body, ctx = call.path["id_tag"], call.body, call.ctx
    expiry = Param("expiry_date", "date-time").parse(body.get("expiry_date"))
    await ctx.db(
        ctx.store.upsert_id_tag,
        id_tag,
        status=body.get("status", "Accepted"),
        expiry_date=expiry,
        parent_id_tag=body.get("parent_id_tag"),
        token_type=body.get("token_type"),
    )
    return await ctx.db(ctx.store.get_id_tag, id_tag)


async def delete_id_tag(call: Call) -> Any:
    if not await call.ctx.db(call.ctx.store.delete_id_tag, call.path["id_tag"]):
        raise ApiError(404, f"unknown id tag {call.path['id_tag']!r}")
    return {"deleted": call.path["id_tag"]}


# Sessions ---------------------------------------------------------------------------------------


async def scope_tag(call: Call, user_id: str | None) -> str | None:
    """The idTag a transaction query is limited to: a USER's own, or the asked user's."""
    principal = call.principal
    if principal is not None and not principal.is_admin:
        if user_id is not None and not principal.may_see(user_id):
            raise ApiError(403, "a USER token sees only its own sessions")
        return principal.user["rfid_card_id"]  # type: ignore[index]
    if user_id is None:
        return None
    user = await call.ctx.db(call.ctx.store.get_user, user_id)
    return "" if user is None else user["rfid_card_id"]  # "": matches nothing


async def list_transactions(call: Call) -> Any:
    store = call.ctx.store
    query = dict(call.query)
    tag = await scope_tag(call, query["user_id"])
    if tag is not None:
        if query["id_tag"] not in (None, tag):
            return await respond(call.request, TRANSACTIONS, lambda f, lim, off: ([], 0), query)
        query["id_tag"] = tag

    def fetch(f: dict, limit: int, offset: int) -> tuple[list, int]:
        filters = {"charger_id": f["charger_id"], "id_tag": f["id_tag"], "status": f["status"],
                   "since": f["since"], "until": f["until"]}  # fmt: skip
        rows = store.list_transactions(**filters, limit=limit, offset=offset)
        return with_estimates(store, rows), store.count_transactions(**filters)

    return await respond(call.request, TRANSACTIONS, fetch, query)


async def visible_transaction(call: Call) -> Transaction:
    tx = await call.ctx.db(call.ctx.store.get_transaction, call.path["transaction_id"])
    if tx is None:
        raise ApiError(404, f"unknown transaction {call.path['transaction_id']}")
    tag = await scope_tag(call, None)
    if tag is not None and tx["id_tag"] != tag:
        raise ApiError(403, "a USER token sees only its own sessions")
    return tx


async def get_transaction(call: Call) -> Any:
    tx = await visible_transaction(call)
    store = call.ctx.store

    def details() -> dict[str, Any]:
        row = with_estimates(store, [tx])[0]
        deductions = store.list_wallet_transactions(transaction_id=tx["id"], type="CHARGE_DEDUCT")
        row["wallet_transaction"] = deductions[0] if deductions else None
        row["billing_retry"] = store.get_billing_retry(tx["id"])
        return row

    return await call.ctx.db(details)


async def transaction_meter_values(call: Call) -> Any:
    tx = await visible_transaction(call)
    store = call.ctx.store

    def fetch(f: dict, limit: int, offset: int) -> tuple[list, int]:
        rows = store.list_meter_values(
            transaction_id=tx["id"], measurand=f["measurand"], limit=limit, offset=offset
        )
        return rows, store.count_meter_values(transaction_id=tx["id"], measurand=f["measurand"])

    return await respond(call.request, METER_VALUES, fetch, call.query)


async def stop_transaction(call: Call) -> Any:
    tx = await visible_transaction(call)
    ctx = call.ctx
    reply = await ctx.relay(remote.stop(ctx.registry, ctx.send, tx))
    return {"transaction_id": tx["id"], "reply": reply}


# Operations -------------------------------------------------------------------------------------


async def message_log(call: Call) -> Any:
    ctx = call.ctx
    if ctx.flush_log is not None:
        await ctx.flush_log()  # include what is still buffered

    def fetch(f: dict, limit: int, offset: int) -> tuple[list, int]:
        filters = {"cp_id": f["charger_id"], "action": f["action"], "type": f["type"],
                   "direction": f["direction"], "since": f["since"],
                   "until": f["until"]}  # fmt: skip
        rows = [r.as_dict() for r in ctx.store.query_log(**filters, limit=limit, offset=offset)]
        return rows, ctx.store.count_log(**filters)

    return await respond(call.request, LOG, fetch, call.query)


async def list_firmware(call: Call) -> Any:
    store = call.ctx.store
    return await respond(
        call.request, FIRMWARE, lambda f: store.list_firmware_deployments(), call.query
    )


async def list_reservations(call: Call) -> Any:
    store = call.ctx.store
    return await respond(
        call.request, RESERVATIONS, lambda f: store.list_reservations(), call.query
    )


# Route table ------------------------------------------------------------------------------------

CP_ID = (Param("cp_id", description="charge point id"),)
ID_TAG = (Param("id_tag", description="OCPP IdToken (1.6 CiString20Type; 2.0.1 idToken, "
                "string[36])", min_length=1, max_length=36),)  # fmt: skip
TX_GONE = {"404": "unknown transaction"}

ROUTES: tuple[Operation, ...] = (
    Operation("GET", "/api/locations", "Stations (locations)", list_locations,
              listing=LOCATIONS),
    Operation("GET", "/api/chargers", "Chargers with live connection status (seeds/003 filters)",
              list_chargers, listing=CHARGERS),
    Operation("GET", "/api/chargers/{cp_id}", "One charger, its connectors and connection",
              get_charger, path_params=CP_ID, responses={"404": "unknown charger"},
              result={"type": "object", "required": ["id", "connection", "connectors"]}),
    Operation("GET", "/api/chargers/{cp_id}/connectors", "A charger's connectors and status",
              list_connectors, path_params=CP_ID, listing=CONNECTORS,
              responses={"404": "unknown charger"}),
    Operation("GET", "/api/id-tags", "Id tags (users' virtual RFID ids included)", list_id_tags,
              listing=ID_TAGS),
    Operation(
        "PUT", "/api/id-tags/{id_tag}", "Create or update an id tag", put_id_tag,
        path_params=ID_TAG,
        body={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "status": {"enum": ["Accepted", "Blocked", "Expired", "Invalid"]},
                "expiry_date": {"type": ["string", "null"], "format": "date-time"},
                "parent_id_tag": {"type": ["string", "null"], "minLength": 1, "maxLength": 36},
                "token_type": {"enum": [*ID_TOKEN_TYPES, None],
                               "description": "2.0.1 IdTokenEnumType the tag is registered "
                                              "as (C01: a token is its value and its type); "
                                              "null or left out: any type (1.6 idTags)"},
            },
        },
        result={"type": "object", "required": ["id_tag", "status"]},
    ),
    Operation("DELETE", "/api/id-tags/{id_tag}", "Delete an id tag", delete_id_tag,
              path_params=ID_TAG, responses={"404": "unknown id tag"},
              result={"type": "object", "required": ["deleted"]}),
    Operation("GET", "/api/transactions",
              "Charging sessions, newest first; running ones with live energy and estimated cost",
              list_transactions, admin=False, listing=TRANSACTIONS),
    Operation("GET", "/api/transactions/{transaction_id}",
              "One session with its wallet deduction and billing retry state", get_transaction,
              admin=False, path_params=TX_ID, responses=TX_GONE,
              result={"type": "object", "required": ["id", "wallet_transaction",
                                                     "billing_retry"]}),
    Operation("GET", "/api/transactions/{transaction_id}/meter-values",
              "Meter values of a session, oldest first", transaction_meter_values, admin=False,
              path_params=TX_ID, listing=METER_VALUES, responses=TX_GONE),
    Operation(
        "POST", "/api/transactions/{transaction_id}/stop",
        "Stop a running session (001 §4.3 Remote Stop): a USER only their own, ADMIN any; "
        "answer: the charger's RemoteStopTransaction reply (the session ends with its "
        "StopTransaction)",
        stop_transaction, admin=False, path_params=TX_ID,
        responses={
            "404": "unknown transaction",
            "409": "the session is not active, or its charger is not online",
            "502": "the charger answered with a CALLERROR or an invalid reply",
            "504": "no reply in time",
        },
        result={"type": "object", "required": ["transaction_id", "reply"]},
    ),
    Operation("GET", "/api/log", "OCPP message log (seeds/001 §6.4), oldest first", message_log,
              listing=LOG),
    Operation("GET", "/api/firmware-deployments", "Firmware deployments and their status history",
              list_firmware, listing=FIRMWARE),
    Operation("GET", "/api/reservations", "Reservations", list_reservations,
              listing=RESERVATIONS),
)  # fmt: skip
