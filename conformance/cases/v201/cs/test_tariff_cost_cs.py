"""OCPP 2.0.1 part 6 §2.10, I TariffAndCost, with a Charging Station under test: the running
cost by CostUpdatedRequest (I02) or in a TransactionEventResponse, the total cost of the
Ended event's response (I03). Not applicable to a station without TariffCostCtrlr (its device
model).

ChargeBench's CSMS answers as the OCTT does: the AuthorizeResponse carries the tariff as
personalMessage, every TransactionEventResponse of the running transaction an
updatedPersonalMessage (TC_I_07_CS also its totalCost), the Ended event's its totalCost. Step 6
of TC_I_01_CS/TC_I_07_CS ("the Charging Station sends a TransactionEventRequest", repeated n
times) is met by the events the station sends once authorized, EnergyTransferStarted's
included.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.v201.central import ACCEPTED
from conformance.v201.states import (
    Cs,
    authorized,
    energy_transfer_started,
    ev_connected_pre_session,
    ev_disconnected,
    stop_authorized,
)

#: <Configured Cost>, <Configured Cost2>, <Generated Cost>
COST_TEXT, COST2, TOTAL = "0.25 EUR/kWh", 1.75, 3.5


def _message(content: str) -> dict:
    return {"format": "UTF8", "content": content}


def _answers(cs: Cs, *, running_cost: float | None = None) -> None:
    """The OCTT's answers of the I cases (see the module's docstring)."""
    def authorize(payload: dict) -> dict:
        return {"idTokenInfo": {"status": ACCEPTED, "personalMessage": _message(COST_TEXT)}}

    def on_event(payload: dict) -> dict[str, Any]:
        if payload.get("eventType") == "Ended":
            return {"totalCost": TOTAL}
        reply: dict[str, Any] = {"updatedPersonalMessage": _message(COST_TEXT)}
        if running_cost is not None:
            reply["totalCost"] = running_cost
        return reply

    cs.peer.handlers["Authorize"] = authorize
    cs.central.on_event = on_event


async def _charging_with_tariff(cs: Cs) -> None:
    """EVConnectedPreSession; the valid idToken presented: AuthorizeRequest with it (step 1),
    the TransactionEventRequest Authorized when TxStartPoint contains Authorized or the
    transaction started (step 3); EnergyTransferStarted (step 5)."""
    await ev_connected_pre_session(cs)
    await authorized(cs)
    if not cs.frames("Authorize"):
        await cs.expect("Authorize", {"idToken": cs.valid})
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_I_01_CS")
async def test_running_cost_by_cost_updated(cs: Cs):
    """TC_I_01_CS: during charging, CostUpdatedRequest with the running total: answered
    (I02.FR.02)."""
    _answers(cs)
    await _charging_with_tariff(cs)
    assert cs.tx_id is not None
    await cs.ask("CostUpdated", {"totalCost": COST2, "transactionId": cs.tx_id})


@pytest.mark.octt("TC_I_07_CS")
async def test_running_cost_in_transaction_response(cs: Cs):
    """TC_I_07_CS: the running total in the TransactionEventResponses (I02.FR.04): the
    transaction goes on."""
    _answers(cs, running_cost=COST2)
    await _charging_with_tariff(cs)


@pytest.mark.octt("TC_I_02_CS")
async def test_final_total_cost(cs: Cs):
    """TC_I_02_CS: the Ended event's response carries totalCost (I03.FR.02): StopAuthorized
    and EVDisconnected run through."""
    _answers(cs)
    await _charging_with_tariff(cs)
    await stop_authorized(cs)
    await ev_disconnected(cs)
