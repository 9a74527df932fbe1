"""The OCPP 1.6 handler table of a simulated charge point: every CSMS-initiated action of 1.6
and of the security whitepaper, shared by every charge point of a fleet.

`sim.dispatch` gives a connection this table when its handshake agreed `ocpp1.6`
(`VERSION.subprotocol`). The handlers themselves live with their feature (`sim.features.*`);
a handler is `handler(cp, payload)`, or `feature_method(name, method)`, which calls
`cp.features.<name>.<method>(payload)` on the charge point's feature object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chargebench.ocppj.versions import OCPP16
from sim.dispatch import Handler, feature_method
from sim.features import core, limits, reserving, trigger
from sim.features.lock import unlock_connector
from sim.v16.smart_charging import SmartCharging

if TYPE_CHECKING:
    from sim.config import ChargePointConfig

__all__ = ["HANDLERS", "VERSION", "session_profiles"]

VERSION = OCPP16

HANDLERS: Mapping[str, Handler] = {
    # Core (1.6 §5); DataTransfer answers Plug&Charge messages (whitepaper), else UnknownVendorId
    "ChangeAvailability": core.change_availability,
    "ChangeConfiguration": core.change_configuration,
    "ClearCache": core.clear_cache,
    "DataTransfer": feature_method("pnc", "on_data_transfer"),
    "GetConfiguration": core.get_configuration,
    "RemoteStartTransaction": core.remote_start,
    "RemoteStopTransaction": core.remote_stop,
    "Reset": core.reset,
    "UnlockConnector": unlock_connector,
    # LocalAuthListManagement (1.6 §5.10, §5.15)
    "GetLocalListVersion": feature_method("auth", "on_get_local_list_version"),
    "SendLocalList": feature_method("auth", "on_send_local_list"),
    # Reservation (§5.1, §5.13)
    "CancelReservation": reserving.cancel_reservation,
    "ReserveNow": reserving.reserve_now,
    # SmartCharging (§5.5, §5.7, §5.16)
    "ClearChargingProfile": limits.then_apply(SmartCharging.on_clear_charging_profile),
    "GetCompositeSchedule": feature_method("smart", "on_get_composite_schedule"),
    "SetChargingProfile": limits.then_apply(SmartCharging.on_set_charging_profile),
    # FirmwareManagement (§5.9, §5.19) and the whitepaper's L01, N01
    "GetDiagnostics": feature_method("diagnostics", "on_get_diagnostics"),
    "GetLog": feature_method("diagnostics", "on_get_log"),
    "SignedUpdateFirmware": feature_method("firmware", "on_signed_update_firmware"),
    "UpdateFirmware": feature_method("firmware", "on_update_firmware"),
    # RemoteTrigger (§5.17) and whitepaper F06
    "ExtendedTriggerMessage": trigger.extended_trigger_message,
    "TriggerMessage": trigger.trigger_message,
    # Certificates (whitepaper M03-M05, A02)
    "CertificateSigned": feature_method("certs", "on_certificate_signed"),
    "DeleteCertificate": feature_method("certs", "on_delete_certificate"),
    "GetInstalledCertificateIds": feature_method("certs", "on_get_installed_certificate_ids"),
    "InstallCertificate": feature_method("certs", "on_install_certificate"),
}


def session_profiles(config: ChargePointConfig) -> list[str]:
    """Feature profiles the session core lets through (the rest: CALLERROR NotSupported): the
    SupportedFeatureProfiles key, and the security whitepaper's messages always (libocpp's
    configuration has a mandatory Security section; the whitepaper extends every 1.6 charge
    point)."""
    return [*(config.supported_feature_profiles or ["Core"]), "Security"]
