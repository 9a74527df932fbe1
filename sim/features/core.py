"""Handlers for the Core profile's CSMS-initiated commands (OCPP 1.6 §5).

`handlers(cp)` returns the action -> handler table the session adapter dispatches to. Commands
of profiles the charge point does not list in SupportedFeatureProfiles never reach a handler:
the session core answers them NotSupported. Handlers reply first and act afterwards (in a
background task) when acting means sending messages of our own, so the .conf precedes the
StatusNotification / StopTransaction it causes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from ocpp.v16.enums import ChargePointStatus

from chargebench.ocppj import NoReply, OcppCallError, Role
from chargebench.ocppj.registration import boot_gate
from chargebench.ocppj.versions import DEFAULT_VERSION
from sim.features import bounds, fault_hooks, limits, reserving, transactions
from sim.features.lock import unlock_connector

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint
    from sim.features.transactions import Port

log = logging.getLogger(__name__)
_S = ChargePointStatus

#: handler(charge point, request payload) -> response payload
Handler = Callable[["ChargePoint", dict], Any]
#: A per-charge-point object's handler: handler(request payload) -> response payload
BoundHandler = Callable[[dict], Any]


def handlers(cp: ChargePoint) -> HandlerTable:
    """The Core profile's handlers for `cp`, guarded by the registration status."""
    return HandlerTable(cp, HANDLERS)


class HandlerTable(Mapping):
    """action -> handler(payload), bound to one charge point on lookup.

    A fleet of 10 000 charge points shares the module-level tables instead of holding a dozen
    closures each; feature modules add their own tables with `extend()` (`ChargePoint.use`).
    """

    __slots__ = ("_cp", "_tables")

    def __init__(self, cp: ChargePoint, *tables: Mapping[str, Handler]) -> None:
        self._cp = cp
        self._tables: tuple[tuple[Mapping[str, Any], bool], ...] = \
            tuple((table, False) for table in tables)

    def extend(self, table: Mapping[str, Handler] | Mapping[str, BoundHandler], *,
               bound: bool = False) -> None:
        """Add a feature's handlers (later tables win): shared `handler(cp, payload)`
        functions, or with `bound=True` one object's `handler(payload)` methods."""
        self._tables = (*self._tables, (table, bound))

    def __getitem__(self, action: str) -> Callable[[dict], Any]:
        for table, bound in reversed(self._tables):
            if action in table:
                handler = table[action]
                if bound:
                    handler = partial(_unbound, handler)
                return partial(_guarded, self._cp, action, handler)
        raise KeyError(action)

    def __iter__(self) -> Iterator[str]:
        return iter({action for table, _ in self._tables for action in table})

    def __len__(self) -> int:
        return len(set(self))


def _guarded(cp: ChargePoint, action: str, handler: Handler, payload: dict) -> Any:
    """Apply the registration status (1.6 §4.2), then the fault plan, then run the handler.

    "While Rejected, the Charge Point SHALL NOT respond to any Central System initiated
    message": no CALLRESULT and no CALLERROR, the CSMS's CALL times out. While Pending,
    RemoteStartTransaction and RemoteStopTransaction "are not allowed" (the version's code).
    """
    # the rule and its CALLERROR code are the core's (`BootGate`, 1.6 §4.2)
    version = DEFAULT_VERSION if cp.session is None else cp.session.core.version
    boot_gate(version, Role.CHARGE_POINT).check(action, cp.registration)
    bounds.check(payload)  # values no charge point holds: PropertyConstraintViolation
    try:
        reply = fault_hooks.inbound(cp, action, partial(handler, cp, payload))
    except (OcppCallError, NoReply):
        raise
    except Exception as error:
        raise _own_bug(cp, action, error) from None
    if isinstance(reply, Awaitable):
        return _contained(cp, action, reply)
    return reply


async def _contained(cp: ChargePoint, action: str, pending: Awaitable) -> Any:
    try:
        return await pending
    except (OcppCallError, NoReply):
        raise
    except Exception as error:
        raise _own_bug(cp, action, error) from None


def _own_bug(cp: ChargePoint, action: str, error: Exception) -> OcppCallError:
    """A handler failed: our bug, logged here with its traceback; the CSMS gets InternalError
    (OCPP-J 1.6 §4.2.3) without exception text or stack detail."""
    log.error("%s: handler for %s failed", cp.id, action, exc_info=error)
    return OcppCallError("InternalError", f"{action} could not be processed")


def _unbound(handler: BoundHandler, _cp: ChargePoint, payload: dict) -> Any:
    return handler(payload)


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


#: The Core profile (1.6 §5), shared by every charge point.
HANDLERS: Mapping[str, Handler] = {
    "ChangeAvailability": change_availability,
    "ChangeConfiguration": change_configuration,
    "ClearCache": clear_cache,
    "DataTransfer": data_transfer,
    "GetConfiguration": get_configuration,
    "RemoteStartTransaction": remote_start,
    "RemoteStopTransaction": remote_stop,
    "Reset": reset,
    "UnlockConnector": unlock_connector,
}
