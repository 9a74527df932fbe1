"""The sans-I/O session core, driven with raw frames and no sockets."""

from __future__ import annotations

import json

import pytest

from chargebench.ocppj import (
    Fault,
    LocalProtocolError,
    OcppSession,
    Role,
    SessionPair,
)
from chargebench.ocppj import events as ev
from chargebench.ocppj.testing import FrozenClock
from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.versions import FAULT_CODES_16

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT_REPLY = {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 300}


FakeClock = FrozenClock


def cs_receives(text: str, **options) -> tuple[OcppSession, list]:
    core = OcppSession(Role.CENTRAL_SYSTEM, **options)
    return core, core.receive_text(text)


def only_reply(core: OcppSession) -> list:
    frames = core.data_to_send()
    assert len(frames) == 1, frames
    return json.loads(frames[0])


# Every row of the fault table: (raw frame received by a central system, fault, reply id)
MALFORMED = [
    ("{not json", Fault.INVALID_JSON, "-1"),
    ('{"a": 1}', Fault.NOT_AN_ARRAY, "-1"),
    ("[]", Fault.UNKNOWN_MESSAGE_TYPE, "-1"),
    ('[7, "1", "Heartbeat", {}]', Fault.UNKNOWN_MESSAGE_TYPE, "-1"),
    ('["2", "1", "Heartbeat", {}]', Fault.UNKNOWN_MESSAGE_TYPE, "-1"),
    ('[2, 17, "Heartbeat", {}]', Fault.BAD_MESSAGE_ID, "-1"),
    ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', Fault.MESSAGE_ID_TOO_LONG, "x" * 37),
    ('[2, "1", "Heartbeat"]', Fault.WRONG_LENGTH, "1"),
    ('[2, "1", "Heartbeat", {}, 5]', Fault.WRONG_LENGTH, "1"),
    ('[2, "1", 5, {}]', Fault.BAD_ACTION, "1"),
    ('[2, "1", "Heartbeat", [1]]', Fault.PAYLOAD_NOT_OBJECT, "1"),
    ('[2, "1", "FlyToMoon", {}]', Fault.UNKNOWN_ACTION, "1"),
    ('[2, "1", "RemoteStartTransaction", {"idTag": "A"}]', Fault.UNSUPPORTED_ACTION, "1"),
    ('[2, "1", "BootNotification", {"chargePointVendor": "V"}]', Fault.MISSING_FIELD, "1"),
    ('[2, "1", "StatusNotification", {"connectorId": "1", "errorCode": "NoError", '
     '"status": "Available"}]', Fault.WRONG_TYPE, "1"),
    ('[2, "1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
     '"status": "Sleeping"}]', Fault.BAD_ENUM, "1"),
    ('[2, "1", "Heartbeat", {"extra": true}]', Fault.EXTRA_PROPERTY, "1"),
    ('[2, "1", "BootNotification", {"chargePointVendor": "' + "V" * 21 + '", '
     '"chargePointModel": "M"}]', Fault.STRING_TOO_LONG, "1"),
    ('[2, "1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
     '"status": "Available", "timestamp": "yesterday"}]', Fault.BAD_DATE_TIME, "1"),
    ('[2, "1", "MeterValues", {"connectorId": 1, "meterValue": []}]', Fault.OCCURRENCE, "1"),
]


@pytest.mark.parametrize(
    ("frame", "fault", "reply_id"), MALFORMED, ids=[m[1].name for m in MALFORMED]
)
def test_malformed_call_gets_table_code(frame, fault, reply_id):
    """Each malformed frame class is answered with the CALLERROR code the fault table gives it."""
    core, events = cs_receives(frame)
    reply = only_reply(core)
    assert reply[0] == 4
    assert reply[1] == reply_id
    assert reply[2] == FAULT_CODES_16[fault]
    assert reply[4] == {}
    assert [type(e) for e in events] == [ev.ProtocolViolation]
    assert events[0].error.fault is fault and events[0].replied


def test_fault_table_is_complete_and_uses_valid_codes():
    """Every fault has a code, and every code is one OCPP-J 1.6 §4.2.3 allows."""
    assert set(FAULT_CODES_16) == set(Fault)
    assert set(FAULT_CODES_16.values()) <= OCPP16.error_codes


def test_unsupported_profile_gets_not_supported():
    """A CALL of a feature profile the receiver does not implement gets NotSupported."""
    core = OcppSession(Role.CHARGE_POINT, supported_profiles={"Core"})
    core.receive_text('[2, "9", "ReserveNow", {"connectorId": 1, '
                      '"expiryDate": "2026-01-01T00:00:00Z", "idTag": "A", "reservationId": 1}]')
    assert only_reply(core)[2] == "NotSupported"


def test_valid_call_becomes_event_and_null_payload_is_empty():
    """A valid CALL (null payload allowed by OCPP-J §4.2.1) is delivered, nothing auto-sent."""
    core, events = cs_receives('[2, "1", "Heartbeat", null]')
    assert events == [ev.CallReceived("1", "Heartbeat", {})]
    assert core.data_to_send() == []


def test_duplicate_message_id_rejected():
    """A second CALL with an id the peer already used on this connection is refused."""
    core, _ = cs_receives('[2, "1", "Heartbeat", {}]')
    core.send_result("1", {"currentTime": "2026-01-01T00:00:00Z"})
    core.data_to_send()
    events = core.receive_text('[2, "1", "Heartbeat", {}]')
    assert only_reply(core)[2] == FAULT_CODES_16[Fault.DUPLICATE_MESSAGE_ID]
    assert events[0].error.fault is Fault.DUPLICATE_MESSAGE_ID


def test_concurrent_call_from_peer_reported_but_processed():
    """A CALL while the peer's previous CALL is unanswered is flagged and still delivered."""
    core, _ = cs_receives('[2, "1", "Heartbeat", {}]')
    events = core.receive_text('[2, "2", "Heartbeat", {}]')
    assert [type(e) for e in events] == [ev.ProtocolViolation, ev.CallReceived]
    assert events[0].error.fault is Fault.CONCURRENT_CALL and not events[0].replied


def test_round_trip_over_pair():
    """A CALL and its CALLRESULT cross a SessionPair and carry action and latency."""
    clock = FakeClock()
    pair = SessionPair(clock=clock)
    message_id = pair.cp.send_call("BootNotification", BOOT)
    pair.deliver()
    assert pair.cs_events == [ev.CallReceived(message_id, "BootNotification", BOOT)]
    clock.now += 0.25
    pair.cs.send_result(message_id, BOOT_REPLY)
    pair.deliver()
    (result,) = pair.cp_events
    assert isinstance(result, ev.ResultReceived)
    assert (result.action, result.payload, result.latency) == ("BootNotification", BOOT_REPLY, 0.25)
    assert pair.cp.outstanding is None


def test_one_outstanding_call_per_direction():
    """A second CALL while one is outstanding is a local error unless forced."""
    core = OcppSession(Role.CHARGE_POINT)
    core.send_call("Heartbeat", {})
    with pytest.raises(LocalProtocolError):
        core.send_call("Heartbeat", {})
    core.send_call("Heartbeat", {}, concurrent=True)
    assert len(core.data_to_send()) == 2


def test_outgoing_validation_and_direction():
    """No invalid payload and no action of the other role goes out, unless validation is off."""
    core = OcppSession(Role.CHARGE_POINT)
    with pytest.raises(LocalProtocolError):
        core.send_call("BootNotification", {"chargePointVendor": "V"})
    with pytest.raises(LocalProtocolError):
        core.send_call("RemoteStartTransaction", {"idTag": "A"})
    loose = OcppSession(Role.CHARGE_POINT, validate_outgoing=False)
    loose.send_call("BootNotification", {"chargePointVendor": "V"})
    assert json.loads(loose.data_to_send()[0])[3] == {"chargePointVendor": "V"}


def test_invalid_result_payload_from_our_handler_is_local_error():
    """Answering with a payload that violates the response schema raises and keeps the call open."""
    core, _ = cs_receives('[2, "1", "Heartbeat", {}]')
    with pytest.raises(LocalProtocolError):
        core.send_result("1", {"currentTime": 5})
    core.send_result("1", {"currentTime": "2026-01-01T00:00:00Z"})
    assert only_reply(core)[0] == 3


def test_timeout_then_late_reply_surfaces():
    """An unanswered CALL times out; its reply arriving later is a LateReply event."""
    clock = FakeClock()
    core = OcppSession(Role.CHARGE_POINT, clock=clock, call_timeout=5)
    message_id = core.send_call("Heartbeat", {})
    assert core.next_deadline() == 105.0
    clock.now = 104.0
    assert core.expire_calls() == []
    clock.now = 105.0
    assert core.expire_calls() == [ev.CallTimedOut(message_id, "Heartbeat")]
    assert core.outstanding is None
    late = core.receive_text(f'[3, "{message_id}", {{"currentTime": "2026-01-01T00:00:00Z"}}]')
    assert [type(e) for e in late] == [ev.LateReply]
    assert late[0].action == "Heartbeat"
    assert core.data_to_send()[1:] == []  # a reply is never answered


def test_unknown_reply_surfaces():
    """A reply to an id never sent is an UnknownReply event, not dropped."""
    core = OcppSession(Role.CHARGE_POINT)
    events = core.receive_text('[3, "nope", {}]')
    assert [type(e) for e in events] == [ev.UnknownReply]


def test_invalid_result_payload_rejected():
    """A CALLRESULT violating the response schema fails the call with the table's code."""
    core = OcppSession(Role.CHARGE_POINT)
    message_id = core.send_call("Heartbeat", {})
    (event,) = core.receive_text(f'[3, "{message_id}", {{"currentTime": "soon"}}]')
    assert isinstance(event, ev.ReplyRejected)
    assert event.error.code == "TypeConstraintViolation"


def test_call_error_received_and_unknown_code_flagged():
    """A CALLERROR resolves the call; a code outside OCPP-J 1.6 is also flagged."""
    core = OcppSession(Role.CHARGE_POINT)
    message_id = core.send_call("Heartbeat", {})
    events = core.receive_text(f'[4, "{message_id}", "Teapot", "", {{}}]')
    assert [type(e) for e in events] == [ev.ErrorReceived, ev.ProtocolViolation]
    assert events[0].code == "Teapot"


def test_malformed_reply_fails_the_waiting_call_without_answer():
    """A CALLRESULT with the wrong element count fails the call; no CALLERROR is sent for it."""
    core = OcppSession(Role.CHARGE_POINT)
    message_id = core.send_call("Heartbeat", {})
    core.data_to_send()
    (event,) = core.receive_text(f'[3, "{message_id}"]')
    assert isinstance(event, ev.ReplyRejected)
    assert core.data_to_send() == []


def test_raw_send_is_unchecked_and_traced():
    """send_raw puts any text on the wire and traces it as RAW."""
    seen = []
    core = OcppSession(Role.CHARGE_POINT, tracer=lambda *record: seen.append(record))
    core.send_raw("[2, broken")
    assert core.data_to_send() == ["[2, broken"]
    assert seen[0][:2] == ("cp->cs", "RAW")


def test_tracer_sees_every_frame_with_latency_on_replies():
    """Both cores trace each frame they send and receive, replies with latency."""
    clock = FakeClock()
    records = []
    pair = SessionPair(clock=clock, tracer=lambda *r: records.append(r))
    message_id = pair.cp.send_call("Heartbeat", {})
    pair.deliver()
    clock.now += 0.1
    pair.cs.send_result(message_id, {"currentTime": "2026-01-01T00:00:00Z"})
    pair.deliver()
    kinds = [(r[0], r[1], r[3]) for r in records]
    assert kinds == [
        ("cp->cs", "CALL", "Heartbeat"),
        ("cp->cs", "CALL", "Heartbeat"),
        ("cs->cp", "CALLRESULT", "Heartbeat"),
        ("cs->cp", "CALLRESULT", "Heartbeat"),
    ]
    assert records[-1][5] == pytest.approx(0.1)


def test_send_error_checks_code_and_id():
    """Only OCPP-J 1.6 codes, only for CALLs actually received and unanswered."""
    core, _ = cs_receives('[2, "1", "Heartbeat", {}]')
    with pytest.raises(LocalProtocolError):
        core.send_error("1", "Teapot")
    with pytest.raises(LocalProtocolError):
        core.send_error("2", "GenericError")
    core.send_error("1", "SecurityError", "not accepted yet")
    assert only_reply(core) == [4, "1", "SecurityError", "not accepted yet", {}]


def test_all_39_actions_have_request_and_response_schemas():
    """OCPP 1.6 + security whitepaper: 39 actions, each with compiled schemas both ways."""
    from chargebench.ocppj.validation import validator_for

    assert len(OCPP16.actions) == 39
    for action in OCPP16.actions:
        validator_for(OCPP16, action, False)
        validator_for(OCPP16, action, True)


def test_forgotten_call_frees_the_slot_and_reply_is_late():
    """A CALL the caller gave up on no longer blocks the next one; its reply comes as late."""
    core = OcppSession(Role.CHARGE_POINT)
    message_id = core.send_call("Heartbeat", {})
    core.forget_call(message_id)
    assert core.outstanding is None
    core.send_call("Heartbeat", {})
    late = core.receive_text(f'[3, "{message_id}", {{"currentTime": "2026-01-01T00:00:00Z"}}]')
    assert [type(e) for e in late] == [ev.LateReply]
