"""What the harness saw on the wire: one `TraceRecord` per websocket text message.

Frames are recorded before the session core sees them, so a broken frame from the peer is still
in the trace, and a failed expectation can show exactly what arrived instead. The record is the
one the session core's tracer makes (`chargebench.trace`): a CALLERROR's payload is [code,
description, details], a RAW frame's payload its text, a reply's action the one it answers.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from chargebench.ocppj.frames import CALL, CALLERROR, CALLRESULT, Direction, MessageType
from chargebench.trace import TraceRecord

_TYPE_IDS = (CALL, CALLRESULT, CALLERROR)
#: Arrival order across all connections of the run (ordered OCTT steps compare `seq`).
_SEQ = itertools.count(1)


def parse(direction: Direction | str, text: str, *, cp_id: str = "", session: str = "",
          answers: str | None = None) -> TraceRecord:
    """The record of one text frame, parsed leniently (type RAW when it is no OCPP-J message
    at all); never raises: a malformed frame is evidence, not a crash. `answers`: the action
    of the CALL a reply answers, when the caller knows it."""
    record = TraceRecord(
        ts=datetime.now(UTC).isoformat(timespec="microseconds"), cp_id=cp_id,
        dir=Direction(direction), type=MessageType.RAW, id=None, action=None, payload=text,
        latency_ms=None, session=session, seq=next(_SEQ),
    )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return record
    if not isinstance(data, list) or not data or data[0] not in _TYPE_IDS:
        return record
    if len(data) > 1 and isinstance(data[1], str):
        record.id = data[1]
    kind = MessageType.of_id(data[0])
    # OCPP-J 1.6 §4.2: CALL [2, id, action, payload], CALLRESULT [3, id, payload],
    # CALLERROR [4, id, code, description, details]; any other length stays RAW
    if kind is MessageType.CALL and len(data) == 4 and isinstance(data[2], str):
        record.type, record.action, record.payload = kind, data[2], data[3]
    elif kind is MessageType.CALLRESULT and len(data) == 3:
        record.type, record.action, record.payload = kind, answers, data[2]
    elif kind is MessageType.CALLERROR and len(data) == 5:
        record.type, record.action, record.payload = kind, answers, data[2:]
    return record


def trace_records(records: Iterable[TraceRecord], cp_id: str, session: str) -> list[TraceRecord]:
    """One connection's records for its trace file, each reply paired with the CALL it answers
    (same id, other direction, OCPP-J 1.6 §4.1.4): its action and the latency from CALL to
    reply, in either direction, so the trace report draws every exchange whole."""
    calls: dict[tuple[Direction, str], TraceRecord] = {}
    out = []
    for record in records:
        action, latency = record.action, record.latency_ms
        if record.type is MessageType.CALL and record.id is not None:
            calls[record.dir, record.id] = record
        elif record.type.is_reply and record.id is not None:
            call = calls.pop((record.dir.reverse, record.id), None)
            if call is not None:
                action = call.action
                taken = datetime.fromisoformat(record.ts) - datetime.fromisoformat(call.ts)
                latency = round(taken.total_seconds() * 1000, 3)
        out.append(replace(record, cp_id=cp_id, session=session, action=action,
                           latency_ms=latency))
    return out
