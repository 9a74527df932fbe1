"""OCPP-J framing: the JSON array form of the three message types (OCPP-J 1.6 §4.2)."""

from __future__ import annotations

import enum
import json
from typing import Any

# OCPP-J 1.6 §4.1.3 Table 2: CALL = 2, CALLRESULT = 3, CALLERROR = 4
CALL, CALLRESULT, CALLERROR = 2, 3, 4


class Direction(enum.StrEnum):
    """Which way a frame went. StrEnum: its value is what trace lines and the message log
    store ("cp->cs"), and it compares equal to that string."""

    CP_TO_CS = "cp->cs"
    CS_TO_CP = "cs->cp"

    @property
    def reverse(self) -> Direction:
        """The direction of the reply to a frame sent this way (OCPP-J 1.6 §4.1.4)."""
        return Direction.CS_TO_CP if self is Direction.CP_TO_CS else Direction.CP_TO_CS


class MessageType(enum.StrEnum):
    """The kind of a traced frame: the three OCPP-J message types by name (OCPP-J 1.6 §4.1.3),
    or RAW for a frame that is no well-formed OCPP-J message (or was sent broken on purpose)."""

    CALL = "CALL"
    CALLRESULT = "CALLRESULT"
    CALLERROR = "CALLERROR"
    RAW = "RAW"

    @property
    def is_reply(self) -> bool:
        return self in (MessageType.CALLRESULT, MessageType.CALLERROR)

    @classmethod
    def of_id(cls, type_id: int) -> MessageType:
        """The name of a MessageTypeId (2, 3 or 4)."""
        return _BY_ID[type_id]


_BY_ID = {CALL: MessageType.CALL, CALLRESULT: MessageType.CALLRESULT,
          CALLERROR: MessageType.CALLERROR}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_call(message_id: str, action: str, payload: Any) -> str:
    return _dumps([CALL, message_id, action, payload])


def encode_result(message_id: str, payload: Any) -> str:
    return _dumps([CALLRESULT, message_id, payload])


def encode_error(message_id: str, code: str, description: str = "", details: Any = None) -> str:
    # OCPP-J 1.6 §4.2.3 Table 6: no details -> an empty object, never null
    return _dumps([CALLERROR, message_id, code, description, {} if details is None else details])
