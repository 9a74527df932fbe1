"""TriggerMessage (1.6 §5.17, RemoteTrigger profile) and ExtendedTriggerMessage (security
whitepaper F06).

The reply comes first, the requested message after it (§5.17: "the Charge Point SHALL first send
the TriggerMessage response, before sending the requested message"): the handler answers and
spawns the send, and the session core writes replies in order. Each requested message is one
row of a table: when it is available (NotImplemented otherwise), whether it takes a connectorId
(Rejected for a connector we do not have), and how to send it. The extended table reuses the
basic rows and changes only what the whitepaper changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocpp.v16.enums import ReadingContext

from chargebench.ocppj import CallFailed
from sim.features import transactions

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint

__all__ = ["EXTENDED", "TRIGGERS", "extended_trigger_message", "trigger_message"]

Send = Callable[["ChargePoint", "int | None"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Trigger:
    """One requestable message: how to send it, and when it can be sent at all."""

    send: Send
    available: Callable[[ChargePoint], bool] = lambda _cp: True
    per_connector: bool = False
    #: answer (Accepted/Rejected) decided at request time, e.g. SignChargePointCertificate
    status: Callable[[ChargePoint], str] = lambda _cp: "Accepted"


def _answer(table: Mapping[str, Trigger], cp: ChargePoint, payload: dict) -> dict:
    trigger = table.get(payload["requestedMessage"])
    if trigger is None or not trigger.available(cp):
        return {"status": "NotImplemented"}
    connector = payload.get("connectorId")
    if connector is not None and trigger.per_connector and not 0 <= connector <= len(cp.ports):
        return {"status": "Rejected"}
    status = trigger.status(cp)
    if status == "Accepted":
        cp.spawn(_quietly(trigger.send(cp, connector)))
    return {"status": status}


def trigger_message(cp: ChargePoint, payload: dict) -> dict:
    """TriggerMessage.req handler (1.6 §5.17)."""
    return _answer(TRIGGERS, cp, payload)


def extended_trigger_message(cp: ChargePoint, payload: dict) -> dict:
    """ExtendedTriggerMessage.req handler (whitepaper F06)."""
    return _answer(EXTENDED, cp, payload)


async def _quietly(sending: Awaitable[None]) -> None:
    with contextlib.suppress(CallFailed):  # offline or refused: a trigger is best effort
        await sending


# The messages ---------------------------------------------------------------------------------


async def _boot(cp: ChargePoint, _connector: int | None) -> None:
    from sim.features.online import boot_payload

    reply = await cp.call("BootNotification", boot_payload(cp))
    if reply["status"] == "Accepted" and reply["interval"] > 0:
        cp.config.set_value("HeartbeatInterval", reply["interval"], persist=False)


async def _heartbeat(cp: ChargePoint, _connector: int | None) -> None:
    await cp.call("Heartbeat", {})


async def _status(cp: ChargePoint, connector: int | None) -> None:
    """§5.17: without connectorId, the status of every connector (0 included)."""
    connectors = [cp.connector0, *(p.connector for p in cp.ports)]
    for each in connectors if connector is None else connectors[connector:connector + 1]:
        await cp.notify(each.snapshot(cp.clock.now()))


async def _meter_values(cp: ChargePoint, connector: int | None) -> None:
    """MeterValuesSampledData now, context Trigger (§7.30), with the running transaction."""
    ports = cp.ports if connector in (None, 0) else [cp.port(connector)]
    for port in ports:
        transactions.advance(cp, port)
        value = transactions.reading(cp, port, cp.config.meter_values_sampled_data
                                     or ["Energy.Active.Import.Register"], ReadingContext.trigger)
        payload: dict = {"connectorId": port.id, "meterValue": [value]}
        tx_id = cp.queue.csms_tx_id(port.tx.local_id) if port.tx is not None else None
        if tx_id is not None:  # not yet known while StartTransaction is queued
            payload["transactionId"] = tx_id
        await cp.call("MeterValues", payload)


async def _diagnostics_status(cp: ChargePoint, _connector: int | None) -> None:
    """§4.4: Idle unless an upload is running."""
    status = cp.features.diagnostics.diagnostics_status.value
    await cp.call("DiagnosticsStatusNotification",
                  {"status": status if status == "Uploading" else "Idle"})


async def _firmware_status(cp: ChargePoint, _connector: int | None) -> None:
    """§4.5: Idle unless an update is under way."""
    fw = cp.features.firmware
    await cp.call("FirmwareStatusNotification",
                  {"status": fw.status.value if fw.busy else "Idle"})


async def _signed_firmware_status(cp: ChargePoint, _connector: int | None) -> None:
    await cp.call("SignedFirmwareStatusNotification", cp.features.firmware.triggered_status())


async def _log_status(cp: ChargePoint, _connector: int | None) -> None:
    await cp.call("LogStatusNotification", cp.features.diagnostics.triggered_log_status())


async def _sign_certificate(cp: ChargePoint, _connector: int | None) -> None:
    await cp.features.certs.request_certificate(cp.call)  # A02.FR.02/03


def _profile(name: str) -> Callable[[ChargePoint], bool]:
    return lambda cp: name in (cp.config.supported_feature_profiles or [])


#: TriggerMessage (1.6 §5.17)
TRIGGERS: Mapping[str, Trigger] = {
    "BootNotification": Trigger(_boot),
    "DiagnosticsStatusNotification": Trigger(_diagnostics_status,
                                             _profile("FirmwareManagement")),
    "FirmwareStatusNotification": Trigger(_firmware_status, _profile("FirmwareManagement")),
    "Heartbeat": Trigger(_heartbeat),
    "MeterValues": Trigger(_meter_values, per_connector=True),
    "StatusNotification": Trigger(_status, per_connector=True),
}

#: ExtendedTriggerMessage (whitepaper F06): FirmwareStatusNotification means the signed one
#: (L01.FR.28/29), plus the log status (N01.FR.12) and a new certificate (A02.FR.02/03)
EXTENDED: Mapping[str, Trigger] = {
    **{k: v for k, v in TRIGGERS.items() if k != "DiagnosticsStatusNotification"},
    "FirmwareStatusNotification": Trigger(_signed_firmware_status),
    "LogStatusNotification": Trigger(_log_status),
    "SignChargePointCertificate": Trigger(
        _sign_certificate, status=lambda cp: cp.features.certs.trigger_status()
    ),
}
