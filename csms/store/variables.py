"""The flat key of a 2.0.1 variable in the reported configuration: one spelling for the store's
merged view (`get_reported_config`) and the handlers that key monitors beside their variable.

    OCPPCommCtrlr/HeartbeatInterval      EVSE/Power@1      Connector/AvailabilityState@1.1
    ChargingStation[main]/Available      TxCtrlr/TxStartPoint
"""

from __future__ import annotations

__all__ = ["variable_key"]


def variable_key(
    component: str,
    variable: str,
    *,
    component_instance: str | None = None,
    variable_instance: str | None = None,
    evse_id: int | None = None,
    connector_id: int | None = None,
) -> str:
    """`Component[instance]/Variable[instance]`, with `@evse.connector` for an EVSE's."""
    key = _named(component, component_instance) + "/" + _named(variable, variable_instance)
    if evse_id:
        key += f"@{evse_id}" + (f".{connector_id}" if connector_id else "")
    return key


def _named(name: str, instance: str | None) -> str:
    return name + (f"[{instance}]" if instance else "")
