"""CSMS-initiated actions: one generic `execute()` plus a thin named wrapper per action.

    reply = await commands.reset(csms, "CP001", type="Soft")
    reply = await commands.send(csms, "CP001", "Reset", {"type": "Soft"})   # no bookkeeping

Wrappers take the OCPP fields as keyword arguments (camelCase, as on the wire) and return the
charger's reply payload. Errors: `NotConnected` (no live connection), and from the session core
`CallErrorReply`, `CallTimeout`, `InvalidReply`, `ConnectionLost` (all `CallFailed`).

Bookkeeping (the `BOOKKEEPING` table) records what the CSMS must remember: firmware deployments,
diagnostics/log requests, reservations, local list versions, charging profiles, certificates and
configuration. A ReserveNow's reservationId is the caller's when given (the same charger's id
replaces that reservation, 1.6 §5.13; another charger's raises `ReservationIdTaken`), else the
store allocates one. GetLog and SignedUpdateFirmware requestIds always come from the store: a
value given by the caller is replaced. `CommandResult.request` is what was sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chargebench.ocppj.versions import DEFAULT_VERSION
from csms.certificates import certificate_fields
from csms.store.base import Store

if TYPE_CHECKING:
    from csms.central import CentralSystem

log = logging.getLogger(__name__)


class NotConnected(Exception):
    """The charger has no live connection: nothing was sent."""

    def __init__(self, cp_id: str) -> None:
        super().__init__(f"charge point {cp_id!r} is not connected")
        self.cp_id = cp_id


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What was sent (with allocated ids filled in) and what came back."""

    request: dict
    reply: dict


async def send(
    csms: CentralSystem, cp_id: str, action: str, payload: dict, *, timeout: float | None = None
) -> dict:
    """Send one CALL to a connected charger and return its CALLRESULT payload."""
    conn = csms.connections.get(cp_id)
    if conn is None:
        raise NotConnected(cp_id)
    return await conn.session.call(action, payload, timeout=timeout)


async def execute(
    csms: CentralSystem, cp_id: str, action: str, payload: dict, *, timeout: float | None = None
) -> CommandResult:
    """`send()` with the action's bookkeeping before and after."""
    if cp_id not in csms.connections:
        raise NotConnected(cp_id)  # before any bookkeeping row is created
    keeper = BOOKKEEPING.get(action)
    state: Any = None
    if keeper is not None and keeper.prepare is not None:
        payload, state = await asyncio.to_thread(keeper.prepare, csms.store, cp_id, dict(payload))
    try:
        reply = await send(csms, cp_id, action, payload, timeout=timeout)
    except Exception:
        if keeper is not None and keeper.failed is not None and state is not None:
            await asyncio.to_thread(keeper.failed, csms.store, state)
        raise
    if keeper is not None and keeper.record is not None:
        # visible to admission while it runs: a charger reconnecting at once after an Accepted
        # AuthorizationKey or SecurityProfile change is judged on the new value (csms.server)
        recording = asyncio.ensure_future(asyncio.to_thread(
            keeper.record, csms.store, cp_id, payload, reply, state))
        pending = csms.recording.setdefault(cp_id, set())
        pending.add(recording)

        def done(_: asyncio.Future) -> None:
            pending.discard(recording)
            if not pending and csms.recording.get(cp_id) is pending:
                del csms.recording[cp_id]

        recording.add_done_callback(done)
        # shielded: a cancelled caller leaves the write (already in its thread) to finish
        await asyncio.shield(recording)
    return CommandResult(payload, reply)


# Bookkeeping ------------------------------------------------------------------------------------

Prepare = Callable[[Store, str, dict], tuple[dict, Any]]
Record = Callable[[Store, str, dict, dict, Any], None]
Failed = Callable[[Store, Any], None]


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """Store work around one action; each hook runs in a worker thread."""

    #: before sending: may allocate an id and put it in the payload; returns (payload, state)
    prepare: Prepare | None = None
    #: after the reply: record the outcome
    record: Record | None = None
    #: the CALL failed (timeout, CALLERROR, disconnect): mark what `prepare` created
    failed: Failed | None = None


def _accepted(reply: dict) -> bool:
    return reply.get("status") == "Accepted"


def _prepare_reservation(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # 1.6 §5.13 ReserveNow: the caller's reservationId is kept (a known one of this charger is
    # a replacement); without one the store allocates it.
    rid = store.create_reservation(cp_id, p["connectorId"], p["idTag"], p["expiryDate"],
                                   parent_id_tag=p.get("parentIdTag"),
                                   reservation_id=p.get("reservationId"))  # fmt: skip
    return {**p, "reservationId": rid}, rid


def _prepare_firmware(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # 1.6 §5.19 UpdateFirmware
    did = store.create_firmware_deployment(cp_id, p["location"], p["retrieveDate"],
                                           retries=p.get("retries"),
                                           retry_interval=p.get("retryInterval"))  # fmt: skip
    return p, did


def _prepare_signed_firmware(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # Whitepaper L01: requestId identifies the deployment in SignedFirmwareStatusNotification.
    fw = p["firmware"]
    did = store.create_firmware_deployment(cp_id, fw["location"], fw["retrieveDateTime"],
                                           retries=p.get("retries"),
                                           retry_interval=p.get("retryInterval"))  # fmt: skip
    return {**p, "requestId": did}, did


def _prepare_diagnostics(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # 1.6 §5.9 GetDiagnostics
    rid = store.create_diagnostics_request(
        cp_id, p["location"], start_time=p.get("startTime"), stop_time=p.get("stopTime"),
        retries=p.get("retries"), retry_interval=p.get("retryInterval"),
    )  # fmt: skip
    return p, rid


def _prepare_log(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # Whitepaper N01 GetLog: requestId identifies the request in LogStatusNotification.
    spec = p["log"]
    rid = store.create_diagnostics_request(
        cp_id, spec["remoteLocation"], log_type=p["logType"],
        start_time=spec.get("oldestTimestamp"), stop_time=spec.get("latestTimestamp"),
        retries=p.get("retries"), retry_interval=p.get("retryInterval"),
    )  # fmt: skip
    return {**p, "requestId": rid}, rid


def _record_log(store: Store, cp_id: str, p: dict, reply: dict, rid: int) -> None:
    store.set_diagnostics_status(rid, reply["status"])
    if reply.get("filename"):
        store.set_diagnostics_file_name(rid, reply["filename"])


def _record_signed_firmware(store: Store, cp_id: str, p: dict, reply: dict, did: int) -> None:
    if not _accepted(reply):
        store.set_firmware_deployment_status(did, reply["status"])


def _record_local_list(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # 1.6 §5.15: the charger's list version moves only when it answered Accepted (store rule).
    store.record_local_list_update(cp_id, p["listVersion"], p["updateType"],
                                   p.get("localAuthorizationList", []), reply["status"])


def _record_clear_profiles(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    if _accepted(reply):  # 1.6 §5.5: the criteria combine
        store.clear_charging_profiles(
            cp_id, profile_id=p.get("id"), connector_id=p.get("connectorId"),
            purpose=p.get("chargingProfilePurpose"), stack_level=p.get("stackLevel"),
        )  # fmt: skip


def _record_configuration(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # 1.6 §5.3: Accepted and RebootRequired both mean the value is set (the latter on reboot).
    if reply["status"] not in ("Accepted", "RebootRequired"):
        return
    key, value = p["key"], p["value"]
    if key == "AuthorizationKey":
        # OCPP-J 1.6 §6.2.2: once Accepted, only the new key is accepted. It is write-only
        # (OCPP-J errata §3.12), so it goes to the hashed password, never to the baseline.
        store.set_charger_password(cp_id, value)
        return
    if key == "SecurityProfile" and value.isascii() and value.isdigit() and len(value) < 10:
        # security whitepaper A05: the charger reconnects at the new profile; admit no lower
        store.set_security_profile(cp_id, int(value))
    store.set_config_baseline(cp_id, {key: value}, replace=False)


def _record_certificate(kind: str | None, pem_field: str) -> Record:
    def record(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
        if _accepted(reply):
            pem = p[pem_field]
            store.add_certificate(cp_id, kind or p["certificateType"], pem=pem,
                                  **certificate_fields(pem))  # fmt: skip

    return record


def _record_certificate_removal(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    if _accepted(reply):
        hashes = p["certificateHashData"]
        store.remove_certificate(cp_id, serial_number=hashes["serialNumber"],
                                 issuer_key_hash=hashes.get("issuerKeyHash"))  # fmt: skip


def _record_reservation(store: Store, cp_id: str, p: dict, reply: dict, rid: int) -> None:
    store.set_reservation_status(rid, reply["status"])


def _record_cancellation(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # 1.6 §5.1; a reservation this CSMS never made (or another charger's) has no record to end
    reservation = store.get_reservation(p["reservationId"])
    if _accepted(reply) and reservation is not None and reservation["charger_id"] == cp_id:
        store.set_reservation_status(p["reservationId"], "Cancelled")


def _record_diagnostics(store: Store, cp_id: str, p: dict, reply: dict, rid: int) -> None:
    store.set_diagnostics_file_name(rid, reply.get("fileName"))


def _record_profile(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    store.record_charging_profile(cp_id, p["connectorId"], p["csChargingProfiles"],
                                  reply["status"])  # fmt: skip


def _record_reported_config(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    store.record_reported_config(cp_id, reply.get("configurationKey", []))


def _fail_reservation(store: Store, rid: int) -> None:
    store.set_reservation_status(rid, "Rejected")


def _fail_deployment(store: Store, did: int) -> None:
    store.set_firmware_deployment_status(did, "SendFailed")


def _fail_diagnostics(store: Store, rid: int) -> None:
    store.set_diagnostics_status(rid, "SendFailed")


BOOKKEEPING: dict[str, Bookkeeping] = {
    "ReserveNow": Bookkeeping(_prepare_reservation, _record_reservation, _fail_reservation),
    "CancelReservation": Bookkeeping(record=_record_cancellation),
    "UpdateFirmware": Bookkeeping(_prepare_firmware, failed=_fail_deployment),
    "SignedUpdateFirmware": Bookkeeping(
        _prepare_signed_firmware, _record_signed_firmware, _fail_deployment
    ),
    "GetDiagnostics": Bookkeeping(_prepare_diagnostics, _record_diagnostics, _fail_diagnostics),
    "GetLog": Bookkeeping(_prepare_log, _record_log, _fail_diagnostics),
    "SendLocalList": Bookkeeping(record=_record_local_list),
    "SetChargingProfile": Bookkeeping(record=_record_profile),
    "ClearChargingProfile": Bookkeeping(record=_record_clear_profiles),
    "GetConfiguration": Bookkeeping(record=_record_reported_config),
    "ChangeConfiguration": Bookkeeping(record=_record_configuration),
    "CertificateSigned": Bookkeeping(
        record=_record_certificate("ChargePointCertificate", "certificateChain")
    ),
    "InstallCertificate": Bookkeeping(record=_record_certificate(None, "certificate")),
    "DeleteCertificate": Bookkeeping(record=_record_certificate_removal),
}

#: Id fields the CSMS fills in when the caller leaves them out (ReserveNow) or always (the
#: requestIds; see the module docstring): action -> field.
ALLOCATED_FIELDS = {"ReserveNow": "reservationId", "GetLog": "requestId",
                    "SignedUpdateFirmware": "requestId"}  # fmt: skip


# Named wrappers ---------------------------------------------------------------------------------


def _command(action: str) -> Callable[..., Any]:
    async def command(
        csms: CentralSystem, cp_id: str, *, timeout: float | None = None, **fields: Any
    ) -> dict:
        return (await execute(csms, cp_id, action, fields, timeout=timeout)).reply

    command.__name__ = command.__qualname__ = _snake(action)
    command.__doc__ = f"Send {action}.req (OCPP 1.6{' security' if _is_security(action) else ''}) "
    command.__doc__ += "with the given fields; return the .conf payload."
    return command


def _snake(action: str) -> str:
    out = []
    for i, ch in enumerate(action):
        if ch.isupper() and i and not action[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _is_security(action: str) -> bool:
    return DEFAULT_VERSION.profiles.get(action) == "Security"


remote_start_transaction = _command("RemoteStartTransaction")
remote_stop_transaction = _command("RemoteStopTransaction")
change_availability = _command("ChangeAvailability")
change_configuration = _command("ChangeConfiguration")
get_configuration = _command("GetConfiguration")
clear_cache = _command("ClearCache")
reset = _command("Reset")
unlock_connector = _command("UnlockConnector")
trigger_message = _command("TriggerMessage")
data_transfer = _command("DataTransfer")
update_firmware = _command("UpdateFirmware")
get_diagnostics = _command("GetDiagnostics")
send_local_list = _command("SendLocalList")
get_local_list_version = _command("GetLocalListVersion")
reserve_now = _command("ReserveNow")
cancel_reservation = _command("CancelReservation")
set_charging_profile = _command("SetChargingProfile")
clear_charging_profile = _command("ClearChargingProfile")
get_composite_schedule = _command("GetCompositeSchedule")
certificate_signed = _command("CertificateSigned")
install_certificate = _command("InstallCertificate")
delete_certificate = _command("DeleteCertificate")
get_installed_certificate_ids = _command("GetInstalledCertificateIds")
extended_trigger_message = _command("ExtendedTriggerMessage")
get_log = _command("GetLog")
signed_update_firmware = _command("SignedUpdateFirmware")
