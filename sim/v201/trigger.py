"""F06 TriggerMessage on a 2.0.1 station: which messages it sends on request, and how.

The response goes out first (F06.FR.04); an accepted message is then always sent (F06.FR.10)
with current information only (F06.FR.09). A message asked for while the registration is
Pending may go out (B02.FR.02: "unless it has been instructed by the CSMS"), so these are sent
on the session directly, not through `ChargingStation.call`, which waits for Accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from chargebench.ocppj import CallFailed
from sim.v201 import firmware, logs, metering, security

if TYPE_CHECKING:
    from sim.v201.evse import Evse
    from sim.v201.station import ChargingStation

__all__ = ["trigger_message"]

#: F06.FR.15/16: the status of the firmware update or log upload (Idle when none runs)
_STATUS = {"LogStatusNotification": logs.triggered_status,
           "FirmwareStatusNotification": firmware.triggered_status}
#: A02/A03 (F06): a new key pair and its CSR in SignCertificate
_SIGN = {"SignChargingStationCertificate": "ChargingStationCertificate",
         "SignV2GCertificate": "V2GCertificate"}
_SENDS = {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues",
          "TransactionEvent", *_STATUS, *_SIGN}


def trigger_message(st: ChargingStation, p: dict) -> dict:
    """TriggerMessageResponse: NotImplemented for a message this station does not send
    (F06.FR.08); SignChargingStationCertificate / SignV2GCertificate: a SignCertificate follows
    (A02.FR.02, A03), Rejected without SecurityCtrlr.OrganizationName; Rejected for
    BootNotification once Accepted (F06.FR.17), for an EVSE it does
    not have, and for TransactionEvent where no transaction runs; else Accepted and the
    message follows. Without `evse` a per-EVSE message is sent for every EVSE (F06.FR.11)."""
    message = p["requestedMessage"]
    if message not in _SENDS:
        return {"status": "NotImplemented"}
    target = p.get("evse")
    if target is not None and not 1 <= target["id"] <= len(st.evses):
        return {"status": "Rejected"}
    evses = st.evses if target is None else [st.evse(target["id"])]
    if message == "BootNotification":
        return {"status": "Accepted" if st.boot_requested() else "Rejected"}
    if message == "TransactionEvent":
        evses = [e for e in evses if e.tx is not None]
        if not evses or not st.online:
            return {"status": "Rejected"}
    if message in _SIGN:
        if not st.settings.text("OrganizationName"):
            return {"status": "Rejected"}  # A02: no organization to name in the CSR
        st.spawn(security.request_certificate(st, _SIGN[message]))
        return {"status": "Accepted"}
    st.spawn(_send(st, message, evses))
    return {"status": "Accepted"}


async def _send(st: ChargingStation, message: str, evses: list[Evse]) -> None:
    await asyncio.sleep(0)  # F06.FR.04: the response goes out first
    session = st.session
    if session is None:
        return
    with contextlib.suppress(CallFailed):
        if message == "Heartbeat":
            await st.send(session, "Heartbeat", {})
        elif message in _STATUS:
            await st.send(session, message, _STATUS[message](st))
        elif message == "StatusNotification":
            for evse in evses:
                await st.send(session, "StatusNotification", st.status_payload(evse))
        elif message == "MeterValues":
            for evse in evses:  # F06.FR.06: the AlignedDataCtrlr measurands, context Trigger
                evse.advance(st.clock.monotonic())
                reading = st.readings(evse, "AlignedDataMeasurands", metering.TRIGGER)
                if reading is not None:
                    await st.send(session, "MeterValues",
                                  {"evseId": evse.id, "meterValue": [reading]})
        elif message == "TransactionEvent":
            for evse in evses:  # F06.FR.07: Updated, triggerReason Trigger, chargingState
                if evse.tx is not None:
                    evse.tx.charging_state = evse.charging_state
                    evse.tx.force_state()
                    # F06.FR.07: with the TxUpdatedMeasurands of the moment
                    evse.advance(st.clock.monotonic())
                    reading = st.readings(evse, "TxUpdatedMeasurands", metering.TRIGGER)
                    await st.transaction_event(evse, "Updated", "Trigger",
                                               meter_values=reading)
