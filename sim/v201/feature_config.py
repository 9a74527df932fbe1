"""The 1.6 configuration reads of the version-neutral feature objects, answered from a 2.0.1
device model.

The certificate store and security log (`sim.features.certificates`, `.security_events`), the
firmware updater (`sim.v16.firmware`), the log uploader (`sim.v16.diagnostics`) and the profile
engine (`sim.v16.smart_charging`) read their few settings with the 1.6 `ChargePointConfig`
calls `get(section, key, default)`, `get_int` and `get_list`. Their logic is the same in 2.0.1
(the security whitepaper is 2.0.1's A, L and N blocks backported), so a 2.0.1 station hands them
this view instead of a copy of them: each key they read is named here with the device-model
variable (`sim.v201.settings.VARIABLES`) that means the same in 2.0.1. A key without one answers
its default, as a 1.6 configuration without the key does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.v201.settings import Settings

__all__ = ["FeatureConfig"]


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text not in (None, "") else None
    except ValueError:
        return None


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() == "true"


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _text(text: str | None) -> str | None:
    return text or None


#: (1.6 section, key) -> (settings name, conversion)
_KEYS: dict[tuple[str, str], tuple[str, Callable[[str | None], Any]]] = {
    # A02.FR.13, A00.FR.511: the CSR's subject (O the organization, CN the serial number)
    ("Security", "CpoName"): ("OrganizationName", _text),
    ("Internal", "ChargeBoxSerialNumber"): ("SerialNumber", _text),
    ("Security", "CertificateStoreMaxLength"): ("CertificateEntries", _int),
    ("Security", "AdditionalRootCertificateCheck"): ("AdditionalRootCertificateCheck", _bool),
    ("Security", "CertificateSignedMaxChainSize"): ("MaxCertificateChainSize", _int),
    # L01, N01: OCPPCommCtrlr.FileTransferProtocols
    ("FirmwareManagement", "SupportedFileTransferProtocols"): ("FileTransferProtocols", _text),
    # K01 (SmartChargingCtrlr)
    ("SmartCharging", "ChargeProfileMaxStackLevel"): ("ProfileStackLevel", _int),
    ("SmartCharging", "ChargingScheduleMaxPeriods"): ("PeriodsPerSchedule", _int),
    ("Internal", "SupplyVoltage"): ("SupplyVoltage", _float),
}

#: 2.0.1 RateUnit members -> 1.6 ChargingScheduleAllowedChargingRateUnit members
_RATE_UNITS = {"A": "Current", "W": "Power"}


class FeatureConfig:
    """`ChargePointConfig`'s read calls over a 2.0.1 station's `Settings`.

    `station_id`: what 1.6 calls ChargePointId (the log owner, the serial when none is set);
    `security_profile()`: the profile of the connection in use (the store protects the CSMS
    root that validates a TLS connection, M04.FR.06)."""

    __slots__ = ("security_profile", "settings", "station_id")

    def __init__(self, settings: Settings, station_id: str,
                 security_profile: Callable[[], int]) -> None:
        self.settings = settings
        self.station_id = station_id
        self.security_profile = security_profile

    def get(self, section: str, key: str, default: Any = None) -> Any:
        if (section, key) == ("Internal", "ChargePointId"):
            return self.station_id
        if (section, key) == ("Security", "SecurityProfile"):
            return self.security_profile()
        if (section, key) == ("Core", "SupportedFeatureProfiles"):
            return "SmartCharging"  # the 2.0.1 handlers decide what is supported (K01)
        if (section, key) == ("SmartCharging", "MaxChargingProfilesInstalled"):
            return self._max_profiles()
        if (section, key) == ("Security", "CertificateStoreMaxLength"):
            return self._max_certificates()
        if (section, key) == ("SmartCharging", "ChargingScheduleAllowedChargingRateUnit"):
            units = [_RATE_UNITS[u] for u in self.settings.list("RateUnit") if u in _RATE_UNITS]
            return ",".join(units)
        entry = _KEYS.get((section, key))
        if entry is None:
            return default
        name, convert = entry
        value = convert(self.settings.text(name))
        return default if value is None else value

    def _max_profiles(self) -> int | None:
        """SmartChargingCtrlr.Entries[ChargingProfiles] is the number installed; its maxLimit
        the most that may be (part 2 appendix 3.1.16). None: no maximum."""
        find = getattr(self.settings.dm, "find", None)
        if find is None:
            return None
        spec = (find("SmartChargingCtrlr", "Entries", variable_instance="ChargingProfiles")
                or find("SmartChargingCtrlr", "Entries"))
        limit = spec.characteristics.max_limit if spec is not None else None
        return None if limit is None else int(limit)

    def _max_certificates(self) -> int | None:
        """SecurityCtrlr.CertificateEntries is the number installed; its maxLimit the most
        that may be (part 2 appendix 3.1.8, as Entries[ChargingProfiles]; the store full at
        0 rejected every root, M05.FR.03). None: no maximum."""
        find = getattr(self.settings.dm, "find", None)
        spec = find("SecurityCtrlr", "CertificateEntries") if find is not None else None
        limit = spec.characteristics.max_limit if spec is not None else None
        if limit is None:
            return _int(self.settings.text("CertificateEntries")) if find is None else None
        return int(limit)

    def get_int(self, section: str, key: str, default: int = 0) -> int:
        value = self.get(section, key, None)
        return default if value is None else int(value)

    def get_list(self, section: str, key: str, default: str = "") -> list[str]:
        value = self.get(section, key, None)
        text = default if value is None else str(value)
        return [item.strip() for item in text.split(",") if item.strip()]
