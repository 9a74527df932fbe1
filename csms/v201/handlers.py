"""What the CSMS does for each message an OCPP 2.0.1 charging station sends (part 2).

The same contract as `csms.v16.handlers`: each handler is `async def handler(csms, conn,
payload) -> reply`, registered in `HANDLERS`, the table of `VERSION`; `csms.dispatch` binds it
to a connection whose handshake agreed "ocpp2.0.1". A handler returns (and so the CALLRESULT is
sent) only after what it acknowledges is committed. The store, the authorization decision and
billing are the version-neutral ones 1.6 uses; only the message shapes differ.

Every message a 2.0.1 charging station sends (issue 18 point 2) has its handler here. What the
CSMS has no back end for (an ISO 15118 schedule planner, a contract certificate pool, an OCSP
responder) is answered with the status the use case gives for that case and a StatusInfo
reason, never a CALLERROR. Every CALL is also in the message log; what a notification tells
about the station (external charging limits, publish-firmware status, display messages,
customer information) is also kept per station (`csms.store.base.StationReportStore`) and
shown by the HTTP API (`csms.api.station_reports_api`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from chargebench.clock import iso
from chargebench.ocppj import CallFailed
from chargebench.ocppj.v201 import OCPP201
from csms import neutral_handlers as neutral
from csms import pnc
from csms.dispatch import ASKED, Handler, registrar
from csms.registry import ChargerConnection
from csms.services import authorization
from csms.services.analytics import cost_of, energy_so_far
from csms.services.authorization import ACCEPTED, INVALID, IdTagInfo
from csms.states import ReservationStatus
from csms.store.base import CostBasis, Store, TransactionEventResult
from csms.store.metering import has_energy_register, plain
from csms.v201 import planner, reported, tokens

if TYPE_CHECKING:
    from csms.central import CentralSystem

log = logging.getLogger(__name__)

#: the version these handlers speak
VERSION = OCPP201
HANDLERS: dict[str, Handler] = {}
handles = registrar(HANDLERS)


# B. Provisioning ------------------------------------------------------------------------------


@handles("BootNotification")
async def boot_notification(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """B01-B03: store what the station reports; its registration status (the CSMS's policy for
    chargers it did not know, or what an operator set) is the answer. Accepted: `interval` is
    the heartbeat interval (B01.FR.04); Pending/Rejected: the wait before the next boot
    (B02.FR.08, B03.FR.06)."""
    station = p["chargingStation"]
    modem = station.get("modem") or {}
    now = csms.clock.now()
    charger = await csms.db.run(lambda uow: uow.record_boot(
        conn.cp_id,
        vendor=station["vendorName"], model=station["model"], serial=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"), iccid=modem.get("iccid"),
        imsi=modem.get("imsi"), timestamp=now,
    ))  # fmt: skip
    conn.extra["boot_reason"] = p["reason"]  # B01.FR.09
    conn.extra.pop(ASKED, None)  # what a TriggerMessage asked before this boot is answered
    status = charger["registration_status"]
    conn.registration = status
    accepted = status == "Accepted"
    interval = csms.config.heartbeat_interval if accepted else csms.config.boot_retry_interval
    log.info("%s: BootNotification (%s): %s", conn.cp_id, p["reason"], status)
    return {"currentTime": iso(now), "interval": interval, "status": status}


@handles("NotifyReport")
async def notify_report(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """B07/B08: a part of the report asked for with GetBaseReport/GetReport (`tbc`: more parts
    follow). Every attribute of every variable is kept as the station's device model (value,
    mutability, persistent, constant, characteristics: `Store.list_station_variables`)."""
    rows = list(reported.report_rows(p.get("reportData", ())))
    if rows:
        now = csms.clock.now()
        await csms.db.run(lambda uow: uow.record_station_variables(conn.cp_id, rows, now))
    csms.followups.feed(conn.cp_id, "NotifyReport", p)  # the report as one (csms.followups)
    return {}


@handles("NotifyMonitoringReport")
async def notify_monitoring_report(csms: CentralSystem, conn: ChargerConnection,
                                   p: dict) -> dict:  # fmt: skip
    """N02: a part of the report asked for with GetMonitoringReport (N02.FR.03/04: its
    requestId; `tbc`, N02.FR.09 `seqNo`). Each monitor is kept with the station's reported
    configuration beside its variable, keyed `<variable key>#monitor[<id>]`, its setting as
    JSON; the parts go to the command that asked (`csms.followups`)."""
    entries = [
        {"key": f"{variable_key(item['component'], item['variable'])}#monitor[{m['id']}]",
         "value": json.dumps({k: m[k] for k in ("type", "value", "severity", "transaction")},
                             sort_keys=True),
         "readonly": False}
        for item in p.get("monitor", ()) for m in item["variableMonitoring"]
    ]  # fmt: skip
    if entries:
        now = csms.clock.now()
        await csms.db.run(lambda uow: uow.record_reported_config(conn.cp_id, entries, now))
    csms.followups.feed(conn.cp_id, "NotifyMonitoringReport", p)
    return {}


def variable_key(component: dict, variable: dict) -> str:
    """`Component[instance]/Variable[instance]`, with `@evse.connector` for an EVSE's (the
    reported configuration's key, `csms.store.variables`)."""
    return reported.key_of(component, variable)


# G. Availability ------------------------------------------------------------------------------


handles("Heartbeat")(neutral.heartbeat)  # G02


@handles("StatusNotification")
async def status_notification(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """G01: the status of one connector of one EVSE (G01.FR.01: a ConnectorStatus value, held
    to its enumeration by the schema). Kept as reported, never refused (the response has no
    field to refuse with)."""
    await csms.db.run(lambda uow: uow.record_evse_status(
        conn.cp_id, p["evseId"], p["connectorId"], p["connectorStatus"], p["timestamp"]))
    csms.connections.publish({"kind": "status", "cp_id": conn.cp_id, "evse_id": p["evseId"],
                              "connector_id": p["connectorId"],
                              "status": p["connectorStatus"]})  # fmt: skip
    return {}


# C. Authorization -----------------------------------------------------------------------------

#: IdTokenEnumType "NoAuthorization": no identifier to look up (the station needs none)
NO_AUTHORIZATION = "NoAuthorization"
UNKNOWN = "Unknown"


async def id_token_info(csms: CentralSystem, id_token: dict) -> dict:
    """IdTokenInfo for an IdToken, by the CSMS's id tag decision (`csms.services.authorization`):
    status, `cacheExpiryDateTime` from the tag's expiry, the parent tag as `groupIdToken`
    (C01.FR.06). A token the CSMS has no record of is Unknown (AuthorizationStatusEnumType), not
    Invalid; one registered with another IdToken type is another token, so Unknown too
    (`csms.v201.tokens`). ConcurrentTx is the store's to decide, with the event it answers
    (`Store.record_transaction_event`)."""
    if id_token["type"] == NO_AUTHORIZATION:
        return {"status": ACCEPTED}
    token = id_token["idToken"]
    now = csms.clock.now()

    def lookup(uow: Store) -> tuple[IdTagInfo, bool]:
        record = uow.get_id_tag(token)
        if not tokens.type_matches(record, id_token["type"]):
            return {"status": INVALID}, True  # C01: another token of the same value
        return authorization.authorize(uow, token, now), record is None

    info, unknown = await csms.db.run(lookup)
    status = info["status"]
    if status == INVALID and unknown:
        status = UNKNOWN
    reply: dict[str, Any] = {"status": status}
    if "expiryDate" in info:
        reply["cacheExpiryDateTime"] = info["expiryDate"]
    if "parentIdTag" in info:
        reply["groupIdToken"] = {"idToken": info["parentIdTag"], "type": "Central"}
    return reply


@handles("Authorize")
async def authorize(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """C01: the idToken's IdTokenInfo (C01.FR.06: with its groupIdToken). C07 (ISO 15118):
    with a contract certificate or its OCSP hash data the answer has a certificateStatus, by
    the checks this CSMS can make without an OCSP responder (`csms.pnc`)."""
    reply: dict[str, Any] = {"idTokenInfo": await id_token_info(csms, p["idToken"])}
    if "certificate" in p or "iso15118CertificateHashData" in p:
        reply["certificateStatus"] = pnc.certificate_status(p.get("certificate"),
                                                            csms.clock.now().timestamp())
    return reply


# E. Transactions, J. Meter values -------------------------------------------------------------


@handles("TransactionEvent")
async def transaction_event(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """E01-E12: one event of a transaction the station names by its own string transactionId.

    Stored by seqNo (a retried event changes nothing; gaps are logged, part 2 E §1.3.2), with
    its meter values; the first event creates the transaction, Ended closes it and bills the
    energy its register readings span. An event that carries an idToken is answered with that
    token's IdTokenInfo (E01.FR.11/12, E02.FR.02/04, E03.FR.02): ConcurrentTx when the token
    already runs another transaction. That check and the insert of the transaction are one
    store step (`record_transaction_event`, as 1.6's `begin_transaction`): two stations
    starting with one token at the same moment cannot both be Accepted (issue 17 point 3)."""
    info = p["transactionInfo"]
    token = p.get("idToken")
    token_info = None if token is None else await id_token_info(csms, token)
    evse = p.get("evse") or {}
    meter_values = meter_values_16(p.get("meterValue", ()))
    ended = p["eventType"] == "Ended"
    running_cost = not ended and has_energy_register(meter_values)

    def record(uow: Store) -> TransactionEventResult:
        return uow.record_transaction_event(
            conn.cp_id, info["transactionId"], p["seqNo"],
            p["eventType"], p["timestamp"], trigger_reason=p["triggerReason"],
            offline=p.get("offline", False), charging_state=info.get("chargingState"),
            evse_id=evse.get("id"), id_token=None if token is None else token["idToken"],
            id_token_status=None if token_info is None else token_info["status"],
            stopped_reason=info.get("stoppedReason"), meter_values=meter_values,
            with_cost_basis=running_cost,  # I02.FR.01: read with the event (one store round)
        )  # fmt: skip

    result = await csms.db.run(record)
    cost = _cost(result.cost_basis)
    if token_info is not None and result.id_token_status is not None:
        token_info["status"] = result.id_token_status  # what was stored is what is answered
    if result.missing and p["eventType"] == "Ended":
        log.warning("%s: transaction %s ended with seqNo %s never received", conn.cp_id,
                    info["transactionId"], ", ".join(map(str, result.missing)))  # fmt: skip
    if "remoteStartId" in info and not result.duplicate:
        await csms.db.run(lambda uow: _link_remote_start(
            uow, conn.cp_id, info["remoteStartId"], result.transaction_id))
    if ended and not result.duplicate:
        # billed once per transaction id, so a retried Ended is never billed twice
        await csms.billing.bill_stopped_transaction(result.transaction_id)
    csms.connections.publish({"kind": "transaction", "cp_id": conn.cp_id,
                              "transaction_id": result.transaction_id})  # fmt: skip
    reply: dict[str, Any] = {} if token_info is None else {"idTokenInfo": token_info}
    if ended:  # I03.FR.02: the billed total, read after billing
        cost = await csms.db.run(lambda uow: _total_cost(uow, result.transaction_id))
    if cost is not None:
        reply["totalCost"] = float(cost)
    return reply


def _total_cost(store: Store, transaction_id: int) -> Decimal | None:
    """I02.FR.01: the running cost of a transaction so far (its latest energy register reading
    at the station's tariff), answered in the TransactionEventResponse of an event carrying a
    reading; I03.FR.02: once Ended, the billed total (I03.FR.04: 0.00 when free). None when
    the CSMS does not know it (no tariff, no reading yet, billing review): left out, which
    I03.FR.04 says does not mean free."""
    return _cost(store.cost_basis(transaction_id))


def _cost(basis: CostBasis | None) -> Decimal | None:
    """`_total_cost` from what it is reckoned from (None: nothing to reckon from)."""
    if basis is None:
        return None
    if basis["stop_time"] is not None:
        return basis["amount"]
    rate, reading = basis["rate_per_kwh"], basis["latest_reading"]
    if rate is None or reading is None:
        return None
    return cost_of(energy_so_far(reading, basis["meter_start"]), rate)


def _link_remote_start(store: Store, cp_id: str, remote_start_id: int, transaction_id: int) -> None:
    """F01.FR.25, F02.FR.01: the event names the RequestStartTransaction's remoteStartId (the
    store's record, csms.v201.commands); a Pending record of this station is Started with the
    transaction. Any other id (another station's, an unknown one) links nothing."""
    record = store.get_remote_start(remote_start_id)
    if record is None or record["charger_id"] != cp_id or record["status"] != "Pending":
        return
    store.link_remote_start(cp_id, record["connector_id"], record["id_tag"], transaction_id,
                            requested_since=record["requested_at"])  # fmt: skip


@handles("MeterValues")
async def meter_values(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """J01: readings outside transactions (those of a transaction come in TransactionEvent);
    evseId 0 is the main meter of the station. Every sampledValue is stored."""
    values = meter_values_16(p["meterValue"])
    await csms.db.run(lambda uow: uow.add_meter_values(conn.cp_id, p["evseId"], values))
    return {}


#: the integers a double holds exactly: their text is the same by int() as by Decimal
_EXACT = 2**53


def _decimal_text(number: Any, multiplier: int) -> str:
    """`number` times 10^`multiplier` as plain decimal text (`plain`). A whole number without
    a multiplier, what a meter mostly sends, takes the short way (the same text)."""
    kind = type(number)
    if multiplier == 0 and (kind is int or (kind is float and number.is_integer()
                                            and -_EXACT < number < _EXACT)):  # fmt: skip
        return str(int(number))
    try:
        return plain(Decimal(str(number)).scaleb(multiplier))
    except InvalidOperation:
        return str(number)


def meter_values_16(meter_values: Iterable[dict]) -> list[dict]:
    """2.0.1 MeterValueType in the store's wire shape (the 1.6 one): the number times
    10^`unitOfMeasure.multiplier` (default 0) as decimal text, `unitOfMeasure.unit` as `unit`.
    Without a unit the store takes the measurand's base unit, as for 1.6 (the schema's default
    "Wh" is meaningless for a Voltage sample; for the energy register it is the same). A signed
    reading keeps its value; the signature is not stored yet."""
    converted = []
    for meter_value in meter_values:
        samples = []
        for sample in meter_value["sampledValue"]:
            unit = sample.get("unitOfMeasure") or {}
            value = _decimal_text(sample["value"], unit.get("multiplier", 0))
            row = {"value": value}
            if "unit" in unit:  # absent: the measurand's base unit (csms.store.metering)
                row["unit"] = unit["unit"]
            for key in ("context", "measurand", "phase", "location"):
                if key in sample:
                    row[key] = sample[key]
            samples.append(row)
        converted.append({"timestamp": meter_value["timestamp"], "sampledValue": samples})
    return converted


# A. Security ----------------------------------------------------------------------------------


#: CertificateSigningUseEnumType: what the CSMS's CA signs (a V2G certificate chains to the
#: V2G root, which is not ours)
STATION_CERTIFICATE = "ChargingStationCertificate"


@handles("SignCertificate")
async def sign_certificate(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """A02/A03: check the CSR (subject O = CPO name, CN = the station's registered serial,
    `CertificateService.check_csr`), answer
    Accepted when the CSMS can sign it (A02.FR.11) or Rejected (A02.FR.12, reason InvalidCSR),
    then sign it and send CertificateSigned as a follow-up CALL with the same certificateType
    (A02.FR.14)."""
    kind = p.get("certificateType", STATION_CERTIFICATE)
    if kind != STATION_CERTIFICATE:
        return {"status": "Rejected", "statusInfo": {"reasonCode": "UnsupportedRequest",
                                                     "additionalInfo": f"{kind} not signed here"}}
    verdict = await csms.certificates.check_csr(conn.cp_id, p["csr"])
    if verdict is not None:
        log.warning("%s: SignCertificate rejected: %s", conn.cp_id, verdict)
        return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidCSR",
                                                     "additionalInfo": verdict[:512]}}
    fields = {"certificateType": kind} if "certificateType" in p else {}
    csms.spawn(csms.certificates.sign_and_send(conn, p["csr"], **fields))
    return {"status": "Accepted"}


@handles("SecurityEventNotification")
async def security_event(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """A04: kept in the security event log."""
    await csms.db.run(lambda uow: uow.add_security_event(
        conn.cp_id, p["type"], p["timestamp"], tech_info=p.get("techInfo")))
    return {}


@handles("Get15118EVCertificate")
async def get_15118_ev_certificate(csms: CentralSystem, conn: ChargerConnection,
                                   p: dict) -> dict:  # fmt: skip
    """M01/M02: install or update an EV's contract certificate: this CSMS has no contract
    certificate back end, so Failed with the reason (`csms.pnc`, as for 1.6 Plug & Charge)."""
    log.info("%s: Get15118EVCertificate (%s): no contract certificate back end", conn.cp_id,
             p["action"])  # fmt: skip
    return await pnc.get_15118_ev_certificate(csms, conn, p)


@handles("GetCertificateStatus")
async def get_certificate_status(csms: CentralSystem, conn: ChargerConnection,
                                 p: dict) -> dict:  # fmt: skip
    """M06: the OCSP status of a certificate: no OCSP responder here, so Failed (M06.FR.04)."""
    return await pnc.get_certificate_status(csms, conn, p)


# H. Reservation -------------------------------------------------------------------------------

#: ReservationUpdateStatusEnumType -> the store's reservation status: Removed is the station
#: cancelling it (H01.FR.16/17: its EVSE became Faulted or Unavailable)
_RESERVATION_UPDATE = {"Expired": ReservationStatus.EXPIRED,
                       "Removed": ReservationStatus.CANCELLED}  # fmt: skip
#: reservations still open: only these are ended by the station's update
_OPEN_RESERVATIONS = {ReservationStatus.REQUESTED, ReservationStatus.ACCEPTED}


@handles("ReservationStatusUpdate")
async def reservation_status_update(csms: CentralSystem, conn: ChargerConnection,
                                    p: dict) -> dict:  # fmt: skip
    """H04 (H04.FR.01: Expired), H01.FR.16/17 (Removed): the reservation the CSMS made with
    ReserveNow (`id` = reservationId, `csms.v201.commands`) ends. One of another station, an
    unknown id, or one already ended (Used, Cancelled...) stays as it is: the response has no
    field to refuse with."""
    status = _RESERVATION_UPDATE[p["reservationUpdateStatus"]]
    changed = await csms.db.run(lambda uow: _end_reservation(uow, conn.cp_id,
                                                             p["reservationId"], status))
    if not changed:
        log.warning("%s: ReservationStatusUpdate %s for reservation %s: not an open "
                    "reservation of this station", conn.cp_id, p["reservationUpdateStatus"],
                    p["reservationId"])  # fmt: skip
    return {}


def _end_reservation(store: Store, cp_id: str, reservation_id: int, status: str) -> bool:
    record = store.get_reservation(reservation_id)
    if record is None or record["charger_id"] != cp_id:
        return False
    if record["status"] not in _OPEN_RESERVATIONS:
        return False
    store.set_reservation_status(reservation_id, status)
    return True


# L. Firmware management, N. Diagnostics -------------------------------------------------------


# L01: `requestId` is the one of the UpdateFirmware that started it (L01.FR.10), absent only
# with Idle (L01.FR.20)
handles("FirmwareStatusNotification")(neutral.firmware_status)


@handles("PublishFirmwareStatusNotification")
async def publish_firmware_status(csms: CentralSystem, conn: ChargerConnection,
                                  p: dict) -> dict:  # fmt: skip
    """L03.FR.01: progress of a PublishFirmware on a Local Controller (`requestId` of that
    request; with Published the URIs it serves the firmware at, L03.FR.04). The latest status
    is kept per station (L03.FR.10/11: the station itself answers a TriggerMessage with its
    last status, so the latest is what counts)."""
    log.info("%s: PublishFirmware %s: %s %s", conn.cp_id, p.get("requestId", "-"),
             p["status"], " ".join(p.get("location", ())))  # fmt: skip
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_publish_firmware_status(
        conn.cp_id, p["status"], request_id=p.get("requestId"), locations=p.get("location"),
        timestamp=now))  # fmt: skip
    return {}


handles("LogStatusNotification")(neutral.log_status)  # N01


@handles("NotifyEvent")
async def notify_event(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """N07/N08 (and G01: a connector's AvailabilityState may come as an event instead of a
    StatusNotification): each event's actualValue becomes the variable's Actual value in the
    station's device model; a `tbc` part is kept as it comes."""
    rows = list(reported.event_rows(p["eventData"]))
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_station_variables(conn.cp_id, rows, now))
    return {}


@handles("NotifyCustomerInformation")
async def notify_customer_information(csms: CentralSystem, conn: ChargerConnection,
                                      p: dict) -> dict:  # fmt: skip
    """N09.FR.05/06: a part of the customer data asked for with CustomerInformation (`tbc`:
    more follow), kept by requestId and seqNo (a retried part once); the API shows a request's
    parts joined into one result. Also collected for the command that asked
    (`csms.followups`)."""
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_customer_information(
        conn.cp_id, p["requestId"], p["seqNo"], p["data"], tbc=p.get("tbc", False),
        generated_at=p["generatedAt"], timestamp=now))  # fmt: skip
    csms.followups.feed(conn.cp_id, "NotifyCustomerInformation", p)
    return {}


# K. Smart charging ----------------------------------------------------------------------------


@handles("ReportChargingProfiles")
async def report_charging_profiles(csms: CentralSystem, conn: ChargerConnection,
                                   p: dict) -> dict:  # fmt: skip
    """K09: the profiles asked for with GetChargingProfiles, per EVSE and source (`tbc`: more
    follow); collected for the command that asked (`csms.followups`)."""
    csms.followups.feed(conn.cp_id, "ReportChargingProfiles", p)
    return {}


@handles("NotifyChargingLimit")
async def notify_charging_limit(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """K11.FR.02, K12.FR.02: an external system (EMS, SO...) set a limit or schedule on the
    station (on one EVSE, or without evseId on the station as a whole); kept per EVSE and
    source with the schedules it carries (K11.FR.03/K12.FR.03: only when the station's
    EnableNotifyChargingLimitWithSchedules is true) until a ClearedChargingLimit. The spec asks
    the CSMS for nothing more: the station applies the limit itself (K11.FR.01, K12.FR.01), and
    it reports it as a ChargingStationExternalConstraints profile (K11.FR.06, K12.FR.05) to a
    GetChargingProfiles, which is where an operator's planning reads it. A source CSO breaks
    K11.FR.05/K12.FR.04 (the CSO's limits are the CSMS's own profiles): logged, still kept (the
    response has no field to refuse with)."""
    limit = p["chargingLimit"]
    source = limit["chargingLimitSource"]
    if source == "CSO":
        log.warning("%s: NotifyChargingLimit with source CSO (K12.FR.04: never CSO)", conn.cp_id)
    log.info("%s: charging limit from %s on EVSE %s (grid critical: %s)", conn.cp_id,
             source, p.get("evseId", "-"), limit.get("isGridCritical", False))  # fmt: skip
    now = csms.clock.now()
    await csms.db.run(lambda uow: uow.record_charging_limit(
        conn.cp_id, p.get("evseId"), source, is_grid_critical=limit.get("isGridCritical"),
        schedules=p.get("chargingSchedule"), timestamp=now))  # fmt: skip
    return {}


@handles("ClearedChargingLimit")
async def cleared_charging_limit(csms: CentralSystem, conn: ChargerConnection,
                                 p: dict) -> dict:  # fmt: skip
    """K13.FR.02: the external limit of that source is released, on the EVSE named, or
    without evseId on the whole station (every EVSE's and the station's): no longer kept. A
    clear of a limit the CSMS never heard of changes nothing (a NotifyChargingLimit may have
    been below LimitChangeSignificance, K12.FR.02)."""
    source, evse = p["chargingLimitSource"], p.get("evseId")
    cleared = await csms.db.run(lambda uow: uow.clear_charging_limit(conn.cp_id, source, evse))
    log.info("%s: charging limit from %s cleared on EVSE %s (%d known)", conn.cp_id,
             source, "-" if evse is None else evse, cleared)  # fmt: skip
    return {}


#: NotifyEVChargingNeedsRequest's parameters, one of which it must carry (K15.FR.06, K17.FR.06)
_CHARGING_PARAMETERS = ("acChargingParameters", "dcChargingParameters")


@handles("NotifyEVChargingNeeds")
async def notify_ev_charging_needs(csms: CentralSystem, conn: ChargerConnection,
                                   p: dict) -> dict:  # fmt: skip
    """K15/K17: an ISO 15118 EV's charging needs. With a transaction running on the EVSE the
    CSMS can provide a schedule: Accepted (K15.FR.03), then a TxProfile at the EV's maximum
    (`csms.v201.planner`) in a SetChargingProfile (K15.FR.07, within 60 s: K15.FR.08). No
    running transaction to limit (K15.FR.07 needs its transactionId): Rejected (K15.FR.04).
    Needs without AC or DC parameters (K15.FR.06): Rejected as MissingParam."""
    needs = p["chargingNeeds"]
    if not any(key in needs for key in _CHARGING_PARAMETERS):
        return {"status": "Rejected", "statusInfo": {
            "reasonCode": "MissingParam",
            "additionalInfo": "chargingNeeds has neither AC nor DC parameters (K15.FR.06)"}}
    evse, now = p["evseId"], csms.clock.now()

    def prepare(uow: Store) -> tuple[str, int] | None:
        station_tx = _running_station_tx(uow, conn.cp_id, evse)
        if station_tx is None:
            return None
        # K16 (renegotiation): new needs of the same transaction replace its TxProfile (its id,
        # K01.FR.05); a new id on the same stackLevel would break K01.FR.39 and be refused
        held = [row["profile_id"] for row in uow.list_charging_profiles(conn.cp_id)
                if row["purpose"] == "TxProfile"
                and row["profile"].get("transactionId") == station_tx]  # fmt: skip
        if held:
            return station_tx, held[-1]
        ids = [row["profile_id"] for row in uow.list_charging_profiles(conn.cp_id,
                                                                        active_only=False)]
        return station_tx, max(ids, default=0) + 1

    planned = await csms.db.run(prepare)
    if planned is None:
        return {"status": "Rejected", "statusInfo": {
            "reasonCode": "TxNotFound",
            "additionalInfo": f"no transaction running on EVSE {evse} to schedule (K15.FR.07)"}}
    profile = planner.plan(needs, transaction_id=planned[0], profile_id=planned[1], now=now)
    # the EV's schedule for this plan is judged once the plan is sent and recorded
    conn.extra[_PLAN_IN_FLIGHT] = csms.spawn(_send_plan(csms, conn.cp_id, evse, profile))
    log.info("%s: EV charging needs on EVSE %s (%s): schedule %s", conn.cp_id, evse,
             needs["requestedEnergyTransfer"], profile["id"])  # fmt: skip
    return {"status": "Accepted"}


#: `conn.extra` key: the task sending the TxProfile planned for the EV's charging needs
_PLAN_IN_FLIGHT = "v201.plan_in_flight"


def _running_station_tx(store: Store, cp_id: str, evse: int) -> str | None:
    """The station's own transactionId of the transaction running on `evse`, or None."""
    tx = store.active_transaction(cp_id, evse)
    return None if tx is None else store.station_tx_id(tx["id"])


async def _send_plan(csms: CentralSystem, cp_id: str, evse: int, profile: dict) -> None:
    from csms import commands  # commands imports the server side; import late

    await asyncio.sleep(0)  # the NotifyEVChargingNeedsResponse goes out first
    try:
        await commands.execute(csms, cp_id, "SetChargingProfile",
                               {"evseId": evse, "chargingProfile": profile})  # fmt: skip
    except (CallFailed, commands.NotConnected, commands.RequestRefused) as error:
        log.warning("%s: the schedule for the EV's needs was not set: %s", cp_id, error)


@handles("NotifyEVChargingSchedule")
async def notify_ev_charging_schedule(csms: CentralSystem, conn: ChargerConnection,
                                      p: dict) -> dict:  # fmt: skip
    """K15.FR.10-12, K16.FR.05/06: the schedule the EV chose, checked against the TxProfile
    the CSMS set for the EVSE's transaction: Accepted within it (K15.FR.11), Rejected above it
    (K15.FR.12). Without a CSMS schedule (none planned, or other units) nothing limits the
    EV's choice but the station's own limits (K15.FR.09): Accepted."""
    schedule, evse = p["chargingSchedule"], p["evseId"]
    in_flight = conn.extra.pop(_PLAN_IN_FLIGHT, None)
    if in_flight is not None:  # the station answers the plan, then the EV's schedule follows:
        # wait for the plan's bookkeeping, or the schedule is judged against the old profile
        await asyncio.wait({in_flight}, timeout=10)

    def planned(uow: Store) -> dict | None:
        station_tx = _running_station_tx(uow, conn.cp_id, evse)
        if station_tx is None:
            return None
        mine = [row["profile"] for row in uow.list_charging_profiles(conn.cp_id)
                if row["purpose"] == "TxProfile"
                and row["profile"].get("transactionId") == station_tx]  # fmt: skip
        return mine[-1] if mine else None

    profile = await csms.db.run(planned)
    verdict = None if profile is None else planner.within(schedule, profile)
    log.info("%s: EV charging schedule %s on EVSE %s (%d periods): %s", conn.cp_id,
             schedule["id"], evse, len(schedule["chargingSchedulePeriod"]),
             {True: "within", False: "ABOVE", None: "no CSMS schedule to compare"}[verdict])
    if verdict is False and profile is not None:
        return {"status": "Rejected", "statusInfo": {
            "reasonCode": "InvalidSchedule",
            "additionalInfo": f"above the CSMS's TxProfile {profile['id']} (K15.FR.12)"}}
    return {"status": "Accepted"}


# O. Display messages --------------------------------------------------------------------------


@handles("NotifyDisplayMessages")
async def notify_display_messages(csms: CentralSystem, conn: ChargerConnection,
                                  p: dict) -> dict:  # fmt: skip
    """O04: a part of the display messages asked for with GetDisplayMessages (its `requestId`,
    `tbc`: more follow, O03.FR.03-05). Each reported message is kept by its id, whatever set
    it; a GetDisplayMessages for all of them (O03) and ClearDisplayMessage (O05) forget the
    ones the station no longer has (`csms.v201.commands`). Also collected for the command that
    asked (`csms.followups`)."""
    messages = p.get("messageInfo") or ()
    if messages:
        now = csms.clock.now()
        await csms.db.run(lambda uow: uow.record_display_messages(
            conn.cp_id, p["requestId"], messages, now))  # fmt: skip
    csms.followups.feed(conn.cp_id, "NotifyDisplayMessages", p)
    return {}


# P. DataTransfer ------------------------------------------------------------------------------


@handles("DataTransfer")
async def data_transfer(csms: CentralSystem, conn: ChargerConnection, p: dict) -> dict:
    """P01: this CSMS has no vendor extension in 2.0.1 (Plug & Charge, a 1.6 DataTransfer
    extension, is native 2.0.1 messages here): every vendorId is UnknownVendorId (P01.FR.05)."""
    log.info("%s: DataTransfer from vendor %r (unknown)", conn.cp_id, p["vendorId"])
    return {"status": "UnknownVendorId"}
