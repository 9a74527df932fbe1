"""The control surface of a virtual charge point: what users, EVs and faults do to it.

`ChargePoint` inherits these methods, so a test or scenario drives one charge point the way a
person or a fault would: `plug_in()`, `present_id_tag()`, `ev_full()`, `fault()`, `jam_lock()`,
`plug_out()`, `go_offline()` / `go_online()`, `power_loss()`. Each one changes the hardware state
and lets the OCPP flows (`sim.features.transactions`) report it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from sim.features import reserving
from sim.features import transactions as txs

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint
    from sim.features.transactions import Port

_S = ChargePointStatus


class ControlSurface:
    """User, EV and fault actions; mixed into `ChargePoint` (no state of its own)."""

    __slots__ = ()

    async def plug_in(self: ChargePoint, connector: int = 1) -> None:
        """The user plugs an EV in: start if already authorized, else Preparing."""
        port = self.port(connector)
        if port.plugged:
            return
        port.plugged = True
        port.ev = self.ev_factory(connector)
        port.meter.plug_in(port.ev)
        txs.advance(self, port)
        if port.tx is not None:  # EV came back (StopTransactionOnEVSideDisconnect false)
            port.meter.close_contactor()
            await txs.sync_energized(self, port)
        elif port.authorized_tag is not None:
            await txs.start(self, port, port.authorized_tag)
        elif port.operative and port.status in (_S.available, _S.finishing):
            await txs.prepare(self, port)

    async def plug_out(self: ChargePoint, connector: int = 1) -> None:
        """The cable is removed at the EV side (1.6 §4.10, StopTransactionOnEVSideDisconnect,
        UnlockConnectorOnEVSideDisconnect)."""
        port = self.port(connector)
        if not port.plugged:
            return
        txs.advance(self, port)
        port.plugged = False
        port.meter.unplug()
        port.ev = None
        if port.tx is not None:
            if self.config.stop_transaction_on_ev_side_disconnect is not False:
                await txs.stop(self, port, "EVDisconnected")
            else:  # C4: waits for the EV to return; the cable stays locked (§4.10)
                await self.set_status(port, _S.suspended_ev)
            return
        txs.cancel_timeout(port)
        if port.status in (_S.preparing, _S.finishing):
            port.authorized_tag = None
            await txs.settle(self, port)

    async def present_id_tag(self: ChargePoint, tag: str, connector: int | None = None) -> bool:
        """An RFID card is presented: stops the own transaction, opens a cable lock kept for
        it (§4.10), else authorizes and starts (or waits for the plug). Returns whether the
        tag was accepted."""
        port = self._port_for_tag(tag, connector)
        if port is None:
            return False
        if port.tx is not None:
            if port.tx.id_tag != tag and not await self.authorize(tag):
                return False
            await txs.stop(self, port, "Local", tag)
            return True
        if port.lock.release_for(tag):
            if port.status is _S.finishing and not port.plugged:
                await txs.settle(self, port)  # F1: the user took the cable, all done
            return True
        if not await self.authorize(tag) or not await reserving.admit(self, port, tag):
            return False  # a Reserved connector refuses other tags (1.6 §5.13)
        if port.plugged:
            await txs.start(self, port, tag)
        else:
            port.authorized_tag = tag
            await txs.prepare(self, port)
        return True

    def _port_for_tag(self: ChargePoint, tag: str, connector: int | None) -> Port | None:
        if connector is not None:
            return self.port(connector)
        candidates = (
            [p for p in self.ports if p.tx and p.tx.id_tag == tag]
            + [p for p in self.ports if p.tx is None and p.lock.held_for_tag(tag)]
            + [p for p in [reserving.reserved_for(self, tag)] if p and p.tx is None]
            # Finishing with the cable in: the user restarts charging (1.6 §4.9 F2)
            + [p for p in self.ports if p.tx is None and p.plugged
               and p.status in (_S.preparing, _S.finishing)]
            + [p for p in self.ports if p.tx is None and p.status is _S.available]
        )
        return candidates[0] if candidates else None

    async def ev_full(self: ChargePoint, connector: int = 1) -> None:
        """The EV's battery reached its target: SuspendedEV (C4)."""
        port = self.port(connector)
        txs.advance(self, port)
        if port.ev is not None:
            port.ev.soc = port.ev.target_soc
        await txs.sync_energized(self, port)

    async def fault(self: ChargePoint, connector: int, error_code: str = "OtherError") -> None:
        """A fault prevents charging (A9..H9); connector 0 faults the whole charge point."""
        code = ChargePointErrorCode(error_code)
        if connector == 0:
            await self.set_status(self.connector0, _S.faulted, code)
            return
        port = self.port(connector)
        txs.advance(self, port)
        port.meter.open_contactor()
        await self.set_status(port, _S.faulted, code)

    async def clear_fault(self: ChargePoint, connector: int) -> None:
        """The fault is resolved: back to the pre-fault state (I1..I8)."""
        conn = self.connector0 if connector == 0 else self.port(connector).connector
        back = conn.pre_fault_status or _S.available
        if connector != 0 and self.port(connector).tx is not None:
            self.port(connector).meter.close_contactor()
        await self.set_status(conn, back)

    def jam_lock(self: ChargePoint, connector: int, jammed: bool = True) -> None:
        """The cable lock's mechanism fails (UnlockConnector then answers UnlockFailed) or is
        repaired."""
        self.port(connector).lock.jammed = jammed

    async def go_offline(self: ChargePoint) -> None:
        """Drop the connection and stay offline until `go_online()`."""
        self.online_wanted.clear()
        if self.session is not None:
            await self.session.close()

    async def go_online(self: ChargePoint) -> None:
        """Allow reconnecting (at once, no back-off)."""
        self.online_wanted.set()

    async def power_loss(self: ChargePoint) -> None:
        """Power is cut and comes back: open transactions end with reason PowerLoss (queued
        for delivery after the reboot), volatile state is lost, the charge point boots again."""
        for port in self.ports:
            txs.cut_power(self, port)
        self.reboot_reason = "PowerLoss"
        if self.session is not None:
            await self.session.close()
