"""Handlers for the Core profile's CSMS-initiated commands (OCPP 1.6 §5).

The version's table (`sim.v16.handlers.HANDLERS`) names them; `sim.dispatch` runs them behind
the registration gate. Commands of profiles the charge point does not list in
SupportedFeatureProfiles never reach a handler: the session core answers them NotSupported.
Handlers reply first and act afterwards (in a background task) when acting means sending
messages of our own, so the .conf precedes the StatusNotification / StopTransaction it causes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from sim.connector import ConnectorStatus
from sim.features import limits, reserving, transactions
from sim.features.reserving import ParentLookup
from sim.features.transactions import TransactionsContext

if TYPE_CHECKING:
    from sim.features.transactions import Port

__all__ = [
    "CoreContext", "change_availability", "change_configuration", "clear_cache",
    "data_transfer", "get_configuration", "remote_start", "remote_stop", "reset",
]

_S = ConnectorStatus


class CoreAuth(ParentLookup, Protocol):
    """Local authorization as the Core commands use it (ClearCache; reservations' parent)."""

    def on_clear_cache(self, payload: dict) -> dict: ...


class CoreContext(TransactionsContext, Protocol):
    """What the Core commands use: the transaction flow's context (remote start and stop,
    availability after a transaction), and the charge point's own authorize (Remote start with
    AuthorizeRemoteTxRequests), cache, queue flush and reboot (Reset)."""

    @property
    def auth(self) -> CoreAuth: ...

    async def authorize(self, id_tag: str) -> bool: ...

    def flush_queue(self) -> asyncio.Task | None: ...

    def request_reboot(self, reason: str) -> None: ...


# 1.6 §5.2 ChangeAvailability


def change_availability(ctx: CoreContext, payload: dict) -> dict:
    """Operative/Inoperative now (Accepted), or Scheduled when the connector cannot change
    yet: a transaction runs (applied after it, C8/D8/E8), or Inoperative while Preparing,
    which §4.9 does not let go straight to Unavailable (no B8): applied when the preparation
    ends. An unknown connector is Rejected (§5.2); a negative one never gets here (bounds)."""
    operative = payload["type"] == "Operative"
    connector_id = payload["connectorId"]
    if connector_id > len(ctx.ports):
        return {"status": "Rejected"}
    ports = ctx.ports if connector_id == 0 else [ctx.port(connector_id)]
    scheduled = False
    for port in ports:
        if _must_wait(port, operative):
            port.scheduled_operative = operative
            scheduled = True
        else:
            port.operative, port.scheduled_operative = operative, None
            ctx.spawn(_apply_availability(ctx, port))
    if connector_id == 0:
        target = _S.available if operative else _S.unavailable
        ctx.spawn(ctx.set_status(ctx.connector0, target))
    return {"status": "Scheduled" if scheduled else "Accepted"}


def _must_wait(port: Port, operative: bool) -> bool:
    """1.6 §5.2: the change waits for the transaction; §4.9: Preparing has no way to
    Unavailable but through Available (B1) or a transaction and Finishing."""
    return port.tx is not None or (not operative and port.status is _S.preparing)


async def _apply_availability(ctx: CoreContext, port: Port) -> None:
    if port.status is _S.faulted:
        return
    if not port.operative:
        if _must_wait(port, False):  # a preparation began after the reply: do it later
            port.operative, port.scheduled_operative = True, False
            return
        await ctx.set_status(port, _S.unavailable)
    elif port.status is _S.unavailable:
        await ctx.set_status(port, _S.preparing if port.plugged else _S.available)


# 1.6 §5.3 ChangeConfiguration, §5.8 GetConfiguration, §5.4 ClearCache


def change_configuration(ctx: CoreContext, payload: dict) -> dict:
    status = ctx.config.change_configuration(payload["key"], payload["value"])
    return {"status": status.value}


def get_configuration(ctx: CoreContext, payload: dict) -> dict:
    known, unknown = ctx.config.get_configuration(payload.get("key"))
    reply: dict[str, Any] = {"configurationKey": known}
    if unknown:
        reply["unknownKey"] = unknown
    return reply


def clear_cache(ctx: CoreContext, payload: dict) -> dict:
    """Rejected when AuthorizationCacheEnabled is false; the local list stays (§3.5.3)."""
    return ctx.auth.on_clear_cache(payload)


# 1.6 §5.11 RemoteStartTransaction, §5.12 RemoteStopTransaction


def remote_start(ctx: CoreContext, payload: dict) -> dict:
    """Accept when a usable connector is free (a Reserved one only for its reservation's
    tag, §5.13) and its chargingProfile fits (§5.11, errata 3.41); then
    (AuthorizeRemoteTxRequests) authorize, and start at once if an EV is plugged, else wait
    ConnectionTimeOut for it."""
    id_tag = payload["idTag"]
    connector_id = payload.get("connectorId")
    port: Port | None
    if connector_id is not None:
        if not 1 <= connector_id <= len(ctx.ports):
            return {"status": "Rejected"}
        port = ctx.port(connector_id)
    else:
        port = reserving.reserved_for(ctx, id_tag) \
            or next((p for p in ctx.ports if p.plugged and p.status is _S.preparing), None) \
            or next((p for p in ctx.ports if p.status is _S.available), None)
    if port is None or port.tx is not None or port.authorized_tag is not None \
            or port.status not in (_S.available, _S.preparing, _S.finishing, _S.reserved) \
            or not reserving.allows_now(ctx, port, id_tag):
        return {"status": "Rejected"}
    profile = payload.get("chargingProfile")
    if profile is not None and not limits.install_remote_start_profile(ctx, port, profile):
        return {"status": "Rejected"}
    port.authorized_tag = id_tag  # claim the connector before replying
    ctx.spawn(_remote_start(ctx, port, id_tag))
    return {"status": "Accepted"}


async def _remote_start(ctx: CoreContext, port: Port, id_tag: str) -> None:
    if ctx.config.authorize_remote_tx_requests and not await ctx.authorize(id_tag):
        port.authorized_tag = None
        limits.stopped(ctx, port)  # the TxProfile of a start that never happened
        return
    if port.plugged:
        await transactions.start(ctx, port, id_tag)
    else:
        await transactions.prepare(ctx, port)


def remote_stop(ctx: CoreContext, payload: dict) -> dict:
    port = transactions.port_of_csms_tx(ctx, payload["transactionId"])
    if port is None:
        return {"status": "Rejected"}
    ctx.spawn(transactions.stop(ctx, port, "Remote"))
    return {"status": "Accepted"}


# 1.6 §5.14 Reset


def reset(ctx: CoreContext, payload: dict) -> dict:
    """Stop transactions with SoftReset/HardReset, then reboot (BootNotification again)."""
    reason = "HardReset" if payload["type"] == "Hard" else "SoftReset"
    ctx.spawn(_reset(ctx, reason))
    return {"status": "Accepted"}


async def _reset(ctx: CoreContext, reason: str) -> None:
    for port in ctx.ports:
        if port.tx is not None:
            await transactions.stop(ctx, port, reason)
    drain = ctx.flush_queue()  # deliver the StopTransactions before going down, as libocpp does
    if drain is not None:
        await drain
    ctx.request_reboot(reason)


# 1.6 §5.18 UnlockConnector: `sim.features.lock.unlock_connector`


def data_transfer(_ctx: object, payload: dict) -> dict:
    """1.6 §5.6: no vendor extensions here."""
    return {"status": "UnknownVendorId"}
