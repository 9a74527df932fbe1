"""Every charger's connectors for the screens, in one shape for both versions: a 1.6 connector
(1.6 §4.9) and a 2.0.1 EVSE's connector (G01) side by side, so the fleet list, the charger page
and the dashboard show one fleet.

Each row: `charger_id`, `connector` (the label: "2" for a 1.6 connector, "1.2" for connector 2
of EVSE 1), `evse_id` (None for 1.6), `connector_id`, `status`, `error_code`, `info`,
`timestamp`, and `whole`: the row is a 1.6 charge point's connector 0, the charge point
itself, which most views leave out.
"""

from __future__ import annotations

from typing import Any

from csms.store.base import Store

__all__ = ["STATUSES", "connector_rows", "connectors_by_charger"]

#: the statuses a connector may report: 1.6 §7.7, then what 2.0.1 adds (ConnectorStatusEnumType)
STATUSES = ("Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing",
            "Reserved", "Unavailable", "Faulted", "Occupied")  # fmt: skip


def connector_rows(store: Store, charger_id: str | None = None) -> list[dict[str, Any]]:
    """One charger's connectors (or every charger's), by charger, EVSE and connector."""
    rows = [
        {"charger_id": c["charger_id"], "connector": str(c["connector_id"]), "evse_id": None,
         "connector_id": c["connector_id"], "status": c["status"],
         "error_code": c["error_code"], "info": c["info"], "timestamp": c["timestamp"],
         "whole": c["connector_id"] == 0}
        for c in store.list_connectors(charger_id)
    ]  # fmt: skip
    rows += [
        {"charger_id": c["charger_id"], "connector": f"{c['evse_id']}.{c['connector_id']}",
         "evse_id": c["evse_id"], "connector_id": c["connector_id"], "status": c["status"],
         "error_code": None, "info": None, "timestamp": c["timestamp"], "whole": False}
        for c in store.list_evse_connectors(charger_id)
    ]  # fmt: skip
    rows.sort(key=lambda r: (r["charger_id"], r["evse_id"] or 0, r["connector_id"]))
    return rows


def connectors_by_charger(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every charger's `connector_rows`, by charger id (one query per table)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in connector_rows(store):
        grouped.setdefault(row["charger_id"], []).append(row)
    return grouped
