"""The simulator's own StrEnums say on the wire what OCPP 1.6 says (issue 16 point 5).

Version-neutral modules use `sim.connector.ConnectorStatus`, `sim.measures.Measurand`... instead
of `ocpp.v16.enums`; the 1.6 module sends their values as they are. These tests hold them to the
`ocpp` package's 1.6 enumerations (an independent source of the spec's words), member for
member, so a status or a measurand cannot drift from 1.6 unnoticed.
"""

from __future__ import annotations

from enum import Enum

import pytest
from ocpp.v16 import enums as v16

from sim import connector, measures
from sim.config import ChangeStatus

PAIRS = [
    (connector.ConnectorStatus, v16.ChargePointStatus),
    (connector.ConnectorError, v16.ChargePointErrorCode),
    (measures.Measurand, v16.Measurand),
    (measures.Phase, v16.Phase),
    (measures.Location, v16.Location),
    (measures.ReadingContext, v16.ReadingContext),
    (measures.ValueFormat, v16.ValueFormat),
    (measures.UnitOfMeasure, v16.UnitOfMeasure),
    (ChangeStatus, v16.ConfigurationStatus),
]


@pytest.mark.parametrize(("ours", "spec"), PAIRS, ids=[ours.__name__ for ours, _ in PAIRS])
def test_members_and_words_match_ocpp_16(ours: type[Enum], spec: type[Enum]) -> None:
    """Every 1.6 member exists with the same name and the same wire word, and no other."""
    assert {m.name: m.value for m in ours} == {m.name: m.value for m in spec}


def test_a_neutral_status_finds_its_row_in_the_core_table() -> None:
    """The core's §4.9 table is keyed by the 1.6 enum; the neutral status looks up the same
    cells (StrEnums hash and compare as their words)."""
    from chargebench.ocppj.v16.connectors import TRANSITIONS

    s = connector.ConnectorStatus
    assert TRANSITIONS[(s.available, s.preparing)] == TRANSITIONS[
        (v16.ChargePointStatus.available, v16.ChargePointStatus.preparing)]
