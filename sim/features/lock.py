"""The cable retention lock of a connector (1.6 §4.10, §5.18 UnlockConnector, §9.1.33).

A socket outlet locks the cable while a transaction runs. When it ends, the lock opens, except
after an EV-side disconnect with UnlockConnectorOnEVSideDisconnect false: the cable then stays
locked until the user presents the identifier of that transaction (§4.10), or the CSMS sends
UnlockConnector. A fixed cable has no lock: UnlockConnector answers NotSupported (§7.46) and
UnlockConnectorOnEVSideDisconnect is read-only false (errata 3.84). A jammed lock (fault
injection) answers UnlockFailed (errata 3.87: "the unlock mechanism failed").
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from sim.connector import ConnectorStatus
from sim.features.context import Connectors, Spawner
from sim.hardware import Cable, Hardware

if TYPE_CHECKING:
    from sim.config import ChargePointConfig
    from sim.features.transactions import Port

__all__ = [
    "ConnectorLock", "LockContext", "UnlockStatus", "after_stop", "configure", "unlock_connector",
]

_KEY = "UnlockConnectorOnEVSideDisconnect"


class UnlockStatus(StrEnum):
    """What an attempt to open the lock did (the words of 1.6 §7.46; 2.0.1's
    UnlockStatusEnumType shares Unlocked and UnlockFailed)."""

    unlocked = "Unlocked"
    unlock_failed = "UnlockFailed"
    not_supported = "NotSupported"  # no lock: a fixed cable


class ConnectorLock:
    """Lock state of one connector; `held_for` is the idTag that may open a lock kept shut
    after an EV-side disconnect."""

    __slots__ = ("held_for", "jammed", "locked", "present")

    def __init__(self, hardware: Hardware) -> None:
        self.present = hardware.cable is not Cable.FIXED
        self.locked = False
        self.jammed = False
        self.held_for: str | None = None

    def engage(self) -> None:
        """Lock the cable (a transaction starts)."""
        if self.present:
            self.locked = True
            self.held_for = None

    def release(self) -> UnlockStatus:
        """Try to open the lock; a jammed lock stays shut."""
        if not self.present:
            return UnlockStatus.not_supported
        if self.jammed:
            return UnlockStatus.unlock_failed
        self.locked = False
        self.held_for = None
        return UnlockStatus.unlocked

    def held_for_tag(self, id_tag: str) -> bool:
        """Is the lock kept shut for `id_tag`? (IdToken is case-insensitive, 1.6 §7.28)"""
        return self.locked and self.held_for is not None \
            and self.held_for.upper() == id_tag.upper()

    def release_for(self, id_tag: str) -> bool:
        """The user presents `id_tag`: opens a lock held for it. Returns whether it was."""
        if not self.held_for_tag(id_tag):
            return False
        self.release()
        return True


def after_stop(config: ChargePointConfig, port: Port, reason: str, id_tag: str) -> None:
    """The transaction of `id_tag` on `port` ended for `reason`: open the lock, unless the EV
    side was disconnected and UnlockConnectorOnEVSideDisconnect is false (§4.10): then only
    `id_tag` (or UnlockConnector) opens it."""
    if reason == "EVDisconnected" and not config.unlock_connector_on_ev_side_disconnect:
        if port.lock.locked:
            port.lock.held_for = id_tag
        return
    port.lock.release()


def configure(config: ChargePointConfig, hardware: Hardware) -> None:
    """A fixed cable reports UnlockConnectorOnEVSideDisconnect false and refuses changes
    (errata 3.84: "RO in case of fixed cable")."""
    if hardware.cable is not Cable.FIXED or not config.has(_KEY):
        return
    config.set_value(_KEY, False, persist=False)
    config.add_check(_KEY, _fixed_cable_rule)


def _fixed_cable_rule(value: Any, config: ChargePointConfig) -> str:
    return "fixed cable: UnlockConnectorOnEVSideDisconnect is always false"


# 1.6 §5.18 UnlockConnector


class LockContext(Connectors, Spawner, Protocol):
    """What UnlockConnector uses: the connectors, and the transaction flow's stop and the
    status after it (both in the background, after the .conf)."""

    async def stop_transaction(self, port: Port, reason: str,
                               id_tag: str | None = None) -> None: ...

    async def settle(self, port: Port) -> None: ...


def unlock_connector(ctx: LockContext, payload: dict) -> dict:
    """Unlocked / UnlockFailed / NotSupported (no lock or unknown connector, errata 3.87).

    A running transaction is finished first with reason UnlockCommand (§5.18); the lock opens
    now, so the .conf says whether it did and precedes the StopTransaction.
    """
    connector_id = payload["connectorId"]
    if not 1 <= connector_id <= len(ctx.ports):
        return {"status": UnlockStatus.not_supported.value}
    port = ctx.port(connector_id)
    if not port.lock.present:
        return {"status": UnlockStatus.not_supported.value}
    if port.tx is not None:
        ctx.spawn(ctx.stop_transaction(port, "UnlockCommand"))
    status = port.lock.release()
    if port.tx is None and port.status is ConnectorStatus.finishing and not port.plugged:
        ctx.spawn(ctx.settle(port))  # a cable kept locked for its user: F1
    return {"status": status.value}
