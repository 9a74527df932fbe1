"""What a 2.0.1 station told the CSMS about itself, beyond its device model (`chargers_api`'s
`/variables`) and its transactions: kept per station by the handlers of `csms.v201.handlers`.

    GET /api/chargers/{cp_id}/charging-limits        K11/K12 external limits in force (K13
                                                     ClearedChargingLimit removes one)
    GET /api/chargers/{cp_id}/publish-firmware       L03 the latest publish-firmware status
    GET /api/chargers/{cp_id}/display-messages       O03/O04 the display messages it reported
    GET /api/chargers/{cp_id}/customer-information   N09 each request's parts joined into one

A 1.6 charger has none of these messages: its lists are empty, its status null.
"""

from __future__ import annotations

from typing import Any

from csms.api.jsonio import DecimalJSONResponse
from csms.api.listing import Listing, respond
from csms.api.params import Param
from csms.api.resources import known_charger
from csms.api.spec import Call, Operation

CP_ID = (Param("cp_id", description="charge point id"),)
#: OCPP's integer (2.0.1 part 2 §2.1.3: 32 bits)
INT32_MAX = 2**31 - 1
NOT_FOUND = {"404": "unknown charger"}

CHARGING_LIMITS = Listing(
    "charging_limits",
    columns=("charger_id", "evse_id", "source", "is_grid_critical", "schedules", "reported_at"),
    params=(Param("source", description="ChargingLimitSourceEnumType",
                  enum=("EMS", "Other", "SO", "CSO")),
            Param("evse_id", "integer", "one EVSE's limits", minimum=1, maximum=INT32_MAX)),
)  # fmt: skip
DISPLAY_MESSAGES = Listing(
    "display_messages",
    columns=("charger_id", "message_id", "request_id", "info", "reported_at"),
)
CUSTOMER_INFORMATION = Listing(
    "customer_information",
    columns=("charger_id", "request_id", "data", "parts", "complete", "missing_seq_nos",
             "generated_at", "received_at"),
    params=(Param("request_id", "integer", "the CustomerInformationRequest's requestId",
                  minimum=-INT32_MAX - 1, maximum=INT32_MAX),),
)  # fmt: skip


async def charging_limits(call: Call) -> Any:
    """K11/K12: the limits external systems (EMS, SO, Other) set on the station as its
    NotifyChargingLimit told them, per EVSE (null: the station as a whole) and source, with
    the schedules it sent (K12.FR.03: when EnableNotifyChargingLimitWithSchedules is true);
    a ClearedChargingLimit (K13.FR.02) removes them."""
    store = call.ctx.store
    cp_id = (await known_charger(call, call.path["cp_id"]))["id"]
    return await respond(call.request, CHARGING_LIMITS,
                         lambda f: store.list_charging_limits(cp_id), call.query)  # fmt: skip


async def publish_firmware(call: Call) -> Any:
    """L03: the latest PublishFirmwareStatusNotification of a Local Controller (its status, the
    PublishFirmware requestId, with Published the URIs it serves the file at, L03.FR.04);
    null when it sent none."""
    cp_id = (await known_charger(call, call.path["cp_id"]))["id"]
    return DecimalJSONResponse(await call.ctx.db(call.ctx.store.get_publish_firmware_status,
                                                 cp_id))  # fmt: skip


async def display_messages(call: Call) -> Any:
    """O03/O04: the display messages the station reported with NotifyDisplayMessages, by id,
    each as its MessageInfoType; a report of all of them (GetDisplayMessages with only a
    requestId) replaces the earlier ones, an Accepted ClearDisplayMessage removes one."""
    store = call.ctx.store
    cp_id = (await known_charger(call, call.path["cp_id"]))["id"]
    return await respond(call.request, DISPLAY_MESSAGES,
                         lambda f: store.list_display_messages(cp_id), call.query)  # fmt: skip


async def customer_information(call: Call) -> Any:
    """N09: the customer information the station sent per CustomerInformation request, its
    NotifyCustomerInformation parts joined in seqNo order into `data`; `complete` once the
    last part (tbc false) came with none missing before it (`missing_seq_nos`)."""
    store = call.ctx.store
    cp_id = (await known_charger(call, call.path["cp_id"]))["id"]
    return await respond(call.request, CUSTOMER_INFORMATION,
                         lambda f: store.list_customer_information(cp_id), call.query)  # fmt: skip


def _described(endpoint: Any) -> str:
    return " ".join((endpoint.__doc__ or "").split())


ROUTES: tuple[Operation, ...] = (
    Operation("GET", "/api/chargers/{cp_id}/charging-limits",
              "A 2.0.1 station's external charging limits in force", charging_limits,
              path_params=CP_ID, listing=CHARGING_LIMITS, tag="chargers",
              description=_described(charging_limits), responses=NOT_FOUND),
    Operation("GET", "/api/chargers/{cp_id}/publish-firmware",
              "A 2.0.1 Local Controller's latest publish-firmware status", publish_firmware,
              path_params=CP_ID, tag="chargers", description=_described(publish_firmware),
              result={"type": ["object", "null"]}, responses=NOT_FOUND),
    Operation("GET", "/api/chargers/{cp_id}/display-messages",
              "A 2.0.1 station's display messages as it reported them", display_messages,
              path_params=CP_ID, listing=DISPLAY_MESSAGES, tag="chargers",
              description=_described(display_messages), responses=NOT_FOUND),
    Operation("GET", "/api/chargers/{cp_id}/customer-information",
              "The customer information a 2.0.1 station sent, one result per request",
              customer_information, path_params=CP_ID, listing=CUSTOMER_INFORMATION,
              tag="chargers", description=_described(customer_information),
              responses=NOT_FOUND),
)  # fmt: skip
