"""The OCPP 2.0.1 bookkeeping of CSMS-initiated actions (`csms.commands.execute`).

Where a 2.0.1 message has the shape of a 1.6 security-whitepaper one (GetLog, the firmware of
UpdateFirmware = SignedUpdateFirmware, InstallCertificate, DeleteCertificate, CancelReservation)
the 1.6 hook is reused: one home per concept. New here: GetVariables/SetVariables results kept
with the station's reported configuration (B06, B05), the reservation of a 2.0.1 ReserveNow
(H01), and the multi-message results collected after an accepted request (`follow_up`: B07/B08
NotifyReport, K09 ReportChargingProfiles, N09 NotifyCustomerInformation), and the display
messages a station no longer has (O03, O05).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chargebench.ocppj.versions import OCPP201
from chargebench.security.basic_auth import parse_basic_auth_password
from csms import profile_upgrade
from csms.certificates import certificate_fields
from csms.commands import Bookkeeping, PasswordChange, RequestRefused
from csms.services.remote import FAILED, REJECTED
from csms.store.base import Store
from csms.v16 import commands as v16
from csms.v201 import profiles, reported

#: the version this bookkeeping is for
VERSION = OCPP201

#: SetVariableStatusEnumType values that mean the value is set (RebootRequired: after a reboot)
_SET = ("Accepted", "RebootRequired")


#: A01.FR.01: the basic-auth password (WriteOnly: never kept as the station's reported
#: configuration, A01.FR.08/09; the store keeps a salted hash)
BASIC_AUTH_PASSWORD = reported.BASIC_AUTH_PASSWORD
#: A01.FR.03: only Accepted makes the new password the station's; any other status (also
#: RebootRequired) keeps the old one (A01.FR.04)
_PASSWORD_SET = ("Accepted",)


def _names(item: dict) -> tuple[str, str]:
    """The component and variable names of a SetVariableData or SetVariableResult."""
    return item["component"]["name"], item["variable"]["name"]


def _is_password(item: dict) -> bool:
    """`item` names SecurityCtrlr.BasicAuthPassword's Actual value (the attribute type left
    out means Actual)."""
    return _names(item) == BASIC_AUTH_PASSWORD and item.get("attributeType", "Actual") == "Actual"


def _offered_password(p: dict) -> str | None:
    return next((item["attributeValue"] for item in p["setVariableData"] if _is_password(item)),
                None)  # fmt: skip


def _password_status(reply: dict) -> str | None:
    return next((result["attributeStatus"] for result in reply["setVariableResult"]
                 if _is_password(result)), None)  # fmt: skip


def _basic_auth_password(value: str) -> str:
    parse_basic_auth_password(value)  # A00.FR.205: a passwordString, sent as its UTF-8 text
    return value


#: A01.FR.02: SetVariables SecurityCtrlr.BasicAuthPassword
PASSWORD = PasswordChange(
    "SetVariables",
    lambda key: {"setVariableData": [{"component": {"name": BASIC_AUTH_PASSWORD[0]},
                                      "variable": {"name": BASIC_AUTH_PASSWORD[1]},
                                      "attributeValue": key}]},
    _password_status, _PASSWORD_SET, _basic_auth_password,
)  # fmt: skip


def _priority_item(p: dict) -> dict | None:
    """The NetworkConfigurationPriority item of a SetVariables request (B10.FR.01)."""
    return next((item for item in p["setVariableData"] if _names(item) == profile_upgrade.PRIORITY
                 and item.get("attributeType", "Actual") == "Actual"), None)  # fmt: skip


def _prepare_set_variables(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # A05 step 1: a NetworkConfigurationPriority whose first slot holds a NetworkConnectionProfile
    # this CSMS set (SetNetworkProfile) moves the station to that slot's security profile: the
    # state its record keeps. A lower one is sent all the same (a test tool checks the
    # station's A05.FR.10); admission never lets it in (A05.FR.07)
    item = _priority_item(p)
    if item is None:
        return p, None
    profile = profile_upgrade.first_slot_profile(store.get_config_baseline(cp_id),
                                                 item["attributeValue"])  # fmt: skip
    return p, profile


def _record_set_variables(store: Store, cp_id: str, p: dict, reply: dict,
                          profile: int | None) -> None:  # fmt: skip
    # B05.FR.04: the station answers per variable; an Accepted (or RebootRequired) value is now
    # the station's attribute (after a reboot for the latter), kept in its device model; never
    # the password (WriteOnly, A01.FR.08/09)
    results = [r for r in reply["setVariableResult"] if not _is_password(r)]
    rows = reported.result_rows(results, _SET, reported.sent_values(p["setVariableData"]))
    store.record_station_variables(cp_id, list(rows))
    offered = _offered_password(p)
    if offered is not None and _password_status(reply) in _PASSWORD_SET:
        # A01.FR.03: from now on only the new password is admitted (hashed, A01.FR.08)
        store.set_charger_password(cp_id, offered)
    if profile is not None and _priority_status(reply) in profile_upgrade.PRIORITY_SET:
        # A05 step 2 (B10.FR.01): the station connects through that slot after its reboot;
        # the profile is recorded once it does (A05.FR.06, csms.server)
        store.set_config_baseline(cp_id, {profile_upgrade.TARGET_KEY: str(profile)},
                                  replace=False)  # fmt: skip


def _priority_status(reply: dict) -> str | None:
    return next((result["attributeStatus"] for result in reply["setVariableResult"]
                 if _names(result) == profile_upgrade.PRIORITY), None)  # fmt: skip


def _record_network_profile(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # B09.FR.01: Accepted means the slot holds the profile; kept (its security profile only:
    # the rest may hold APN/VPN secrets) for the NetworkConfigurationPriority that follows
    if reply["status"] == "Accepted":
        profile = p["connectionData"]["securityProfile"]
        store.set_config_baseline(cp_id, {profile_upgrade.slot_key(p["configurationSlot"]):
                                          str(profile)}, replace=False)  # fmt: skip


def _record_get_variables(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # B06: what the station reports now is its attribute's value
    store.record_station_variables(cp_id, list(reported.result_rows(reply["getVariableResult"],
                                                                    ("Accepted",))))  # fmt: skip


def _prepare_reservation(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # H01: the CSMS's id is `id` (H01.FR.01 a reservation with a known id replaces it); an
    # unspecified EVSE (evseId left out, H01.FR.04) is kept as EVSE 0
    group = p.get("groupIdToken") or {}
    rid = store.create_reservation(cp_id, p.get("evseId", 0), p["idToken"]["idToken"],
                                   p["expiryDateTime"], parent_id_tag=group.get("idToken"),
                                   reservation_id=p["id"])  # fmt: skip
    return p, rid


def _record_local_list(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # D01/D02 as 1.6 §5.15: the list version moves only with Accepted (store rule)
    store.record_local_list_update(cp_id, p["versionNumber"], p["updateType"],
                                   p.get("localAuthorizationList", []), reply["status"])


def _prepare_remote_start(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # F01/F02: the store's pending record (csms.services.remote) gives the remoteStartId the
    # station puts in the TransactionEvent that starts the transaction (F01.FR.25, F02.FR.01),
    # where the handler links it; an unspecified EVSE (F01.FR.06) is kept as EVSE 0
    record = store.create_remote_start(cp_id, p.get("evseId", 0), p["idToken"]["idToken"],
                                       datetime.now(UTC))  # fmt: skip
    return {**p, "remoteStartId": record["id"]}, record["id"]


def _record_remote_start(store: Store, cp_id: str, p: dict, reply: dict, rid: int) -> None:
    status = reply["status"]  # RequestStartStopStatusEnumType
    store.update_remote_start(rid, reply_status=status,
                              status=None if status == "Accepted" else REJECTED)  # fmt: skip


def _fail_remote_start(store: Store, rid: int) -> None:
    store.update_remote_start(rid, status=FAILED, reason="no valid reply")


def _record_certificate_signed(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # A02.FR.15: certificateType left out means ChargingStationCertificate
    if reply["status"] == "Accepted":
        pem = p["certificateChain"]
        store.add_certificate(cp_id, p.get("certificateType", "ChargingStationCertificate"),
                              pem=pem, **certificate_fields(pem))  # fmt: skip


def _prepare_profile(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    # K01, K04: refuse what a CSMS SHALL NOT send (csms.v201.profiles), before sending
    found = profiles.problems(p, store.list_charging_profiles(cp_id))
    if found:
        raise RequestRefused(cp_id, "SetChargingProfile", found)
    return p, None


def _record_profile(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # K01.FR.05: an accepted profile replaces the one with its id (store rule, as 1.6 §5.16);
    # evseId is the store's connector column, a TxProfile's string transactionId stays in the
    # profile
    profile = p["chargingProfile"]
    store.record_charging_profile(cp_id, p["evseId"], profile["id"], profile, reply["status"])


def _prepare_clear(store: Store, cp_id: str, p: dict) -> tuple[dict, Any]:
    found = profiles.clear_problems(p)  # K10.FR.02, .06
    if found:
        raise RequestRefused(cp_id, "ClearChargingProfile", found)
    return p, None


def _record_clear_profiles(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    # K10.FR.03, .04 (as 1.6 §5.5): by id, else the criteria combined (K10.FR.02: never none)
    if reply["status"] != "Accepted":
        return
    criteria = p.get("chargingProfileCriteria") or {}
    store.clear_charging_profiles(
        cp_id, profile_id=p.get("chargingProfileId"), connector_id=criteria.get("evseId"),
        purpose=criteria.get("chargingProfilePurpose"), stack_level=criteria.get("stackLevel"),
    )  # fmt: skip


def _record_display_messages(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    """O03: a GetDisplayMessages with only its requestId asks for every configured message:
    Accepted, the station's messages are the ones this request's NotifyDisplayMessages bring
    (O03.FR.02; those of earlier reports are gone); Unknown, it has none (O03.FR.06). A
    request with criteria (O04) says nothing of the messages it does not match."""
    if set(p) - {"requestId"}:
        return
    if reply["status"] == "Accepted":
        store.forget_display_messages(cp_id, besides_request=p["requestId"])
    elif reply["status"] == "Unknown":
        store.forget_display_messages(cp_id)


def _record_display_clear(store: Store, cp_id: str, p: dict, reply: dict, _: Any) -> None:
    if reply["status"] == "Accepted":  # O05: the station removed it
        store.remove_display_message(cp_id, p["id"])


def _report(follow_up: str) -> Bookkeeping:
    return Bookkeeping(follow_up=follow_up)


#: MessageTriggerEnumType -> the action the station sends for it (F06); the three Sign* ones
#: are SignCertificate (A02, A03)
TRIGGERED = {
    "BootNotification": "BootNotification", "LogStatusNotification": "LogStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification", "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues", "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate", "SignCombinedCertificate": "SignCertificate",
    "StatusNotification": "StatusNotification", "TransactionEvent": "TransactionEvent",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
}  # fmt: skip


def _triggered(p: dict) -> str | None:
    # B01.FR.10, B02.FR.09: what a TriggerMessage asks for passes the gate of a Pending station
    return TRIGGERED.get(p["requestedMessage"])


BOOKKEEPING: dict[str, Bookkeeping] = {
    "RequestStartTransaction": Bookkeeping(_prepare_remote_start, _record_remote_start,
                                           _fail_remote_start),
    "SetVariables": Bookkeeping(_prepare_set_variables, _record_set_variables,
                                offers=_offered_password),
    "SetNetworkProfile": Bookkeeping(record=_record_network_profile),  # B09
    "GetVariables": Bookkeeping(record=_record_get_variables),
    "GetBaseReport": _report("NotifyReport"),  # B07.FR.04
    "GetReport": _report("NotifyReport"),  # B08.FR.04
    "GetChargingProfiles": _report("ReportChargingProfiles"),  # K09.FR.03
    "CustomerInformation": _report("NotifyCustomerInformation"),  # N09.FR.04
    "GetMonitoringReport": _report("NotifyMonitoringReport"),  # N02.FR.03/04, .09
    # O03/O04, part 2 generic FR.05 (tbc)
    "GetDisplayMessages": Bookkeeping(record=_record_display_messages,
                                      follow_up="NotifyDisplayMessages"),
    "ClearDisplayMessage": Bookkeeping(record=_record_display_clear),  # O05
    "TriggerMessage": Bookkeeping(asks=_triggered),
    "ReserveNow": Bookkeeping(_prepare_reservation, v16._record_reservation,
                              v16._fail_reservation),
    "CancelReservation": Bookkeeping(record=v16._record_cancellation),
    # L01: firmware{location, retrieveDateTime}, requestId: the 1.6 SignedUpdateFirmware shape
    "UpdateFirmware": Bookkeeping(v16._prepare_signed_firmware, v16._record_signed_firmware,
                                  v16._fail_deployment),
    "GetLog": Bookkeeping(v16._prepare_log, v16._record_log, v16._fail_diagnostics),  # N01
    "SendLocalList": Bookkeeping(record=_record_local_list),  # D01
    "SetChargingProfile": Bookkeeping(_prepare_profile, _record_profile),  # K01
    "ClearChargingProfile": Bookkeeping(_prepare_clear, _record_clear_profiles),  # K10
    "CertificateSigned": Bookkeeping(record=_record_certificate_signed),  # A02, A03
    "InstallCertificate": Bookkeeping(record=v16._record_certificate(None, "certificate")),
    "DeleteCertificate": Bookkeeping(record=v16._record_certificate_removal),  # M04
}

#: Id fields the CSMS fills in: the requestIds of UpdateFirmware and GetLog come from the store
#: (the value given is replaced), as 1.6's SignedUpdateFirmware and GetLog.
#: RequestStartTransaction's remoteStartId is the store's remote start record (F01/F02).
ALLOCATED_FIELDS = {"UpdateFirmware": "requestId", "GetLog": "requestId",
                    "RequestStartTransaction": "remoteStartId"}  # fmt: skip
