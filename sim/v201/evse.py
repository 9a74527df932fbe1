"""One EVSE of a 2.0.1 station and the transaction flows on it (E01-E07, F01-F03).

Every flow follows one pattern: change a fact (cable in, driver authorized, power path
closed...), then `settle()` decides, from TxStartPoint / TxStopPoint (`sim.v201.transaction`),
whether that starts the transaction (TransactionEvent Started), ends it (Ended) or is one more
event of it (Updated), with the triggerReason of the fact that changed (E01.FR.15, E02.FR.17).
Connector statuses follow `sim.v201.connectors` and go out as StatusNotification (G01): Occupied
before the event of a cable plugged in (E02.FR.05), Available after the Ended of an unplug.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim.connector import ConnectorStatus
from sim.ev import EV, Meter
from sim.features.metering import TransactionMeter
from sim.v201 import display, metering, reservations, smart_charging
from sim.v201.connectors import Connector, Event
from sim.v201.settings import VARIABLES
from sim.v201.transaction import (
    ChargingState,
    Facts,
    Transaction,
    TxPoint,
    ends,
    parse_points,
    starts,
)

if TYPE_CHECKING:
    from sim.v201.reservations import Reservation
    from sim.v201.station import ChargingStation

__all__ = ["Evse"]

log = logging.getLogger(__name__)

#: the meter model's energized states (the 1.6 connector statuses) as 2.0.1 ChargingStateEnumType
_CHARGING_STATE = {
    ConnectorStatus.charging: ChargingState.CHARGING,
    ConnectorStatus.suspended_ev: ChargingState.SUSPENDED_EV,
    ConnectorStatus.suspended_evse: ChargingState.SUSPENDED_EVSE,
}


@dataclass(slots=True)
class Evse:
    """One EVSE with one connector (connector 1), its meter and its transaction."""

    id: int
    meter: Meter
    connector: Connector = field(init=False)
    tx: Transaction | None = None
    ev_connected: bool = False
    authorized: bool = False
    #: the IdTokenType of the authorization in force
    token: dict | None = None
    #: F02.FR.21: the next event's trigger is RemoteStart, with this remoteStartId
    remote_start_id: int | None = None
    #: monotonic time the meter was last advanced to
    metered_at: float | None = None
    #: the TxUpdatedInterval sampler and the EVConnectionTimeOut timer (E03.FR.05)
    sampler: asyncio.Task | None = None
    connection_timer: asyncio.Task | None = None
    #: the cable lock's mechanism fails (`ChargingStation.jam_lock`; F05.FR.05)
    lock_jammed: bool = False
    #: the TxEndedMeasurands readings of the running transaction (J02: its Ended event)
    ended_meter: TransactionMeter | None = None
    ended_sampler: asyncio.Task | None = None
    #: the reservation holding this EVSE (`sim.v201.reservations`)
    reservation: Reservation | None = None
    #: a reservation used by the authorization: the next event names it (H01.FR.15)
    reservation_used: int | None = None

    def __post_init__(self) -> None:
        self.connector = Connector(self.id, 1)

    @property
    def facts(self) -> Facts:
        closed = self.meter.contactor_closed
        return Facts(ev_connected=self.ev_connected, authorized=self.authorized,
                     power_path_closed=closed,
                     energy_transfer=closed and self.charging_state is ChargingState.CHARGING)

    @property
    def charging_state(self) -> ChargingState:
        """ChargingStateEnumType now (part 2 §3.14)."""
        energized = self.meter.charging_status()
        if energized is not None:
            return _CHARGING_STATE[energized]
        return ChargingState.EV_CONNECTED if self.ev_connected else ChargingState.IDLE

    def advance(self, now: float) -> None:
        """Let the meter run up to monotonic time `now` (energy, SoC)."""
        if self.metered_at is not None and now > self.metered_at:
            self.meter.advance(now - self.metered_at)
        self.metered_at = now


# Flows ---------------------------------------------------------------------------------------


async def plug_in(st: ChargingStation, evse: Evse, ev: EV) -> None:
    """An EV's cable is plugged in (E02: StatusNotification Occupied, then the event)."""
    if evse.ev_connected:
        return
    evse.advance(st.clock.monotonic())
    evse.meter.plug_in(ev)
    evse.ev_connected = True
    cancel_timer(evse)
    await st.status_changed(evse, evse.connector.apply(Event.PLUG_IN))  # E02.FR.05
    if evse.tx is not None:
        evse.tx.ev_connected()  # E01.FR.16
    await settle(st, evse, "CablePluggedIn")


async def plug_out(st: ChargingStation, evse: Evse) -> None:
    """The cable is unplugged: EVCommunicationLost (E06.FR.02), then Available (G01.FR.04)."""
    if not evse.ev_connected:
        return
    evse.advance(st.clock.monotonic())
    evse.ev_connected = False
    evse.meter.unplug()
    # E09.FR.01 (StopTxOnEVSideDisconnect, libocpp ReadOnly true): unplugging deauthorizes
    evse.authorized = False
    await settle(st, evse, "EVCommunicationLost", stopped_reason="EVDisconnected")
    await st.status_changed(evse, evse.connector.apply(Event.PLUG_OUT))


async def authorized(st: ChargingStation, evse: Evse, token: dict, *,
                     remote_start_id: int | None = None) -> None:
    """The driver is authorized on `evse` (C01 accepted, or RequestStartTransaction: F01/F02).
    The next event carries the idToken with triggerReason Authorized (E02.FR.01, E02.FR.20)
    or RemoteStart and the remoteStartId (F01.FR.19, F02.FR.21)."""
    evse.authorized, evse.token = True, dict(token)
    evse.remote_start_id = remote_start_id
    if evse.reservation is not None and evse.reservation.matches(token):
        evse.reservation_used = evse.reservation.id  # H03.FR.09: used
        await reservations.end(st, evse, None)  # H03.FR.10: Available or Occupied
    if evse.tx is not None:
        evse.tx.authorize(token)
        if remote_start_id is not None:
            evse.tx.remote_start(remote_start_id)
        if evse.reservation_used is not None:
            evse.tx.reserved(evse.reservation_used)
            evse.reservation_used = None
    trigger = "RemoteStart" if remote_start_id is not None else "Authorized"
    if not evse.ev_connected:
        start_connection_timer(st, evse)  # E03.FR.05
    await settle(st, evse, trigger)


async def stop_authorized(st: ChargingStation, evse: Evse, token: dict) -> None:
    """E07: the driver ends the authorization (StopAuthorized; stoppedReason Local, E07.FR.05)."""
    evse.authorized = False
    await settle(st, evse, "StopAuthorized", stopped_reason="Local", token=token)


async def remote_stop(st: ChargingStation, evse: Evse) -> None:
    """F03: RequestStopTransaction accepted: the authorization ends (RemoteStop, stoppedReason
    Remote: F03.FR.02/03)."""
    evse.authorized = False
    await settle(st, evse, "RemoteStop", stopped_reason="Remote")


async def deauthorized(st: ChargingStation, evse: Evse) -> None:
    """E05.FR.09/10, E06.FR.04: the CSMS answered a non-Accepted idTokenInfo."""
    evse.authorized = False
    await settle(st, evse, "Deauthorized", stopped_reason="DeAuthorized")


async def suspended_invalid(st: ChargingStation, evse: Evse) -> None:
    """E05.FR.02: the CSMS answered a non-Accepted idTokenInfo, StopTxOnInvalidId false: the
    energy delivery stops (a limit of 0: ChargingStateChanged, SuspendedEVSE)."""
    evse.advance(st.clock.monotonic())
    evse.meter.set_limit(amps=0)
    await settle(st, evse, "ChargingStateChanged")


async def abnormal_end(st: ChargingStation, evse: Evse, stopped_reason: str) -> None:
    """E06.FR.16: a fault or a power loss stops the transaction: Ended, AbnormalCondition."""
    await ended_by(st, evse, "AbnormalCondition", stopped_reason)


async def ended_by(st: ChargingStation, evse: Evse, trigger: str, stopped_reason: str) -> None:
    """The station itself ends the transaction (a fault, a reset), whatever the stop points."""
    if evse.tx is not None and not evse.tx.ended:
        await _end(st, evse, trigger, stopped_reason, None)


async def ev_changed(st: ChargingStation, evse: Evse) -> None:
    """The EV changed what it draws (full, paused): ChargingStateChanged (E01.FR.18/19)."""
    evse.advance(st.clock.monotonic())
    await settle(st, evse, "ChargingStateChanged")


async def settle(st: ChargingStation, evse: Evse, trigger: str, *,
                 stopped_reason: str | None = None, token: dict | None = None) -> None:
    """Decide, from the facts now, what the transaction does, and tell the CSMS.

    Order: an event for the fact that changed (Started if it met a TxStartPoint, Ended if it
    broke a TxStopPoint, else Updated when a transaction runs); then the power path follows the
    authorization (closed only while authorized and connected: E01.FR.05), and a change of the
    charging state that brings is its own event (ChargingStateChanged), which may itself start
    (PowerPathClosed, EnergyTransfer) or end (EnergyTransfer) the transaction."""
    start_points, stop_points = _points(st, "TxStartPoint"), _points(st, "TxStopPoint")
    if evse.remote_start_id is not None:
        trigger = "RemoteStart"  # F02.FR.21: the next event names the remote start
    tx = evse.tx
    if tx is not None and tx.ended:  # its Ended event is on its way: nothing follows it
        return
    if tx is not None:
        tx.observe(evse.facts)  # what holds now cannot be what ended it
    if tx is None and starts(start_points, evse.facts) is not None:
        await _start(st, evse, trigger)
    elif tx is not None and ends(stop_points, evse.facts, tx.held) is not None:
        await _end(st, evse, trigger, stopped_reason or _stop_reason(evse), token)
        return
    elif tx is not None and trigger not in ("ChargingStateChanged",):
        tx.charging_state = evse.charging_state
        await st.transaction_event(evse, "Updated", trigger, token=token)
    # the power path follows the authorization
    should_close = evse.authorized and evse.ev_connected and evse.connector.status.operative
    if should_close != evse.meter.contactor_closed:
        evse.advance(st.clock.monotonic())
        if should_close:
            evse.meter.close_contactor()
        else:
            evse.meter.open_contactor()
    await _state_change(st, evse, start_points, stop_points)


def _points(st: ChargingStation, name: str) -> frozenset[TxPoint]:
    """TxStartPoint / TxStopPoint now; a value with a name that is no point (an override the
    device model never checked) is logged and its default used: bad input stops nothing."""
    try:
        return parse_points(st.settings.list(name))
    except ValueError as error:
        log.warning("%s: TxCtrlr.%s: %s; using %s", st.id, name, error,
                    VARIABLES[name].default)
        return parse_points(VARIABLES[name].default)


async def _state_change(st: ChargingStation, evse: Evse, start_points: frozenset,
                        stop_points: frozenset) -> None:
    tx = evse.tx
    if tx is None:
        if starts(start_points, evse.facts) is not None:
            await _start(st, evse, "ChargingStateChanged")
        return
    tx.observe(evse.facts)
    if ends(stop_points, evse.facts, tx.held) is not None:
        await _end(st, evse, "ChargingStateChanged", _stop_reason(evse), None)
        return
    if tx.charging_state != evse.charging_state:
        tx.charging_state = evse.charging_state
        await st.transaction_event(evse, "Updated", "ChargingStateChanged")


def _stop_reason(evse: Evse) -> str:
    """ReasonEnumType of an end nobody asked for: StoppedByEV when the EV itself stopped the
    energy transfer (authorized, connected, power path closed: part 6 TC_E_22_CS), else
    Other."""
    by_ev = evse.authorized and evse.ev_connected and evse.meter.contactor_closed
    return "StoppedByEV" if by_ev else "Other"


async def _start(st: ChargingStation, evse: Evse, trigger: str) -> None:
    """E01.FR.01-06: Started, with the TxStartedMeasurands at Transaction.Begin (E01.FR.09)."""
    tx = Transaction(evse.id, evse.connector.connector_id)
    tx.charging_state = evse.charging_state
    tx.observe(evse.facts)
    if evse.authorized and evse.token is not None:
        tx.authorize(evse.token)
    if evse.remote_start_id is not None:
        tx.remote_start(evse.remote_start_id)
    if evse.reservation_used is not None:
        tx.reserved(evse.reservation_used)  # H01.FR.15, E01.FR.13
        evse.reservation_used = None
    evse.tx = tx
    smart_charging.tx_started(st, evse)  # K01: the limits in force; K15: an EV's needs
    await st.status_changed(evse, evse.connector.set_in_transaction(True))
    readings = st.readings(evse, "TxStartedMeasurands", metering.BEGIN)
    evse.ended_meter = TransactionMeter()
    evse.ended_meter.keep(st.readings(evse, "TxEndedMeasurands", metering.BEGIN))
    await st.transaction_event(evse, "Started", trigger, meter_values=readings)
    start_sampler(st, evse)


async def _end(st: ChargingStation, evse: Evse, trigger: str, stopped_reason: str,
               token: dict | None) -> None:
    """E06: Ended, with the TxEndedMeasurands at Transaction.End (E06.FR.11); the cable is
    unlocked (E06.FR.10) and a scheduled unavailability takes effect (G03.FR.05)."""
    tx = evse.tx
    assert tx is not None
    if tx.ended:  # its Ended event is on its way already: one per transaction (E06)
        return
    stop_sampler(evse)
    evse.advance(st.clock.monotonic())
    evse.meter.open_contactor()
    evse.authorized = False
    tx.charging_state = evse.charging_state
    kept, evse.ended_meter = evse.ended_meter or TransactionMeter(), None
    # E06.FR.11: TxEndedMeasurands every TxEndedInterval s from the start, and at the end;
    # E06.FR.13: intermediate readings are dropped first when they are too many
    kept.end(st.readings(evse, "TxEndedMeasurands", metering.END))
    await st.transaction_event(evse, "Ended", trigger, meter_values=kept.data or None,
                               stopped_reason=stopped_reason, token=token)
    evse.tx, evse.token, evse.remote_start_id = None, None, None
    smart_charging.tx_ended(st, evse)
    display.transaction_ended(st, tx.transaction_id)  # O02.FR.02
    await st.status_changed(evse, evse.connector.set_in_transaction(False))


# Timers --------------------------------------------------------------------------------------


def start_sampler(st: ChargingStation, evse: Evse) -> None:
    """Updated events with MeterValuePeriodic every TxUpdatedInterval s (J02.FR.11; 0: none),
    and the TxEndedMeasurands kept every TxEndedInterval s for the Ended event."""
    stop_sampler(evse)
    if st.settings.int("TxUpdatedInterval") > 0:
        evse.sampler = st.spawn(_sample(st, evse))
    if st.settings.int("TxEndedInterval") > 0:
        evse.ended_sampler = st.spawn(_sample_ended(st, evse))


def stop_sampler(evse: Evse) -> None:
    current = asyncio.current_task()
    for task in (evse.sampler, evse.ended_sampler):
        if task is not None and task is not current:
            task.cancel()
    evse.sampler = evse.ended_sampler = None


async def _sample_ended(st: ChargingStation, evse: Evse) -> None:
    while evse.tx is not None and evse.ended_meter is not None:
        interval = st.settings.int("TxEndedInterval")
        if interval <= 0:
            return
        await st.clock.sleep(interval)
        if evse.ended_meter is None:
            return
        evse.advance(st.clock.monotonic())
        evse.ended_meter.keep(st.readings(evse, "TxEndedMeasurands", metering.PERIODIC))


async def _sample(st: ChargingStation, evse: Evse) -> None:
    while evse.tx is not None:
        interval = st.settings.int("TxUpdatedInterval")
        if interval <= 0:
            return
        await st.clock.sleep(interval)
        if evse.tx is None:
            return
        evse.advance(st.clock.monotonic())
        readings = st.readings(evse, "TxUpdatedMeasurands", metering.PERIODIC)
        if evse.tx.charging_state != evse.charging_state:
            evse.tx.charging_state = evse.charging_state
        await st.transaction_event(evse, "Updated", "MeterValuePeriodic", meter_values=readings)


def start_connection_timer(st: ChargingStation, evse: Evse) -> None:
    """E03.FR.05: authorized, but no cable within EVConnectionTimeOut: the authorization ends
    (a running transaction: Ended, EVConnectTimeout, stoppedReason Timeout)."""
    cancel_timer(evse)
    timeout = st.settings.int("EVConnectionTimeOut")
    if timeout > 0:
        evse.connection_timer = st.spawn(_connection_timeout(st, evse, timeout))


def cancel_timer(evse: Evse) -> None:
    if evse.connection_timer is not None:
        if evse.connection_timer is not asyncio.current_task():
            evse.connection_timer.cancel()
        evse.connection_timer = None


async def _connection_timeout(st: ChargingStation, evse: Evse, timeout: int) -> None:
    await st.clock.sleep(timeout)
    evse.connection_timer = None
    if evse.ev_connected or not evse.authorized:
        return
    log.debug("%s: EVSE %d: no cable within %ss", st.id, evse.id, timeout)
    evse.authorized, evse.remote_start_id = False, None
    if evse.tx is not None:
        await settle(st, evse, "EVConnectTimeout", stopped_reason="Timeout")
    else:
        evse.token = None
