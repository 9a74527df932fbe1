"""Which features the simulator and the built-in CSMS have today, for `requires:`.

A library scenario that needs a feature still being built says so (`requires: [firmware]`) and is
skipped with that reason instead of failing; it runs as soon as the feature lands, with no edit.
A feature is present when the charge point answers its OCPP action (the handler table of a
throwaway `ChargePoint`; `v201_*` features: the 2.0.1 station's, `sim.v201.handlers`) or, for
CSMS-only features, when the store can do it.
"""

from __future__ import annotations

import functools
import json

__all__ = ["FEATURES", "available", "missing"]

#: feature -> the CSMS-initiated action a charge point must answer for it
_SIM_ACTIONS = {
    "core": "Reset",
    "remote_start": "RemoteStartTransaction",
    "firmware": "UpdateFirmware",
    "diagnostics": "GetDiagnostics",
    "local_list": "SendLocalList",
    "reservation": "ReserveNow",
    "smart_charging": "SetChargingProfile",
    "trigger": "TriggerMessage",
    "security": "ExtendedTriggerMessage",
    "certificates": "InstallCertificate",
}
#: feature -> the CSMS-initiated action a 2.0.1 station must answer for it (sim.v201.handlers)
_SIM_ACTIONS_201 = {
    "v201_local_list": "SendLocalList",
    "v201_remote_start": "RequestStartTransaction",
    "v201_smart_charging": "SetChargingProfile",
    "v201_firmware": "UpdateFirmware",
    "v201_security": "SetNetworkProfile",
}
#: feature -> a method the built-in CSMS store must have
_STORE_METHODS = {"wallet": "get_wallet", "billing": "set_transaction_billing"}
FEATURES = frozenset(_SIM_ACTIONS) | frozenset(_SIM_ACTIONS_201) | frozenset(_STORE_METHODS)


@functools.cache
def available() -> frozenset[str]:
    """The features present in this installation (computed once per process)."""
    from csms.store import Store
    from scenarios.stations import DEFAULT_TEMPLATE
    from sim.chargepoint import ChargePoint
    from sim.config import ChargePointConfig
    from sim.v201.handlers import HANDLERS as HANDLERS_201

    config = ChargePointConfig.from_dict(json.loads(DEFAULT_TEMPLATE.read_text("utf-8")))
    handlers = ChargePoint(config).link.handlers
    found = {name for name, action in _SIM_ACTIONS.items() if action in handlers}
    found |= {name for name, action in _SIM_ACTIONS_201.items() if action in HANDLERS_201}
    found |= {name for name, method in _STORE_METHODS.items() if hasattr(Store, method)}
    return frozenset(found)


def missing(requires: list[str]) -> list[str]:
    """The required features this installation lacks (unknown names count as missing)."""
    have = available()
    return [name for name in requires if name not in have]
