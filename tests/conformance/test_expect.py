"""The harness's expectations in the one matcher language (`chargebench.matching`)."""

from __future__ import annotations

from conformance.expect import (
    Payload,
    Required,
    contradicts,
    describe,
    expectation,
    failure,
    one_of,
)
from conformance.wire import parse


def test_a_payload_rule_compares_json_values_and_names_the_field():
    """A `Payload` rule (tests/conformance/test_rules.py has its schema reading) compares by
    the one matcher rule (5 is 5.0) and its mismatch names the field that failed."""
    base = {"transactionId": 5, "meterStop": 10, "timestamp": "2026-01-01T00:00:00Z"}
    assert Payload("StopTransaction", {"transactionId": 5.0}).match(base).ok
    result = Payload("StartTransaction", {"reservationId": Required(4)}).match({})
    assert [str(m) for m in result.mismatches] == ["reservationId: expected present, got absent"]
    result = Payload("StopTransaction", {"reason": "Remote"}).match(base)
    assert [str(m) for m in result.mismatches] == ['reason: expected "Remote", got "Local"']


def test_an_expectation_takes_the_frame_it_names():
    """An action name expects a CALL of it, "CALLERROR" a reply by its field names, with the
    message id of our CALL; a reply of the other kind to that id contradicts it at once."""
    call = parse("cp->cs", '[2,"1","StatusNotification",{"connectorId":1,"status":"Available",'
                           '"errorCode":"NoError"}]')
    assert expectation("StatusNotification", {"status": "Available"}).match(call).ok
    assert not expectation("StatusNotification", {"status": "Charging"}).match(call).ok
    assert not expectation("BootNotification").match(call).ok
    error = parse("cp->cs", '[4,"c7","NotSupported","no",{}]', answers="Reset")
    wanted = expectation("CALLERROR", {"errorCode": one_of("NotSupported", "NotImplemented")},
                         "c7")
    assert wanted.match(error).ok and not contradicts(wanted, error)
    result = expectation("CALLRESULT", {"status": "Accepted"}, "c7")
    assert not result.match(error).ok and contradicts(result, error)
    assert not contradicts(expectation("CALLRESULT", None, "c8"), error)


def test_a_failure_names_the_expected_and_the_received_frames():
    """The verdict names what was expected as written and lists each frame received."""
    frame = parse("cp->cs", '[2,"9","Heartbeat",{}]')
    wanted = expectation("StatusNotification", {"status": "Available"})
    assert describe(wanted) == "StatusNotification containing {'status': 'Available'}"
    mismatch = failure(wanted, [frame], 2)
    lines = str(mismatch).splitlines()
    assert lines[0] == "expected StatusNotification containing {'status': 'Available'} within 2 s"
    assert lines[1] == "received instead:" and "Heartbeat" in lines[2]
    assert mismatch.received == [frame]
