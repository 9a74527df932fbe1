"""OCPP 2.0.1 part 6 §2.8, G Availability, with a Charging Station under test."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.v201.states import (
    Cs,
    charging,
    ev_connected_pre_session,
    stop_authorized,
    unavailable,
)


def _evse(cs: Cs) -> dict:
    return {"id": cs.evse_id}


def _connector(cs: Cs) -> dict:
    return {"id": cs.evse_id, "connectorId": cs.connector_id}


@pytest.mark.octt("TC_G_01_CS")
async def test_available_to_occupied(cs: Cs):
    """TC_G_01_CS: Reusable State EVConnectedPreSession: Occupied (G01.FR.01)."""
    await ev_connected_pre_session(cs)


@pytest.mark.octt("TC_G_02_CS")
async def test_occupied_to_available(cs: Cs):
    """TC_G_02_CS: EVConnectedPreSession, then the EV disconnected: Available (G01.FR.01)."""
    await ev_connected_pre_session(cs)
    await cs.act("plug_out", connector=cs.connector_id)
    await cs.expect_status("Available")


async def _operative_again(cs: Cs, where: dict | None) -> None:
    payload: dict[str, Any] = {"operationalStatus": "Operative"}
    if where is not None:
        payload["evse"] = where
    await cs.ask("ChangeAvailability", payload, {"status": "Accepted"})
    await cs.expect_status("Available")


@pytest.mark.octt("TC_G_03_CS")
async def test_evse_to_inoperative(cs: Cs):
    """TC_G_03_CS: Reusable State Unavailable for the EVSE (G03.FR.01/02)."""
    await unavailable(cs, _evse(cs))


@pytest.mark.octt("TC_G_04_CS")
async def test_evse_to_operative(cs: Cs):
    """TC_G_04_CS: the Unavailable EVSE made Operative: Accepted, Available (G03.FR.04)."""
    await unavailable(cs, _evse(cs))
    await _operative_again(cs, _evse(cs))


@pytest.mark.octt("TC_G_05_CS")
async def test_station_to_inoperative(cs: Cs):
    """TC_G_05_CS: Reusable State Unavailable for the whole station (G03.FR.01)."""
    await unavailable(cs)


@pytest.mark.octt("TC_G_06_CS")
async def test_station_to_operative(cs: Cs):
    """TC_G_06_CS: the Unavailable station made Operative: Available again."""
    await unavailable(cs)
    await _operative_again(cs, None)


@pytest.mark.octt("TC_G_07_CS")
async def test_connector_to_inoperative(cs: Cs):
    """TC_G_07_CS: Reusable State Unavailable for one connector."""
    await unavailable(cs, _connector(cs))


@pytest.mark.octt("TC_G_08_CS")
async def test_connector_to_operative(cs: Cs):
    """TC_G_08_CS: the Unavailable connector made Operative: Available again."""
    await unavailable(cs, _connector(cs))
    await _operative_again(cs, _connector(cs))


async def _already(cs: Cs, status: str, where: dict | None) -> None:
    """Asking for the availability the component already has: Accepted (G03.FR.05)."""
    if status == "Inoperative":
        await unavailable(cs, where)
    payload: dict[str, Any] = {"operationalStatus": status}
    if where is not None:
        payload["evse"] = where
    await cs.ask("ChangeAvailability", payload, {"status": "Accepted"})


@pytest.mark.octt("TC_G_09_CS")
async def test_evse_operative_to_operative(cs: Cs):
    """TC_G_09_CS: Operative on an operative EVSE: Accepted."""
    await _already(cs, "Operative", _evse(cs))


@pytest.mark.octt("TC_G_10_CS")
async def test_evse_inoperative_to_inoperative(cs: Cs):
    """TC_G_10_CS: Inoperative on an inoperative EVSE: Accepted."""
    await _already(cs, "Inoperative", _evse(cs))


@pytest.mark.octt("TC_G_12_CS")
async def test_station_operative_to_operative(cs: Cs):
    """TC_G_12_CS: Operative on an operative station: Accepted."""
    await _already(cs, "Operative", None)


@pytest.mark.octt("TC_G_13_CS")
async def test_station_inoperative_to_inoperative(cs: Cs):
    """TC_G_13_CS: Inoperative on an inoperative station: Accepted."""
    await _already(cs, "Inoperative", None)


@pytest.mark.octt("TC_G_15_CS")
async def test_connector_operative_to_operative(cs: Cs):
    """TC_G_15_CS: Operative on an operative connector: Accepted."""
    await _already(cs, "Operative", _connector(cs))


@pytest.mark.octt("TC_G_16_CS")
async def test_connector_inoperative_to_inoperative(cs: Cs):
    """TC_G_16_CS: Inoperative on an inoperative connector: Accepted."""
    await _already(cs, "Inoperative", _connector(cs))


async def _inoperative_while_charging(cs: Cs, where: dict | None) -> None:
    """Inoperative during a transaction: Scheduled (G03.FR.03/G04.FR.06); the connector
    becomes Unavailable once the transaction ended (StopAuthorized, or the EV unplugged when
    the station's TxStopPoint ends it there)."""
    await charging(cs)
    payload: dict[str, Any] = {"operationalStatus": "Inoperative"}
    if where is not None:
        payload["evse"] = where
    await cs.ask("ChangeAvailability", payload, {"status": "Scheduled"})
    await stop_authorized(cs)
    if not cs.ended():
        await cs.act("plug_out", connector=cs.connector_id)
        await cs.expect("TransactionEvent", {"eventType": "Ended"})
    await cs.expect_status("Unavailable")


@pytest.mark.octt("TC_G_11_CS")
async def test_evse_inoperative_with_transaction(cs: Cs):
    """TC_G_11_CS: an EVSE made Inoperative during a transaction."""
    await _inoperative_while_charging(cs, _evse(cs))


@pytest.mark.octt("TC_G_14_CS")
async def test_station_inoperative_with_transaction(cs: Cs):
    """TC_G_14_CS: the station made Inoperative during a transaction."""
    await _inoperative_while_charging(cs, None)


@pytest.mark.octt("TC_G_17_CS")
async def test_connector_inoperative_with_transaction(cs: Cs):
    """TC_G_17_CS: a connector made Inoperative during a transaction."""
    await _inoperative_while_charging(cs, _connector(cs))


async def _persists(cs: Cs, where: dict | None) -> None:
    """Unavailable, then a reboot (Reusable State Booted): the connector is reported
    Unavailable after it (G03.FR.07: the availability persists)."""
    await unavailable(cs, where)
    await cs.ask("Reset", {"type": "Immediate"}, {"status": "Accepted"})
    await cs.reconnected()
    await cs.expect("BootNotification", timeout=cs.settings.boot_timeout)
    await cs.expect_status("Unavailable")


@pytest.mark.octt("TC_G_18_CS")
async def test_evse_state_persists(cs: Cs):
    """TC_G_18_CS: an Inoperative EVSE stays Unavailable across a reboot."""
    await _persists(cs, _evse(cs))


@pytest.mark.octt("TC_G_19_CS")
async def test_connector_state_persists(cs: Cs):
    """TC_G_19_CS: an Inoperative connector stays Unavailable across a reboot."""
    await _persists(cs, _connector(cs))


@pytest.mark.octt("TC_G_21_CS")
async def test_station_state_persists(cs: Cs):
    """TC_G_21_CS: an Inoperative station stays Unavailable across a reboot."""
    await _persists(cs, None)


