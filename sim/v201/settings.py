"""The device-model variables a 2.0.1 station's behaviour reads, each with its default.

The station's configuration is its device model (`sim.v201.device_model.DeviceModel`, the
pinned API `get(component, variable, ...) -> str | None`); this module names the variables the
session and transaction logic read, and what applies when the device model has no value for
one (the part 2 appendix / libocpp default). `Settings` reads them at each use, so a
SetVariables takes effect at once where the variable is ReadWrite.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["VARIABLES", "DeviceModelReader", "Settings"]


class DeviceModelReader(Protocol):
    """What of the device model this module needs."""

    def get(self, component: str, variable: str, *, attribute: str = "Actual",
            evse: int | None = None, connector: int | None = None,
            component_instance: str | None = None,
            variable_instance: str | None = None) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Variable:
    component: str
    variable: str
    default: str | None
    instance: str | None = None


#: name used here -> (component, variable, default)
VARIABLES: dict[str, Variable] = {
    # B01-B03, G02 (OCPPCommCtrlr; HeartbeatInterval is also set by BootNotification, B01.FR.04)
    "HeartbeatInterval": Variable("OCPPCommCtrlr", "HeartbeatInterval", "300"),
    # E04: how often, how long apart a TransactionEvent is retried (OCPPCommCtrlr)
    "MessageAttempts": Variable("OCPPCommCtrlr", "MessageAttempts", "3",
                                "TransactionEvent"),
    "MessageAttemptInterval": Variable("OCPPCommCtrlr", "MessageAttemptInterval", "10",
                                       "TransactionEvent"),
    # B04: after how long offline every connector is reported again
    "OfflineThreshold": Variable("OCPPCommCtrlr", "OfflineThreshold", "60"),
    # reconnecting (OCPPCommCtrlr; libocpp's values as defaults)
    "RetryBackOffWaitMinimum": Variable("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "1"),
    "RetryBackOffRepeatTimes": Variable("OCPPCommCtrlr", "RetryBackOffRepeatTimes", "2"),
    "RetryBackOffRandomRange": Variable("OCPPCommCtrlr", "RetryBackOffRandomRange", "2"),
    # E01, E06 (TxCtrlr)
    "TxStartPoint": Variable("TxCtrlr", "TxStartPoint", "PowerPathClosed"),
    "TxStopPoint": Variable("TxCtrlr", "TxStopPoint", "EVConnected,Authorized"),
    "StopTxOnInvalidId": Variable("TxCtrlr", "StopTxOnInvalidId", "true"),
    # E05.FR.02/03: energy allowed after an idToken turned out invalid (0 or absent: none)
    "MaxEnergyOnInvalidId": Variable("TxCtrlr", "MaxEnergyOnInvalidId", "0"),
    "EVConnectionTimeOut": Variable("TxCtrlr", "EVConnectionTimeOut", "120"),
    # J02 (SampledDataCtrlr)
    "TxStartedMeasurands": Variable("SampledDataCtrlr", "TxStartedMeasurands",
                                    "Energy.Active.Import.Register"),
    "TxUpdatedMeasurands": Variable("SampledDataCtrlr", "TxUpdatedMeasurands",
                                    "Energy.Active.Import.Register"),
    "TxUpdatedInterval": Variable("SampledDataCtrlr", "TxUpdatedInterval", "0"),
    "TxEndedMeasurands": Variable("SampledDataCtrlr", "TxEndedMeasurands",
                                  "Energy.Active.Import.Register"),
    "TxEndedInterval": Variable("SampledDataCtrlr", "TxEndedInterval", "0"),
    # J01 (AlignedDataCtrlr): clock-aligned readings, 0 = none
    "AlignedDataInterval": Variable("AlignedDataCtrlr", "Interval", "0"),
    "AlignedDataMeasurands": Variable("AlignedDataCtrlr", "Measurands",
                                      "Energy.Active.Import.Register"),
    "AlignedDataSendDuringIdle": Variable("AlignedDataCtrlr", "SendDuringIdle", "false"),
    # H01 (ReservationCtrlr)
    "ReservationEnabled": Variable("ReservationCtrlr", "Enabled", "true"),
    "ReservationNonEvseSpecific": Variable("ReservationCtrlr", "NonEvseSpecific", "false"),
    # C01, F01 (AuthCtrlr)
    "AuthorizeRemoteStart": Variable("AuthCtrlr", "AuthorizeRemoteStart", "false"),
    "LocalPreAuthorize": Variable("AuthCtrlr", "LocalPreAuthorize", "false"),
    "LocalAuthorizeOffline": Variable("AuthCtrlr", "LocalAuthorizeOffline", "true"),
    # AuthCtrlr.DisableRemoteAuthorization: no AuthorizeRequest, only the cache and the list
    "DisableRemoteAuthorization": Variable("AuthCtrlr", "DisableRemoteAuthorization", "false"),
    # C12.FR.09, C16.FR.03: idTokens of this GroupId never start a transaction (none: no
    # master pass)
    "MasterPassGroupId": Variable("AuthCtrlr", "MasterPassGroupId", None),
    # D01/D02 (LocalAuthListCtrlr)
    "LocalAuthListEnabled": Variable("LocalAuthListCtrlr", "Enabled", "true"),
    "LocalAuthListItemsPerMessage": Variable("LocalAuthListCtrlr", "ItemsPerMessage", "250"),
    # LocalAuthListCtrlr.DisablePostAuthorize: no AuthorizeRequest for a listed non-Accepted one
    "LocalAuthListDisablePostAuthorize": Variable("LocalAuthListCtrlr", "DisablePostAuthorize",
                                                  "false"),
    # C10-C12 (AuthCacheCtrlr; LifeTime 0: entries expire only by their cacheExpiryDateTime)
    "AuthCacheEnabled": Variable("AuthCacheCtrlr", "Enabled", "true"),
    "AuthCacheLifeTime": Variable("AuthCacheCtrlr", "LifeTime", "0"),
    # AuthCacheCtrlr.DisablePostAuthorize: no AuthorizeRequest for a cached non-Accepted one
    "AuthCacheDisablePostAuthorize": Variable("AuthCacheCtrlr", "DisablePostAuthorize",
                                              "false"),
    "OfflineTxForUnknownIdEnabled": Variable("AuthCtrlr", "OfflineTxForUnknownIdEnabled",
                                             "false"),
    # B01 (the BootNotification's chargingStation and modem): where libocpp keeps them
    "VendorName": Variable("InternalCtrlr", "ChargePointVendor", "ChargeBench"),
    "Model": Variable("InternalCtrlr", "ChargePointModel", "sim-201"),
    "SerialNumber": Variable("InternalCtrlr", "ChargeBoxSerialNumber", None),
    "FirmwareVersion": Variable("InternalCtrlr", "FirmwareVersion", None),
    "ICCID": Variable("InternalCtrlr", "ICCID", None),
    "IMSI": Variable("InternalCtrlr", "IMSI", None),
    # A00-A05 (SecurityCtrlr): the basic-auth password (profiles 1, 2), the CSR's subject
    # (A02.FR.13 O = OrganizationName), the certificate store's limits
    "SecurityProfile": Variable("SecurityCtrlr", "SecurityProfile", "0"),
    "BasicAuthPassword": Variable("SecurityCtrlr", "BasicAuthPassword", None),
    "OrganizationName": Variable("SecurityCtrlr", "OrganizationName", None),
    "CertificateEntries": Variable("SecurityCtrlr", "CertificateEntries", None),
    "AdditionalRootCertificateCheck": Variable("SecurityCtrlr",
                                               "AdditionalRootCertificateCheck", "false"),
    "MaxCertificateChainSize": Variable("SecurityCtrlr", "MaxCertificateChainSize", None),
    # A02.FR.17-19: SignCertificate again after CertSigningWaitMinimum s, doubled, at most
    # CertSigningRepeatTimes times (libocpp's values as defaults)
    "CertSigningWaitMinimum": Variable("SecurityCtrlr", "CertSigningWaitMinimum", "30"),
    "CertSigningRepeatTimes": Variable("SecurityCtrlr", "CertSigningRepeatTimes", "2"),
    # B09/B10, A05 (OCPPCommCtrlr; the profiles themselves are libocpp's InternalCtrlr JSON)
    "NetworkConfigurationPriority": Variable("OCPPCommCtrlr", "NetworkConfigurationPriority",
                                             None),
    "NetworkConnectionProfiles": Variable("InternalCtrlr", "NetworkConnectionProfiles", None),
    "NetworkProfileConnectionAttempts": Variable("OCPPCommCtrlr",
                                                 "NetworkProfileConnectionAttempts", "3"),
    "ActiveNetworkProfile": Variable("OCPPCommCtrlr", "ActiveNetworkProfile", None),
    # L01, N01: the URL schemes a transfer may use
    "FileTransferProtocols": Variable("OCPPCommCtrlr", "FileTransferProtocols",
                                      "FTP,FTPS,HTTP,HTTPS"),
    # K01-K17 (SmartChargingCtrlr)
    "SmartChargingEnabled": Variable("SmartChargingCtrlr", "Enabled", "true"),
    "ProfileStackLevel": Variable("SmartChargingCtrlr", "ProfileStackLevel", "10"),
    "PeriodsPerSchedule": Variable("SmartChargingCtrlr", "PeriodsPerSchedule", "24"),
    # the number of profiles installed (its maxLimit, the most there may be, is read from the
    # variable's characteristics: `sim.v201.feature_config`)
    "ChargingProfileEntries": Variable("SmartChargingCtrlr", "Entries", None,
                                       "ChargingProfiles"),
    "RateUnit": Variable("SmartChargingCtrlr", "RateUnit", "A,W"),
    "SupplyVoltage": Variable("SmartChargingCtrlr", "SupplyVoltage", None),
    # K13.FR.03 / triggerReason ChargingRateChanged: a change of more than this percentage
    "LimitChangeSignificance": Variable("SmartChargingCtrlr", "LimitChangeSignificance", "10"),
    "ExternalControlSignalsEnabled": Variable("SmartChargingCtrlr",
                                              "ExternalControlSignalsEnabled", "true"),
    # K15 (ISO15118Ctrlr)
    "ISO15118Enabled": Variable("ISO15118Ctrlr", "Enabled", "true"),
    # O01-O06 (DisplayMessageCtrlr)
    "DisplayMessageEnabled": Variable("DisplayMessageCtrlr", "Enabled", "true"),
    "DisplayMessages": Variable("DisplayMessageCtrlr", "DisplayMessages", "10"),
    "DisplaySupportedFormats": Variable("DisplayMessageCtrlr", "SupportedFormats",
                                        "ASCII,HTML,URI,UTF8"),
    "DisplaySupportedPriorities": Variable("DisplayMessageCtrlr", "SupportedPriorities",
                                           "AlwaysFront,InFront,NormalCycle"),
    # I01-I03 (TariffCostCtrlr)
    "CostEnabled": Variable("TariffCostCtrlr", "Enabled", "true", "Cost"),
    "Currency": Variable("TariffCostCtrlr", "Currency", "EUR"),
    # OCPP-J connection (InternalCtrlr is libocpp's custom component)
    "ChargePointId": Variable("InternalCtrlr", "ChargePointId", "CS201"),
    "NumberOfConnectors": Variable("InternalCtrlr", "NumberOfConnectors", None),
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Settings:
    """Typed reads of `VARIABLES` from a device model (None: defaults only)."""

    __slots__ = ("dm", "overrides")

    def __init__(self, dm: DeviceModelReader | None = None,
                 overrides: dict[str, str] | None = None) -> None:
        """`overrides`: values that win over the device model (the command line's)."""
        self.dm = dm
        self.overrides = dict(overrides or {})

    def text(self, name: str) -> str | None:
        if name in self.overrides:
            return self.overrides[name]
        var = VARIABLES[name]
        value = None
        if self.dm is not None:
            value = self.dm.get(var.component, var.variable, variable_instance=var.instance)
            if value is None and var.instance is not None:  # libocpp keeps one, uninstanced
                value = self.dm.get(var.component, var.variable)
        return var.default if value is None or value == "" else value

    def int(self, name: str) -> int:
        value = self.text(name)
        try:
            return int(float(value)) if value is not None else 0
        except ValueError:
            return int(float(VARIABLES[name].default or 0))

    def bool(self, name: str) -> bool:
        return (self.text(name) or "").strip().lower() == "true"

    def has(self, component: str) -> builtins.bool:
        """Whether the device model has `component` (an optional controller: SmartChargingCtrlr,
        DisplayMessageCtrlr...); a station without a device model has every one, with the
        defaults here."""
        components = getattr(self.dm, "components", None)
        if components is None:
            return True
        return any(key.name == component for key in components())

    def list(self, name: str) -> list[str]:
        return [item.strip() for item in (self.text(name) or "").split(",") if item.strip()]

    def set(self, name: str, value: Any, *, persist: builtins.bool = False) -> None:
        """A value the station itself decided (B01.FR.04: the boot's heartbeat interval; A05's
        security profile, B09's network profiles): in the device model when it has the
        variable (GetVariables then shows it; `persist`: kept across restarts, else the next
        boot decides again), else kept here."""
        var = VARIABLES[name]
        set_local = getattr(self.dm, "set_local", None)
        if set_local is not None and name not in self.overrides:
            try:
                set_local(var.component, var.variable, value, variable_instance=var.instance,
                          persist=persist)
                return
            except (KeyError, ValueError):
                pass
        self.overrides[name] = value if isinstance(value, str) else _text(value)
