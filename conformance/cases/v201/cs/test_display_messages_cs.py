"""OCPP 2.0.1 part 6 §2.16, O DisplayMessage, with a Charging Station under test: setting,
getting, replacing and clearing display messages (O01-O06). Not applicable to a station
without DisplayMessageCtrlr (its device model); a case that needs an unsupported priority or
format is not applicable to a station supporting all (DisplayMessageCtrlr.SupportedPriorities,
SupportedFormats). Every message a case sets is cleared after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from conformance.expect import Mismatch
from conformance.v201.states import (
    Cs,
    charging,
    ev_disconnected,
    next_id,
    rebooted,
    stop_authorized,
    unavailable,
)
from conformance.v201.states_nolp import (
    clear_display_messages,
    display_message,
    notified_messages,
    reported,
    set_display_message,
    station_wait,
)

#: MessagePriorityEnumType, MessageFormatEnumType (part 2 §3)
PRIORITIES = ("AlwaysFront", "InFront", "NormalCycle")
FORMATS = ("ASCII", "HTML", "URI", "UTF8")


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _cleared(cs: Cs) -> AsyncIterator[None]:
    yield
    await clear_display_messages(cs)


async def _configured(cs: Cs, **extra) -> dict:
    """Memory State "a display message with <Generated displayMessageId> is configured"."""
    message = display_message(next_id(), **extra)
    await set_display_message(cs, message)
    return message


def _unsupported(cs: Cs, variable: str, known: tuple[str, ...]) -> str:
    """A value of `known` the station's DisplayMessageCtrlr.`variable` lacks; else the case
    is not applicable (its prerequisite: the station does not support them all)."""
    values = cs.model.values("DisplayMessageCtrlr", variable)
    supported = {item.strip() for value in values for item in value.split(",")}
    missing = [value for value in known if value not in supported]
    if not values or not missing:
        pytest.skip(f"not applicable: DisplayMessageCtrlr.{variable} is {values} (the case "
                    "needs a value the station does not support)")
    return missing[0]


@pytest.mark.octt("TC_O_01_CS")
async def test_set_display_message(cs: Cs):
    """TC_O_01_CS: Accepted; reported by id with its priority, format and content (O01.FR.12)."""
    message = await _configured(cs)
    found = await notified_messages(cs, id=[message["id"]])
    reported(found, message, "priority", "message")


@pytest.mark.octt("TC_O_02_CS")
async def test_get_all(cs: Cs):
    """TC_O_02_CS: GetDisplayMessages without criteria: Accepted, every message reported
    (O03.FR.01-04)."""
    message = await _configured(cs)
    reported(await notified_messages(cs), message)


@pytest.mark.octt("TC_O_03_CS")
async def test_get_all_none(cs: Cs):
    """TC_O_03_CS: no message configured: Unknown (O03.FR.06)."""
    await notified_messages(cs, "Unknown")


@pytest.mark.octt("TC_O_04_CS")
async def test_clear(cs: Cs):
    """TC_O_04_CS: ClearDisplayMessage Accepted (O05.FR.01); then Unknown by id."""
    message = await _configured(cs)
    await cs.ask("ClearDisplayMessage", {"id": message["id"]}, {"status": "Accepted"})
    await notified_messages(cs, "Unknown", id=[message["id"]])


@pytest.mark.octt("TC_O_05_CS")
async def test_clear_unknown(cs: Cs):
    """TC_O_05_CS: ClearDisplayMessage of an unknown id: Unknown (O05.FR.02)."""
    await cs.ask("ClearDisplayMessage", {"id": next_id()}, {"status": "Unknown"})


@pytest.mark.octt("TC_O_06_CS")
async def test_transaction_message(cs: Cs):
    """TC_O_06_CS: a message for the running transaction: Accepted; gone once the
    transaction ended (O02.FR.02): Unknown."""
    await charging(cs)
    message = await _configured(cs, transactionId=cs.tx_id)
    await stop_authorized(cs)
    await ev_disconnected(cs)
    await notified_messages(cs, "Unknown", id=[message["id"]])


@pytest.mark.octt("TC_O_07_CS")
async def test_get_by_id(cs: Cs):
    """TC_O_07_CS: by id: Accepted, the message reported (O04.FR.01/03)."""
    message = await _configured(cs)
    reported(await notified_messages(cs, id=[message["id"]]), message)


@pytest.mark.octt("TC_O_08_CS")
async def test_get_by_priority(cs: Cs):
    """TC_O_08_CS: by priority: Accepted, the message of that priority reported."""
    message = await _configured(cs, priority="InFront")
    found = await notified_messages(cs, priority="InFront")
    reported(found, message, "priority")
    if any(m.get("priority") != "InFront" for m in found):
        raise Mismatch(f"messages of another priority reported: {found}", "priority InFront")


@pytest.mark.octt("TC_O_09_CS")
async def test_get_by_state(cs: Cs):
    """TC_O_09_CS: by state: Accepted, the message of that state reported."""
    message = await _configured(cs, state="Idle")
    found = await notified_messages(cs, state="Idle")
    reported(found, message, "state")
    if any(m.get("state") != "Idle" for m in found):
        raise Mismatch(f"messages of another state reported: {found}", "state Idle")


@pytest.mark.octt("TC_O_10_CS")
async def test_unknown_transaction(cs: Cs):
    """TC_O_10_CS: a transactionId that does not run: UnknownTransaction (O02.FR.01)."""
    await set_display_message(cs, display_message(
        next_id(), transactionId=f"CB-UNKNOWN-{next_id()}"), "UnknownTransaction")


@pytest.mark.octt("TC_O_11_CS")
async def test_get_other_id(cs: Cs):
    """TC_O_11_CS: one message configured, another id asked: Unknown (O04.FR.02)."""
    await _configured(cs)
    await notified_messages(cs, "Unknown", id=[next_id()])


@pytest.mark.octt("TC_O_12_CS")
async def test_replace(cs: Cs):
    """TC_O_12_CS: the same id set again: Accepted, replaced (O06.FR.01)."""
    message = await _configured(cs)
    again = display_message(message["id"], content="ChargeBench replaced message")
    await set_display_message(cs, again)
    reported(await notified_messages(cs, id=[message["id"]]), again, "message")


@pytest.mark.octt("TC_O_13_CS")
async def test_start_time(cs: Cs):
    """TC_O_13_CS: startDateTime now + 60 s: Accepted; reported with its startDateTime
    (O01.FR.06)."""
    message = await _configured(cs, startDateTime=cs.time(60))
    reported(await notified_messages(cs, id=[message["id"]]), message, "startDateTime")


@pytest.mark.octt("TC_O_14_CS")
async def test_end_time(cs: Cs):
    """TC_O_14_CS: endDateTime now + 60 s: Accepted, reported with its endDateTime; 60 s
    later removed (O01.FR.07): Unknown."""
    message = await _configured(cs, endDateTime=cs.time(60))
    reported(await notified_messages(cs, id=[message["id"]]), message, "endDateTime")
    await station_wait(cs, 61)
    await notified_messages(cs, "Unknown", id=[message["id"]])


@pytest.mark.octt("TC_O_27_CS")
async def test_transaction_start_time(cs: Cs):
    """TC_O_27_CS: during a transaction a message from now + 60 s: Accepted; after the wait
    and the end of the session: Unknown (O02.FR.02)."""
    await charging(cs)
    message = await _configured(cs, startDateTime=cs.time(60), transactionId=cs.tx_id)
    await station_wait(cs, 61)
    await stop_authorized(cs)
    await ev_disconnected(cs)
    await notified_messages(cs, "Unknown", id=[message["id"]])


@pytest.mark.octt("TC_O_28_CS")
async def test_transaction_end_time(cs: Cs):
    """TC_O_28_CS: during a transaction a message until now + 60 s: Accepted; 60 s later
    removed (O01.FR.07): Unknown."""
    await charging(cs)
    message = await _configured(cs, endDateTime=cs.time(60), transactionId=cs.tx_id)
    await station_wait(cs, 61)
    await notified_messages(cs, "Unknown", id=[message["id"]])


@pytest.mark.octt("TC_O_17_CS")
async def test_unsupported_priority(cs: Cs):
    """TC_O_17_CS: a priority the station does not support: NotSupportedPriority
    (O01.FR.01)."""
    priority = _unsupported(cs, "SupportedPriorities", PRIORITIES)
    await set_display_message(cs, display_message(next_id(), priority=priority),
                              "NotSupportedPriority")


@pytest.mark.octt("TC_O_19_CS")
async def test_unsupported_format(cs: Cs):
    """TC_O_19_CS: a format the station does not support: NotSupportedMessageFormat
    (O01.FR.03)."""
    fmt = _unsupported(cs, "SupportedFormats", FORMATS)
    await set_display_message(cs, display_message(next_id(), fmt=fmt),
                              "NotSupportedMessageFormat")


@pytest.mark.octt("TC_O_20_CS")
async def test_persistent_over_reboot(cs: Cs):
    """TC_O_20_CS: a message set, the station reset (Reusable State Booted): still reported
    (O01.FR.10)."""
    message = await _configured(cs)
    await cs.ask("Reset", {"type": "Immediate"}, {"status": "Accepted"})
    await rebooted(cs)
    reported(await notified_messages(cs, id=[message["id"]]), message, "priority", "message")


@pytest.mark.octt("TC_O_22_CS")
async def test_two_in_front(cs: Cs):
    """TC_O_22_CS: two InFront messages: both Accepted, both reported (O01.FR.14)."""
    first = await _configured(cs, priority="InFront")
    second = await _configured(cs, priority="InFront")
    reported(await notified_messages(cs, id=[first["id"]]), first, "priority")
    reported(await notified_messages(cs, id=[second["id"]]), second, "priority")


@pytest.mark.octt("TC_O_24_CS")
async def test_second_always_front(cs: Cs):
    """TC_O_24_CS: a second AlwaysFront message replaces the first (O01.FR.16): the first
    id Unknown, the second reported."""
    first = await _configured(cs, priority="AlwaysFront")
    second = await _configured(cs, priority="AlwaysFront")
    await notified_messages(cs, "Unknown", id=[first["id"]])
    reported(await notified_messages(cs, id=[second["id"]]), second, "priority")


@pytest.mark.octt("TC_O_30_CS")
async def test_transaction_two_in_front(cs: Cs):
    """TC_O_30_CS: two InFront messages for the running transaction: both Accepted and
    reported with the transactionId; after the transaction both Unknown (O02.FR.02)."""
    await charging(cs)
    first = await _configured(cs, priority="InFront", transactionId=cs.tx_id)
    second = await _configured(cs, priority="InFront", transactionId=cs.tx_id,
                               content="ChargeBench conformance message 2")
    for message in (first, second):
        reported(await notified_messages(cs, id=[message["id"]]), message, "transactionId",
                 "priority", "message")
    await stop_authorized(cs)
    await ev_disconnected(cs)
    for message in (first, second):
        await notified_messages(cs, "Unknown", id=[message["id"]])


@pytest.mark.octt("TC_O_32_CS")
async def test_transaction_second_always_front(cs: Cs):
    """TC_O_32_CS: a second AlwaysFront message for the running transaction replaces the
    first (O02.FR.18): the first Unknown, the second reported with the transactionId and its
    content; after the transaction Unknown (O02.FR.02)."""
    await charging(cs)
    first = await _configured(cs, priority="AlwaysFront", transactionId=cs.tx_id)
    second = await _configured(cs, priority="AlwaysFront", transactionId=cs.tx_id,
                               content="ChargeBench conformance message 2")
    await notified_messages(cs, "Unknown", id=[first["id"]])
    reported(await notified_messages(cs, id=[second["id"]]), second, "transactionId",
             "priority", "message")
    await stop_authorized(cs)
    await ev_disconnected(cs)
    await notified_messages(cs, "Unknown", id=[second["id"]])


@pytest.mark.octt("TC_O_39_CS")
async def test_state_faulted(cs: Cs):
    """TC_O_39_CS: a message for state Faulted; the station set Faulted and back to
    Available (manual actions: `fault`, `clear_fault`); reported with state Faulted."""
    message = await _configured(cs, state="Faulted")
    await cs.act("fault", connector=cs.connector_id)
    try:
        await cs.expect_status("Faulted")
    finally:
        await cs.act("clear_fault", connector=cs.connector_id)
    await cs.expect_status("Available")
    reported(await notified_messages(cs, id=[message["id"]]), message, "state")


@pytest.mark.octt("TC_O_33_CS")
async def test_get_id_none(cs: Cs):
    """TC_O_33_CS: no message configured, one id asked: Unknown (O04.FR.07)."""
    await notified_messages(cs, "Unknown", id=[next_id()])


@pytest.mark.octt("TC_O_34_CS")
async def test_known_id_other_state(cs: Cs):
    """TC_O_34_CS: the id known, the state not its own: Unknown (O04.FR.02)."""
    message = await _configured(cs, state="Idle")
    await notified_messages(cs, "Unknown", id=[message["id"]], state="Charging")


@pytest.mark.octt("TC_O_35_CS")
async def test_known_id_other_priority(cs: Cs):
    """TC_O_35_CS: the id known, the priority not its own: Unknown (O04.FR.02)."""
    message = await _configured(cs, priority="NormalCycle")
    await notified_messages(cs, "Unknown", id=[message["id"]], priority="InFront")


@pytest.mark.octt("TC_O_36_CS")
async def test_state_charging(cs: Cs):
    """TC_O_36_CS: a message for state Charging survives a charging session; reported with
    state Charging."""
    message = await _configured(cs, state="Charging")
    await charging(cs)
    await stop_authorized(cs)
    await ev_disconnected(cs)
    reported(await notified_messages(cs, id=[message["id"]]), message, "state")


@pytest.mark.octt("TC_O_37_CS")
async def test_state_idle(cs: Cs):
    """TC_O_37_CS: a message for state Idle survives a charging session; reported with
    state Idle."""
    message = await _configured(cs, state="Idle")
    await charging(cs)
    await stop_authorized(cs)
    await ev_disconnected(cs)
    reported(await notified_messages(cs, id=[message["id"]]), message, "state")


@pytest.mark.octt("TC_O_38_CS")
async def test_state_unavailable(cs: Cs):
    """TC_O_38_CS: a message for state Unavailable; the station made Unavailable and
    Operative again (Available reported); reported with state Unavailable."""
    message = await _configured(cs, state="Unavailable")
    await unavailable(cs)
    await cs.ask("ChangeAvailability", {"operationalStatus": "Operative"},
                 {"status": "Accepted"})
    await cs.expect_status("Available")
    reported(await notified_messages(cs, id=[message["id"]]), message, "state")
