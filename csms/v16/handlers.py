"""What the CSMS does for each charge-point-initiated action (OCPP 1.6 §4, security whitepaper).

Each handler is `async def handler(csms, conn, payload) -> reply` registered in `HANDLERS`, the
table of `VERSION`; `csms.dispatch.bind()` gives a connection's `Session` the table of the
version agreed in its handshake. Rule: a handler returns (and so the
CALLRESULT is sent) only after what it acknowledges is committed: every store write returns after
its COMMIT (csms.store.base contract), and handlers await them before building the reply.

Store calls run in the group-commit worker (`csms.groupcommit`, `csms.db.run`): off the event
loop, so a COMMIT never stalls the other connections, and many chargers' calls share one
transaction and one thread hop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from chargebench.clock import iso
from chargebench.ocppj import wellformed
from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.v16.connectors import transition_problem
from csms import neutral_handlers as neutral
from csms import pnc
from csms.authorize import id_tag_info
from csms.dispatch import Handler, registrar
from csms.registry import ChargerConnection
from csms.services import remote
from csms.store.base import NotFoundError, Transaction

if TYPE_CHECKING:
    from csms.central import CentralSystem

log = logging.getLogger(__name__)

#: the version these handlers speak
VERSION = OCPP16
HANDLERS: dict[str, Handler] = {}
handles = registrar(HANDLERS)


# Core profile ---------------------------------------------------------------------------------


@handles("BootNotification")
async def boot_notification(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §4.2: store what the charger reports; its registration status is the answer."""
    now = csms.clock.now()
    charger = await csms.db.run(lambda uow: uow.record_boot(
        conn.cp_id,
        vendor=p["chargePointVendor"], model=p["chargePointModel"],
        serial=p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber"),
        firmware_version=p.get("firmwareVersion"), iccid=p.get("iccid"), imsi=p.get("imsi"),
        meter_type=p.get("meterType"), meter_serial=p.get("meterSerialNumber"), timestamp=now,
    ))  # fmt: skip
    status = charger["registration_status"]
    conn.registration = status
    # §4.2.1: when Accepted, `interval` is the heartbeat interval; otherwise the retry wait.
    accepted = status == "Accepted"
    interval = csms.config.heartbeat_interval if accepted else csms.config.boot_retry_interval
    return {"status": status, "currentTime": iso(now), "interval": interval}


handles("Heartbeat")(neutral.heartbeat)  # OCPP 1.6 §4.6


@handles("StatusNotification")
async def status_notification(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §4.9: connector 0 is the charge point itself; error codes are kept as sent.

    A status change the §4.9 table does not allow is logged, never refused: the status is the
    charger's report of what its hardware is doing, StatusNotification.conf has no field to
    refuse with (§6.48), and a CALLERROR would only make the charger retry the same truth while
    the CSMS loses it. Transitions are judged per connection (the first report after a connect
    may follow changes made while offline)."""
    connector, status = p["connectorId"], p["status"]
    seen = conn.extra.setdefault("statuses", {})
    problem = transition_problem(connector, seen.get(connector), status)
    if problem is not None:
        log.warning("%s: connector %s: %s", conn.cp_id, connector, problem)
    seen[connector] = status
    timestamp = p.get("timestamp") or csms.clock.now()
    await csms.db.run(lambda uow: uow.record_status(
        conn.cp_id, p["connectorId"], p["status"],
        error_code=p["errorCode"], info=p.get("info"), vendor_id=p.get("vendorId"),
        vendor_error_code=p.get("vendorErrorCode"), timestamp=timestamp,
    ))  # fmt: skip
    csms.connections.publish({"kind": "status", "cp_id": conn.cp_id,
                              "connector_id": p["connectorId"], "status": p["status"],
                              "error_code": p["errorCode"]})  # fmt: skip
    return {}


@handles("Authorize")
async def authorize(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §4.1: Accepted / Blocked / Expired / Invalid / ConcurrentTx, with parentIdTag."""
    return {"idTagInfo": await id_tag_info(csms, p["idTag"])}


@handles("StartTransaction")
async def start_transaction(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §4.8: always answer with a transactionId, even when the tag is not accepted
    (the charger then stops the transaction itself); a reservation used here is consumed.

    The ConcurrentTx check (1.6 §7.2), the close of a transaction left open on the same
    connector and the insert are one store step (`begin_transaction`): two starts for one tag
    a millisecond apart cannot both be Accepted, and what is stored is what is answered."""
    info: dict[str, Any] = dict(await id_tag_info(csms, p["idTag"]))
    started = await csms.db.run(lambda uow: uow.begin_transaction(
        conn.cp_id, p["connectorId"], p["idTag"], p["meterStart"],
        p["timestamp"], reservation_id=p.get("reservationId"), id_tag_status=info["status"],
    ))  # fmt: skip
    transaction_id = started.transaction_id
    if started.id_tag_status is not None:
        info["status"] = started.id_tag_status
    for stale in started.closed_stale:
        log.warning("%s: transaction %s on connector %s was never stopped; closed by %s and "
                    "sent to billing review", conn.cp_id, stale, p["connectorId"],
                    transaction_id)  # fmt: skip
    # seeds/001 §4.3: the pending record of a remote start for this connector and tag
    now = csms.clock.now()
    await csms.db.run(lambda uow: remote.link_started(
        uow, conn.cp_id, p["connectorId"], p["idTag"],
        transaction_id, now, csms.config.remote_start_timeout,
    ))  # fmt: skip
    csms.connections.publish({"kind": "transaction", "cp_id": conn.cp_id,
                              "transaction_id": transaction_id})  # fmt: skip
    return {"transactionId": transaction_id, "idTagInfo": info}


#: security_events.type of a transaction message naming another charger's transaction
FOREIGN_TRANSACTION = "ForeignTransactionId"


async def _owned_transaction(
    csms: CentralSystem, conn: ChargerConnection, action: str, transaction_id: int,
    connector_id: int | None = None,
) -> tuple[Transaction | None, bool]:
    """(the transaction, whether this charger may act on it). A transactionId is only
    meaningful on the connection of the charger it was given to (1.6 §4.8: the Central System
    allocates it for that charger's StartTransaction), and on its connector where the message
    names one. Anything else is refused and raised as a security event (issue 15 point 0)."""
    tx = await csms.db.run(lambda uow: uow.get_transaction(transaction_id))
    if tx is None:
        return None, True
    foreign = tx["charger_id"] != conn.cp_id
    if not foreign and connector_id and connector_id != tx["connector_id"]:
        foreign = True
    if foreign:
        where = f"connector {connector_id} of {conn.cp_id}" if connector_id else conn.cp_id
        info = f"{action} from {where} names transaction {transaction_id}, not its own"
        log.warning("%s: SECURITY %s: %s", conn.cp_id, FOREIGN_TRANSACTION, info)
        now = csms.clock.now()
        await csms.db.run(lambda uow: uow.add_security_event(
            conn.cp_id, FOREIGN_TRANSACTION, now, tech_info=info))  # fmt: skip
    return tx, not foreign


@handles("StopTransaction")
async def stop_transaction(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §4.10: close the transaction and keep its transactionData. A replayed stop
    (our reply was lost) changes nothing and gets the same answer. A transactionId of another
    charger changes nothing either: it is answered idTagInfo Invalid (StopTransaction.conf
    idTagInfo is optional, §6.50; Invalid, §7.2) so the charger stops retrying, and logged."""
    transaction_id = p["transactionId"]
    before, own = await _owned_transaction(csms, conn, "StopTransaction", transaction_id)
    if not own:
        return {"idTagInfo": {"status": "Invalid"}}
    if before is None:
        # The charger will retry until it gets a reply (§4.10): acknowledge, keep the data,
        # but tied to no transaction: ids are sequential, and one not allocated yet must not
        # collect readings for whoever gets it next.
        log.warning("%s: StopTransaction for unknown transaction %s", conn.cp_id, transaction_id)
        if p.get("transactionData"):
            await csms.db.run(lambda uow: uow.add_meter_values(conn.cp_id, 0,
                                                               p["transactionData"]))
    else:
        if before["stop_time"] is None and p.get("transactionData"):
            await csms.db.run(lambda uow: uow.add_meter_values(
                conn.cp_id, before["connector_id"], p["transactionData"],
                transaction_id=transaction_id))  # fmt: skip
        try:
            await csms.db.run(lambda uow: uow.stop_transaction(
                transaction_id, p["meterStop"], p["timestamp"], reason=p.get("reason"),
                id_tag=p.get("idTag")))  # fmt: skip
            # billed once per transaction id, so a replayed stop is never billed twice
            await csms.billing.bill_stopped_transaction(transaction_id)
        except NotFoundError:  # deleted meanwhile by an operator
            log.warning("%s: transaction %s vanished", conn.cp_id, transaction_id)
        csms.connections.publish({"kind": "transaction", "cp_id": conn.cp_id,
                                  "transaction_id": transaction_id})  # fmt: skip
    if "idTag" not in p:
        return {}
    return {"idTagInfo": await id_tag_info(csms, p["idTag"])}


@handles("MeterValues")
async def meter_values(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §4.7: every sampledValue is stored, as sent and normalised to base units.
    Values naming a transaction that is not this charger's (or not on this connector) are kept
    for the charger but attached to no transaction, and raise a security event; the reply is
    the empty MeterValues.conf all the same (§6.32: it has no field to refuse with)."""
    transaction_id = p.get("transactionId")
    if transaction_id is not None:
        tx, own = await _owned_transaction(
            csms, conn, "MeterValues", transaction_id, p["connectorId"]
        )
        if tx is None or not own:
            transaction_id = None
    await csms.db.run(lambda uow: uow.add_meter_values(
        conn.cp_id, p["connectorId"], p["meterValue"], transaction_id=transaction_id))
    if transaction_id is not None:
        csms.connections.publish({"kind": "transaction", "cp_id": conn.cp_id,
                                  "transaction_id": transaction_id})  # fmt: skip
    return {}


@handles("DataTransfer")
async def data_transfer(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §4.3: vendors we do not know get UnknownVendorId, their unknown messages
    UnknownMessageId; Plug & Charge (vendorId org.openchargealliance.iso15118pnc) is served."""
    vendor = VENDORS.get(p["vendorId"])
    if vendor is None:
        return {"status": "UnknownVendorId"}
    message_id = p.get("messageId", "")
    handler = vendor.get(message_id)
    if handler is None:
        return {"status": "UnknownMessageId"}
    # `data` is a payload in a string: read by the rules of frames (wellformed.parse) and held
    # to its own schema, so a vendor handler only ever sees what that schema allows
    try:
        data = wellformed.parse(p.get("data") or "{}")
    except ValueError as error:
        return {"status": "Rejected", "data": f"data: {error}"}
    if not isinstance(data, dict):
        return {"status": "Rejected", "data": "data is not a JSON object"}
    problem = _embedded_schema_error(p["vendorId"], message_id, data)
    if problem is not None:
        return {"status": "Rejected", "data": problem}
    reply = await handler(csms, conn, data)
    return {"status": "Accepted", "data": json.dumps(reply, separators=(",", ":"))}


VENDORS: dict[str, dict[str, Callable[..., Awaitable[dict]]]] = {pnc.VENDOR_ID: pnc.MESSAGES}
#: the `ocpp` package's schemas of the messages a vendor wraps (PnC: OCPP 2.0.1 requests)
EMBEDDED_SCHEMAS = {pnc.VENDOR_ID: "ocpp.v201.schemas"}
_embedded_validators: dict[tuple[str, str], Any] = {}


def _embedded_schema_error(vendor_id: str, message_id: str, data: dict) -> str | None:
    """Why `data` is not a valid `message_id` request of the vendor's schemas, or None."""
    package = EMBEDDED_SCHEMAS.get(vendor_id)
    if package is None:
        return None
    key = (package, message_id)
    validator = _embedded_validators.get(key)
    if validator is None:
        text = resources.files(package).joinpath(f"{message_id}Request.json").read_text(
            "utf-8-sig")
        validator = _embedded_validators[key] = jsonschema_rs.validator_for(
            json.loads(text), validate_formats=True)
    if validator.is_valid(data):
        return None
    error = next(iter(validator.iter_errors(data)))
    path = ".".join(str(step) for step in error.instance_path) or "(data)"
    return f"{path}: {error.message}"[:200]


# Firmware management --------------------------------------------------------------------------


@handles("FirmwareStatusNotification")
async def firmware_status(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §6.5: progress of the charger's newest open firmware deployment."""
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_firmware_status(conn.cp_id, p["status"],
                                                             timestamp=now))
    return {}


@handles("DiagnosticsStatusNotification")
async def diagnostics_status(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """OCPP 1.6 §6.3: progress of the newest open GetDiagnostics request."""
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_diagnostics_status(conn.cp_id, p["status"],
                                                                timestamp=now))
    return {}


# Security whitepaper edition 3 ----------------------------------------------------------------


# whitepaper L01: the requestId is the deployment id we sent in SignedUpdateFirmware
handles("SignedFirmwareStatusNotification")(neutral.firmware_status)
# whitepaper N01: the requestId is the diagnostics request id we sent in GetLog
handles("LogStatusNotification")(neutral.log_status)


@handles("SecurityEventNotification")
async def security_event(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """Whitepaper A04: kept in the security event log."""
    await csms.db.run(lambda uow: uow.add_security_event(
        conn.cp_id, p["type"], p["timestamp"], tech_info=p.get("techInfo")))
    return {}


@handles("SignCertificate")
async def sign_certificate(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """Whitepaper A02: check the CSR, answer, then sign it and send CertificateSigned.req as a
    follow-up CALL (A02.FR.06: the CSMS signs after it has replied)."""
    verdict = await csms.certificates.check_csr(conn.cp_id, p["csr"])
    if verdict is not None:
        log.warning("%s: SignCertificate rejected: %s", conn.cp_id, verdict)
        return {"status": "Rejected"}
    csms.spawn(csms.certificates.sign_and_send(conn, p["csr"]))
    return {"status": "Accepted"}
