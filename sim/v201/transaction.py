"""When a 2.0.1 transaction starts and ends, and what its TransactionEventRequests say (sans-I/O).

TxCtrlr.TxStartPoint / TxStopPoint (part 2 E "Flexible transaction start/stop") are lists of
points; a transaction starts when the first listed condition becomes true (E01.FR.01-06) and
ends when any listed condition is no longer true (E06.FR.01-07). `Facts` is what the EVSE knows
now; `starts()` and `ends()` are pure functions of the points and the facts. "No longer" needs
a past: a stop point ends the transaction only once it held during it (`Transaction.held`), so a
transaction started by Authorized before the cable is in does not end at once for TxStopPoint
EVConnected (the note of E03.FR.05 asks the CSMS for sensible pairs, it does not guarantee
them).

`Transaction` numbers its events (seqNo 0, 1, 2... per transaction: part 2 E "Sequence Number
Generation"), carries the idToken in the first event after authorization (E01.FR.10,
E02.FR.01, E03.FR.01), the evse after the EV connected (E01.FR.16), the chargingState when it
changed (E01.FR.18) and the remoteStartId in the first event after RequestStartTransaction
(F01.FR.25, F02.FR.01). Its transactionId is a random UUID: never the same twice, reboots
included (E01.FR.08).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["ChargingState", "Facts", "Transaction", "TxPoint", "ends", "parse_points", "starts"]


class TxPoint(StrEnum):
    """TxStartPointValues (part 2 E, "Flexible transaction start/stop")."""

    PARKING_BAY_OCCUPANCY = "ParkingBayOccupancy"
    EV_CONNECTED = "EVConnected"
    AUTHORIZED = "Authorized"
    DATA_SIGNED = "DataSigned"
    POWER_PATH_CLOSED = "PowerPathClosed"
    ENERGY_TRANSFER = "EnergyTransfer"


class ChargingState(StrEnum):
    """ChargingStateEnumType (part 2 §3.14)."""

    CHARGING = "Charging"
    EV_CONNECTED = "EVConnected"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    IDLE = "Idle"


def parse_points(value: str | Iterable[str] | None) -> frozenset[TxPoint]:
    """The points of a TxStartPoint/TxStopPoint value ("EVConnected,Authorized"); names that are
    no point raise ValueError (the device model's valuesList should have refused them)."""
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(TxPoint(item.strip()) for item in items if item.strip())


@dataclass(frozen=True, slots=True)
class Facts:
    """What one EVSE knows now."""

    ev_connected: bool = False
    authorized: bool = False
    #: contactor closed: the EV may draw energy (authorized and connected)
    power_path_closed: bool = False
    #: energy flows (chargingState Charging)
    energy_transfer: bool = False
    parking_bay_occupied: bool = False
    #: a signed meter value was retrieved (no signing meter is simulated: always False)
    data_signed: bool = False


def _holds(point: TxPoint, facts: Facts) -> bool:
    match point:
        case TxPoint.PARKING_BAY_OCCUPANCY:
            return facts.parking_bay_occupied  # E01.FR.01, E06.FR.01
        case TxPoint.EV_CONNECTED:
            return facts.ev_connected  # E01.FR.02, E06.FR.02
        case TxPoint.AUTHORIZED:
            return facts.authorized  # E01.FR.03, E06.FR.03/04
        case TxPoint.DATA_SIGNED:
            return facts.data_signed  # E01.FR.04, E06.FR.05
        case TxPoint.POWER_PATH_CLOSED:
            # E01.FR.05: authorized AND connected; E06.FR.06: either lost ends it
            return facts.authorized and facts.ev_connected
        case TxPoint.ENERGY_TRANSFER:
            return facts.energy_transfer  # E01.FR.06, E06.FR.07


def starts(points: frozenset[TxPoint], facts: Facts) -> TxPoint | None:
    """The start point that holds now (E01.FR.01-06), None when none does. The caller starts
    a transaction only where none has started yet on the EVSE (E01.FR.14)."""
    return next((p for p in TxPoint if p in points and _holds(p, facts)), None)


def ends(points: frozenset[TxPoint], facts: Facts,
         held: frozenset[TxPoint] | set[TxPoint] = frozenset(TxPoint)) -> TxPoint | None:
    """The stop point that no longer holds (E06.FR.01-07), None while every one holds; only
    points in `held` (those that held since the transaction started) count."""
    return next((p for p in TxPoint if p in points and p in held and not _holds(p, facts)),
                None)


@dataclass(slots=True)
class Transaction:
    """One transaction of one EVSE, and the numbering and content rules of its events."""

    evse_id: int
    connector_id: int
    transaction_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq_no: int = 0
    id_token: dict | None = None
    remote_start_id: int | None = None
    charging_state: ChargingState | None = None
    ended: bool = False
    #: what the next event must carry (the rules of the module docstring)
    _token_due: bool = False
    _evse_due: bool = True
    _remote_due: bool = False
    _state_sent: ChargingState | None = None
    #: a reservation this transaction ends, until an event named it (E01.FR.13)
    reservation_id: int | None = None
    #: the points that held at some time since the start (`ends`)
    held: set[TxPoint] = field(default_factory=set)

    def observe(self, facts: Facts) -> None:
        """Note which points hold now (call on every change of the facts)."""
        self.held.update(p for p in TxPoint if _holds(p, facts))

    def authorize(self, id_token: dict) -> None:
        """The driver is authorized: the next event carries the idToken (E01.FR.10)."""
        self.id_token = dict(id_token)
        self._token_due = True

    def remote_start(self, remote_start_id: int) -> None:
        """F01.FR.25, F02.FR.01: the next event names the remote start."""
        self.remote_start_id = remote_start_id
        self._remote_due = True

    def reserved(self, reservation_id: int) -> None:
        """This transaction ends a reservation: the next event names it (E01.FR.13)."""
        self.reservation_id = reservation_id

    def force_state(self) -> None:
        """The next event carries the chargingState even if unchanged (F06.FR.07)."""
        self._state_sent = None

    def ev_connected(self) -> None:
        """E01.FR.16: the next event names evse and connector."""
        self._evse_due = True

    def event(self, event_type: str, trigger: str, timestamp: str, *,
              meter_values: list[dict] | None = None, stopped_reason: str | None = None,
              offline: bool = False, token: dict | None = None) -> dict:
        """The next TransactionEventRequest of this transaction (its seqNo taken). `token`:
        an idToken this event carries besides the rules (E07.FR.02: the one that stopped)."""
        info: dict[str, Any] = {"transactionId": self.transaction_id}
        if self.charging_state is not None and self.charging_state != self._state_sent:
            info["chargingState"] = self.charging_state.value  # E01.FR.18
            self._state_sent = self.charging_state
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason  # E06.FR.08
        if self._remote_due and self.remote_start_id is not None:
            info["remoteStartId"] = self.remote_start_id
            self._remote_due = False
        payload: dict[str, Any] = {
            "eventType": event_type, "timestamp": timestamp, "triggerReason": trigger,
            "seqNo": self.seq_no, "transactionInfo": info,
        }
        self.seq_no += 1
        if offline:
            payload["offline"] = True  # E04.FR.03
        if token is not None:
            payload["idToken"] = dict(token)
        elif self._token_due and self.id_token is not None:
            payload["idToken"] = dict(self.id_token)
            self._token_due = False
        if self._evse_due or event_type == "Started":
            payload["evse"] = {"id": self.evse_id, "connectorId": self.connector_id}
            self._evse_due = False
        if meter_values:
            payload["meterValue"] = meter_values
        if self.reservation_id is not None:
            payload["reservationId"] = self.reservation_id  # E01.FR.13, H01.FR.15
            self.reservation_id = None
        if event_type == "Ended":
            self.ended = True
        return payload
