"""The control surface of a virtual charge point: what users, EVs and faults do to it.

`ChargePoint` inherits these methods, so a test or scenario drives one charge point the way a
person or a fault would: `plug_in()`, `present_id_tag()`, `ev_full()`, `fault()`, `jam_lock()`,
`plug_out()`, `go_offline()` / `go_online()`, `power_loss()`. Each one changes the hardware state
and lets the OCPP flows (`sim.features.transactions`) report it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sim.connector import ConnectorError, ConnectorStatus
from sim.features import reserving
from sim.features import transactions as txs

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint
    from sim.features.transactions import Port

_S = ConnectorStatus


def _host(surface: ControlSurface) -> ChargePoint:
    """The charge point this surface is mixed into: `ChargePoint` is its only subclass, and the
    flows it drives (`sim.features.transactions`) take the whole charge point."""
    return cast("ChargePoint", surface)


class ControlSurface:
    """User, EV and fault actions; mixed into `ChargePoint` (no state of its own)."""

    __slots__ = ()

    async def plug_in(self, connector: int = 1) -> None:
        """The user plugs an EV in: start if already authorized, else Preparing."""
        cp = _host(self)
        port = cp.port(connector)
        if port.plugged:
            return
        port.plugged = True
        port.ev = cp.ev_factory(connector)
        port.meter.plug_in(port.ev)
        txs.advance(cp, port)
        if port.tx is not None:  # EV came back (StopTransactionOnEVSideDisconnect false)
            port.meter.close_contactor()
            await txs.sync_energized(cp, port)
        elif port.authorized_tag is not None:
            await txs.start(cp, port, port.authorized_tag)
        elif port.operative and port.status in (_S.available, _S.finishing):
            await txs.prepare(cp, port)

    async def plug_out(self, connector: int = 1) -> None:
        """The cable is removed at the EV side (1.6 §4.10, StopTransactionOnEVSideDisconnect,
        UnlockConnectorOnEVSideDisconnect)."""
        cp = _host(self)
        port = cp.port(connector)
        if not port.plugged:
            return
        txs.advance(cp, port)
        port.plugged = False
        port.meter.unplug()
        port.ev = None
        if port.tx is not None:
            if cp.config.stop_transaction_on_ev_side_disconnect is not False:
                await txs.stop(cp, port, "EVDisconnected")
            else:  # C4: waits for the EV to return; the cable stays locked (§4.10)
                await cp.set_status(port, _S.suspended_ev)
            return
        txs.cancel_timeout(port)
        if port.status in (_S.preparing, _S.finishing):
            port.authorized_tag = None
            await txs.settle(cp, port)

    async def present_id_tag(self, tag: str, connector: int | None = None) -> bool:
        """An RFID card is presented: stops the own transaction, opens a cable lock kept for
        it (§4.10), else authorizes and starts (or waits for the plug). Returns whether the
        tag was accepted."""
        cp = _host(self)
        port = cp._port_for_tag(tag, connector)
        if port is None:
            return False
        if port.tx is not None:
            if port.tx.id_tag != tag and not await cp.authorize(tag):
                return False
            await txs.stop(cp, port, "Local", tag)
            return True
        if port.lock.release_for(tag):
            if port.status is _S.finishing and not port.plugged:
                await txs.settle(cp, port)  # F1: the user took the cable, all done
            return True
        if not await cp.authorize(tag) or not await reserving.admit(cp, port, tag):
            return False  # a Reserved connector refuses other tags (1.6 §5.13)
        if port.plugged:
            await txs.start(cp, port, tag)
        else:
            port.authorized_tag = tag
            await txs.prepare(cp, port)
        return True

    def _port_for_tag(self, tag: str, connector: int | None) -> Port | None:
        cp = _host(self)
        if connector is not None:
            return cp.port(connector)
        candidates = (
            [p for p in cp.ports if p.tx and p.tx.id_tag == tag]
            + [p for p in cp.ports if p.tx is None and p.lock.held_for_tag(tag)]
            + [p for p in [reserving.reserved_for(cp, tag)] if p and p.tx is None]
            # Finishing with the cable in: the user restarts charging (1.6 §4.9 F2)
            + [p for p in cp.ports if p.tx is None and p.plugged
               and p.status in (_S.preparing, _S.finishing)]
            + [p for p in cp.ports if p.tx is None and p.status is _S.available]
        )
        return candidates[0] if candidates else None

    async def ev_full(self, connector: int = 1) -> None:
        """The EV's battery reached its target: SuspendedEV (C4)."""
        cp = _host(self)
        port = cp.port(connector)
        txs.advance(cp, port)
        if port.ev is not None:
            port.ev.soc = port.ev.target_soc
        await txs.sync_energized(cp, port)

    async def fault(self, connector: int, error_code: str = "OtherError") -> None:
        """A fault prevents charging (A9..H9); connector 0 faults the whole charge point."""
        cp = _host(self)
        code = ConnectorError(error_code)
        if connector == 0:
            await cp.set_status(cp.connector0, _S.faulted, code)
            return
        port = cp.port(connector)
        txs.advance(cp, port)
        port.meter.open_contactor()
        await cp.set_status(port, _S.faulted, code)

    async def clear_fault(self, connector: int) -> None:
        """The fault is resolved: back to the pre-fault state (I1..I8)."""
        cp = _host(self)
        conn = cp.connector0 if connector == 0 else cp.port(connector).connector
        back = conn.pre_fault_status or _S.available
        if connector != 0 and cp.port(connector).tx is not None:
            cp.port(connector).meter.close_contactor()
        await cp.set_status(conn, back)

    def jam_lock(self, connector: int, jammed: bool = True) -> None:
        """The cable lock's mechanism fails (UnlockConnector then answers UnlockFailed) or is
        repaired."""
        cp = _host(self)
        cp.port(connector).lock.jammed = jammed

    async def go_offline(self) -> None:
        """Drop the connection and stay offline until `go_online()`."""
        cp = _host(self)
        link = cp.link
        link.online_wanted.clear()
        if link.session is not None:
            await link.session.close()

    async def go_online(self) -> None:
        """Allow reconnecting (at once, no back-off)."""
        cp = _host(self)
        cp.link.online_wanted.set()

    async def power_loss(self) -> None:
        """Power is cut and comes back: open transactions end with reason PowerLoss (queued
        for delivery after the reboot), volatile state is lost, the charge point boots again."""
        cp = _host(self)
        for port in cp.ports:
            txs.cut_power(cp, port)
        link = cp.link
        link.reboot_reason = "PowerLoss"
        if link.session is not None:
            await link.session.close()
