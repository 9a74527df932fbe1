"""Reservations: each ReserveNow answer, connector 0, expiry, cancel, who may use a reserved
connector (1.6 §5.1, §5.13)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargebench.clock import iso
from sim.v16.reservation import Reservations
from tests.sim.features.helpers import T0, make_config, valid_reply, valid_request


class Station:
    """Connector statuses as the charge point would report them, and the asked transitions."""

    def __init__(self, connectors: int = 2) -> None:
        self.status = {c: "Available" for c in range(connectors + 1)}
        self.changes: list[tuple[int, bool]] = []

    def on_change(self, connector_id: int, reserved: bool) -> None:
        self.changes.append((connector_id, reserved))
        self.status[connector_id] = "Reserved" if reserved else "Available"


def make(clock, *, connectors: int = 2, zero: bool = True, state_dir=None, **overrides):
    station = Station(connectors)
    config = make_config(Reservation={"ReserveConnectorZeroSupported": zero}, **overrides)
    res = Reservations(config, connectors=connectors, now=clock.now,
                       status_of=station.status.__getitem__, on_change=station.on_change,
                       state_dir=state_dir)
    return res, station


def reserve(res, rid: int, connector: int, tag: str = "TAG1", *, parent: str | None = None,
            minutes: int = 30) -> str:
    payload = {"connectorId": connector, "expiryDate": iso(T0 + timedelta(minutes=minutes)),
               "idTag": tag, "reservationId": rid}
    if parent:
        payload["parentIdTag"] = parent
    reply = res.on_reserve_now(valid_request("ReserveNow", payload))
    return valid_reply("ReserveNow", reply)["status"]


class TestReserveNow:
    def test_accepted_sets_connector_reserved(self, clock):
        """Accepted on an Available connector, which is asked to become Reserved (A7)."""
        res, station = make(clock)
        assert reserve(res, 1, 1) == "Accepted"
        assert station.changes == [(1, True)]

    @pytest.mark.parametrize(
        ("status", "answer"),
        [("Faulted", "Faulted"), ("Unavailable", "Unavailable"), ("Charging", "Occupied"),
         ("Preparing", "Occupied"), ("Finishing", "Occupied")],
    )
    def test_connector_status_answers(self, clock, status, answer):
        """§5.13: the answer follows the connector's status."""
        res, station = make(clock)
        station.status[1] = status
        assert reserve(res, 1, 1) == answer
        assert res.reservations == []

    @pytest.mark.parametrize(("status", "answer"), [("Faulted", "Faulted"),
                                                     ("Unavailable", "Unavailable")])
    def test_charge_point_status_answers(self, clock, status, answer):
        """§5.13: a Faulted or Unavailable charge point answers so for any connector."""
        res, station = make(clock)
        station.status[0] = status
        assert reserve(res, 1, 2) == answer

    def test_occupied_when_already_reserved(self, clock):
        """§5.13: a connector reserved for the same or another idTag answers Occupied."""
        res, _ = make(clock)
        reserve(res, 1, 1, "A")
        assert reserve(res, 2, 1, "A") == "Occupied"
        assert reserve(res, 3, 1, "B") == "Occupied"

    def test_same_id_replaces(self, clock):
        """§5.13: a known reservationId is replaced, possibly moving to another connector."""
        res, station = make(clock)
        reserve(res, 1, 1, "A")
        assert reserve(res, 1, 1, "B") == "Accepted"
        assert res.on_connector(1).id_tag == "B"
        assert reserve(res, 1, 2, "B") == "Accepted"
        assert res.on_connector(1) is None and res.on_connector(2).id_tag == "B"
        assert station.changes == [(1, True), (1, False), (2, True)]

    def test_rejected_without_reservation_profile(self, clock):
        """Rejected when the charge point is configured not to accept reservations."""
        res, _ = make(clock, Core={"SupportedFeatureProfiles": "Core,SmartCharging"})
        assert reserve(res, 1, 1) == "Rejected"

    def test_rejected_unknown_connector(self, clock):
        """Rejected for a connector the charge point does not have."""
        res, _ = make(clock, connectors=2)
        assert reserve(res, 1, 3) == "Rejected"

    def test_connector_zero_rejected_when_unsupported(self, clock):
        """9.3.1: ReserveConnectorZeroSupported false -> Rejected for connector 0."""
        res, _ = make(clock, zero=False)
        assert reserve(res, 1, 0) == "Rejected"

    def test_connector_zero_keeps_one_connector_free(self, clock):
        """Connector 0: accepted while a connector stays free for each such reservation."""
        res, station = make(clock, connectors=2)
        assert reserve(res, 1, 0, "A") == "Accepted"
        assert station.changes == []  # no specific connector is reserved
        assert reserve(res, 2, 0, "B") == "Accepted"
        assert reserve(res, 3, 0, "C") == "Occupied"
        assert reserve(res, 4, 1, "D") == "Occupied"  # would leave 1 connector for 2 reservations

    def test_connector_zero_faulted(self, clock):
        """Connector 0 with every connector Faulted answers Faulted."""
        res, station = make(clock)
        station.status.update({1: "Faulted", 2: "Faulted"})
        assert reserve(res, 1, 0) == "Faulted"


class TestUse:
    def test_only_reserved_tag_or_parent(self, clock):
        """§5.13: a reserved connector only serves its idTag or a tag with the same parent."""
        res, _ = make(clock)
        reserve(res, 7, 1, "A", parent="GROUP")
        assert res.decide(1, "A").allowed and res.decide(1, "a").reservation_id == 7
        assert res.decide(1, "B", "GROUP").reservation_id == 7
        refused = res.decide(1, "B")
        assert not refused.allowed and refused.need_parent
        assert not res.decide(1, "B", "OTHER").allowed
        assert res.decide(2, "B").allowed and res.decide(2, "B").reservation_id is None

    def test_connector_zero_reservation_decisions(self, clock):
        """Connector 0: the reserved tag may use any connector; others only if one stays free."""
        res, station = make(clock, connectors=2)
        reserve(res, 1, 0, "A")
        assert res.decide(1, "X").allowed  # connector 2 stays free for A
        station.status[2] = "Charging"
        assert not res.decide(1, "X").allowed
        assert res.decide(1, "A").reservation_id == 1

    def test_used_ends_reservation(self, clock):
        """§5.13 (1): a transaction on the reservation terminates it."""
        res, station = make(clock)
        reserve(res, 3, 1, "A")
        res.used(3)
        assert res.reservations == [] and station.changes == [(1, True)]


class TestEnd:
    def test_expiry_makes_connector_available(self, clock):
        """§5.13 (2): at expiryDate the reservation ends and the connector becomes Available."""
        res, station = make(clock)
        reserve(res, 1, 1, minutes=10)
        assert res.next_expiry() == T0 + timedelta(minutes=10)
        clock.advance(599)
        assert res.expire() == []
        clock.advance(1)
        assert [r.reservation_id for r in res.expire()] == [1]
        assert station.changes == [(1, True), (1, False)]

    def test_cancel(self, clock):
        """§5.1: CancelReservation is Accepted for a known id, Rejected otherwise."""
        res, station = make(clock)
        reserve(res, 1, 1)
        cancel = {"reservationId": 1}
        assert valid_reply("CancelReservation", res.on_cancel_reservation(cancel)) == {
            "status": "Accepted"}
        assert res.on_cancel_reservation(cancel) == {"status": "Rejected"}
        assert station.changes[-1] == (1, False)

    def test_fault_releases(self, clock):
        """§5.13 (3): a connector going Faulted ends its reservation."""
        res, _ = make(clock)
        reserve(res, 1, 1)
        reserve(res, 2, 2, "B")
        assert [r.reservation_id for r in res.release_connector(1)] == [1]
        assert [r.reservation_id for r in res.release_connector(0)] == [2]

    def test_persisted(self, clock, tmp_path):
        """Reservations survive a reboot."""
        res, _ = make(clock, state_dir=tmp_path)
        reserve(res, 5, 2, "A", parent="P")
        again, _ = make(clock, state_dir=tmp_path)
        assert again.on_connector(2).parent_id_tag == "P"
