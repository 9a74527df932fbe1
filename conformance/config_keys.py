"""Which OCPP 1.6 configuration keys a charge point must have (1.6 §9, per feature profile).

A case needing a key looks it up here: a required key the charger does not list is a failure
of its own naming the key; an optional one it does not list makes the case not applicable.
Keys not listed below are optional.
"""

from __future__ import annotations

#: key -> (feature profile, clause) of every REQUIRED key (1.6 §9.1-§9.4).
REQUIRED: dict[str, tuple[str, str]] = {
    **{key: ("Core", "§9.1") for key in (
        "AuthorizeRemoteTxRequests", "ClockAlignedDataInterval", "ConnectionTimeOut",
        "ConnectorPhaseRotation", "GetConfigurationMaxKeys", "HeartbeatInterval",
        "LocalAuthorizeOffline", "LocalPreAuthorize", "MeterValuesAlignedData",
        "MeterValuesSampledData", "MeterValueSampleInterval", "NumberOfConnectors",
        "ResetRetries", "StopTransactionOnEVSideDisconnect", "StopTransactionOnInvalidId",
        "StopTxnAlignedData", "StopTxnSampledData", "SupportedFeatureProfiles",
        "TransactionMessageAttempts", "TransactionMessageRetryInterval",
        "UnlockConnectorOnEVSideDisconnect",
    )},
    **{key: ("LocalAuthListManagement", "§9.2") for key in (
        "LocalAuthListEnabled", "LocalAuthListMaxLength", "SendLocalListMaxLength",
    )},
    **{key: ("SmartCharging", "§9.4") for key in (
        "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit",
        "ChargingScheduleMaxPeriods", "MaxChargingProfilesInstalled",
    )},
}

#: clause of the optional keys the cases use
OPTIONAL: dict[str, str] = {
    "AllowOfflineTxForUnknownId": "§9.1.1", "AuthorizationCacheEnabled": "§9.1.2",
    "ReserveConnectorZeroSupported": "§9.3.1",
}


def required_in(key: str, profiles: frozenset[str] | set[str]) -> tuple[str, str] | None:
    """(profile, clause) when `key` is required of a charger supporting `profiles`."""
    entry = REQUIRED.get(key)
    if entry is None or (entry[0] != "Core" and entry[0] not in profiles):
        return None
    return entry


def clause(key: str) -> str:
    entry = REQUIRED.get(key)
    return entry[1] if entry else OPTIONAL.get(key, "§9")


def same(a: object, b: object) -> bool:
    """Configuration values compare as text, booleans case-insensitively (1.6 §9)."""
    return str(a).strip().lower() == str(b).strip().lower()
