"""OCPP versions as data: actions, directions, feature profiles, schema files, error codes.

OCPP 1.6 (`OCPP16`) and OCPP 2.0.1 (`OCPP201`) are one `OcppVersion` each; the session core reads
the one agreed in the handshake (`VERSIONS[subprotocol]`) and has no `if` on the version.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from importlib import resources
from types import ModuleType

from ocpp.v16 import call as call_16
from ocpp.v16 import call_result as call_result_16
from ocpp.v201 import call as call_201
from ocpp.v201 import call_result as call_result_201

from chargebench.ocppj.faults import Fault


class Role(enum.Enum):
    """Which end of the connection this session is."""

    CHARGE_POINT = "cp"
    CENTRAL_SYSTEM = "cs"

    @property
    def peer(self) -> Role:
        return Role.CENTRAL_SYSTEM if self is Role.CHARGE_POINT else Role.CHARGE_POINT


@dataclass(frozen=True, eq=False)
class OcppVersion:
    """Everything the session core needs to know about one OCPP version (one object per
    version, compared and hashed by identity)."""

    name: str
    subprotocol: str
    schema_package: str
    request_suffix: str
    response_suffix: str
    #: action -> feature profile
    profiles: dict[str, str]
    cp_initiated: frozenset[str]
    cs_initiated: frozenset[str]
    error_codes: frozenset[str]
    fault_codes: dict[Fault, str]
    call_module: ModuleType
    call_result_module: ModuleType
    max_message_id_length: int = 36
    #: longest errorDescription of a CALLERROR we send (None: no limit; OCPP-J 2.0.1 §4.2.3
    #: Table 7: string[255])
    max_error_description: int | None = None
    #: formats the validator must check (draft-04 `format` keyword)
    formats: tuple[str, ...] = field(default=("date-time",))
    #: the JSON Schema draft the version's schema files declare ("draft-04", "draft-06")
    schema_draft: str = "draft-04"
    #: the CALL that registers a charge point (1.6 §4.2; 2.0.1 B01)
    boot_action: str = "BootNotification"
    #: central-system CALLs a charge point refuses while its registration is Pending
    not_while_pending: frozenset[str] = frozenset()
    #: charge-point CALLs a central system takes while the registration is Pending, because it
    #: asked for them itself (2.0.1 B01.FR.10: the report that answers GetBaseReport/GetReport)
    allowed_while_pending: frozenset[str] = frozenset()
    #: a charge point whose registration is Rejected answers central-system CALLs with the
    #: NOT_ACCEPTED_YET CALLERROR (2.0.1 B03.FR.08: SecurityError) instead of not at all (1.6
    #: §4.2: "SHALL NOT respond")
    answers_while_rejected: bool = False
    #: how the version's specification names a request and a response (1.6: "Authorize.req",
    #: "Authorize.conf"; 2.0.1: "AuthorizeRequest", "AuthorizeResponse"): error messages
    #: speak the words of the spec the user reads
    title_suffixes: tuple[str, str] = ("Request", "Response")

    def message_title(self, action: str, response: bool) -> str:
        return action + self.title_suffixes[response]

    @property
    def actions(self) -> frozenset[str]:
        return self.cp_initiated | self.cs_initiated

    def initiated_by(self, role: Role) -> frozenset[str]:
        return self.cp_initiated if role is Role.CHARGE_POINT else self.cs_initiated

    def schema_text(self, action: str, response: bool) -> str:
        name = action + (self.response_suffix if response else self.request_suffix) + ".json"
        return resources.files(self.schema_package).joinpath(name).read_text("utf-8-sig")

    def code_for(self, fault: Fault) -> str:
        return self.fault_codes[fault]


# OCPP 1.6 §3 "Feature Profiles" table; the 11 security-whitepaper messages form "Security".
_PROFILES_16 = {
    **dict.fromkeys(
        [
            "Authorize", "BootNotification", "ChangeAvailability", "ChangeConfiguration",
            "ClearCache", "DataTransfer", "GetConfiguration", "Heartbeat", "MeterValues",
            "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "StartTransaction",
            "StatusNotification", "StopTransaction", "UnlockConnector",
        ],
        "Core",
    ),
    **dict.fromkeys(
        ["GetDiagnostics", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
         "UpdateFirmware"],
        "FirmwareManagement",
    ),
    **dict.fromkeys(["GetLocalListVersion", "SendLocalList"], "LocalAuthListManagement"),
    **dict.fromkeys(["CancelReservation", "ReserveNow"], "Reservation"),
    **dict.fromkeys(
        ["ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile"], "SmartCharging"
    ),
    "TriggerMessage": "RemoteTrigger",
    **dict.fromkeys(
        [
            "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage",
            "GetInstalledCertificateIds", "GetLog", "InstallCertificate", "LogStatusNotification",
            "SecurityEventNotification", "SignCertificate", "SignedFirmwareStatusNotification",
            "SignedUpdateFirmware",
        ],
        "Security",
    ),
}

_CP_INITIATED_16 = frozenset(
    [
        "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
        "StatusNotification", "StopTransaction",
        # security whitepaper edition 3
        "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
        "SignedFirmwareStatusNotification",
    ]
)
_CS_INITIATED_16 = frozenset(_PROFILES_16) - _CP_INITIATED_16 | {"DataTransfer"}

# OCPP-J 1.6 §4.2.3 Table 7, with the 1.6 spellings the errata keep ("FormationViolation",
# "OccurenceConstraintViolation": OCPP-J 1.6 errata §5.1, §5.2 "do not fix").
_ERROR_CODES_16 = frozenset(
    [
        "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
        "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
        "TypeConstraintViolation", "GenericError",
    ]
)

#: The table of which CALLERROR each fault earns in OCPP 1.6. Rationale per row:
#: frame structure -> FormationViolation ("not conform the PDU structure"); missing field ->
#: ProtocolError ("payload for Action is incomplete"); occurrence -> OccurenceConstraintViolation;
#: JSON type and date-time (an OCPP data type) -> TypeConstraintViolation; a value the type allows
#: but the field does not (enum, length, range) -> PropertyConstraintViolation.
FAULT_CODES_16: dict[Fault, str] = {
    Fault.INVALID_JSON: "FormationViolation",
    Fault.NOT_AN_ARRAY: "FormationViolation",
    Fault.WRONG_LENGTH: "FormationViolation",
    Fault.UNKNOWN_MESSAGE_TYPE: "FormationViolation",
    Fault.BAD_MESSAGE_ID: "FormationViolation",
    Fault.MESSAGE_ID_TOO_LONG: "FormationViolation",
    Fault.BAD_ACTION: "FormationViolation",
    Fault.PAYLOAD_NOT_OBJECT: "FormationViolation",
    # RFC 8259 §8.2 / RFC 7493 §2.1: a lone surrogate is no Unicode text; OCPP-J 1.6 §4.1.2 frames
    # are UTF-8 JSON, so the frame is "syntactically incorrect"
    Fault.LONE_SURROGATE: "FormationViolation",
    Fault.TOO_DEEP: "FormationViolation",
    Fault.DUPLICATE_MESSAGE_ID: "ProtocolError",
    # OCPP-J 1.6 §4.1.1 says SHOULD NOT: processed anyway, reported, answered only on request
    Fault.CONCURRENT_CALL: "GenericError",
    Fault.UNKNOWN_ACTION: "NotImplemented",
    Fault.UNSUPPORTED_ACTION: "NotSupported",
    Fault.MISSING_FIELD: "ProtocolError",
    Fault.WRONG_TYPE: "TypeConstraintViolation",
    Fault.BAD_ENUM: "PropertyConstraintViolation",
    Fault.EXTRA_PROPERTY: "FormationViolation",
    Fault.STRING_TOO_LONG: "PropertyConstraintViolation",
    Fault.BAD_DATE_TIME: "TypeConstraintViolation",
    Fault.OCCURRENCE: "OccurenceConstraintViolation",
    Fault.OUT_OF_RANGE: "PropertyConstraintViolation",
    # the JSON type (integer) is right, the value is one no field can hold (2.0.1 part 2 §2.1:
    # integer is 32 bit; 1.6 names no width, we hold 64): "a field contains an invalid value"
    Fault.BEYOND_INT64: "PropertyConstraintViolation",
    Fault.SCHEMA_OTHER: "FormationViolation",
    # OCPP-J 1.6 errata §3.10 (new §5.6): CALL before accepted -> SecurityError
    Fault.NOT_ACCEPTED_YET: "SecurityError",
    Fault.HANDLER_FAILED: "InternalError",
}

OCPP16 = OcppVersion(
    name="1.6",
    subprotocol="ocpp1.6",
    schema_package="ocpp.v16.schemas",
    request_suffix="",
    response_suffix="Response",
    profiles=_PROFILES_16,
    cp_initiated=_CP_INITIATED_16,
    cs_initiated=_CS_INITIATED_16,
    error_codes=_ERROR_CODES_16,
    fault_codes=FAULT_CODES_16,
    call_module=call_16,
    call_result_module=call_result_16,
    # 1.6 §4.2: while Pending, remote start and stop "are not allowed"
    not_while_pending=frozenset({"RemoteStartTransaction", "RemoteStopTransaction"}),
    title_suffixes=(".req", ".conf"),  # 1.6 §6: "Authorize.req", "Authorize.conf"
)

# OCPP 2.0.1 ---------------------------------------------------------------------------------------

_SCHEMAS_201 = "ocpp.v201.schemas"


def _schema_actions(package: str, request_suffix: str) -> frozenset[str]:
    """The actions whose request schema ships in `package` (OCPP-J 2.0.1 §4.1.6: the action is
    the message name without its "Request" suffix): the list is the `ocpp` package's, never ours."""
    return frozenset(
        entry.name[: -len(request_suffix + ".json")]
        for entry in resources.files(package).iterdir()
        if entry.name.endswith(request_suffix + ".json")
    )


#: the 64 actions of OCPP 2.0.1, one per request schema of `ocpp.v201`
_ACTIONS_201 = _schema_actions(_SCHEMAS_201, "Request")

# OCPP 2.0.1 part 2 "Messages": the request PDUs "sent by the Charging Station to the CSMS"
# (DataTransfer: "either by the CSMS to the Charging Station or vice versa"). The schemas name no
# direction; tests/chargebench/test_ocppj_v201.py checks this list against the part 2 text.
_CP_INITIATED_201 = frozenset(
    [
        "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer",
        "FirmwareStatusNotification", "Get15118EVCertificate", "GetCertificateStatus",
        "Heartbeat", "LogStatusNotification", "MeterValues", "NotifyChargingLimit",
        "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
        "PublishFirmwareStatusNotification", "ReportChargingProfiles", "ReservationStatusUpdate",
        "SecurityEventNotification", "SignCertificate", "StatusNotification", "TransactionEvent",
    ]
)
_CS_INITIATED_201 = _ACTIONS_201 - _CP_INITIATED_201 | {"DataTransfer"}

# OCPP 2.0.1 part 2: the functional block (A-P) whose use cases define each message; the
# "profiles" of 2.0.1 for `OcppSession(supported_profiles=...)`.
_PROFILES_201 = {
    **dict.fromkeys(["CertificateSigned", "SecurityEventNotification", "SignCertificate"],
                    "Security"),
    **dict.fromkeys(
        ["BootNotification", "GetBaseReport", "GetReport", "GetVariables", "NotifyReport",
         "Reset", "SetNetworkProfile", "SetVariables"],
        "Provisioning",
    ),
    **dict.fromkeys(["Authorize", "ClearCache"], "Authorization"),
    **dict.fromkeys(["GetLocalListVersion", "SendLocalList"], "LocalAuthorizationListManagement"),
    **dict.fromkeys(["GetTransactionStatus", "TransactionEvent"], "Transactions"),
    **dict.fromkeys(
        ["RequestStartTransaction", "RequestStopTransaction", "TriggerMessage", "UnlockConnector"],
        "RemoteControl",
    ),
    **dict.fromkeys(["ChangeAvailability", "Heartbeat", "StatusNotification"], "Availability"),
    **dict.fromkeys(["CancelReservation", "ReservationStatusUpdate", "ReserveNow"],
                    "Reservation"),
    "CostUpdated": "TariffAndCost",
    "MeterValues": "MeterValues",
    **dict.fromkeys(
        ["ClearChargingProfile", "ClearedChargingLimit", "GetChargingProfiles",
         "GetCompositeSchedule", "NotifyChargingLimit", "NotifyEVChargingNeeds",
         "NotifyEVChargingSchedule", "ReportChargingProfiles", "SetChargingProfile"],
        "SmartCharging",
    ),
    **dict.fromkeys(
        ["FirmwareStatusNotification", "PublishFirmware", "PublishFirmwareStatusNotification",
         "UnpublishFirmware", "UpdateFirmware"],
        "FirmwareManagement",
    ),
    **dict.fromkeys(
        ["DeleteCertificate", "Get15118EVCertificate", "GetCertificateStatus",
         "GetInstalledCertificateIds", "InstallCertificate"],
        "ISO15118CertificateManagement",
    ),
    **dict.fromkeys(
        ["ClearVariableMonitoring", "CustomerInformation", "GetLog", "GetMonitoringReport",
         "LogStatusNotification", "NotifyCustomerInformation", "NotifyEvent",
         "NotifyMonitoringReport", "SetMonitoringBase", "SetMonitoringLevel",
         "SetVariableMonitoring"],
        "Diagnostics",
    ),
    **dict.fromkeys(
        ["ClearDisplayMessage", "GetDisplayMessages", "NotifyDisplayMessages",
         "SetDisplayMessage"],
        "DisplayMessage",
    ),
    "DataTransfer": "DataTransfer",
}

# OCPP-J 2.0.1 §4.3 Table 8 "Valid Error Codes": 1.6's FormationViolation is FormatViolation, the
# misspelt OccurenceConstraintViolation is OccurrenceConstraintViolation, and two are new:
# MessageTypeNotSupported (§4.1.3, §4.4) and RpcFrameworkError.
_ERROR_CODES_201 = frozenset(
    [
        "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported",
        "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
        "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
        "TypeConstraintViolation",
    ]
)

#: The table of which CALLERROR each fault earns in OCPP 2.0.1, from the Table 8 descriptions
#: (OCPP-J 2.0.1 §4.3). Rationale per group:
#: - the frame is no valid RPC request (not JSON, not an array, wrong element count, an id or an
#:   action that is not a string, an id over string[36] §4.1.4, an id reused §4.1.4):
#:   RpcFrameworkError, "Content of the call is not a valid RPC Request, for example: MessageId
#:   could not be read"; the reply carries "-1" when the id cannot be read (§4.2.3);
#: - a MessageTypeId not in §4.1.3 Table 3: MessageTypeNotSupported (§4.4). Its reply carries
#:   "-1": the layout of an unknown message type is unknown, so element 1 is no readable id;
#: - the payload is no JSON object or holds what no JSON text can (§4.1.2 UTF-8, §4.1.5):
#:   FormatViolation, "Payload for Action is syntactically incorrect";
#: - a property the PDU does not have (`additionalProperties`): ProtocolError, "Payload for
#:   Action is not conform the PDU structure" (1.6's FormationViolation covered both halves;
#:   2.0.1 split it into FormatViolation and ProtocolError);
#: - a required field missing, too few or too many items: OccurrenceConstraintViolation (a field's
#:   presence is its cardinality, the "Card." column of every 2.0.1 message table: 1..1 absent
#:   violates it as 1..* with no item does);
#: - JSON type and dateTime (a primitive datatype, part 2 §2.1.4): TypeConstraintViolation;
#: - a value the type allows but the field does not (enum, length, range, beyond 64 bits):
#:   PropertyConstraintViolation, "at least one field contains an invalid value" (as in 1.6);
#: - any other schema keyword: FormatViolation.
FAULT_CODES_201: dict[Fault, str] = {
    Fault.INVALID_JSON: "RpcFrameworkError",
    Fault.NOT_AN_ARRAY: "RpcFrameworkError",
    Fault.WRONG_LENGTH: "RpcFrameworkError",
    Fault.UNKNOWN_MESSAGE_TYPE: "MessageTypeNotSupported",
    Fault.BAD_MESSAGE_ID: "RpcFrameworkError",
    Fault.MESSAGE_ID_TOO_LONG: "RpcFrameworkError",
    Fault.BAD_ACTION: "RpcFrameworkError",
    Fault.PAYLOAD_NOT_OBJECT: "FormatViolation",
    Fault.LONE_SURROGATE: "FormatViolation",
    Fault.TOO_DEEP: "FormatViolation",
    Fault.DUPLICATE_MESSAGE_ID: "RpcFrameworkError",
    # OCPP-J 2.0.1 §4.1.1 says SHALL NOT, yet CALLs "can always cross each other" (its NOTE):
    # processed anyway, reported, answered only on request (as in 1.6)
    Fault.CONCURRENT_CALL: "GenericError",
    Fault.UNKNOWN_ACTION: "NotImplemented",
    Fault.UNSUPPORTED_ACTION: "NotSupported",
    Fault.MISSING_FIELD: "OccurrenceConstraintViolation",
    Fault.WRONG_TYPE: "TypeConstraintViolation",
    Fault.BAD_ENUM: "PropertyConstraintViolation",
    Fault.EXTRA_PROPERTY: "ProtocolError",
    Fault.STRING_TOO_LONG: "PropertyConstraintViolation",
    Fault.BAD_DATE_TIME: "TypeConstraintViolation",
    Fault.OCCURRENCE: "OccurrenceConstraintViolation",
    Fault.OUT_OF_RANGE: "PropertyConstraintViolation",
    Fault.BEYOND_INT64: "PropertyConstraintViolation",
    Fault.SCHEMA_OTHER: "FormatViolation",
    # B01.FR.10, B03.FR.07: a CALL before the BootNotification was accepted -> SecurityError
    Fault.NOT_ACCEPTED_YET: "SecurityError",
    Fault.HANDLER_FAILED: "InternalError",
}

OCPP201 = OcppVersion(
    name="2.0.1",
    subprotocol="ocpp2.0.1",  # OCPP-J 2.0.1 §3.1.2 Table 1
    schema_package=_SCHEMAS_201,
    request_suffix="Request",
    response_suffix="Response",
    profiles=_PROFILES_201,
    cp_initiated=_CP_INITIATED_201,
    cs_initiated=_CS_INITIATED_201,
    error_codes=_ERROR_CODES_201,
    fault_codes=FAULT_CODES_201,
    call_module=call_201,
    call_result_module=call_result_201,
    # the schemas declare draft-06 (`$schema`); their only format is date-time
    schema_draft="draft-06",
    max_error_description=255,
    # B02.FR.05: while Pending, RequestStart/StopTransaction are answered status Rejected, a
    # CALLRESULT, so no CALL is refused by the gate
    not_while_pending=frozenset(),
    allowed_while_pending=frozenset({"NotifyReport"}),
    answers_while_rejected=True,  # B03.FR.08
)

#: subprotocol agreed in the websocket handshake -> the version spoken on that connection; the
#: order is the server's preference where a client states none (OCPP-J 2.0.1 §3.1.3)
VERSIONS: dict[str, OcppVersion] = {v.subprotocol: v for v in (OCPP201, OCPP16)}

#: the version a client offers first and a session speaks when no handshake decided (tests, the
#: in-memory `SessionPair`)
DEFAULT_VERSION = OCPP16


def version_for(subprotocol: str | None) -> OcppVersion:
    """The version of a connection from the subprotocol agreed in its handshake (OCPP-J 2.0.1
    §3.1.2); `DEFAULT_VERSION` when there was no handshake (an in-memory or test connection)."""
    if subprotocol is None:
        return DEFAULT_VERSION
    return VERSIONS[subprotocol]
