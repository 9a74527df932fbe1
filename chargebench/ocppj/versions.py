"""OCPP versions as data: actions, directions, feature profiles, schema files, error codes.

Adding OCPP 2.0.1 means adding one more `OcppVersion` here (schemas from `ocpp.v201`), not
changing the session core.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from importlib import resources
from types import ModuleType

from ocpp.v16 import call as call_16
from ocpp.v16 import call_result as call_result_16

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
    #: formats the validator must check (draft-04 `format` keyword)
    formats: tuple[str, ...] = field(default=("date-time",))
    #: the JSON Schema draft the version's schema files declare ("draft-04", "draft-06")
    schema_draft: str = "draft-04"
    #: the CALL that registers a charge point (1.6 §4.2; 2.0.1 B01)
    boot_action: str = "BootNotification"
    #: central-system CALLs a charge point refuses while its registration is Pending
    not_while_pending: frozenset[str] = frozenset()

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
)

#: subprotocol agreed in the websocket handshake -> the version spoken on that connection
VERSIONS: dict[str, OcppVersion] = {OCPP16.subprotocol: OCPP16}

#: the version a client offers first and a session speaks when no handshake decided (tests, the
#: in-memory `SessionPair`)
DEFAULT_VERSION = OCPP16


def version_for(subprotocol: str | None) -> OcppVersion:
    """The version of a connection from the subprotocol agreed in its handshake (OCPP-J 1.6
    §3.1); `DEFAULT_VERSION` when there was no handshake (an in-memory or test connection)."""
    if subprotocol is None:
        return DEFAULT_VERSION
    return VERSIONS[subprotocol]
