"""What the operator does to one charger: CSMS-initiated OCPP actions, its message log, its
basic-auth password and its security profile.

    POST /api/chargers/{cp_id}/actions/{Action}   body: the OCPP payload; answer: the charger's
                                                  reply (?timeout=SECONDS overrides the call
                                                  timeout); one documented path per action
    GET  /api/chargers/{cp_id}/log                the charger's message log (a paged list)
    PUT  /api/chargers/{cp_id}/password           set or rotate its basic-auth password
    POST /api/chargers/{cp_id}/security-profile   raise its security profile (A05)

Every action the CSMS sends in OCPP 1.6 or 2.0.1 has its path; the charger's live connection
decides the version. A payload is checked with the `ocpp` package's schema of that version (the
document shows each action's schema per version, `anyOf` where both have it): invalid in every
version is a 422 naming the field; valid only in another version, or an action the charger's
version does not have, is a 409 naming the charger's version. Three API rules on top: integers
are 32-bit (what a charger holds; OCPP 2.0.1 §2.1.3 "integer"), numbers stay within 64 bits, and
2.0.1 customData carries its vendorId only. The ids the CSMS fills in may be left out (1.6
ReserveNow reservationId: kept when given; the requestIds of GetLog, 1.6 SignedUpdateFirmware and
2.0.1 UpdateFirmware and the 2.0.1 RequestStartTransaction remoteStartId: always the CSMS's). The
id used comes back in a header (`X-OCPP-Reservation-Id`, `X-OCPP-Request-Id`,
`X-OCPP-Remote-Start-Id`), the whole request sent in `X-OCPP-Request`; the body is the charger's
reply as it came, plus, for 2.0.1 GetBaseReport, GetReport, GetChargingProfiles,
CustomerInformation, GetMonitoringReport and GetDisplayMessages, `x-followed`: the messages that
followed an accepted request (NotifyReport, ReportChargingProfiles, NotifyCustomerInformation,
NotifyMonitoringReport, NotifyDisplayMessages), joined (`csms.followups`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs

from chargebench.ocppj import CallErrorReply, CallFailed, CallTimeout
from chargebench.ocppj.validation import validator_class
from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion
from chargebench.ocppj.wellformed import check_frame
from chargebench.security.basic_auth import (
    MAX_KEY_BYTES,
    MAX_PASSWORD_CHARS,
    MIN_KEY_BYTES,
    MIN_PASSWORD_CHARS,
    generate_authorization_key,
)
from csms import commands, dispatch, profile_upgrade
from csms.admission import required_profile
from csms.api.jsonio import ApiError, DecimalJSONResponse, loads
from csms.api.listing import Listing, respond
from csms.api.params import Param
from csms.api.resources import LOG, known_charger
from csms.api.spec import Call, Operation
from csms.store.base import ReservationIdTaken

INT32 = (-(2**31), 2**31 - 1)
#: the bounds of an OCPP `number` through the API (no field needs more)
NUMBER = (-(2**63), 2**63 - 1)
#: 2.0.1's vendor extension object (`ocpp.v201` schemas' definition name)
CUSTOM_DATA = "CustomDataType"
#: longest X-OCPP-Request echoed (h11, behind httpx, refuses response headers past 16 KiB)
MAX_ECHO = 8192
CP_ID = (Param("cp_id", description="charge point id"),)
TIMEOUT = Param("timeout", "number", "seconds to wait for the reply (default: the CSMS's "
                "call timeout)", minimum=0.01, maximum=3600)  # fmt: skip


# Actions ----------------------------------------------------------------------------------------


def _bounded(schema: Any, definitions: dict[str, Any]) -> Any:
    """`schema` with every integer held to 32 bits, every number to what a frame carries (the
    session core refuses integers beyond 64 bits, `chargebench.ocppj.wellformed`), 2.0.1's
    customData to its vendorId (its free-form rest could hold any number), and
    `#/definitions/` references inlined (the document has no such section)."""
    if isinstance(schema, list):
        return [_bounded(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref", "")
    if ref.startswith("#/definitions/"):
        name = ref.removeprefix("#/definitions/")
        out = _bounded(definitions[name], definitions)
        if name == CUSTOM_DATA:
            out = {**out, "additionalProperties": False}
        return out
    out = {key: _bounded(value, definitions) for key, value in schema.items()}
    if out.get("type") == "integer":
        out["minimum"] = max(out.get("minimum", INT32[0]), INT32[0])
        out["maximum"] = min(out.get("maximum", INT32[1]), INT32[1])
    elif out.get("type") == "number":
        out["minimum"] = max(out.get("minimum", NUMBER[0]), NUMBER[0])
        out["maximum"] = min(out.get("maximum", NUMBER[1]), NUMBER[1])
    return out


#: the versions the actions API speaks (those the CSMS has handlers for); a 422 for a charger
#: not connected names the first version that has the action (the default version first: what
#: the API spoke before 2.0.1)
API_VERSIONS: tuple[OcppVersion, ...] = (
    DEFAULT_VERSION, *(v for v in dispatch.versions() if v is not DEFAULT_VERSION)
)


def versions_of(action: str) -> tuple[OcppVersion, ...]:
    """The versions in which the CSMS sends `action`."""
    return tuple(version for version in API_VERSIONS if action in version.cs_initiated)


def action_schema(action: str, *, response: bool = False,
                  version: OcppVersion = DEFAULT_VERSION) -> dict[str, Any]:  # fmt: skip
    """The API's schema of an action's request (or the charger's reply) in `version`, from
    `ocpp`'s."""
    original = json.loads(version.schema_text(action, response))
    # the root keys ($schema, $id/id, title, definitions) have no place in the document
    root = {key: value for key, value in original.items()
            if key not in ("$schema", "$id", "id", "title", "definitions", "comment")}  # fmt: skip
    schema = _bounded(root, original.get("definitions", {}))
    allocated = commands.allocated_fields(version).get(action)
    if not response and allocated is not None:
        schema["required"] = [name for name in schema.get("required", []) if name != allocated]
    return schema


def documented_schema(action: str, *, response: bool = False) -> dict[str, Any]:
    """The OpenAPI schema of an action: its one version's, or any of its versions' (the
    charger's connected version decides which applies, `send_action`)."""
    schemas = [action_schema(action, response=response, version=version)
               for version in versions_of(action)]  # fmt: skip
    if len(schemas) == 1:
        return schemas[0]
    names = " or ".join(f"OCPP {version.name}" for version in versions_of(action))
    return {"anyOf": schemas, "description": f"the {names} payload, by the charger's version"}


def _header_of(field: str) -> str:
    """`reservationId` -> `X-OCPP-Reservation-Id`."""
    words = "".join(f" {c}" if c.isupper() else c for c in field).split()
    return "X-OCPP-" + "-".join(word.capitalize() for word in words)


def whole_numbers(schema: dict[str, Any], value: Any) -> Any:
    """`value` with each integral float where `schema` wants an integer made an int: `1.0` is
    an integer in the document's JSON Schema (2020-12) but not in OCPP's draft-04 schemas, so
    the charger gets `1`. Numbers elsewhere stay as written (`16.0` for a limit)."""
    if isinstance(value, float) and schema.get("type") == "integer" and value.is_integer():
        return int(value)
    if isinstance(value, dict) and "properties" in schema:
        fields = schema["properties"]
        return {k: whole_numbers(fields[k], v) if k in fields else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [whole_numbers(schema["items"], item) for item in value]
    return value


class PayloadCheck:
    """The body check of one action in each of its versions: its API schema, formats included
    (the draft the version's schemas declare, as the session core checks what it sends), each
    problem a 422 naming the field. Integral floats in integer fields are made ints first, in
    place (`whole_numbers`).

    `send_action` holds the payload to the connected charger's version (`check`) before
    sending; the route's own check (`__call__`) does nothing, the version not known yet."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.checks: dict[OcppVersion, tuple[dict[str, Any], Any]] = {}
        for version in versions_of(action):
            document = action_schema(action, version=version)
            draft = {"draft-04": "http://json-schema.org/draft-04/schema#",
                     "draft-06": "http://json-schema.org/draft-06/schema#"}[version.schema_draft]
            schema = {"$schema": draft, **document}
            validator = validator_class(version)(schema, validate_formats=True)
            self.checks[version] = (document, validator)

    def error(self, version: OcppVersion, payload: Any) -> ApiError | None:
        """The first problem of `payload` in `version` (None: valid); fixes integral floats."""
        document, validator = self.checks[version]
        if isinstance(payload, dict):
            payload.update(whole_numbers(document, payload))
        error = next(iter(validator.iter_errors(payload)), None)
        if error is None:
            return None
        path = [str(part) for part in error.instance_path]
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            path.append(str(kind.property))
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            path.append(str(kind.unexpected[0]))
        return ApiError(422, f"OCPP {version.name} {self.action}: {error.message}",
                        field=".".join(path) or "body")  # fmt: skip

    def __call__(self, payload: Any) -> None:
        """The route's check: none (the charger's version is not known yet; `send_action`
        checks once it is)."""

    def check(self, version: OcppVersion | None, payload: Any) -> None:
        """Hold `payload` to the charger's `version` (None: not connected, any version will
        do). Invalid in that version: 422 naming the field and the version, or 409 when it is
        valid in another version (the charger's version is its state); an action that version
        does not have: 409 naming it. A number no frame may carry (beyond 64 bits; the
        session core's rule, `chargebench.ocppj.wellformed`) is a 422 in any version."""
        problem = check_frame(payload)
        if problem is not None:
            fault, detail = problem
            where = re.sub(r"\[(\d+)\]", r".\1", detail.partition(":")[0])  # a[0] -> a.0
            raise ApiError(422, f"{fault.value} ({detail})", field=where or "body")
        if version is None:
            errors = [self.error(known, payload) for known in self.checks]
            if all(errors) and errors:
                raise errors[0]  # type: ignore[misc]
            return
        if version not in self.checks:
            raise ApiError(409, f"OCPP {version.name} has no CSMS-initiated {self.action} (the "
                           f"charger speaks OCPP {version.name})")  # fmt: skip
        error = self.error(version, payload)
        if error is None:
            return
        if any(self.error(other, dict(payload) if isinstance(payload, dict) else payload) is None
               for other in self.checks if other is not version):  # fmt: skip
            raise ApiError(409, f"the charger speaks OCPP {version.name}; {error}",
                           field=error.field)  # fmt: skip
        raise error


CHECKS: dict[str, PayloadCheck] = {}


def payload_check(action: str) -> PayloadCheck:
    """The one `PayloadCheck` of `action` (validators built once)."""
    if action not in CHECKS:
        CHECKS[action] = PayloadCheck(action)
    return CHECKS[action]


def _load_ocpp(raw: bytes) -> Any:
    return loads(raw, decimal=False)  # OCPP numbers travel as JSON numbers, not money


async def send_action(call: Call) -> Any:
    """One CSMS-initiated action with its bookkeeping (csms.commands.execute)."""
    ctx = call.ctx
    action = call.request.url.path.rsplit("/", 1)[1]
    cp_id = call.path["cp_id"]
    await known_charger(call, cp_id)
    if ctx.execute is None:
        raise ApiError(409, "this API is not attached to a running CSMS")
    conn = ctx.registry.get(cp_id)
    # not connected: valid in any version, then execute says so (409)
    payload_check(action).check(None if conn is None else conn.session.core.version, call.body)
    try:
        result = await ctx.execute(cp_id, action, call.body, timeout=call.query["timeout"])
    except (commands.NotConnected, commands.UnknownAction) as error:
        raise ApiError(409, str(error)) from None
    except ReservationIdTaken as error:
        raise ApiError(409, str(error), field="reservationId") from None
    except commands.RequestRefused as error:  # a rule of the station's version (2.0.1 K01)
        raise ApiError(409, str(error), field=error.problems[0].field) from None
    except CallTimeout as error:
        raise ApiError(504, str(error)) from None
    except CallErrorReply as error:
        failure = {"error": str(error), "code": error.code, "description": error.description}
        return DecimalJSONResponse(failure, status_code=502)
    except CallFailed as error:
        raise ApiError(502, str(error)) from None
    headers = {}
    sent = json.dumps(result.request)  # ASCII: non-ASCII text is escaped
    if len(sent) <= MAX_ECHO:
        headers["X-OCPP-Request"] = sent
    allocated = _allocated(action).get(action)
    if allocated is not None and allocated in result.request:
        headers[_header_of(allocated)] = str(result.request[allocated])
    answer: dict[str, Any] = result.reply
    if result.followed is not None:
        # B07/B08, K09, N09: the parts that followed, joined (FOLLOW_UPS); the reply's fields
        # stay as they came
        answer = {**answer, FOLLOWED: result.followed.as_dict(FOLLOW_UPS[action][1])}
    return DecimalJSONResponse(answer, headers=headers)


#: the key of the API's answer that carries a multi-message result beside the reply's fields
FOLLOWED = "x-followed"
#: action -> (the station's follow-up message, its list joined into the result)
FOLLOW_UPS = {
    "GetBaseReport": ("NotifyReport", "reportData"),
    "GetReport": ("NotifyReport", "reportData"),
    "GetChargingProfiles": ("ReportChargingProfiles", "chargingProfile"),
    "CustomerInformation": ("NotifyCustomerInformation", "data"),
    "GetMonitoringReport": ("NotifyMonitoringReport", "monitor"),
    "GetDisplayMessages": ("NotifyDisplayMessages", "messageInfo"),
}


def _allocated(action: str) -> dict[str, str]:
    """action -> the id field the CSMS fills in, in any version (one field per action)."""
    out: dict[str, str] = {}
    for version in versions_of(action):
        out.update(commands.allocated_fields(version))
    return out


FOLLOWED_SCHEMA = {
    "type": "object",
    "required": ["requestId", "complete", "parts", "missingSeqNo"],
    "properties": {
        "requestId": {"type": "integer"},
        "complete": {"type": "boolean", "description": "the last part (tbc false) came in "
                     "time and no seqNo is missing"},
        "parts": {"type": "integer", "description": "messages received"},
        "missingSeqNo": {"type": "array", "items": {"type": "integer"}},
    },
    "description": "the messages that followed the accepted request, joined (OCPP 2.0.1 "
                   "B07/B08 NotifyReport, K09 ReportChargingProfiles, N09 "
                   "NotifyCustomerInformation, N02 NotifyMonitoringReport, O04 "
                   "NotifyDisplayMessages); waited for until the last or the timeout",
}  # fmt: skip


def _result_schema(action: str) -> dict[str, Any]:
    schema = documented_schema(action, response=True)
    if action in FOLLOW_UPS:  # a 2.0.1-only action: one object schema
        items = FOLLOW_UPS[action][1]
        followed = json.loads(json.dumps(FOLLOWED_SCHEMA))
        followed["properties"][items] = {}
        schema["properties"] = {**schema["properties"], FOLLOWED: followed}
    return schema


def _action_operation(action: str) -> Operation:
    allocated = _allocated(action).get(action)
    headers: dict[str, Any] = {
        "X-OCPP-Request": {"required": False, "schema": {"type": "string"},
                           "description": "the payload sent, as JSON (ids filled in); left "
                                          f"out when longer than {MAX_ECHO} characters (a "
                                          "client's header limit), the message log has it"},
    }  # fmt: skip
    if allocated is not None:
        headers[_header_of(allocated)] = {
            # required where every version of the action has the CSMS fill the field in
            "required": all(commands.allocated_fields(version).get(action) == allocated
                            for version in versions_of(action)),
            "schema": {"type": "integer"},
            "description": f"the {allocated} sent",
        }  # fmt: skip
    notes = {
        "ReserveNow": "1.6 reservationId: kept when given (1.6 §5.13: the same charger's id "
                      "replaces that reservation; another charger's is 409 naming the field); "
                      "left out, the CSMS allocates one.",
        "GetLog": "requestId is the CSMS's (the value given is replaced).",
        "SignedUpdateFirmware": "requestId is the CSMS's (the value given is replaced).",
        "UpdateFirmware": "2.0.1: requestId is the CSMS's (the value given is replaced).",
    }  # fmt: skip
    conflict = ("charger not connected, or it speaks an OCPP version without this action or "
                "whose payload differs (the message names the version)")
    if action == "ReserveNow":
        conflict += ", or reservationId belongs to another charger's reservation"
    if action in ("SetChargingProfile", "ClearChargingProfile"):
        conflict += (", or it breaks a rule of what a CSMS may send in the station's version "
                     "(2.0.1 K01, K04, K10: the requirement and the field are named)")
    versions = ", ".join(f"OCPP {version.name} {version.profiles.get(action, '')}".strip()
                         for version in versions_of(action))  # fmt: skip
    body = documented_schema(action)
    return Operation(
        "POST", f"/api/chargers/{{cp_id}}/actions/{action}",
        f"Send {action} ({versions}) and answer the charger's reply", send_action,
        path_params=CP_ID, query=(TIMEOUT,), tag="actions",
        body=body, body_optional=all(not action_schema(action, version=version).get("required")
                                     for version in versions_of(action)),
        load=_load_ocpp, check=payload_check(action), name=f"action_{action}",
        result=_result_schema(action), headers=headers,
        description=notes.get(action, ""),
        responses={
            "404": "unknown charger",
            "409": conflict,
            "502": "the charger answered with a CALLERROR (`code`, `description`) or an "
                   "invalid reply",
            "504": "no reply in time",
        },
    )  # fmt: skip


#: every action the CSMS sends, in any version it speaks
ACTIONS = sorted(set().union(*(version.cs_initiated for version in API_VERSIONS)))


# The charger's message log ----------------------------------------------------------------------

CHARGER_LOG = Listing(
    "message_log",
    columns=LOG.columns,
    params=tuple(param for param in LOG.params if param.name != "charger_id"),
    store_pages=True,
)


async def charger_log(call: Call) -> Any:
    ctx = call.ctx
    cp_id = (await known_charger(call, call.path["cp_id"]))["id"]
    if ctx.flush_log is not None:
        await ctx.flush_log()  # include what is still buffered

    def fetch(f: dict, limit: int, offset: int) -> tuple[list, int]:
        filters = {"cp_id": cp_id, "action": f["action"], "type": f["type"],
                   "direction": f["direction"], "since": f["since"],
                   "until": f["until"]}  # fmt: skip
        rows = [r.as_dict() for r in ctx.store.query_log(**filters, limit=limit, offset=offset)]
        return rows, ctx.store.count_log(**filters)

    return await respond(call.request, CHARGER_LOG, fetch, call.query)


# A 2.0.1 station's device model -----------------------------------------------------------------

STATION_VARIABLES = Listing(
    "station_variables",
    columns=("component", "component_instance", "evse_id", "connector_id", "variable",
             "variable_instance", "attribute_type", "value", "mutability", "persistent",
             "constant", "characteristics", "reported_at"),
    params=(Param("component", description="component name"),
            Param("variable", description="variable name"),
            Param("evse_id", "integer", "the EVSE's components only", minimum=1),
            Param("attribute_type", description="Actual, Target, MinSet or MaxSet",
                  enum=("Actual", "Target", "MinSet", "MaxSet"))),
)  # fmt: skip


async def station_variables(call: Call) -> Any:
    """B07/B08, B05/B06, N07: what a 2.0.1 station reported of its device model, attribute by
    attribute (GetBaseReport/GetReport fill it; a 1.6 charger has none: see its configuration)."""
    ctx = call.ctx
    cp_id = (await known_charger(call, call.path["cp_id"]))["id"]
    return await respond(call.request, STATION_VARIABLES,
                         lambda f: ctx.store.list_station_variables(cp_id), call.query)  # fmt: skip


# Basic-auth password (security whitepaper A01, OCPP 2.0.1 A01) ----------------------------------

#: the key rules as a schema, any version's (the connected charger's version then applies its
#: own, `PasswordChange.check`): 1.6 chargebench.security.basic_auth's rule, 32-40 hex digits
#: (an even number, the hex form of a 16-20 byte key) or 16-20 characters of printable ASCII;
#: 2.0.1 a passwordString of 16-40 characters
AUTHORIZATION_KEY = {
    "type": "string",
    "not": {"pattern": "\n"},  # Python's `$` also matches before a final newline
    "anyOf": [
        {"pattern": f"^(?:[0-9A-Fa-f]{{2}}){{{MIN_KEY_BYTES},{MAX_KEY_BYTES}}}$"},
        {"pattern": f"^[!-~]{{{MIN_KEY_BYTES},{MAX_KEY_BYTES}}}$"},
        {"pattern": f"^[A-Za-z0-9*\\-_=:+|@.]{{{MIN_PASSWORD_CHARS},{MAX_PASSWORD_CHARS}}}$"},
    ],
    "description": "OCPP 1.6 (whitepaper A00.FR.205): 32-40 hex digits (a 16-20 byte key; "
                   "sent upper case) or 16-20 characters of printable ASCII; OCPP 2.0.1 "
                   "(A00.FR.205): a passwordString (a-z A-Z 0-9 * - _ = : + | @ .) of 16-40 "
                   "characters, sent as it is. The connected charger's version decides (422 "
                   "when the key breaks its rule); not connected, a key of either rule is "
                   "stored (one of 32-40 hex digits upper case). Left out, the CSMS generates "
                   "40 hex digits (20 random bytes, A01.FR.07) and answers them once",
}  # fmt: skip
PASSWORD_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "authorization_key": AUTHORIZATION_KEY,
        "if_offline": {
            "enum": ["refuse", "store"],
            "description": "charger not connected: refuse (409, nothing changes) or store the "
                           "key for its next connection (you configure the charger yourself)",
        },
    },
}  # fmt: skip
PASSWORD_RESULT = {
    "type": "object",
    "required": ["charger_id", "outcome", "stored", "sent", "reply"],
    "properties": {
        "charger_id": {"type": "string"},
        "outcome": {
            "enum": ["Accepted", "RebootRequired", "Rejected", "NotSupported",
                     "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType",
                     "Stored"],
            "description": "the charger's status for the key: 1.6 ChangeConfiguration's "
                           "(RebootRequired: it uses the new key after its reboot; the CSMS "
                           "admits only the new one now), 2.0.1 the SetVariableResult of "
                           "SecurityCtrlr.BasicAuthPassword (only Accepted stores it, "
                           "A01.FR.03/04); or Stored (not connected)",
        },
        "stored": {"type": "boolean", "description": "the CSMS now admits the new key only"},
        "sent": {"type": "boolean", "description": "the request went to the charger"},
        "reply": {"type": ["object", "null"]},
        "authorization_key": {"type": "string", "description": "the generated key (once)"},
    },
}  # fmt: skip


def _key_for(check: Callable[[str], str], key: str) -> str:
    try:
        return check(key)  # the version's rule, from its one home
    except ValueError as error:
        raise ApiError(422, str(error), field="authorization_key") from None


def _offline_key(key: str) -> str:
    """A key for a charger not connected: the first version whose rule takes it (1.6 first, so
    32-40 hex digits are stored upper case)."""
    problems = []
    for version in API_VERSIONS:
        try:
            return commands.password_change_for(version).check(key)
        except ValueError as error:
            problems.append(f"OCPP {version.name}: {error}")
    raise ApiError(422, "; ".join(problems), field="authorization_key")


async def set_password(call: Call) -> Any:
    """Security whitepaper A01 order, in the connected charger's version: 1.6 ChangeConfiguration
    AuthorizationKey, 2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword (A01.FR.02), first;
    only its Accepted (1.6: or RebootRequired) makes the CSMS store the new key and refuse the
    old one (A01.FR.03, the version's bookkeeping in csms.commands); any other status keeps the
    old key (A01.FR.04). While the request is unanswered both keys are admitted (a charger may
    reconnect with the new one before its answer is read). A charger not connected gets the
    key stored only with `if_offline: store`. The key is demanded at the handshake of a
    charger whose security profile is 1 or 2 (csms.admission); at profile 0 it is checked
    when presented."""
    ctx, body = call.ctx, call.body
    cp_id = (await known_charger(call, call.path["cp_id"]))["id"]
    generated = "authorization_key" not in body
    key = generate_authorization_key() if generated else body["authorization_key"]
    answer: dict[str, Any] = {"charger_id": cp_id}
    conn = ctx.registry.get(cp_id) if ctx.execute is not None else None
    if conn is not None and ctx.execute is not None:
        change = commands.password_change_for(conn.session.core.version)
        key = _key_for(change.check, key)
        try:
            result = await ctx.execute(cp_id, change.action, change.request(key))
        except CallTimeout as error:
            raise ApiError(504, f"{error}; the old key stays stored, but the charger may "
                           "have taken the new one") from None  # fmt: skip
        except CallFailed as error:
            raise ApiError(502, f"{error}; the old key stays stored") from None
        except commands.NotConnected:
            pass  # went away meanwhile: treated as not connected below
        except commands.UnknownAction as error:
            raise ApiError(409, f"{error}; nothing changed") from None
        else:
            status = change.status(result.reply)
            if status is None:  # 2.0.1: no SetVariableResult for the password
                raise ApiError(502, f"{change.action} reply without a result for the password; "
                               "the old key stays stored")  # fmt: skip
            answer |= {"outcome": status, "sent": True, "reply": result.reply,
                       "stored": status in change.stored}  # fmt: skip
    if "outcome" not in answer:
        if body.get("if_offline", "refuse") != "store":
            raise ApiError(409, f"charge point {cp_id!r} is not connected; nothing changed "
                           '(send "if_offline": "store" to store the key for its next '
                           "connection)")  # fmt: skip
        key = _offline_key(key)
        await asyncio.to_thread(ctx.store.set_charger_password, cp_id, key)
        answer |= {"outcome": "Stored", "sent": False, "reply": None, "stored": True}
    if generated and answer["stored"]:
        answer["authorization_key"] = key
    return DecimalJSONResponse(answer, headers={"Cache-Control": "no-store"})


# Security profile upgrade (OCPP 2.0.1 A05, 1.6 whitepaper A05) ---------------------------------

UPGRADE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["securityProfile"],
    "properties": {
        "securityProfile": {"type": "integer", "minimum": 1, "maximum": 3,
                            "description": "the profile to reconnect with; never lower than "
                                           "the charger's (409)"},
        "ocppCsmsUrl": {"type": "string", "minLength": 1, "maxLength": 512,
                        "description": "2.0.1 (required there): the URL the station dials "
                                       "through its new network profile, without its "
                                       "identity (wss:// for profiles 2 and 3)"},
        "configurationSlot": {"type": "integer", "minimum": 0, "maximum": INT32[1],
                              "description": "2.0.1: the slot for the new network profile; "
                                             "left out, the lowest one not in the station's "
                                             "NetworkConfigurationPriority"},
        "messageTimeout": {"type": "integer", "minimum": 1, "maximum": INT32[1],
                           "description": "2.0.1: the new profile's messageTimeout (30)"},
        "ocppInterface": {"enum": ["Wired0", "Wired1", "Wired2", "Wired3", "Wireless0",
                                   "Wireless1", "Wireless2", "Wireless3"],
                          "description": "2.0.1: the new profile's ocppInterface (Wired0)"},
    },
}  # fmt: skip
UPGRADE_RESULT = {
    "type": "object",
    "required": ["charger_id", "securityProfile", "outcome", "steps"],
    "properties": {
        "charger_id": {"type": "string"},
        "securityProfile": {"type": "integer"},
        "outcome": {"enum": ["Pending", "Refused"],
                    "description": "Pending: every step accepted, the charger reconnects "
                                   "with the new profile, recorded when it does (2.0.1 "
                                   "A05.FR.06; 1.6 at once); Refused: `refusedBy` answered "
                                   "otherwise, nothing more was sent"},
        "refusedBy": {"type": "string"},
        "configurationSlot": {"type": "integer"},
        "steps": {"type": "array", "items": {"type": "object"},
                  "description": "each request as sent (`action`, `request`) and its `reply`"},
    },
}  # fmt: skip


async def upgrade_security_profile(call: Call) -> Any:
    """Raise the charger's security profile (`csms.profile_upgrade`). OCPP 2.0.1 A05:
    GetVariables NetworkConfigurationPriority, SetNetworkProfile into the next slot (B09),
    SetVariables NetworkConfigurationPriority with that slot first (B10.FR.01), Reset OnIdle;
    the new profile is recorded when the station reconnects with it (A05.FR.06), after which
    nothing lower is admitted (A05.FR.07). OCPP 1.6: ChangeConfiguration SecurityProfile
    (whitepaper A05). A lower profile is refused (409; A00.FR.005, A05.FR.10), as is the
    profile it already has, profile 1 or 2 without a basic-auth password stored (the CSMS
    would refuse the reconnect; whitepaper A05.FR.02) and a charger not connected."""
    ctx, body = call.ctx, call.body
    charger = await known_charger(call, call.path["cp_id"])
    cp_id, profile = charger["id"], body["securityProfile"]
    problem = profile_upgrade.downgrade(charger, profile)
    if problem is not None:
        raise ApiError(409, problem, field="securityProfile")
    if profile == required_profile(charger):
        raise ApiError(409, f"charge point {cp_id!r} is at security profile {profile} already",
                       field="securityProfile")  # fmt: skip
    if profile in (1, 2) and not charger["has_password"]:
        raise ApiError(409, f"charge point {cp_id!r} has no basic-auth password stored: set one "
                       "first (PUT /api/chargers/{id}/password)", field="securityProfile")
    conn = ctx.registry.get(cp_id) if ctx.execute is not None else None
    if conn is None or ctx.execute is None:
        raise ApiError(409, f"charge point {cp_id!r} is not connected; nothing changed")
    try:
        done = await profile_upgrade.upgrade(ctx.execute, cp_id, conn.session.core.version, body)
    except profile_upgrade.UpgradeInput as error:
        raise ApiError(422, str(error), field=error.field) from None
    except (commands.NotConnected, commands.UnknownAction) as error:
        raise ApiError(409, str(error)) from None
    except CallTimeout as error:
        raise ApiError(504, str(error)) from None
    except CallFailed as error:
        raise ApiError(502, str(error)) from None
    return DecimalJSONResponse({"charger_id": cp_id, **done.as_dict()})


# Route table ------------------------------------------------------------------------------------

ROUTES: tuple[Operation, ...] = (
    *(_action_operation(action) for action in ACTIONS),
    Operation("GET", "/api/chargers/{cp_id}/log", "The charger's OCPP message log, oldest first",
              charger_log, path_params=CP_ID, listing=CHARGER_LOG, tag="chargers",
              responses={"404": "unknown charger"}),
    Operation("GET", "/api/chargers/{cp_id}/variables",
              "A 2.0.1 station's device model as it reported it", station_variables,
              path_params=CP_ID, listing=STATION_VARIABLES, tag="chargers",
              description=(station_variables.__doc__ or "").replace("\n    ", " ").strip(),
              responses={"404": "unknown charger"}),
    Operation(
        "PUT", "/api/chargers/{cp_id}/password",
        "Set or rotate the charger's basic-auth password (1.6 AuthorizationKey, 2.0.1 "
        "BasicAuthPassword; security profiles 1 and 2)", set_password, path_params=CP_ID,
        tag="chargers", body=PASSWORD_BODY, body_optional=True, result=PASSWORD_RESULT,
        description=(set_password.__doc__ or "").replace("\n    ", " ").strip(),
        responses={
            "404": "unknown charger",
            "409": "not connected and if_offline is refuse: nothing changed",
            "422": "the key breaks the rule of the charger's OCPP version",
            "502": "the charger answered with a CALLERROR, an invalid reply or (2.0.1) none "
                   "for the password: the old key stays stored",
            "504": "no reply in time: the old key stays stored",
        },
    ),
    Operation(
        "POST", "/api/chargers/{cp_id}/security-profile",
        "Raise the charger's security profile (2.0.1 A05 SetNetworkProfile, "
        "NetworkConfigurationPriority, Reset; 1.6 ChangeConfiguration SecurityProfile)",
        upgrade_security_profile, path_params=CP_ID, tag="chargers", body=UPGRADE_BODY,
        result=UPGRADE_RESULT,
        description=(upgrade_security_profile.__doc__ or "").replace("\n    ", " ").strip(),
        responses={
            "404": "unknown charger",
            "409": "a downgrade, the profile it has, no password for profile 1/2, or not "
                   "connected: nothing sent",
            "422": "2.0.1 without ocppCsmsUrl, or a NetworkConfigurationPriority that is no "
                   "list of slots",
            "502": "a step was answered with a CALLERROR or an invalid reply",
            "504": "a step had no reply in time",
        },
    ),
)  # fmt: skip
