"""OCPP 2.0.1 part 6 §3.16, O Display Message, with a CSMS under test: the CSMS sends the
display messages its operator asks for (O01, O02), reads them back (O03, O04) and clears them
(O05), and takes every refusal of the station."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.chargepoint import Command, at, params
from conformance.v201.station import Station, absent

#: <Configured_Id>, <Configured Priority>, <Configured State> of the OCTT's display message
MESSAGE_ID, PRIORITY, STATE = 7, "NormalCycle", "Charging"


def message(**fields: Any) -> dict:
    """A MessageInfoType as the operator asks for it (O01)."""
    return {"id": MESSAGE_ID, "priority": PRIORITY,
            "message": {"format": "UTF8", "content": "Welcome to ChargeBench"}, **fields}


def _set(**fields: Any) -> dict:
    return {"message": message(**fields)}


async def _notify(cs: Station, command: dict) -> None:
    """NotifyDisplayMessages of the request, with the configured message (O04)."""
    await cs.ask("NotifyDisplayMessages", {"requestId": command["requestId"], "tbc": False,
                                           "messageInfo": [message(state=STATE)]})


def _get(**criteria: Any) -> dict:
    return {"requestId": 1, **criteria}


def _get_expect(**criteria: Any) -> dict:
    """The criteria asked for, the others omitted (O03 "id <Omitted>", ...)."""
    return {name: criteria.get(name, absent) for name in ("id", "priority", "state")}


ACCEPTED = {"status": "Accepted"}
COMMANDS = [
    Command("TC_O_01_CSMS", "SetDisplayMessage", _set(), ACCEPTED,
            {"message": {"id": MESSAGE_ID, "priority": PRIORITY}}),
    Command("TC_O_02_CSMS", "GetDisplayMessages", _get(), ACCEPTED, _get_expect(),
            after=_notify),
    Command("TC_O_03_CSMS", "GetDisplayMessages", _get(), {"status": "Unknown"}, {}),
    Command("TC_O_04_CSMS", "ClearDisplayMessage", {"id": MESSAGE_ID}, ACCEPTED),
    Command("TC_O_05_CSMS", "ClearDisplayMessage", {"id": MESSAGE_ID + 1000},
            {"status": "Unknown"}, {}),
    Command("TC_O_07_CSMS", "GetDisplayMessages", _get(id=[MESSAGE_ID]), ACCEPTED,
            _get_expect(id=[MESSAGE_ID]), after=_notify),
    Command("TC_O_08_CSMS", "GetDisplayMessages", _get(priority=PRIORITY), ACCEPTED,
            _get_expect(priority=PRIORITY), after=_notify),
    Command("TC_O_09_CSMS", "GetDisplayMessages", _get(state=STATE), ACCEPTED,
            _get_expect(state=STATE), after=_notify),
    Command("TC_O_11_CSMS", "GetDisplayMessages", _get(id=[MESSAGE_ID + 1000]),
            {"status": "Unknown"}, {"id": [MESSAGE_ID + 1000]}),
    Command("TC_O_12_CSMS", "SetDisplayMessage", _set(), ACCEPTED,
            {"message": {"id": MESSAGE_ID, "priority": PRIORITY}}),
    Command("TC_O_13_CSMS", "SetDisplayMessage", lambda _: _set(startDateTime=at(60)), ACCEPTED,
            {"message": {"id": MESSAGE_ID}}),
    Command("TC_O_14_CSMS", "SetDisplayMessage", lambda _: _set(endDateTime=at(60)), ACCEPTED,
            {"message": {"id": MESSAGE_ID}}),
    Command("TC_O_17_CSMS", "SetDisplayMessage", _set(priority="AlwaysFront"),
            {"status": "NotSupportedPriority"}),
    Command("TC_O_18_CSMS", "SetDisplayMessage", _set(state=STATE),
            {"status": "NotSupportedState"}, {"message": {"id": MESSAGE_ID, "state": STATE}}),
    Command("TC_O_19_CSMS", "SetDisplayMessage", _set(), {"status": "NotSupportedMessageFormat"},
            {"message": {"id": MESSAGE_ID}}),
    Command("TC_O_25_CSMS", "SetDisplayMessage", _set(state=STATE), ACCEPTED,
            {"message": {"id": MESSAGE_ID, "state": STATE}}),
    Command("TC_O_26_CSMS", "SetDisplayMessage", _set(), {"status": "Rejected"},
            {"message": {"id": MESSAGE_ID}}),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cs: Station, command: Command):
    """TC_O_01-05/07-09/11-14/17-19/25/26_CSMS: the CSMS sends the display message request as
    asked (part 6's tool validations) and takes the station's answer and report."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol


@pytest.mark.parametrize("fields, answer", [
    pytest.param({}, "Accepted", id="TC_O_06_CSMS", marks=pytest.mark.octt("TC_O_06_CSMS")),
    pytest.param({}, "UnknownTransaction", id="TC_O_10_CSMS",
                 marks=pytest.mark.octt("TC_O_10_CSMS")),
    pytest.param({"startDateTime": "start"}, "Accepted", id="TC_O_27_CSMS",
                 marks=pytest.mark.octt("TC_O_27_CSMS")),
    pytest.param({"endDateTime": "end", "state": STATE}, "Accepted", id="TC_O_28_CSMS",
                 marks=pytest.mark.octt("TC_O_28_CSMS")),
])
async def test_transaction_message(cs: Station, fields: dict, answer: str):
    """TC_O_06/10/27/28_CSMS: while charging, a display message for the running transaction
    (its transactionId as the station gave it, the configured priority, the times and state
    asked for); then EVDisconnected (after an accepted one)."""
    await cs.boot()
    await cs.energy_transfer_started()
    assert cs.tx is not None
    times = {"start": at(30), "end": at(60)}
    extra = {name: times.get(value, value) for name, value in fields.items()}
    request = _set(transactionId=cs.tx.id, **extra)
    expect = {"message": {"id": MESSAGE_ID, "priority": PRIORITY, "transactionId": cs.tx.id,
                          **extra}}
    await cs.command("SetDisplayMessage", request, {"status": answer}, expect)
    if answer == "Accepted":
        await cs.ev_disconnected()
