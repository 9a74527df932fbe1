"""Charge-point-initiated OCPP 1.6 (and, for bench_core, 2.0.1) payloads the load sends.

Plain dicts, valid against the 1.6 request schemas (the session core validates them again before
sending), so a load run never measures a CSMS rejecting our own mistakes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chargebench.clock import iso


def now() -> str:
    """OCPP dateTime for the wall clock now."""
    return iso(datetime.now(UTC))


def boot_notification(cp_id: str) -> dict:
    # 1.6 §6.3 BootNotification.req: vendor and model are required, the rest optional
    return {
        "chargePointVendor": "ChargeBench",
        "chargePointModel": "LoadTest",
        "chargePointSerialNumber": cp_id[-25:],
        "firmwareVersion": "loadtest-1",
    }


def status_notification(connector_id: int, status: str, error_code: str = "NoError") -> dict:
    return {
        "connectorId": connector_id,
        "errorCode": error_code,
        "status": status,
        "timestamp": now(),
    }


def authorize(id_tag: str) -> dict:
    return {"idTag": id_tag}


def start_transaction(connector_id: int, id_tag: str, meter_start_wh: int) -> dict:
    return {
        "connectorId": connector_id,
        "idTag": id_tag,
        "meterStart": meter_start_wh,
        "timestamp": now(),
    }


def meter_values(connector_id: int, transaction_id: int, energy_wh: int, power_w: float) -> dict:
    """One sample: energy register, active power, current and voltage of phase L1."""
    sampled = [
        {"value": str(energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": f"{power_w:.1f}", "measurand": "Power.Active.Import", "unit": "W"},
        {"value": f"{power_w / 230.0:.2f}", "measurand": "Current.Import", "unit": "A",
         "phase": "L1"},
        {"value": "230.0", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
    ]
    return {
        "connectorId": connector_id,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": now(), "sampledValue": sampled}],
    }


def stop_transaction(transaction_id: int, id_tag: str, meter_stop_wh: int) -> dict:
    return {
        "transactionId": transaction_id,
        "idTag": id_tag,
        "meterStop": meter_stop_wh,
        "timestamp": now(),
        "reason": "Local",
    }


# OCPP 2.0.1 equivalents (bench_core's charging mix in 2.0.1)


def status_notification_201(evse_id: int, connector_id: int, status: str) -> dict:
    # 2.0.1 G01: StatusNotificationRequest per EVSE and connector, ConnectorStatusEnumType
    return {"timestamp": now(), "connectorStatus": status, "evseId": evse_id,
            "connectorId": connector_id}


def meter_value_201(energy_wh: int, power_w: float) -> dict:
    """The sample of `meter_values` in 2.0.1 form: numeric values, unitOfMeasure (J01)."""
    return {"timestamp": now(), "sampledValue": [
        {"value": energy_wh, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": round(power_w, 1), "measurand": "Power.Active.Import",
         "unitOfMeasure": {"unit": "W"}},
        {"value": round(power_w / 230.0, 2), "measurand": "Current.Import", "phase": "L1",
         "unitOfMeasure": {"unit": "A"}},
        {"value": 230.0, "measurand": "Voltage", "phase": "L1-N",
         "unitOfMeasure": {"unit": "V"}},
    ]}


def transaction_event(event_type: str, seq_no: int, transaction_id: str, trigger_reason: str,
                      id_tag: str | None = None, meter: dict | None = None,
                      stopped_reason: str | None = None) -> dict:
    """TransactionEventRequest (E01-E07): 1.6's StartTransaction, MeterValues during a
    transaction and StopTransaction in one message, told apart by `event_type`."""
    info: dict = {"transactionId": transaction_id}
    if event_type == "Started":
        info["chargingState"] = "Charging"
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    payload: dict = {"eventType": event_type, "timestamp": now(),
                     "triggerReason": trigger_reason, "seqNo": seq_no, "transactionInfo": info,
                     "evse": {"id": 1, "connectorId": 1}}
    if id_tag is not None:
        payload["idToken"] = {"idToken": id_tag, "type": "ISO14443"}
    if meter is not None:
        payload["meterValue"] = [meter]
    return payload


def boot_notification_201(station_id: str, reason: str = "PowerUp") -> dict:
    # 2.0.1 B01 BootNotificationRequest: reason and chargingStation (vendorName, model)
    return {"reason": reason, "chargingStation": {
        "vendorName": "ChargeBench", "model": "LoadTest201",
        "serialNumber": station_id[-25:], "firmwareVersion": "loadtest-1"}}


def authorize_201(id_tag: str) -> dict:
    # 2.0.1 C01 AuthorizeRequest: an IdTokenType (an RFID card: ISO14443)
    return {"idToken": {"idToken": id_tag, "type": "ISO14443"}}
