"""The happy path of OCPP 1.6 as data: default answers per role, and payload builders.

Used by the conformance harness (its default answers), the self peers, the load-test stand-ins
and tests through `chargebench.ocppj.testing`; a test that needs another answer replaces one
entry (e.g. BootNotification -> Pending for TC_002).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chargebench.clock import iso
from chargebench.ocppj.v16 import OCPP16

VERSION = OCPP16

Handler = Callable[[dict], Any]

#: the BootNotification.req of a test charge point (1.6 §6.2: vendor and model are required)
BOOT = {"chargePointVendor": "ChargeBench", "chargePointModel": "Test"}


def _time() -> str:
    return iso(datetime.now(UTC))


def csms_handlers(heartbeat_interval: int = 300) -> dict[str, Handler]:
    """Answers of a cooperative central system to every charge-point-initiated CALL."""
    transaction_ids = itertools.count(1)
    accepted = {"status": "Accepted"}

    def boot(_: dict) -> dict:
        # OCPP 1.6 §4.2 BootNotification.conf
        return {"status": "Accepted", "currentTime": _time(), "interval": heartbeat_interval}

    def start(_: dict) -> dict:
        return {"transactionId": next(transaction_ids), "idTagInfo": accepted}

    empty: Handler = lambda _: {}  # noqa: E731
    return {
        "BootNotification": boot,
        "Heartbeat": lambda _: {"currentTime": _time()},
        "Authorize": lambda _: {"idTagInfo": accepted},
        "StartTransaction": start,
        "StopTransaction": lambda _: {"idTagInfo": accepted},
        "StatusNotification": empty,
        "MeterValues": empty,
        "DataTransfer": lambda _: {"status": "UnknownVendorId"},
        "DiagnosticsStatusNotification": empty,
        "FirmwareStatusNotification": empty,
        "LogStatusNotification": empty,
        "SecurityEventNotification": empty,
        "SignedFirmwareStatusNotification": empty,
        "SignCertificate": lambda _: accepted,
    }


def charge_point_handlers(config: dict[str, str] | None = None) -> dict[str, Handler]:
    """Answers of a cooperative charge point to the central system's commands; `config` is its
    (mutable) configuration key store."""
    keys = dict(config or {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"})

    def get_configuration(payload: dict) -> dict:
        # 1.6 §5.8: no key list -> every key; unknown keys listed back as unknownKey
        wanted = payload.get("key")
        known = [k for k in (wanted or keys) if k in keys]
        reply: dict[str, Any] = {
            "configurationKey": [{"key": k, "readonly": False, "value": keys[k]} for k in known]
        }
        unknown = [k for k in wanted or () if k not in keys]
        if unknown:
            reply["unknownKey"] = unknown
        return reply

    def change_configuration(payload: dict) -> dict:
        # 1.6 §5.3: NotSupported for unknown keys
        if payload["key"] not in keys:
            return {"status": "NotSupported"}
        keys[payload["key"]] = payload["value"]
        return {"status": "Accepted"}

    accepted: Handler = lambda _: {"status": "Accepted"}  # noqa: E731
    return {
        "GetConfiguration": get_configuration,
        "ChangeConfiguration": change_configuration,
        "ChangeAvailability": accepted,
        "ClearCache": accepted,
        "RemoteStartTransaction": accepted,
        "RemoteStopTransaction": accepted,
        "Reset": accepted,
        "UnlockConnector": lambda _: {"status": "Unlocked"},
        "DataTransfer": lambda _: {"status": "UnknownVendorId"},
        "TriggerMessage": accepted,
        "GetLocalListVersion": lambda _: {"listVersion": 0},
        "SendLocalList": accepted,
    }


# Payload builders: valid requests with the required fields filled in, overridable per field.


def boot_notification(**fields: Any) -> dict:
    """BootNotification.req (1.6 §6.2)."""
    return {**BOOT, **fields}


def status_notification(connector_id: int = 1, status: str = "Available",
                        error_code: str = "NoError", **fields: Any) -> dict:
    """StatusNotification.req (1.6 §6.47)."""
    return {"connectorId": connector_id, "errorCode": error_code, "status": status, **fields}


def start_transaction(connector_id: int = 1, id_tag: str = "TAG1", meter_start: int = 0,
                      timestamp: str | None = None, **fields: Any) -> dict:
    """StartTransaction.req (1.6 §6.45)."""
    return {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start,
            "timestamp": timestamp or _time(), **fields}  # fmt: skip


def stop_transaction(transaction_id: int, meter_stop: int, timestamp: str | None = None,
                     **fields: Any) -> dict:
    """StopTransaction.req (1.6 §6.49)."""
    return {"transactionId": transaction_id, "meterStop": meter_stop,
            "timestamp": timestamp or _time(), **fields}  # fmt: skip
