"""The core's explicit state, connection loss as an input, and the registration gate."""

from __future__ import annotations

import pytest

from chargebench.ocppj import (
    BootGate,
    LocalProtocolError,
    NoReply,
    OcppCallError,
    OcppSession,
    Role,
    SessionPair,
    State,
    boot_gate,
    version_for,
)
from chargebench.ocppj import events as ev
from chargebench.ocppj.faults import Fault

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


def test_receive_eof_fails_the_outstanding_call_with_the_cause():
    pair = SessionPair()
    message_id = pair.cp.send_call("BootNotification", BOOT)
    pair.deliver()  # the CSMS received it and will never answer
    cause = ConnectionResetError("peer reset")
    events = pair.cp.receive_eof(cause)
    assert events == [ev.CallLost(message_id, "BootNotification", cause)]
    assert pair.cp.state is State.CLOSED
    assert pair.cp.outstanding is None and pair.cp.next_deadline() is None
    assert pair.cp.receive_eof(cause) == []  # idempotent


def test_receive_eof_drops_the_peers_unanswered_call():
    pair = SessionPair()
    pair.cp.send_call("Heartbeat", {})
    pair.deliver()
    [call] = pair.cs_events
    assert isinstance(call, ev.CallReceived)
    assert pair.cs.receive_eof() == []
    with pytest.raises(LocalProtocolError, match="closed"):
        pair.cs.send_result(call.message_id, {"currentTime": "2026-01-01T00:00:00Z"})
    pair.cs.ignore(call.message_id)  # nothing to answer and nothing to complain about
    assert pair.cs.data_to_send() == []


@pytest.mark.parametrize("entry", [
    lambda core: core.send_call("Heartbeat", {}),
    lambda core: core.send_raw("[2,\"x\",\"Heartbeat\",{}]"),
    lambda core: core.receive_text("[2,\"x\",\"Heartbeat\",{}]"),
    lambda core: core.send_error("x", "GenericError"),
])
def test_every_entry_is_guarded_once_closed(entry):
    core = OcppSession(Role.CHARGE_POINT)
    assert core.state is State.OPEN
    core.receive_eof()
    with pytest.raises(LocalProtocolError, match="closed session"):
        entry(core)


def test_has_data_to_send_and_now_are_public():
    clock = iter([5.0, 5.0, 7.5]).__next__
    core = OcppSession(Role.CHARGE_POINT, clock=clock)
    assert not core.has_data_to_send
    core.send_call("Heartbeat", {})
    assert core.has_data_to_send
    assert core.now() == 5.0
    core.data_to_send()
    assert not core.has_data_to_send


def test_version_comes_from_the_subprotocol():
    version = version_for("ocpp1.6")
    assert version.subprotocol == "ocpp1.6"
    assert OcppSession(Role.CENTRAL_SYSTEM, version=version).version is version
    with pytest.raises(KeyError):
        version_for("ocpp0.9")


# The registration gate (1.6 §4.2, OCPP-J 1.6 errata §3.10), one rule for both roles.

VERSION = version_for("ocpp1.6")


@pytest.mark.parametrize("status", [None, "Pending", "Rejected"])
def test_csms_refuses_calls_before_an_accepted_boot(status):
    gate = boot_gate(VERSION, Role.CENTRAL_SYSTEM)
    with pytest.raises(OcppCallError) as refused:
        gate.check("Heartbeat", status)
    # the code comes from the version's fault table, not from a literal in the caller
    assert refused.value.code == VERSION.code_for(Fault.NOT_ACCEPTED_YET) == "SecurityError"
    gate.check("BootNotification", status)


def test_csms_answers_everything_once_accepted():
    gate = boot_gate(VERSION, Role.CENTRAL_SYSTEM)
    for action in VERSION.cp_initiated:
        gate.check(action, "Accepted")


def test_charge_point_stays_silent_while_rejected_and_refuses_remote_start_while_pending():
    gate = boot_gate(VERSION, Role.CHARGE_POINT)
    with pytest.raises(NoReply):
        gate.check("GetConfiguration", "Rejected")
    gate.check("GetConfiguration", "Pending")  # 1.6 §4.2: configuration is allowed while Pending
    with pytest.raises(OcppCallError) as refused:
        gate.check("RemoteStartTransaction", "Pending")
    assert refused.value.code == "SecurityError"
    assert gate.refuses("RemoteStopTransaction", "Pending")
    assert not gate.refuses("RemoteStartTransaction", "Accepted")
    assert not gate.refuses("Reset", None)


def test_gates_are_shared_per_version_and_role():
    assert boot_gate(VERSION, Role.CHARGE_POINT) is boot_gate(VERSION, Role.CHARGE_POINT)
    assert boot_gate(VERSION, Role.CHARGE_POINT) == BootGate(VERSION, Role.CHARGE_POINT)
