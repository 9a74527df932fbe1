"""The OCPP 2.0.1 handler table of a simulated charging station (`sim.v201.station`).

`sim.dispatch` gives a connection this table when its handshake agreed `ocpp2.0.1`, behind the
version-neutral rules (registration gate, value bounds, fault plan, InternalError for our own
bug). A handler is `handler(station, payload)`; what follows a response (a transaction started
by RequestStartTransaction) runs in a task the station owns, after the response went out.
A CSMS CALL of 2.0.1 without a handler here is answered NotSupported by the session core
(`accept`: this table's actions; OCPP-J 2.0.1 §4.3 "recognized but not supported").
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chargebench.ocppj import CallFailed, OcppCallError
from chargebench.ocppj.registration import Registration
from chargebench.ocppj.versions import OCPP201
from sim.dispatch import Handler
from sim.v201 import (
    display,
    firmware,
    local_list,
    logs,
    monitoring,
    reservations,
    security,
    smart_charging,
    tariff,
)
from sim.v201 import evse as flows
from sim.v201.connectors import Event
from sim.v201.device_model import DeviceModel, notify_report_payloads
from sim.v201.trigger import trigger_message

if TYPE_CHECKING:
    from sim.v201.evse import Evse
    from sim.v201.station import ChargingStation

__all__ = ["ACCEPT", "HANDLERS", "VERSION", "session_profiles"]

VERSION = OCPP201


def request_start_transaction(st: ChargingStation, p: dict) -> dict:
    """F01/F02 RequestStartTransaction.

    Rejected while Pending (B02.FR.05), on an EVSE that is Unavailable or Faulted (F01.FR.23,
    F02.FR.25) or whose transaction is authorized already (F01.FR.24, F02.FR.26), and without
    evseId when no EVSE is free (F01.FR.20: else the station picks one). AuthorizeRemoteStart
    false: the idToken is taken without an Authorize (F01.FR.02, F02.FR.10; true: the
    Authorize of C01 first, F01.FR.01). A transaction already started on the EVSE but not
    authorized is named in the response (F01.FR.13); the next event carries triggerReason
    RemoteStart and the remoteStartId (F01.FR.19/25, F02.FR.01/21)."""
    if st.registration != Registration.ACCEPTED:
        return {"status": "Rejected"}
    evse = _evse_for_start(st, p.get("evseId"), p["idToken"])
    if evse is None:
        return {"status": "Rejected"}
    token, remote_id = p["idToken"], p["remoteStartId"]
    reply: dict[str, Any] = {"status": "Accepted"}
    if evse.tx is not None and not evse.tx.ended:  # an Ended one is over, not running
        reply["transactionId"] = evse.tx.transaction_id  # F01.FR.13
    st.spawn(_remote_start(st, evse, token, remote_id))
    return reply


def _evse_for_start(st: ChargingStation, evse_id: int | None, token: dict) -> Evse | None:
    """The EVSE a remote start goes to; None: Rejected (F01.FR.21/22: reserved for another
    idToken; F01.FR.23/24)."""
    if evse_id is not None:
        if not 1 <= evse_id <= len(st.evses):
            return None
        evse = st.evse(evse_id)
        usable = evse.connector.status.operative and not evse.authorized and (
            evse.reservation is None or evse.reservation.matches(token))
        return evse if usable else None
    reserved = reservations.for_token(st, token)
    if reserved is not None:
        return reserved
    # F01.FR.20: an EV waiting without authorization first, else a free EVSE
    free = [e for e in st.evses if e.connector.status.operative and not e.authorized
            and e.reservation is None]
    waiting = [e for e in free if e.ev_connected]
    return next(iter(waiting or free), None)


async def _remote_start(st: ChargingStation, evse: Evse, token: dict, remote_id: int) -> None:
    await asyncio.sleep(0)  # the response goes out first
    for _ in range(100):  # the Ended event of the EVSE's last transaction still in flight
        if evse.tx is None or not evse.tx.ended:
            break
        await asyncio.sleep(0.01)
    if st.settings.bool("AuthorizeRemoteStart") and not await st.authorize(token):
        return  # F01.FR.01: as a local action, which an unknown token does not start
    await flows.authorized(st, evse, token, remote_start_id=remote_id)


def request_stop_transaction(st: ChargingStation, p: dict) -> dict:
    """F03: Accepted for a transaction that runs here (F03.FR.07), else Rejected
    (F03.FR.08); Rejected while Pending (B02.FR.05). The authorization ends: Ended with
    triggerReason RemoteStop, stoppedReason Remote when TxStopPoint makes that the end
    (F03.FR.03), else Updated RemoteStop and the energy offer stops (F03.FR.02)."""
    if st.registration != Registration.ACCEPTED:
        return {"status": "Rejected"}
    evse = next((e for e in st.evses if e.tx is not None
                 and e.tx.transaction_id == p["transactionId"]), None)
    if evse is None:
        return {"status": "Rejected"}
    st.spawn(_remote_stop(st, evse))
    return {"status": "Accepted"}


async def _remote_stop(st: ChargingStation, evse: Evse) -> None:
    await asyncio.sleep(0)  # the response goes out first
    await flows.remote_stop(st, evse)


def unlock_connector(st: ChargingStation, p: dict) -> dict:
    """F05: UnknownConnector for a connector this station does not have (F05.FR.03);
    OngoingAuthorizedTransaction, nothing unlocked or stopped, while an authorized transaction
    runs there (F05.FR.02); else the lock is released, cable or not (F05.FR.04/06), unless its
    mechanism is jammed: UnlockFailed (F05.FR.05)."""
    evse_id, connector_id = p["evseId"], p["connectorId"]
    if not 1 <= evse_id <= len(st.evses) or connector_id != 1:
        return {"status": "UnknownConnector"}
    evse = st.evse(evse_id)
    if evse.tx is not None and evse.authorized:
        return {"status": "OngoingAuthorizedTransaction"}
    return {"status": "UnlockFailed" if evse.lock_jammed else "Unlocked"}


# B. Provisioning: the device model behind GetVariables, SetVariables and the reports ---------


def _model(st: ChargingStation) -> DeviceModel:
    dm = st.settings.dm
    if not isinstance(dm, DeviceModel):  # a station built without a device model
        raise OcppCallError("NotSupported", "this station has no device model")
    return dm


def get_variables(st: ChargingStation, p: dict) -> dict:
    """B06: a GetVariableResult per GetVariableData, in order (B06.FR.01/02)."""
    return {"getVariableResult": _model(st).get_variables(p["getVariableData"])}


def set_variables(st: ChargingStation, p: dict) -> dict:
    """B05: a SetVariableResult per SetVariableData, in order; accepted values persist. The
    station's own rules (B10.FR.02, A05.FR.02/03 for NetworkConfigurationPriority) apply."""
    dm = _model(st)
    security.watch(st, dm)
    results = dm.set_variables(p["setVariableData"])
    security.variables_set(st, results)
    monitoring.variables_set(st, p["setVariableData"], results)  # N07: monitors that trip
    return {"setVariableResult": results}


def get_base_report(st: ChargingStation, p: dict) -> dict:
    """B07: Accepted, then the report in NotifyReport messages after the response (B07.FR.03);
    a reportBase this station does not support: NotSupported (B07.FR.02)."""
    try:
        entries = _model(st).report(p["reportBase"])
    except ValueError:
        return {"status": "NotSupported"}
    st.spawn(_notify_report(st, p["requestId"], entries))
    return {"status": "Accepted"}


def get_report(st: ChargingStation, p: dict) -> dict:
    """B08: Accepted and the NotifyReport messages; criteria not supported: NotSupported
    (B08.FR.02); nothing matches: EmptyResultSet and no report (B08.FR.15)."""
    try:
        entries = _model(st).report(criteria=p.get("componentCriteria"),
                                    component_variable=p.get("componentVariable"))
    except ValueError:
        return {"status": "NotSupported"}
    if not entries:
        return {"status": "EmptyResultSet"}
    st.spawn(_notify_report(st, p["requestId"], entries))
    return {"status": "Accepted"}


async def _notify_report(st: ChargingStation, request_id: int, entries: list[dict]) -> None:
    """The report's parts, in order; allowed while Pending, since the CSMS asked for them
    (B01.FR.10, B02.FR.02)."""
    await asyncio.sleep(0)  # the response goes out first
    dm = _model(st)
    per_message = dm.get_int("DeviceDataCtrlr", "ItemsPerMessage",
                             variable_instance="GetReport")
    for payload in notify_report_payloads(request_id, entries, per_message, st.clock.now()):
        session = st.session
        if session is None:
            return
        try:
            await st.send(session, "NotifyReport", payload)
        except CallFailed:
            return


def reset(st: ChargingStation, p: dict) -> dict:
    """B11/B12 Reset of the whole station; with an `evseId`: Rejected (B11.FR.09, B12.FR.09:
    EVSEs are not reset alone here). Immediate: Accepted (B12.FR.02), running transactions end
    first (triggerReason ResetCommand, stoppedReason ImmediateReset: B12.FR.04), then the
    reboot and a cold boot with reason RemoteReset (B11.FR.03/04). OnIdle with a transaction
    running: Scheduled (B12.FR.01, B11.FR.07), the reboot follows its normal end (B12.FR.03);
    idle: Accepted and the reboot."""
    if p.get("evseId") is not None:
        return {"status": "Rejected"}
    busy = any(e.tx is not None for e in st.evses)
    if p["type"] == "OnIdle" and busy:
        st.spawn(_reset_when_idle(st))
        return {"status": "Scheduled"}
    st.spawn(_reset_now(st))
    return {"status": "Accepted"}


async def _reset_now(st: ChargingStation) -> None:
    await asyncio.sleep(0)  # the response goes out first
    for evse in st.evses:
        if evse.tx is not None:
            await flows.ended_by(st, evse, "ResetCommand", "ImmediateReset")
    st.request_reboot("RemoteReset")


async def _reset_when_idle(st: ChargingStation) -> None:
    while any(e.tx is not None for e in st.evses):
        await st.clock.sleep(1)
    st.request_reboot("RemoteReset")


# C. Authorization -------------------------------------------------------------------------------


def clear_cache(st: ChargingStation, _p: dict) -> dict:
    """C11: the Authorization Cache emptied, Accepted (C11.FR.01/03); Rejected when
    AuthCacheCtrlr.Enabled is false (C11.FR.04)."""
    if not st.settings.bool("AuthCacheEnabled"):
        return {"status": "Rejected"}
    st.auth_cache.clear()
    return {"status": "Accepted"}


# G. Availability -------------------------------------------------------------------------------


def change_availability(st: ChargingStation, p: dict) -> dict:
    """G03 (an EVSE or connector) and G04 (the whole station: no `evse`, G04.FR.01).

    Accepted when the targets are already in the state asked (G03.FR.03, G04.FR.04) or change
    now; Scheduled when a transaction runs on one of them (G03.FR.05, G04.FR.06): Inoperative
    then takes effect when it has finished. A fault outranks it (G03.FR.06 "operative
    connectors (i.e. not Faulted)"). Each connector whose status changed is reported after the
    response (G03.FR.04, G04.FR.05). An EVSE or connector this station does not have:
    Rejected."""
    target = p.get("evse")
    if target is None:
        evses = list(st.evses)
    elif 1 <= target["id"] <= len(st.evses) and target.get("connectorId", 1) == 1:
        evses = [st.evse(target["id"])]
    else:
        return {"status": "Rejected"}
    inoperative = p["operationalStatus"] == "Inoperative"
    if all(e.connector.inoperative == inoperative for e in evses):
        return {"status": "Accepted"}
    scheduled = inoperative and any(e.tx is not None for e in evses)
    st.spawn(_apply_availability(st, evses, inoperative))
    return {"status": "Scheduled" if scheduled else "Accepted"}


async def _apply_availability(st: ChargingStation, evses: list[Evse], inoperative: bool) -> None:
    await asyncio.sleep(0)  # the response goes out first
    for evse in evses:
        changed = evse.connector.apply(Event.INOPERATIVE if inoperative else Event.OPERATIVE)
        await st.status_changed(evse, changed)


# P. DataTransfer -------------------------------------------------------------------------------


def data_transfer(_st: ChargingStation, _p: dict) -> dict:
    """P01.FR.05: this station implements no vendor extension: UnknownVendorId, whatever the
    vendorId."""
    return {"status": "UnknownVendorId"}


def get_transaction_status(st: ChargingStation, p: dict) -> dict:
    """E14: whether TransactionEvents of the transaction (any, without transactionId) wait in
    the queue (E14.FR.01/02, .05), and whether the named transaction is still ongoing
    (E14.FR.03/04; omitted without transactionId)."""
    tx_id = p.get("transactionId")
    queued = [m for m in st.queue.pending() if m.action == "TransactionEvent" and (
        tx_id is None or m.payload["transactionInfo"]["transactionId"] == tx_id)]
    reply: dict[str, Any] = {"messagesInQueue": bool(queued)}
    if tx_id is not None:
        reply["ongoingIndicator"] = any(e.tx is not None and not e.tx.ended
                                        and e.tx.transaction_id == tx_id for e in st.evses)
    return reply


HANDLERS: Mapping[str, Handler] = {
    "Reset": reset,
    # E. Transactions
    "GetTransactionStatus": get_transaction_status,
    # A. Security, M. ISO 15118 certificate management
    "CertificateSigned": security.certificate_signed,
    "DeleteCertificate": security.delete_certificate,
    "GetInstalledCertificateIds": security.get_installed_certificate_ids,
    "InstallCertificate": security.install_certificate,
    "SetNetworkProfile": security.set_network_profile,
    # I. Tariff and cost
    "CostUpdated": tariff.cost_updated,
    # K. Smart charging
    "ClearChargingProfile": smart_charging.clear_charging_profile,
    "GetChargingProfiles": smart_charging.get_charging_profiles,
    "GetCompositeSchedule": smart_charging.get_composite_schedule,
    "SetChargingProfile": smart_charging.set_charging_profile,
    # L. Firmware management
    "UpdateFirmware": firmware.update_firmware,
    # N. Diagnostics
    "ClearVariableMonitoring": monitoring.clear_variable_monitoring,
    "CustomerInformation": logs.customer_information,
    "GetLog": logs.get_log,
    "GetMonitoringReport": monitoring.get_monitoring_report,
    "SetMonitoringBase": monitoring.set_monitoring_base,
    "SetMonitoringLevel": monitoring.set_monitoring_level,
    "SetVariableMonitoring": monitoring.set_variable_monitoring,
    # O. Display messages
    "ClearDisplayMessage": display.clear_display_message,
    "GetDisplayMessages": display.get_display_messages,
    "SetDisplayMessage": display.set_display_message,
    # P. DataTransfer
    "DataTransfer": data_transfer,
    # C. Authorization, D. Local authorization list
    "ClearCache": clear_cache,
    "GetLocalListVersion": local_list.get_local_list_version,
    "SendLocalList": local_list.send_local_list,
    # G. Availability
    "ChangeAvailability": change_availability,
    # H. Reservation
    "CancelReservation": reservations.cancel_reservation,
    "ReserveNow": reservations.reserve_now,
    # B. Provisioning
    "GetBaseReport": get_base_report,
    "GetReport": get_report,
    "GetVariables": get_variables,
    "SetVariables": set_variables,
    # F. Remote control
    "RequestStartTransaction": request_start_transaction,
    "RequestStopTransaction": request_stop_transaction,
    "TriggerMessage": trigger_message,
    "UnlockConnector": unlock_connector,
}


#: the actions this table answers, built once: each session's core keeps this very set
#: (`OcppSession(accept=...)` takes a frozenset as it is; a fleet holds a session per station)
ACCEPT = frozenset(HANDLERS)


def session_profiles(_settings: Any) -> None:
    """Every 2.0.1 functional block passes the profile check: what this station answers is
    decided per action (`accept`: the actions of `HANDLERS`), since its blocks are partly
    implemented."""
    return None
