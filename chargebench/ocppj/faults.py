"""What can be wrong with a received frame, and which OCPP-J error code each fault gets.

The mapping is data, per OCPP version (see `versions.py`), so that the conformance catalogue,
the docs and the tests read the same table the session core answers with.
"""

from __future__ import annotations

import enum


class Fault(enum.Enum):
    """One class of bad input; each maps to exactly one CALLERROR code per OCPP version."""

    # Frame level: OCPP-J 1.6 §4.1, §4.2
    INVALID_JSON = "invalid JSON"
    NOT_AN_ARRAY = "frame is not a JSON array"
    WRONG_LENGTH = "wrong number of elements for the message type"
    UNKNOWN_MESSAGE_TYPE = "unknown MessageTypeId"
    BAD_MESSAGE_ID = "message id is not a string"
    MESSAGE_ID_TOO_LONG = "message id longer than 36 characters"
    BAD_ACTION = "action is not a string"
    PAYLOAD_NOT_OBJECT = "payload is not a JSON object"
    LONE_SURROGATE = "string with a lone UTF-16 surrogate (not UTF-8 text)"
    TOO_DEEP = "JSON nested deeper than any OCPP message"
    DUPLICATE_MESSAGE_ID = "message id already used by the peer on this connection"
    CONCURRENT_CALL = "CALL while the peer's previous CALL is unanswered"
    # Action level
    UNKNOWN_ACTION = "action not known to this OCPP version"
    UNSUPPORTED_ACTION = "action known but not supported by the receiver"
    # Payload level: the JSON schema keyword that failed
    MISSING_FIELD = "required field missing"
    WRONG_TYPE = "field of the wrong JSON type"
    BAD_ENUM = "value not in the enumeration"
    EXTRA_PROPERTY = "property not in the schema"
    STRING_TOO_LONG = "string longer than allowed"
    BAD_DATE_TIME = "not an RFC 3339 date-time"
    OCCURRENCE = "too few or too many items"
    OUT_OF_RANGE = "number out of range or precision"
    BEYOND_INT64 = "number beyond what a signed 64-bit integer or a finite double holds"
    SCHEMA_OTHER = "payload violates its schema"
    # Processing
    NOT_ACCEPTED_YET = "CALL before BootNotification was accepted"
    HANDLER_FAILED = "the handler raised"


#: JSON schema keyword -> fault. Keywords not listed map to SCHEMA_OTHER.
SCHEMA_KEYWORD_FAULTS: dict[str, Fault] = {
    "required": Fault.MISSING_FIELD,
    "type": Fault.WRONG_TYPE,
    "enum": Fault.BAD_ENUM,
    "additionalProperties": Fault.EXTRA_PROPERTY,
    "maxLength": Fault.STRING_TOO_LONG,
    "format": Fault.BAD_DATE_TIME,
    "minItems": Fault.OCCURRENCE,
    "maxItems": Fault.OCCURRENCE,
    "minimum": Fault.OUT_OF_RANGE,
    "maximum": Fault.OUT_OF_RANGE,
    "multipleOf": Fault.OUT_OF_RANGE,
}

#: Faults detected before the message id can be trusted: the reply carries this id.
#: OCPP-J 1.6 names no id for a frame it cannot read; OCPP-J 2.0.1 §4.2.3 says "-1", we follow it.
UNREADABLE_ID = "-1"
