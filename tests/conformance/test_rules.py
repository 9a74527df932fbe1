"""The suite's own rules, sans-I/O: payloads read against the `ocpp` package's schemas
(optional fields, defaults) and the charger state the wire proves (`conformance.idle`)."""

from __future__ import annotations

import json

from conformance.expect import Payload, Required, number, sampled
from conformance.idle import WireState
from conformance.wire import parse

IN, OUT = "cp->cs", "cs->cp"


def test_stop_without_reason_means_local():
    """1.6 §6.49: reason MAY only be omitted when it is Local; idTag is optional."""
    local = Payload("StopTransaction", {"transactionId": 1, "reason": "Local", "idTag": "T"})
    remote = Payload("StopTransaction", {"transactionId": 1, "reason": "Remote"})
    bare = {"transactionId": 1, "meterStop": 5, "timestamp": "2026-01-01T00:00:00Z"}
    assert local(bare) and not remote(bare)
    assert not local({**bare, "reason": "Remote"})
    assert not local({**bare, "idTag": "OTHER"}), "an optional field that is present must match"
    assert not local({"meterStop": 5}), "a required field must be present"


def test_required_overrides_the_schema():
    """1.6 §5.13: StartTransaction.req carries the reservationId it ends (schema: optional)."""
    rule = Payload("StartTransaction", {"connectorId": 1, "reservationId": Required(7)})
    assert rule({"connectorId": 1, "reservationId": 7})
    assert not rule({"connectorId": 1})


def test_value_rules():
    assert number(10)(10) and number(10)(10.0) and not number(10)(True)
    periodic = sampled("Sample.Periodic")
    assert periodic([{"sampledValue": [{"value": "1"}]}])  # absent context: Sample.Periodic
    assert not sampled("Sample.Clock")([{"sampledValue": [{"value": "1"}]}])


def _feed(state: WireState, direction: str, *message) -> None:
    state.observe(parse(direction, json.dumps(list(message))), direction == IN)


def test_wire_state_finds_a_transaction_nobody_saved():
    """A StartTransaction we answered without a StopTransaction is a running transaction,
    whatever the case remembered; the StopTransaction ends it and its TxProfile."""
    state = WireState()
    _feed(state, IN, 2, "a", "StatusNotification",
          {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    _feed(state, IN, 2, "b", "StartTransaction", {"connectorId": 1, "idTag": "T",
                                                 "meterStart": 0, "timestamp": "x"})
    _feed(state, OUT, 3, "b", {"transactionId": 42, "idTagInfo": {"status": "Accepted"}})
    _feed(state, OUT, 2, "c", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 5, "chargingProfilePurpose": "TxProfile"}})
    _feed(state, IN, 3, "c", {"status": "Accepted"})
    assert state.transactions == {42: 1} and 5 in state.profiles
    assert any("42" in problem for problem in state.problems())
    _feed(state, IN, 2, "d", "StopTransaction", {"transactionId": 42, "meterStop": 1,
                                                "timestamp": "x"})
    _feed(state, IN, 2, "e", "StatusNotification",
          {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
    assert state.problems() == []


def test_wire_state_reservations_and_refusals():
    state = WireState()
    _feed(state, OUT, 2, "r", "ReserveNow", {"connectorId": 1, "reservationId": 7,
                                            "idTag": "T", "expiryDate": "x"})
    _feed(state, IN, 3, "r", {"status": "Accepted"})
    _feed(state, OUT, 2, "n", "ReserveNow", {"connectorId": 1, "reservationId": 8,
                                            "idTag": "T", "expiryDate": "x"})
    _feed(state, IN, 3, "n", {"status": "Occupied"})
    assert set(state.reservations) == {7}
    _feed(state, IN, 2, "s", "StartTransaction", {"connectorId": 1, "idTag": "T",
                                                 "meterStart": 0, "timestamp": "x",
                                                 "reservationId": 7})
    _feed(state, OUT, 3, "s", {"transactionId": 1, "idTagInfo": {"status": "Invalid"}})
    assert not state.reservations and state.cache_dirty
