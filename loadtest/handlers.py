"""Simple answers a load-test charge point gives to CSMS-initiated CALLs (1.6: `handler_table`,
2.0.1: `handler_table_201`).

A load test measures the CSMS, so the charge point side answers at once and never refuses what
a real charger would accept. Actions missing from the table are answered NotSupported by the
session core (OCPP-J 1.6 §4.2.3), which a CSMS must cope with anyway.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[[dict], dict]

#: Configuration keys GetConfiguration reports (1.6 §9.1 core keys), values as strings.
DEFAULT_CONFIGURATION: dict[str, str] = {
    "HeartbeatInterval": "300",
    "MeterValueSampleInterval": "60",
    "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
    "NumberOfConnectors": "1",
    "AuthorizeRemoteTxRequests": "false",
}

_READ_ONLY = frozenset({"NumberOfConnectors"})


def _accepted(_payload: dict) -> dict:
    return {"status": "Accepted"}


def handler_table(configuration: dict[str, str] | None = None) -> dict[str, Handler]:
    """A fresh table for one charge point; `configuration` is its own (mutable) key store."""
    config = dict(DEFAULT_CONFIGURATION if configuration is None else configuration)

    def get_configuration(payload: dict) -> dict:
        # 1.6 §5.8: no key list -> every key; unknown keys listed back as unknownKey
        wanted = payload.get("key") or list(config)
        known = [{"key": k, "readonly": k in _READ_ONLY, "value": config[k]}
                 for k in wanted if k in config]
        unknown = [k for k in wanted if k not in config]
        return {"configurationKey": known, "unknownKey": unknown} if unknown else {
            "configurationKey": known}

    def change_configuration(payload: dict) -> dict:
        # 1.6 §5.3: NotSupported for unknown keys, Rejected for read-only ones
        key = payload["key"]
        if key not in config:
            return {"status": "NotSupported"}
        if key in _READ_ONLY:
            return {"status": "Rejected"}
        config[key] = payload["value"]
        return {"status": "Accepted"}

    return {
        "RemoteStartTransaction": _accepted,
        "RemoteStopTransaction": _accepted,
        "TriggerMessage": _accepted,
        "Reset": _accepted,
        "ChangeAvailability": _accepted,
        "ClearCache": _accepted,
        "DataTransfer": _accepted,
        "UnlockConnector": lambda _p: {"status": "Unlocked"},
        "GetLocalListVersion": lambda _p: {"listVersion": 0},
        "GetConfiguration": get_configuration,
        "ChangeConfiguration": change_configuration,
    }


def handler_table_201() -> dict[str, Handler]:
    """Answers of a 2.0.1 load-test station (part 2 F, G, C, D, B): accepts remote start and
    stop, reset, availability, cache and trigger requests; its device model is empty, so
    GetVariables answers UnknownComponent for each entry (B06.FR.13) and SetVariables
    UnknownComponent too (B05.FR.03); its local list is version 0 (D02)."""

    def get_variables(payload: dict) -> dict:
        return {"getVariableResult": [
            {"attributeStatus": "UnknownComponent", "component": item["component"],
             "variable": item["variable"]} for item in payload["getVariableData"]]}

    def set_variables(payload: dict) -> dict:
        return {"setVariableResult": [
            {"attributeStatus": "UnknownComponent", "component": item["component"],
             "variable": item["variable"]} for item in payload["setVariableData"]]}

    return {
        "RequestStartTransaction": _accepted,
        "RequestStopTransaction": _accepted,
        "TriggerMessage": _accepted,
        "Reset": _accepted,
        "ChangeAvailability": _accepted,
        "ClearCache": _accepted,
        "SendLocalList": _accepted,
        "DataTransfer": lambda _p: {"status": "UnknownVendorId"},
        "UnlockConnector": lambda _p: {"status": "Unlocked"},
        "GetLocalListVersion": lambda _p: {"versionNumber": 0},
        "GetVariables": get_variables,
        "SetVariables": set_variables,
    }
