"""Frames that parse but cannot be carried on (issue 15 points 1 and 2): lone surrogates, deep
nesting, numbers beyond 64 bits. Each gets the CALLERROR of any malformed frame, with its own id
when readable, and the session keeps working."""

from __future__ import annotations

import json

import pytest

from chargebench.ocppj import Fault, OcppSession, Role
from chargebench.ocppj import events as ev
from chargebench.ocppj.versions import FAULT_CODES_16
from chargebench.trace import make_tracer

STATUS = '{"connectorId": %s, "errorCode": "NoError", "status": "Available"}'
DEEP = "[" * 400 + "]" * 400
SHALLOW_ENOUGH_FOR_PYTHON = '{"a":' * 300 + "1" + "}" * 300

CASES = [
    # (frame, fault, reply id)
    ('[2, "1", "Authorize", {"idTag": "\\ud800"}]', Fault.LONE_SURROGATE, "1"),
    ('[2, "1", "Authorize", {"idTag": "\\udfff"}]', Fault.LONE_SURROGATE, "1"),
    ('[2, "1", "Heartbeat", {"\\ud800": 1}]', Fault.LONE_SURROGATE, "1"),
    ('[2, "\\ud800", "Heartbeat", {}]', Fault.LONE_SURROGATE, "-1"),
    ('"\\ud800"', Fault.LONE_SURROGATE, "-1"),
    ('[2, "1", "Heartbeat", {"x": ' + SHALLOW_ENOUGH_FOR_PYTHON + "}]", Fault.TOO_DEEP, "1"),
    ('[2, "1", "Heartbeat", ' + DEEP + "]", Fault.TOO_DEEP, "1"),
    # too deep for the parser itself (RecursionError): the head still gives the id
    ('[2, "1", "Heartbeat", ' + "[" * 100000 + "]" * 100000 + "]", Fault.TOO_DEEP, "1"),
    ("[" * 100000 + "]" * 100000, Fault.TOO_DEEP, "-1"),
    ("[2, \"1\", \"StatusNotification\", " + STATUS % (2**64) + "]", Fault.BEYOND_INT64, "1"),
    ("[2, \"1\", \"StatusNotification\", " + STATUS % (-(2**63) - 1) + "]",
     Fault.BEYOND_INT64, "1"),
    ("[2, \"1\", \"StatusNotification\", " + STATUS % "1e999" + "]", Fault.BEYOND_INT64, "1"),
    ('[2, "1", "StopTransaction", {"transactionId": 99999999999999999999999, "meterStop": 1,'
     ' "timestamp": "2026-01-01T00:00:00Z"}]', Fault.BEYOND_INT64, "1"),
]


@pytest.mark.parametrize(("frame", "fault", "reply_id"), CASES)
def test_unholdable_frame_is_answered_and_session_goes_on(frame, fault, reply_id):
    records = []
    core = OcppSession(Role.CENTRAL_SYSTEM, tracer=make_tracer(records.append, "CP", "s"))
    events = core.receive_text(frame)
    [reply] = core.data_to_send()
    reply.encode("utf-8")  # the reply itself is sendable
    decoded = json.loads(reply)
    assert decoded[:3] == [4, reply_id, FAULT_CODES_16[fault]]
    assert [type(e) for e in events] == [ev.ProtocolViolation]
    assert events[0].error.fault is fault
    for record in records:  # every record can be written as UTF-8 JSON
        record.to_json().encode("utf-8")
    # the connection goes on: the next CALL is served normally
    assert [type(e) for e in core.receive_text('[2, "2", "Heartbeat", {}]')] == [ev.CallReceived]


def test_codes_are_formation_and_property_violations():
    """OCPP-J 1.6 §4.2.3: not UTF-8 / too deep -> FormationViolation ("syntactically
    incorrect"); a number no field can hold -> PropertyConstraintViolation ("invalid value")."""
    assert FAULT_CODES_16[Fault.LONE_SURROGATE] == "FormationViolation"
    assert FAULT_CODES_16[Fault.TOO_DEEP] == "FormationViolation"
    assert FAULT_CODES_16[Fault.BEYOND_INT64] == "PropertyConstraintViolation"


def test_nan_and_infinity_literals_are_not_json():
    core = OcppSession(Role.CENTRAL_SYSTEM)
    core.receive_text("[2, \"1\", \"StatusNotification\", " + STATUS % "NaN" + "]")
    [reply] = core.data_to_send()
    assert json.loads(reply)[:3] == [4, "-1", "FormationViolation"]


def test_valid_surrogate_pair_and_int64_edges_are_fine():
    core = OcppSession(Role.CENTRAL_SYSTEM)
    [event] = core.receive_text('[2, "1", "Authorize", {"idTag": "\\ud83d\\ude00"}]')
    assert type(event) is ev.CallReceived and event.payload["idTag"] == "\U0001f600"
    core.send_result("1", {"idTagInfo": {"status": "Accepted"}})
    [event] = core.receive_text("[2, \"2\", \"StatusNotification\", " + STATUS % (2**63 - 1) + "]")
    assert type(event) is ev.CallReceived


def test_unholdable_reply_fails_our_call_without_answer():
    """A CALLRESULT with a lone surrogate is not answered (OCPP-J has no reply to a reply) but
    fails the CALL it answers."""
    core = OcppSession(Role.CENTRAL_SYSTEM)
    message_id = core.send_call("GetConfiguration", {})
    core.data_to_send()
    events = core.receive_text(f'[3, "{message_id}", {{"unknownKey": ["\\ud800"]}}]')
    assert core.data_to_send() == []
    assert [type(e) for e in events] == [ev.ReplyRejected]
    assert events[0].error.fault is Fault.LONE_SURROGATE


def test_a_record_with_a_lone_surrogate_still_writes_as_utf8_json(tmp_path):
    """The last guard (trace records): written as the JSON escape, read back as the same text."""
    from chargebench.trace import TraceRecord, TraceWriter, read_trace

    record = TraceRecord("2026-01-01T00:00:00+00:00", "CP", "cp->cs", "RAW", None, None,
                         "a\ud800b", None, "s")  # fmt: skip
    with TraceWriter(tmp_path / "t.jsonl") as writer:
        writer(record)
    (tmp_path / "t.jsonl").read_text(encoding="utf-8")  # valid UTF-8
    [back] = read_trace(tmp_path / "t.jsonl")
    assert back.payload == "a\ud800b"
