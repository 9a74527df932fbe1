"""chargebench.ocppj.testing: the public helpers work against the real core, both roles."""

from __future__ import annotations

import json

import pytest

from chargebench.ocppj import OcppSession, Role, version_for
from chargebench.ocppj import events as ev
from chargebench.ocppj.testing import (
    FrozenClock,
    RecordingHandlers,
    RecordingPeer,
    happy_handlers,
    payloads,
)

VERSION = version_for("ocpp1.6")


def _exchange(core: OcppSession, peer: RecordingPeer) -> list[ev.Event]:
    events: list[ev.Event] = []
    for frame in core.data_to_send():
        for reply in peer.receive(frame):
            events.extend(core.receive_text(reply))
    return events


def test_recording_csms_answers_every_cp_call_with_a_schema_valid_reply():
    """The happy CSMS table covers every charge-point-initiated 1.6 action; the core validates
    each reply against its response schema on both sides, so an invalid reply fails here."""
    build = payloads(VERSION)
    requests = {
        "BootNotification": build.boot_notification(),
        "StatusNotification": build.status_notification(0),
        "StartTransaction": build.start_transaction(),
        "StopTransaction": build.stop_transaction(1, 100),
        "Heartbeat": {},
        "Authorize": {"idTag": "TAG1"},
    }
    peer = RecordingPeer(Role.CENTRAL_SYSTEM)
    core = OcppSession(Role.CHARGE_POINT)
    for action, payload in requests.items():
        core.send_call(action, payload)
        [event] = _exchange(core, peer)
        assert isinstance(event, ev.ResultReceived), event
    assert [action for action, _ in peer.calls] == list(requests)
    assert set(happy_handlers(Role.CENTRAL_SYSTEM)) == set(VERSION.cp_initiated)
    assert [direction for direction, _ in peer.wire] == ["in", "out"] * len(requests)


def test_recording_charge_point_replies_can_be_replaced():
    peer = RecordingPeer(Role.CHARGE_POINT, replies={"Reset": {"status": "Rejected"}})
    core = OcppSession(Role.CENTRAL_SYSTEM)
    core.send_call("Reset", {"type": "Soft"})
    [event] = _exchange(core, peer)
    assert isinstance(event, ev.ResultReceived) and event.payload == {"status": "Rejected"}
    core.send_call("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
    [event] = _exchange(core, peer)
    assert event.payload["unknownKey"] == ["Nope"]
    assert peer.calls == [("Reset", {"type": "Soft"}),
                          ("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})]


def test_recording_peer_refuses_what_it_has_no_answer_for():
    peer = RecordingPeer(Role.CHARGE_POINT)
    core = OcppSession(Role.CENTRAL_SYSTEM)
    core.send_call("ReserveNow", {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z",
                                  "idTag": "T", "reservationId": 1})
    [event] = _exchange(core, peer)
    assert isinstance(event, ev.ErrorReceived) and event.code == "NotSupported"


def test_frozen_clock_drives_timeouts():
    clock = FrozenClock()
    core = OcppSession(Role.CHARGE_POINT, clock=clock, call_timeout=5)
    message_id = core.send_call("Heartbeat", {})
    clock.advance(4.9)
    assert core.expire_calls() == []
    clock.advance(0.2)
    assert core.expire_calls() == [ev.CallTimedOut(message_id, "Heartbeat")]


def test_recording_handlers_record_and_fall_back():
    seen = []
    table = RecordingHandlers({"Heartbeat": lambda _: {"currentTime": "x"}},
                              {"Reset": lambda p: {"status": p["type"]}},
                              on_call=lambda action, payload: seen.append(action))
    assert table["Reset"]({"type": "Hard"}) == {"status": "Hard"}
    assert table["Heartbeat"]({}) == {"currentTime": "x"}
    assert sorted(table) == ["Heartbeat", "Reset"] and len(table) == 2
    with pytest.raises(KeyError):
        table["Nope"]
    assert seen == ["Reset", "Heartbeat"]
    assert json.dumps(table.calls)
