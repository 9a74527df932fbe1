"""What the charge point under test is doing, read from the wire, and getting it back to idle.

Isolation between cases must not depend on what a case remembered in its variables: a case
that failed early never saved its transaction id. `WireState` is fed every frame of every
connection of the charger (`HarnessPeer.observer`) and keeps what the frames prove: a
StartTransaction we answered and no StopTransaction for it is a running transaction; the
latest StatusNotification per connector is its status; a ReserveNow or SetChargingProfile
we sent and the charger accepted is a reservation or a profile until it is cancelled,
cleared, used or ended. The operator side (cable plugged in, lock jammed, network cut) is
what our own operator actions did (`note_action`).

`restore_idle` undoes it all and says, in one line, what it could not undo; the harness then
reports the NEXT case as an error ("charger not idle: ..."), never as a verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import pytest

from chargebench.trace import TraceRecord

#: Connector statuses that mean idle (1.6 §4.9 ChargePointStatus).
IDLE = "Available"
#: Configuration keys a case may raise but never lower (security whitepaper A05.FR.01)
NOT_RESTORED = frozenset({"SecurityProfile", "AuthorizationKey"})


@dataclass
class WireState:
    """The charger's state as the frames show it (sans-I/O: `observe` each frame)."""

    #: our transactionId -> connector, for StartTransactions without a StopTransaction
    transactions: dict[int, int] = field(default_factory=dict)
    #: connector -> latest status reported
    status: dict[int, str] = field(default_factory=dict)
    #: reservationId -> connector, for reservations the charger accepted
    reservations: dict[int, int] = field(default_factory=dict)
    #: chargingProfileId -> (connector, purpose), for profiles the charger accepted
    profiles: dict[int, tuple[int, str]] = field(default_factory=dict)
    #: configuration keys changed (Accepted) since `changes` was last cleared: key -> value
    changes: dict[str, str] = field(default_factory=dict)
    # operator side, from our own operator actions
    plugged: set[int] = field(default_factory=set)
    faulted: set[int] = field(default_factory=set)
    jammed: set[int] = field(default_factory=set)
    offline: bool = False
    failing_install: bool = False
    #: we answered an idTag with a status other than Accepted: an Authorization Cache keeps
    #: it (1.6 §3.5.1) and would refuse the suite's tag in a later case
    cache_dirty: bool = False
    _calls: dict[str, tuple[str, Any, str]] = field(default_factory=dict)

    def observe(self, frame: TraceRecord, incoming: bool) -> None:
        """One frame; `incoming`: sent by the charger."""
        if frame.type == "CALL" and frame.id is not None:
            self._calls[frame.id] = (frame.action or "", frame.payload, frame.dir)
            if incoming:
                self._charger_call(frame.action or "", frame.payload or {})
            return
        if frame.type not in ("CALLRESULT", "CALLERROR") or frame.id is None:
            return
        call = self._calls.pop(frame.id, None)
        if call is None or call[2] == frame.dir or frame.type != "CALLRESULT":
            return
        action, request, _ = call
        reply = frame.payload if isinstance(frame.payload, dict) else {}
        request = request if isinstance(request, dict) else {}
        if incoming:
            self._charger_reply(action, request, reply)
            return
        if action == "StartTransaction" and isinstance(reply.get("transactionId"), int):
            self.transactions[reply["transactionId"]] = request.get("connectorId", 0)
        info = reply.get("idTagInfo")
        if isinstance(info, dict) and info.get("status", "Accepted") != "Accepted":
            self.cache_dirty = True

    def _charger_call(self, action: str, payload: dict) -> None:
        if action == "StatusNotification" and isinstance(payload.get("connectorId"), int):
            self.status[payload["connectorId"]] = payload.get("status", "")
        elif action == "StartTransaction" and "reservationId" in payload:
            self.reservations.pop(payload["reservationId"], None)  # 1.6 §5.13 (1)
        elif action == "StopTransaction":
            connector = self.transactions.pop(payload.get("transactionId"), None)
            # 1.6 §3.13.1: a TxProfile ends with its transaction
            for pid, (where, purpose) in list(self.profiles.items()):
                if purpose == "TxProfile" and where in (connector, None):
                    del self.profiles[pid]

    def _charger_reply(self, action: str, request: dict, reply: dict) -> None:
        accepted = reply.get("status") == "Accepted"
        if action == "ReserveNow" and accepted:
            self.reservations[request.get("reservationId")] = request.get("connectorId")
        elif action == "CancelReservation":
            self.reservations.pop(request.get("reservationId"), None)
        elif action == "SetChargingProfile" and accepted:
            body = request.get("csChargingProfiles") or {}
            self.profiles[body.get("chargingProfileId")] = (
                request.get("connectorId"), body.get("chargingProfilePurpose", ""))
        elif action == "ClearChargingProfile" and reply.get("status") in ("Accepted", "Unknown"):
            for pid, (connector, purpose) in list(self.profiles.items()):
                if _cleared(request, pid, connector, purpose):
                    del self.profiles[pid]
        elif action == "ChangeConfiguration" and reply.get("status") in (
                "Accepted", "RebootRequired"):
            self.changes[request.get("key", "")] = request.get("value", "")

    def note_action(self, action: str, params: dict) -> None:
        """An operator action the harness had done (`conformance.operator`)."""
        connector = params.get("connector", 1)
        if action == "plug_in":
            self.plugged.add(connector)
        elif action == "plug_out":
            self.plugged.discard(connector)
        elif action == "fault":
            self.faulted.add(connector)
        elif action == "clear_fault":
            self.faulted.discard(connector)
        elif action == "jam_lock":
            (self.jammed.add if params.get("jammed", True) else self.jammed.discard)(connector)
        elif action == "go_offline":
            self.offline = True
        elif action == "go_online":
            self.offline = False
        elif action == "fail_firmware_install":
            self.failing_install = params.get("fail", True)

    def problems(self) -> list[str]:
        """Why the charger is not idle, per what the wire showed; empty when it is."""
        found = []
        if self.transactions:
            found.append(f"transaction(s) {sorted(self.transactions)} running (StartTransaction "
                         "without StopTransaction)")
        busy = {c: s for c, s in sorted(self.status.items()) if s != IDLE}
        if busy:
            found.append("connector status " + ", ".join(f"{c}: {s}" for c, s in busy.items()))
        if self.reservations:
            found.append(f"reservation(s) {sorted(self.reservations)} still held")
        if self.profiles:
            found.append(f"charging profile(s) {sorted(self.profiles)} still installed")
        if self.offline:
            found.append("the charger is offline")
        return found


def _cleared(request: dict, pid: int, connector: Any, purpose: str) -> bool:
    """Whether ClearChargingProfile `request` removes profile `pid` (1.6 §5.5)."""
    if "id" in request:
        return request["id"] == pid
    if "connectorId" in request and request["connectorId"] != connector:
        return False
    return request.get("chargingProfilePurpose", purpose) == purpose


async def restore_idle(
    state: WireState, listener: Any, operator: Any, *, timeout: float,
    reconnect_timeout: float, original: dict[str, str],
) -> str | None:
    """Bring the charger back to idle: operator undoes what it did, running transactions are
    stopped remotely, reservations cancelled, profiles we installed cleared, configuration
    changed by the case restored to `original`, availability back to Operative. Returns None
    when the wire then shows an idle charger, else why not (one line)."""

    async def operate(action: str, **params: Any) -> None:
        with contextlib.suppress(Exception, pytest.skip.Exception):
            await operator.perform(action, **params)
            state.note_action(action, params)

    if state.offline:
        await operate("go_online")
    for connector in sorted(state.jammed):
        await operate("jam_lock", connector=connector, jammed=False)
    faulted = state.faulted | {c for c, s in state.status.items() if s == "Faulted" and c}
    for connector in sorted(faulted):
        await operate("clear_fault", connector=connector)
    if state.failing_install:
        await operate("fail_firmware_install", fail=False)
    try:
        peer = await listener.connection(reconnect_timeout)
    except TimeoutError:
        return "the charger is not connected"
    await peer.boot_settled()

    async def send(action: str, payload: dict) -> dict:
        with contextlib.suppress(Exception):
            reply = await peer.call(action, payload, timeout=timeout)
            return reply.payload if reply.type == "CALLRESULT" else {}
        return {}

    for tx in list(state.transactions):
        answer = await send("RemoteStopTransaction", {"transactionId": tx})
        if answer.get("status") == "Rejected":
            # 1.6 §5.12: Rejected means the charger runs no such transaction
            state.transactions.pop(tx, None)
    for connector in sorted(state.plugged):
        await operate("plug_out", connector=connector)
    for rid in list(state.reservations):
        await send("CancelReservation", {"reservationId": rid})
        state.reservations.pop(rid, None)  # Rejected: the charger holds no such reservation
    for pid in list(state.profiles):
        await send("ClearChargingProfile", {"id": pid})
    for key, value in list(state.changes.items()):
        if key in original and key not in NOT_RESTORED and original[key] != value:
            await send("ChangeConfiguration", {"key": key, "value": original[key]})
    state.changes.clear()
    if state.cache_dirty:  # 1.6 §5.4; a charger without a cache answers Rejected: fine too
        await send("ClearCache", {})
        state.cache_dirty = False
    for connector, status in sorted(state.status.items()):
        if status == "Unavailable":
            await send("ChangeAvailability", {"connectorId": connector, "type": "Operative"})
    # a connector Preparing without cable returns to Available after ConnectionTimeOut
    # (1.6 §9.1.6): wait that long when one is
    window = timeout
    if "Preparing" in state.status.values():
        with contextlib.suppress(ValueError):
            window += float(original.get("ConnectionTimeOut", 0))
    if await _settled(state, window):
        return None
    if not state.offline and not listener.current.closed:
        # last resort: a soft reset ends what is left (1.6 §5.14), e.g. a connector the
        # charger never gives back; then its boot and statuses show whether it is idle
        answer = await send("Reset", {"type": "Soft"})
        if answer.get("status") == "Accepted":
            with contextlib.suppress(TimeoutError):
                peer = await listener.reconnection(peer, reconnect_timeout)
                await asyncio.wait_for(peer.boot_answered.wait(), reconnect_timeout)
            if await _settled(state, timeout):
                return None
    return "; ".join(state.problems())


async def _settled(state: WireState, window: float) -> bool:
    """Whether the wire shows an idle charger within `window` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + window
    while state.problems() and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return not state.problems()
