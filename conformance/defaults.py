"""Default answers of the harness to CALLs from the system under test, per role it plays.

They are the "happy path" of OCPP 1.6; a case that needs another answer replaces one entry of
`HarnessPeer.handlers` (e.g. BootNotification -> Pending for TC_002).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chargebench.clock import iso
from conformance.harness import Handler


def _time() -> str:
    return iso(datetime.now(UTC))


def csms_handlers(heartbeat_interval: int = 300) -> dict[str, Handler]:
    """What ChargeBench answers when it plays the CSMS (a charge point is under test)."""
    transaction_ids = itertools.count(1)
    accepted = {"status": "Accepted"}

    def boot(_: dict) -> dict:
        # OCPP 1.6 §4.2 BootNotification.conf
        return {"status": "Accepted", "currentTime": _time(), "interval": heartbeat_interval}

    def start(_: dict) -> dict:
        return {"transactionId": next(transaction_ids), "idTagInfo": accepted}

    empty: Callable[[dict], Any] = lambda _: {}  # noqa: E731
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
    """What ChargeBench answers when it plays the charge point (a CSMS is under test)."""
    keys = dict(config or {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"})

    def get_configuration(payload: dict) -> dict:
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
        if payload["key"] not in keys:
            return {"status": "NotSupported"}
        keys[payload["key"]] = payload["value"]
        return {"status": "Accepted"}

    accepted = lambda _: {"status": "Accepted"}  # noqa: E731
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
