"""I. Tariff and cost on a 2.0.1 station: the running and total cost the CSMS sends, shown
to the driver (I02, I03), and the tariff text of a TransactionEventResponse (I06).

What the station shows per transaction is in `ChargingStation.costs` (None until the first):
transactionId -> {"totalCost": the latest cost, "final": True once the Ended event's response
carried it, "message": the latest personal message}. TariffCostCtrlr decides whether cost is
shown: without that controller, or with its Cost instance of Enabled false, CostUpdated is
answered CALLERROR NotSupported and responses' costs are not shown.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chargebench.ocppj.errors import OcppCallError

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["cost_updated", "shown", "transaction_response"]

log = logging.getLogger(__name__)


def _enabled(st: ChargingStation) -> bool:
    return st.settings.has("TariffCostCtrlr") and st.settings.bool("CostEnabled")


def _show(st: ChargingStation, transaction_id: str, **fields: object) -> None:
    if st.costs is None:
        st.costs = {}
    st.costs.setdefault(transaction_id, {}).update(fields)


def cost_updated(st: ChargingStation, p: dict) -> dict:
    """I02.FR.02/03: the running total cost of a transaction, shown to the driver."""
    if not _enabled(st):
        raise OcppCallError("NotSupported", "this station has no TariffCostCtrlr enabled")
    _show(st, p["transactionId"], totalCost=float(p["totalCost"]))
    log.info("%s: %s costs %s %s so far", st.id, p["transactionId"], p["totalCost"],
             st.settings.text("Currency"))
    return {}


def transaction_response(st: ChargingStation, request: dict, reply: dict) -> None:
    """The cost in a TransactionEventResponse: the running cost of an Updated (I02.FR.04), the
    total of the Ended (I03.FR.03; 0.00 is a free transaction, I03.FR.04), and the personal
    message with the tariff (I06.FR.03)."""
    if not _enabled(st):
        return
    tx_id = request["transactionInfo"]["transactionId"]
    if "totalCost" in reply:
        _show(st, tx_id, totalCost=float(reply["totalCost"]),
              final=request["eventType"] == "Ended")
    message = reply.get("updatedPersonalMessage")
    if message is not None:
        _show(st, tx_id, message=message.get("content"))


def shown(st: ChargingStation, transaction_id: str) -> dict | None:
    """What the driver sees of a transaction's cost (None: nothing yet)."""
    return (st.costs or {}).get(transaction_id)
