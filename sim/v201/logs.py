"""N. Diagnostics on a 2.0.1 station: GetLog (N01) with a real upload and its
LogStatusNotification sequence, and CustomerInformation (N09, N10) with
NotifyCustomerInformation.

GetLog is the security whitepaper's (the same request, response and LogStatusNotification), so
the upload is the version-neutral `sim.v16.diagnostics.Diagnostics` (`sim.transfer`: HTTP PUT
or FTP, retries, the window between oldestTimestamp and latestTimestamp cut out of the log):
DiagnosticsLog is the station's own message log (its state directory's `ocpp.log`, else a
snapshot of the station), SecurityLog the security log (A04.FR.04).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from chargebench.clock import iso
from chargebench.ocppj import CallFailed

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["customer_information", "get_log", "triggered_status"]

#: NotifyCustomerInformationRequest.data: string[512]
_DATA_MAX = 512


def get_log(st: ChargingStation, p: dict) -> dict:
    """N01: Accepted and the file name (N01.FR.01), AcceptedCanceled when it replaces an
    upload in progress (N01.FR.11 / whitepaper N01); then Uploading and Uploaded, or
    UploadFailure / NotSupportedOperation (a protocol not in FileTransferProtocols), each with
    the requestId (N01.FR.02-04)."""
    return st.features.diagnostics.on_get_log(p)


def triggered_status(st: ChargingStation) -> dict:
    """F06.FR.16 (TriggerMessage LogStatusNotification): Idle when no upload runs (N01.FR.12),
    else Uploading with its requestId."""
    if not st.features_built("diagnostics"):
        return {"status": "Idle"}
    return st.features.diagnostics.triggered_log_status()


def customer_information(st: ChargingStation, p: dict) -> dict:
    """N09/N10: Invalid unless exactly one of customerIdentifier, idToken and
    customerCertificate names the customer (N09.FR.09); Rejected when neither report nor clear
    is asked (N09.FR.07, N10.FR.07); else Accepted (N09.FR.02, N10.FR.01), then (report) what
    the station holds on that customer in NotifyCustomerInformation messages (N09.FR.05: data
    in parts of 512 characters, seqNo from 0, tbc on all but the last; none held: one message
    saying so, N09.FR.06) and (clear) the customer's Authorization Cache entry removed
    (N10.FR.03/06; the Local Authorization List is the CSMS's to change, N10.FR.02)."""
    keys = ("customerIdentifier", "idToken", "customerCertificate")
    if sum(k in p for k in keys) != 1:
        return {"status": "Invalid"}
    if not p["report"] and not p["clear"]:
        return {"status": "Rejected"}
    lines = _known(st, p) if p["report"] else []
    if p["clear"] and "idToken" in p:
        st.auth_cache.forget(p["idToken"])
    if p["report"]:
        st.spawn(_notify(st, p["requestId"], "; ".join(lines) or "No customer data"))
    return {"status": "Accepted"}


def _known(st: ChargingStation, p: dict) -> list[str]:
    """What the station keeps on the customer: its list and cache entries, transactions."""
    lines: list[str] = []
    token = p.get("idToken")
    if token is not None:
        listed = st.local_list.status(token)
        if listed is not None:
            lines.append(f"local list: {listed}")
        cached = st.auth_cache.status(token, st.clock.now())
        if cached is not None:
            lines.append(f"authorization cache: {cached}")
        for evse in st.evses:
            if evse.tx is not None and evse.token is not None \
                    and evse.token.get("idToken") == token.get("idToken"):
                lines.append(f"transaction {evse.tx.transaction_id} on EVSE {evse.id}")
    if "customerIdentifier" in p:
        lines.append(f"customer {p['customerIdentifier']}: no records")
    return lines


async def _notify(st: ChargingStation, request_id: int, data: str) -> None:
    await asyncio.sleep(0)  # the response goes out first
    parts = [data[i:i + _DATA_MAX] for i in range(0, len(data), _DATA_MAX)] or [""]
    generated = iso(st.clock.now())
    for seq, part in enumerate(parts):
        payload: dict[str, Any] = {"data": part, "seqNo": seq, "generatedAt": generated,
                                   "requestId": request_id}
        if seq < len(parts) - 1:
            payload["tbc"] = True
        with contextlib.suppress(CallFailed):
            await st.call("NotifyCustomerInformation", payload)
