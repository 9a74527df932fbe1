"""OCPP-J framing: the JSON array form of the three message types (OCPP-J 1.6 §4.2)."""

from __future__ import annotations

import json
from typing import Any

# OCPP-J 1.6 §4.1.3 Table 2: CALL = 2, CALLRESULT = 3, CALLERROR = 4
CALL, CALLRESULT, CALLERROR = 2, 3, 4

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_call(message_id: str, action: str, payload: Any) -> str:
    return _dumps([CALL, message_id, action, payload])


def encode_result(message_id: str, payload: Any) -> str:
    return _dumps([CALLRESULT, message_id, payload])


def encode_error(message_id: str, code: str, description: str = "", details: Any = None) -> str:
    # OCPP-J 1.6 §4.2.3 Table 6: no details -> an empty object, never null
    return _dumps([CALLERROR, message_id, code, description, {} if details is None else details])
