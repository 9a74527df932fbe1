"""Handlers for the Core profile's CSMS-initiated commands (OCPP 1.6 §5).

The version's table (`sim.v16.handlers.HANDLERS`) names them; `sim.dispatch` runs them behind
the registration gate. Commands of profiles the charge point does not list in
SupportedFeatureProfiles never reach a handler: the session core answers them NotSupported.
Handlers reply first and act afterwards (in a background task) when acting means sending
messages of our own, so the .conf precedes the StatusNotification / StopTransaction it causes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.v16.enums import ChargePointStatus

from sim.features import limits, reserving, transactions

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint
    from sim.features.transactions import Port

_S = ChargePointStatus


# 1.6 §5.2 ChangeAvailability


def change_availability(cp: ChargePoint, payload: dict) -> dict:
    """Operative/Inoperative now (Accepted), or Scheduled when the connector cannot change
    yet: a transaction runs (applied after it, C8/D8/E8), or Inoperative while Preparing,
    which §4.9 does not let go straight to Unavailable (no B8): applied when the preparation
    ends. An unknown connector is Rejected (§5.2); a negative one never gets here (bounds)."""
    operative = payload["type"] == "Operative"
    connector_id = payload["connectorId"]
    if connector_id > len(cp.ports):
        return {"status": "Rejected"}
    ports = cp.ports if connector_id == 0 else [cp.port(connector_id)]
    scheduled = False
    for port in ports:
        if _must_wait(port, operative):
            port.scheduled_operative = operative
            scheduled = True
        else:
            port.operative, port.scheduled_operative = operative, None
            cp.spawn(_apply_availability(cp, port))
    if connector_id == 0:
        target = _S.available if operative else _S.unavailable
        cp.spawn(cp.set_status(cp.connector0, target))
    return {"status": "Scheduled" if scheduled else "Accepted"}


def _must_wait(port: Port, operative: bool) -> bool:
    """1.6 §5.2: the change waits for the transaction; §4.9: Preparing has no way to
    Unavailable but through Available (B1) or a transaction and Finishing."""
    return port.tx is not None or (not operative and port.status is _S.preparing)


async def _apply_availability(cp: ChargePoint, port: Port) -> None:
    if port.status is _S.faulted:
        return
    if not port.operative:
        if _must_wait(port, False):  # a preparation began after the reply: do it later
            port.operative, port.scheduled_operative = True, False
            return
        await cp.set_status(port, _S.unavailable)
    elif port.status is _S.unavailable:
        await cp.set_status(port, _S.preparing if port.plugged else _S.available)


# 1.6 §5.3 ChangeConfiguration, §5.8 GetConfiguration, §5.4 ClearCache


def change_configuration(cp: ChargePoint, payload: dict) -> dict:
    status = cp.config.change_configuration(payload["key"], payload["value"])
    return {"status": status.value}


def get_configuration(cp: ChargePoint, payload: dict) -> dict:
    known, unknown = cp.config.get_configuration(payload.get("key"))
    reply: dict[str, Any] = {"configurationKey": known}
    if unknown:
        reply["unknownKey"] = unknown
    return reply


def clear_cache(cp: ChargePoint, payload: dict) -> dict:
    """Rejected when AuthorizationCacheEnabled is false; the local list stays (§3.5.3)."""
    return cp.auth.on_clear_cache(payload)


# 1.6 §5.11 RemoteStartTransaction, §5.12 RemoteStopTransaction


def remote_start(cp: ChargePoint, payload: dict) -> dict:
    """Accept when a usable connector is free (a Reserved one only for its reservation's
    tag, §5.13) and its chargingProfile fits (§5.11, errata 3.41); then
    (AuthorizeRemoteTxRequests) authorize, and start at once if an EV is plugged, else wait
    ConnectionTimeOut for it."""
    id_tag = payload["idTag"]
    connector_id = payload.get("connectorId")
    port: Port | None
    if connector_id is not None:
        if not 1 <= connector_id <= len(cp.ports):
            return {"status": "Rejected"}
        port = cp.port(connector_id)
    else:
        port = reserving.reserved_for(cp, id_tag) \
            or next((p for p in cp.ports if p.plugged and p.status is _S.preparing), None) \
            or next((p for p in cp.ports if p.status is _S.available), None)
    if port is None or port.tx is not None or port.authorized_tag is not None \
            or port.status not in (_S.available, _S.preparing, _S.finishing, _S.reserved) \
            or not reserving.allows_now(cp, port, id_tag):
        return {"status": "Rejected"}
    profile = payload.get("chargingProfile")
    if profile is not None and not limits.install_remote_start_profile(cp, port, profile):
        return {"status": "Rejected"}
    port.authorized_tag = id_tag  # claim the connector before replying
    cp.spawn(_remote_start(cp, port, id_tag))
    return {"status": "Accepted"}


async def _remote_start(cp: ChargePoint, port: Port, id_tag: str) -> None:
    if cp.config.authorize_remote_tx_requests and not await cp.authorize(id_tag):
        port.authorized_tag = None
        limits.stopped(cp, port)  # the TxProfile of a start that never happened
        return
    if port.plugged:
        await transactions.start(cp, port, id_tag)
    else:
        await transactions.prepare(cp, port)


def remote_stop(cp: ChargePoint, payload: dict) -> dict:
    port = transactions.port_of_csms_tx(cp, payload["transactionId"])
    if port is None:
        return {"status": "Rejected"}
    cp.spawn(transactions.stop(cp, port, "Remote"))
    return {"status": "Accepted"}


# 1.6 §5.14 Reset


def reset(cp: ChargePoint, payload: dict) -> dict:
    """Stop transactions with SoftReset/HardReset, then reboot (BootNotification again)."""
    reason = "HardReset" if payload["type"] == "Hard" else "SoftReset"
    cp.spawn(_reset(cp, reason))
    return {"status": "Accepted"}


async def _reset(cp: ChargePoint, reason: str) -> None:
    for port in cp.ports:
        if port.tx is not None:
            await transactions.stop(cp, port, reason)
    drain = cp.flush_queue()  # deliver the StopTransactions before going down, as libocpp does
    if drain is not None:
        await drain
    cp.request_reboot(reason)


# 1.6 §5.18 UnlockConnector: `sim.features.lock.unlock_connector`


def data_transfer(cp: ChargePoint, payload: dict) -> dict:
    """1.6 §5.6: no vendor extensions here."""
    return {"status": "UnknownVendorId"}
