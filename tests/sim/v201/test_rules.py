"""The sans-I/O rules of the 2.0.1 station: connector statuses (G01, G03, G04, part 2 §3.23)
and TxStartPoint / TxStopPoint (E01.FR.01-06, E06.FR.01-07), and the numbering of a
transaction's events (part 2 E "Sequence Number Generation")."""

from __future__ import annotations

import itertools

import pytest

from chargebench.ocppj import LocalProtocolError
from sim.v201.connectors import TRANSITIONS, Connector, Event, Status
from sim.v201.transaction import (
    ChargingState,
    Facts,
    Transaction,
    TxPoint,
    ends,
    parse_points,
    starts,
)


def test_a_plugged_connector_is_occupied_and_available_when_unplugged():
    """G01.FR.03 then G01.FR.04; plugging in again changes nothing (G01.FR.08: no notice)."""
    c = Connector(1, 1)
    assert c.status is Status.AVAILABLE
    assert c.apply(Event.PLUG_IN) is Status.OCCUPIED
    assert c.apply(Event.PLUG_IN) is None
    assert c.apply(Event.PLUG_OUT) is Status.AVAILABLE


def test_unavailability_waits_for_the_end_of_the_transaction_and_the_unplug():
    """G03.FR.05: scheduled while a transaction runs; G01.FR.05: Unavailable once the EV is
    disconnected; G03.FR.07: Operative reverts to the original status."""
    c = Connector(1, 1)
    c.apply(Event.PLUG_IN)
    c.set_in_transaction(True)
    assert c.apply(Event.INOPERATIVE) is None  # still Occupied
    assert c.set_in_transaction(False) is Status.UNAVAILABLE
    assert c.apply(Event.PLUG_OUT) is None
    assert c.apply(Event.OPERATIVE) is Status.AVAILABLE


def test_a_fault_outranks_unavailability_and_clears_back_to_it():
    """G03.FR.06: operative connectors (not Faulted) become Unavailable; a cleared fault goes
    back to the status the other facts give."""
    c = Connector(2, 1)
    c.apply(Event.INOPERATIVE)
    assert c.apply(Event.FAULT) is Status.FAULTED
    assert c.apply(Event.OPERATIVE) is None
    assert c.apply(Event.FAULT_CLEARED) is Status.AVAILABLE


def test_a_reserved_connector_stays_reserved_when_an_ev_connects():
    """G03.FR.09; the reservation ends (its idToken presented): Occupied (G01.FR.06)."""
    c = Connector(1, 1)
    assert c.apply(Event.RESERVE) is Status.RESERVED
    assert c.apply(Event.PLUG_IN) is None
    assert c.apply(Event.RESERVATION_ENDED) is Status.OCCUPIED


def test_every_reachable_change_is_in_the_transition_table():
    """Any sequence of events gives only changes `TRANSITIONS` names (with their rule), and
    nothing reports a status to itself."""
    events = list(Event)
    for sequence in itertools.product(events, repeat=3):
        c = Connector(1, 1)
        for event in sequence:
            before = c.status
            after = c.apply(event)
            if after is not None:
                assert (before, after) in TRANSITIONS and before is not after


def test_a_change_outside_the_table_is_our_bug():
    c = Connector(1, 1)
    c.status = Status.RESERVED  # a state the facts do not give: the table refuses the move
    c.reserved = False
    c.faulted = False
    saved = TRANSITIONS.pop((Status.RESERVED, Status.AVAILABLE))
    try:
        with pytest.raises(LocalProtocolError):
            c.refresh()
    finally:
        TRANSITIONS[(Status.RESERVED, Status.AVAILABLE)] = saved


@pytest.mark.parametrize(("point", "facts", "rule"), [
    (TxPoint.EV_CONNECTED, Facts(ev_connected=True), "E01.FR.02"),
    (TxPoint.AUTHORIZED, Facts(authorized=True), "E01.FR.03"),
    (TxPoint.POWER_PATH_CLOSED, Facts(authorized=True, ev_connected=True), "E01.FR.05"),
    (TxPoint.ENERGY_TRANSFER, Facts(energy_transfer=True), "E01.FR.06"),
    (TxPoint.PARKING_BAY_OCCUPANCY, Facts(parking_bay_occupied=True), "E01.FR.01"),
])
def test_each_start_point_starts_on_its_own_condition(point, facts, rule):
    """The condition of each TxStartPoint value starts a transaction; the same facts start
    none under another point (`rule` names the requirement)."""
    assert starts(frozenset({point}), facts) is point, rule
    others = frozenset(TxPoint) - {point, TxPoint.POWER_PATH_CLOSED, TxPoint.AUTHORIZED,
                                   TxPoint.EV_CONNECTED}
    assert starts(others, Facts()) is None


def test_power_path_closed_needs_authorization_and_the_ev():
    """E01.FR.05: authorized AND connected; E06.FR.06: losing either ends it."""
    points = parse_points("PowerPathClosed")
    assert starts(points, Facts(authorized=True)) is None
    assert starts(points, Facts(ev_connected=True)) is None
    assert ends(points, Facts(ev_connected=True)) is TxPoint.POWER_PATH_CLOSED
    assert ends(points, Facts(authorized=True, ev_connected=True)) is None


def test_the_first_stop_point_that_no_longer_holds_ends_it():
    """E06.FR.02/03: libocpp's EVConnected,Authorized ends on either."""
    points = parse_points("EVConnected,Authorized")
    assert ends(points, Facts(ev_connected=True, authorized=True)) is None
    assert ends(points, Facts(ev_connected=True)) is TxPoint.AUTHORIZED
    assert ends(points, Facts(authorized=True)) is TxPoint.EV_CONNECTED
    with pytest.raises(ValueError):
        parse_points("EVConnected,Plugged")


def test_events_are_numbered_from_0_and_carry_what_is_due_once():
    """seqNo 0, 1, 2 (part 2 E); the idToken once after authorization (E01.FR.10), evse in the
    Started and after a reconnect of the EV (E01.FR.16), chargingState when it changed
    (E01.FR.18), remoteStartId once (F02.FR.01); offline flagged (E04.FR.03); a transactionId
    never repeats (E01.FR.08)."""
    tx = Transaction(1, 1)
    tx.authorize({"idToken": "A", "type": "ISO14443"})
    tx.remote_start(9)
    tx.charging_state = ChargingState.EV_CONNECTED
    first = tx.event("Started", "RemoteStart", "t0")
    assert (first["seqNo"], first["idToken"]["idToken"], first["evse"]["id"]) == (0, "A", 1)
    assert first["transactionInfo"]["remoteStartId"] == 9
    assert first["transactionInfo"]["chargingState"] == "EVConnected"
    second = tx.event("Updated", "MeterValuePeriodic", "t1", offline=True)
    assert second["seqNo"] == 1 and second["offline"] is True
    assert not {"idToken", "evse"} & set(second)
    assert set(second["transactionInfo"]) == {"transactionId"}
    tx.ev_connected()
    assert tx.event("Updated", "CablePluggedIn", "t2")["evse"] == {"id": 1, "connectorId": 1}
    assert Transaction(1, 1).transaction_id != tx.transaction_id


def test_a_stop_point_that_never_held_ends_nothing():
    """"No longer" (E06) needs a past: Authorized before the cable, TxStopPoint EVConnected:
    the transaction runs until the EV, once connected, leaves."""
    points = parse_points("EVConnected")
    tx = Transaction(1, 1)
    tx.observe(Facts(authorized=True))
    assert ends(points, Facts(authorized=True), tx.held) is None
    tx.observe(Facts(authorized=True, ev_connected=True))
    assert ends(points, Facts(authorized=True), tx.held) is TxPoint.EV_CONNECTED


def test_the_control_surface_is_the_same_for_both_versions():
    """Issue 19 point 4: every verb of the 1.6 charge point's control surface (plug in, present
    an idTag, EV full, fault, offline, power loss...) exists on the 2.0.1 station with the
    same parameters, so a fleet, a scenario or the UI drives either the same way."""
    import inspect

    from sim.control import ControlSurface
    from sim.v201.station import ChargingStation

    verbs = [name for name, member in vars(ControlSurface).items()
             if callable(member) and not name.startswith("_")]
    assert {"plug_in", "present_id_tag", "ev_full", "fault", "power_loss"} <= set(verbs)
    for name in verbs:
        ours = inspect.signature(getattr(ChargingStation, name))
        theirs = inspect.signature(getattr(ControlSurface, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        assert inspect.iscoroutinefunction(getattr(ChargingStation, name)) == \
            inspect.iscoroutinefunction(getattr(ControlSurface, name)), name


def test_the_authorization_cache_expires_and_drops_the_oldest():
    """C10.FR.13: cacheExpiryDateTime decides; C10.FR.08: else LifeTime; C10.FR.10: an expired
    entry is gone; C10.FR.07: a full cache drops its oldest entry."""
    from datetime import UTC, datetime, timedelta

    from sim.v201 import auth_cache
    from sim.v201.auth_cache import AuthCache

    now = datetime(2026, 1, 1, tzinfo=UTC)
    cache = AuthCache()
    a, b = {"idToken": "A", "type": "ISO14443"}, {"idToken": "B", "type": "Central"}
    cache.remember(a, {"status": "Accepted", "cacheExpiryDateTime": "2026-01-01T00:10:00Z"},
                   now, lifetime_s=3600)
    cache.remember(b, {"status": "Blocked"}, now, lifetime_s=60)
    assert cache.status(a, now + timedelta(minutes=5)) == "Accepted"
    assert cache.status(a, now + timedelta(minutes=11)) is None
    assert cache.status(b, now + timedelta(seconds=30)) == "Blocked"
    assert cache.status(b, now + timedelta(seconds=61)) is None and len(cache) == 0
    for n in range(auth_cache.MAX_ENTRIES + 1):
        cache.remember({"idToken": str(n), "type": "Central"}, {"status": "Accepted"}, now, 0)
    assert len(cache) == auth_cache.MAX_ENTRIES
    assert cache.status({"idToken": "0", "type": "Central"}, now) is None
    assert cache.status({"idToken": "1", "type": "Central"}, now) == "Accepted"
