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
from typing import TYPE_CHECKING, Any, Protocol

from chargebench.ocppj import CallFailed
from sim.features import transactions
from sim.features.context import Clocked, Configured, Connectors, Equipped, Sender, Spawner
from sim.measures import ReadingContext

if TYPE_CHECKING:
    from sim.connector import Connector
    from sim.features.certificates import CertificateStore
    from sim.v16.diagnostics import Diagnostics
    from sim.v16.firmware import FirmwareUpdater

__all__ = ["EXTENDED", "TRIGGERS", "TriggerContext", "extended_trigger_message",
           "trigger_message"]


class TriggerFeatures(Protocol):
    """The feature objects whose status a trigger reports (built on first use)."""

    @property
    def diagnostics(self) -> Diagnostics: ...

    @property
    def firmware(self) -> FirmwareUpdater: ...

    @property
    def certs(self) -> CertificateStore: ...


class TransactionIds(Protocol):
    def csms_tx_id(self, local_tx: int | None) -> int | None: ...


class TriggerContext(Clocked, Configured, Connectors, Equipped, Sender, Spawner, Protocol):
    """What a trigger uses: `call` for the requested message, the connectors (status, meter,
    transaction id), the configuration and hardware (BootNotification, measurands), the
    feature objects whose status it reports."""

    @property
    def connector0(self) -> Connector: ...

    @property
    def features(self) -> TriggerFeatures: ...

    @property
    def queue(self) -> TransactionIds: ...

    async def notify(self, change: Any) -> None: ...


Send = Callable[[TriggerContext, "int | None"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Trigger:
    """One requestable message: how to send it, and when it can be sent at all."""

    send: Send
    available: Callable[[TriggerContext], bool] = lambda _ctx: True
    per_connector: bool = False
    #: answer (Accepted/Rejected) decided at request time, e.g. SignChargePointCertificate
    status: Callable[[TriggerContext], str] = lambda _ctx: "Accepted"


def _answer(table: Mapping[str, Trigger], ctx: TriggerContext, payload: dict) -> dict:
    trigger = table.get(payload["requestedMessage"])
    if trigger is None or not trigger.available(ctx):
        return {"status": "NotImplemented"}
    connector = payload.get("connectorId")
    if connector is not None and trigger.per_connector and not 0 <= connector <= len(ctx.ports):
        return {"status": "Rejected"}
    status = trigger.status(ctx)
    if status == "Accepted":
        ctx.spawn(_quietly(trigger.send(ctx, connector)))
    return {"status": status}


def trigger_message(ctx: TriggerContext, payload: dict) -> dict:
    """TriggerMessage.req handler (1.6 §5.17)."""
    return _answer(TRIGGERS, ctx, payload)


def extended_trigger_message(ctx: TriggerContext, payload: dict) -> dict:
    """ExtendedTriggerMessage.req handler (whitepaper F06)."""
    return _answer(EXTENDED, ctx, payload)


async def _quietly(sending: Awaitable[None]) -> None:
    with contextlib.suppress(CallFailed):  # offline or refused: a trigger is best effort
        await sending


# The messages ---------------------------------------------------------------------------------


async def _boot(ctx: TriggerContext, _connector: int | None) -> None:
    from sim.features.online import boot_payload

    reply = await ctx.call("BootNotification", boot_payload(ctx))
    if reply["status"] == "Accepted" and reply["interval"] > 0:
        ctx.config.set_value("HeartbeatInterval", reply["interval"], persist=False)


async def _heartbeat(ctx: TriggerContext, _connector: int | None) -> None:
    await ctx.call("Heartbeat", {})


async def _status(ctx: TriggerContext, connector: int | None) -> None:
    """§5.17: without connectorId, the status of every connector (0 included)."""
    connectors = [ctx.connector0, *(p.connector for p in ctx.ports)]
    for each in connectors if connector is None else connectors[connector:connector + 1]:
        await ctx.notify(each.snapshot(ctx.clock.now()))


async def _meter_values(ctx: TriggerContext, connector: int | None) -> None:
    """MeterValuesSampledData now, context Trigger (§7.30), with the running transaction."""
    ports = ctx.ports if connector in (None, 0) else [ctx.port(connector)]
    for port in ports:
        transactions.advance(ctx, port)
        value = transactions.reading(ctx, port, ctx.config.meter_values_sampled_data
                                     or ["Energy.Active.Import.Register"], ReadingContext.trigger)
        payload: dict = {"connectorId": port.id, "meterValue": [value]}
        tx_id = ctx.queue.csms_tx_id(port.tx.local_id) if port.tx is not None else None
        if tx_id is not None:  # not yet known while StartTransaction is queued
            payload["transactionId"] = tx_id
        await ctx.call("MeterValues", payload)


async def _diagnostics_status(ctx: TriggerContext, _connector: int | None) -> None:
    """§4.4: Idle unless an upload is running."""
    status = ctx.features.diagnostics.diagnostics_status.value
    await ctx.call("DiagnosticsStatusNotification",
                  {"status": status if status == "Uploading" else "Idle"})


async def _firmware_status(ctx: TriggerContext, _connector: int | None) -> None:
    """§4.5: Idle unless an update is under way."""
    fw = ctx.features.firmware
    await ctx.call("FirmwareStatusNotification",
                  {"status": fw.status.value if fw.busy else "Idle"})


async def _signed_firmware_status(ctx: TriggerContext, _connector: int | None) -> None:
    await ctx.call("SignedFirmwareStatusNotification", ctx.features.firmware.triggered_status())


async def _log_status(ctx: TriggerContext, _connector: int | None) -> None:
    await ctx.call("LogStatusNotification", ctx.features.diagnostics.triggered_log_status())


async def _sign_certificate(ctx: TriggerContext, _connector: int | None) -> None:
    await ctx.features.certs.request_certificate(ctx.call)  # A02.FR.02/03


def _profile(name: str) -> Callable[[TriggerContext], bool]:
    return lambda ctx: name in (ctx.config.supported_feature_profiles or [])


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
        _sign_certificate, status=lambda ctx: ctx.features.certs.trigger_status()
    ),
}
