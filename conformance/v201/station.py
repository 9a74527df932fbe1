"""ChargeBench as the OCPP 2.0.1 Charging Station when a CSMS is under test (part 6 chapter 3):
the messages the OCTT sends, its answers to the CSMS's CALLs, and the reusable states of part 6
§3.18 the cases build on.

Payloads follow the `ocpp` package's 2.0.1 schemas (the session core validates each frame both
ways against them); the station is deliberately small: one EVSE with one connector, the
variables the CSMS sets kept in memory and read back, every other CSMS command left to the
session core's CALLERROR NotImplemented (OCPP-J 2.0.1 §4.2.3).
"""

from __future__ import annotations

from typing import Any

from conformance.casesteps import step
from conformance.endpoints import now as iso
from conformance.expect import Mismatch, an_int, one_of, present
from conformance.harness import Handler, HarnessPeer

#: <Configured model> and <Configured vendorName> of part 6 (BootNotification.chargingStation)
CHARGING_STATION = {"model": "Conformance", "vendorName": "ChargeBench"}
#: the EVSE and connector of the station (part 6 §3.1: "all connectors")
EVSE_ID, CONNECTOR_ID = 1, 1


def station_handlers() -> dict[str, Handler]:
    """Answers to the CSMS's CALLs: SetVariables stores (B05), GetVariables reads back what was
    set and reports the rest UnknownVariable (B06: the station models no other variable)."""
    variables: dict[tuple[str, str], str] = {}

    def key(entry: dict) -> tuple[str, str]:
        return entry["component"]["name"], entry["variable"]["name"]

    def set_variables(payload: dict) -> dict:
        results = []
        for entry in payload["setVariableData"]:
            variables[key(entry)] = entry["attributeValue"]
            results.append({"attributeStatus": "Accepted", "component": entry["component"],
                             "variable": entry["variable"]})
        return {"setVariableResult": results}

    def get_variables(payload: dict) -> dict:
        results = []
        for entry in payload["getVariableData"]:
            result: dict[str, Any] = {"component": entry["component"],
                                      "variable": entry["variable"]}
            if key(entry) in variables:
                result |= {"attributeStatus": "Accepted", "attributeValue": variables[key(entry)]}
            else:
                result["attributeStatus"] = "UnknownVariable"
            results.append(result)
        return {"getVariableResult": results}

    return {"SetVariables": set_variables, "GetVariables": get_variables}


def boot_notification(reason: str = "PowerUp") -> dict:
    """BootNotificationRequest as part 6 sends it: reason, <Configured model/vendorName>."""
    return {"reason": reason, "chargingStation": dict(CHARGING_STATION)}


def status_notification(status: str = "Available") -> dict:
    return {"timestamp": iso(), "connectorStatus": status, "evseId": EVSE_ID,
            "connectorId": CONNECTOR_ID}


def notify_event(actual: str = "Available", event_id: int = 1) -> dict:
    """NotifyEventRequest with trigger Delta on Connector.AvailabilityState (part 6 §3.18)."""
    return {"generatedAt": iso(), "seqNo": 0, "tbc": False, "eventData": [{
        "eventId": event_id, "timestamp": iso(), "trigger": "Delta", "actualValue": actual,
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "Connector", "evse": {"id": EVSE_ID, "connectorId": CONNECTOR_ID}},
        "variable": {"name": "AvailabilityState"},
    }]}


async def ask(peer: HarnessPeer, action: str, payload: dict,
              expect: dict[str, Any] | None = None) -> dict:
    """One expectation: send `action`, require a CALLRESULT containing `expect` (an Allure
    step of its own)."""
    with step(f"{action}: CALLRESULT {expect or ''}".strip()):
        return await peer.request(action, payload, expect or {})


async def booted(peer: HarnessPeer) -> dict:
    """Reusable State Booted (part 6 §3.18, Table 698): BootNotification reason PowerUp must be
    Accepted (with currentTime and interval: B01.FR.02), then StatusNotification Available and
    NotifyEvent AvailabilityState Available are answered ("responds accordingly")."""
    reply = await ask(peer, "BootNotification", boot_notification(), {
        "status": one_of("Accepted", "Pending", "Rejected"), "currentTime": present,
        "interval": an_int,
    })
    if reply["status"] != "Accepted":  # the state needs Accepted at once (Pending: TC_B_02)
        raise Mismatch(f"expected BootNotificationResponse status Accepted, received "
                       f"{reply['status']} ({reply}): register {peer.cp_id!r} in the CSMS, or "
                       "name a registered station with --cb-cp-id")
    peer.booted.set()
    await ask(peer, "StatusNotification", status_notification())
    await ask(peer, "NotifyEvent", notify_event())
    return reply
