"""sim.connector: the OCPP 1.6 §4.9 status transition table and its enforcement."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargebench.ocppj.errors import LocalProtocolError
from sim.connector import (
    TRANSITION_EVENTS,
    TRANSITIONS,
    Connector,
    IllegalTransition,
    StatusChange,
    transitions_for,
)

S = ChargePointStatus
E = ChargePointErrorCode
ORDER = [
    S.available,
    S.preparing,
    S.charging,
    S.suspended_ev,
    S.suspended_evse,
    S.finishing,
    S.reserved,
    S.unavailable,
    S.faulted,
]

# The 1.6 §4.9 table typed in independently: row = from (A..I), "x" = allowed, columns 1..9.
SPEC_TABLE = {
    "A": ".xxxx.xxx",
    "B": "x.xxxx..x",  # B6 added by errata 3.20
    "C": "x..xxx.xx",
    "D": "x.x.xx.xx",
    "E": "x.xx.x.xx",
    "F": "xx.....xx",
    "G": "xx.....xx",
    "H": "xxxxx...x",
    "I": "xxxxxxxx.",
}
SPEC_ALLOWED = {
    (ORDER[row], ORDER[col]): f"{letter}{col + 1}"
    for row, (letter, cells) in enumerate(SPEC_TABLE.items())
    for col, mark in enumerate(cells)
    if mark == "x"
}
DISALLOWED = [
    pair
    for pair in itertools.product(ORDER, ORDER)
    if pair not in SPEC_ALLOWED and pair[0] != pair[1]
]


def error_for(status: ChargePointStatus) -> ChargePointErrorCode:
    return E.other_error if status == S.faulted else E.no_error


def test_table_is_the_spec_table() -> None:
    """TRANSITIONS holds exactly the cells of 1.6 §4.9 (with B6), each with its event text."""
    assert dict(TRANSITIONS) == SPEC_ALLOWED
    assert set(TRANSITION_EVENTS) == set(SPEC_ALLOWED.values())


@pytest.mark.parametrize(("old", "new"), sorted(SPEC_ALLOWED, key=SPEC_ALLOWED.get))
def test_every_allowed_transition(old: ChargePointStatus, new: ChargePointStatus) -> None:
    """Each allowed cell transitions and yields the StatusChange naming it."""
    connector = Connector(2, old, error_for(old))
    change = connector.transition(new, error_for(new))
    assert connector.status == new
    assert (change.connector_id, change.previous, change.status) == (2, old, new)
    assert change.cell == SPEC_ALLOWED[(old, new)]


@pytest.mark.parametrize(("old", "new"), DISALLOWED)
def test_disallowed_transitions_raise(old: ChargePointStatus, new: ChargePointStatus) -> None:
    """Every change missing from the table raises IllegalTransition and changes nothing."""
    connector = Connector(1, old, error_for(old))
    assert not connector.allowed(new)
    with pytest.raises(IllegalTransition, match=r"not in 1\.6 §4\.9"):
        connector.transition(new, error_for(new))
    assert connector.status == old


def test_illegal_transition_is_a_local_error() -> None:
    """An illegal transition is a harness bug: LocalProtocolError, not a verdict."""
    assert issubclass(IllegalTransition, LocalProtocolError)


class TestConnectorZero:
    def test_only_available_unavailable_faulted(self) -> None:
        """Connector 0 moves only among Available, Unavailable and Faulted (1.6 §4.9)."""
        table = transitions_for(0)
        assert set(table.values()) == {"A8", "A9", "H1", "H9", "I1", "I8"}
        cp = Connector(0)
        cp.transition(S.unavailable)
        cp.transition(S.faulted, E.internal_error)
        cp.transition(S.available)
        with pytest.raises(IllegalTransition):
            cp.transition(S.preparing)

    def test_cannot_start_in_connector_status(self) -> None:
        """Connector 0 cannot be created in a per-connector status."""
        with pytest.raises(IllegalTransition):
            Connector(0, S.charging)


class TestErrorCodes:
    def test_faulted_needs_an_error_code(self) -> None:
        """Faulted with NoError is refused."""
        with pytest.raises(IllegalTransition, match="NoError"):
            Connector(1).transition(S.faulted)

    def test_ev_communication_error_only_with_some_statuses(self) -> None:
        """EVCommunicationError only with Preparing/SuspendedEV/SuspendedEVSE/Finishing."""
        connector = Connector(1)
        connector.transition(S.preparing, E.ev_communication_error)
        with pytest.raises(IllegalTransition, match="EVCommunicationError"):
            connector.transition(S.charging, E.ev_communication_error)

    def test_same_status_reports_a_warning(self) -> None:
        """Same status with a new error code is a report (no cell); with nothing new it raises."""
        connector = Connector(1, S.charging)
        change = connector.transition(S.charging, E.high_temperature, "derating")
        assert (change.cell, change.error_code, change.info) == (
            None,
            E.high_temperature,
            "derating",
        )
        with pytest.raises(IllegalTransition, match="no change"):
            connector.transition(S.charging, E.high_temperature, "derating")

    def test_info_length(self) -> None:
        """info is a CiString50 (1.6 §6.47)."""
        with pytest.raises(IllegalTransition, match="info"):
            Connector(1).transition(S.preparing, info="x" * 51)

    def test_pre_fault_status_kept(self) -> None:
        """Faulted remembers the pre-fault status (I1-I8 return there)."""
        connector = Connector(1, S.charging)
        connector.transition(S.faulted, E.ground_failure)
        assert connector.pre_fault_status == S.charging
        connector.transition(S.charging)
        assert connector.pre_fault_status is None


def test_payload_is_a_status_notification() -> None:
    """StatusChange.to_payload() is a StatusNotification.req payload."""
    ts = datetime(2025, 1, 17, 10, 35, tzinfo=UTC)
    change = Connector(1, S.charging).transition(
        S.suspended_ev, info="EV side disconnected", timestamp=ts
    )
    assert change.to_payload() == {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "SuspendedEV",
        "timestamp": "2025-01-17T10:35:00+00:00",
        "info": "EV side disconnected",
    }
    assert Connector(3, S.unavailable).snapshot() == StatusChange(
        3, S.unavailable, E.no_error, S.unavailable, None
    )
