"""The OCPP 1.6 bookkeeping of CSMS-initiated actions (`csms.commands.execute`): firmware
deployments, diagnostics/log requests, reservations, local list versions, charging profiles,
certificates and configuration (see `csms.commands` for the rules on allocated ids)."""

from __future__ import annotations

from typing import Any

from chargebench.ocppj.versions import OCPP16
from chargebench.security.basic_auth import MIN_KEY_BYTES, parse_authorization_key
from csms.certificates import certificate_fields, hash_data_key
from csms.commands import Bookkeeping, PasswordChange, Record
from csms.store.base import Store

#: the version this bookkeeping is for
VERSION = OCPP16


#: ChangeConfiguration statuses that set the value (1.6 §5.3: RebootRequired after a reboot)
_CONFIG_SET = ("Accepted", "RebootRequired")


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
    if reply["status"] not in _CONFIG_SET:
        return
    key, value = p["key"], p["value"]
    if key == "AuthorizationKey":
        # OCPP-J 1.6 §6.2.2: once Accepted, only the new key is accepted. It is write-only
        # (OCPP-J errata §3.12), so it goes to the hashed password, never to the baseline.
        store.set_charger_password(cp_id, value)
        return
    # A SecurityProfile joins the baseline as the profile asked for: it becomes the charger's
    # once it reconnects with it (whitepaper A05.FR.07/09, csms.profile_upgrade.reached), so
    # one that cannot and falls back (A05.FR.08) is still admitted
    store.set_config_baseline(cp_id, {key: value}, replace=False)


def _offered_key(p: dict) -> str | None:
    return p["value"] if p["key"] == "AuthorizationKey" else None


def authorization_key(value: str) -> str:
    """The AuthorizationKey as sent and stored (`chargebench.security.basic_auth`'s rule): the
    hex form upper case (the CSMS compares a hex key's bytes with both cases of its hex, never
    a mix), text as given; ValueError for a key the whitepaper does not allow."""
    parse_authorization_key(value)
    return value.upper() if len(value) >= 2 * MIN_KEY_BYTES else value


#: whitepaper A01: ChangeConfiguration AuthorizationKey; Accepted or RebootRequired (1.6 §5.3:
#: the value is set, the latter after a reboot) make it the charger's key
PASSWORD = PasswordChange(
    "ChangeConfiguration", lambda key: {"key": "AuthorizationKey", "value": key},
    lambda reply: reply["status"], _CONFIG_SET, authorization_key,
)


def _record_certificate(kind: str | None, pem_field: str) -> Record:
    def record(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
        if _accepted(reply):
            pem = p[pem_field]
            store.add_certificate(cp_id, kind or p["certificateType"], pem=pem,
                                  **certificate_fields(pem))  # fmt: skip

    return record


def _record_certificate_removal(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    if _accepted(reply):
        # M04: the hash data as `certificate_fields` recorded it (case, leading zeros)
        store.remove_certificate(cp_id, **hash_data_key(p["certificateHashData"]))


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
    profile = p["csChargingProfiles"]
    store.record_charging_profile(cp_id, p["connectorId"], profile["chargingProfileId"],
                                  profile, reply["status"],
                                  transaction_id=profile.get("transactionId"))  # fmt: skip


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
    "ChangeConfiguration": Bookkeeping(record=_record_configuration, offers=_offered_key),
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


