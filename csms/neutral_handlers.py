"""Handlers whose message means the same in every OCPP version the CSMS speaks.

Heartbeat, the firmware-status and the log-status notifications carry the same fields in 1.6
(with the security whitepaper) and 2.0.1, and the CSMS does the same with them; each version's
handler table (`csms.v16.handlers`, `csms.v201.handlers`) registers these functions under its own
action names, with its own spec clauses beside the registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chargebench.clock import iso

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.registry import ChargerConnection


async def heartbeat(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """Remember the time; the reply synchronises the charger's clock."""
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_heartbeat(conn.cp_id, now))
    return {"currentTime": iso(now)}


async def firmware_status(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """Progress of a firmware update; `requestId` names the request that started it."""
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_firmware_status(
        conn.cp_id, p["status"], request_id=p.get("requestId"), timestamp=now))
    return {}


async def log_status(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """Progress of a log upload; `requestId` names the GetLog that asked for it."""
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_diagnostics_status(
        conn.cp_id, p["status"], request_id=p.get("requestId"), timestamp=now))
    return {}
