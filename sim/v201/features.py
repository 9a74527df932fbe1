"""The version-neutral feature objects of one 2.0.1 station, each built when first needed.

The same classes the 1.6 charge point builds in `sim.features.wiring.Features`: the certificate
store and the security log (A02-A05, M03-M05), the firmware updater (L01), the log uploader
(N01) and the profile engine (K01-K08), each given a `FeatureConfig` (the 2.0.1 device model
read through their 1.6 keys) and the station's clock, state directory and `call`. An idle
station of a large fleet never builds any of them (`loadtest.bench_sim_memory`).
"""

from __future__ import annotations

import asyncio
import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.features.certificates import CertificateStore
from sim.features.security_events import EVENT_TYPES, SecurityEvents
from sim.v16.diagnostics import Diagnostics
from sim.v16.firmware import FirmwareFaults, FirmwareUpdater
from sim.v16.smart_charging import SmartCharging
from sim.v201.feature_config import FeatureConfig

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["EVENT_NAMES", "Features"]

#: the 1.6 whitepaper's security event names the shared code raises -> their 2.0.1 names
#: (part 2 appendix "Security events"); the rest are the same in both
EVENT_NAMES = {
    "InvalidCentralSystemCertificate": "InvalidCsmsCertificate",
    "InvalidChargePointCertificate": "InvalidChargingStationCertificate",
    "FailedToAuthenticationAtCentralSystem": "FailedToAuthenticateAtCsms",
    "CentralSystemFailedToAuthentication": "CsmsFailedToAuthenticate",
}

#: events part 2 appendix 1 (Security events) marks critical where the 1.6 whitepaper's table
#: does not: pushed to the CSMS (A04.FR.01), not only logged
CRITICAL_201 = frozenset({"InvalidFirmwareSignature", "InvalidFirmwareSigningCertificate",
                          "InvalidCentralSystemCertificate", "InvalidChargePointCertificate",
                          "InvalidTLSVersion", "InvalidTLSCipherSuite"})


class Features:
    """The feature objects of one station (`ChargingStation.features`)."""

    def __init__(self, st: ChargingStation) -> None:
        self._st = st
        #: when the composite limit next changes (`sim.v201.smart_charging.apply`)
        self.smart_timer: asyncio.Task | None = None

    # What is made on first use only: a booted station logs a security event or two, and
    # every one of a fleet of 10 000 would hold the rest (`loadtest.bench_sim_memory`)

    @cached_property
    def firmware_faults(self) -> FirmwareFaults:
        return FirmwareFaults()

    @cached_property
    def signing(self) -> dict[str, asyncio.Task]:
        """A02.FR.17: per certificate type, the task resending SignCertificate until the
        certificate arrives (`sim.v201.security.request_certificate`)."""
        return {}

    @cached_property
    def signed(self) -> dict[str, int]:
        """CertificateSigned messages received per certificate type (one may overtake the
        SignCertificateResponse it follows)."""
        return {}

    def built(self, name: str) -> bool:
        """Whether feature `name` exists already (no need to build it just to tell it)."""
        return name in self.__dict__

    @cached_property
    def config(self) -> FeatureConfig:
        st = self._st
        return FeatureConfig(st.settings, st.id, lambda: st.security_profile)

    @cached_property
    def events(self) -> SecurityEvents:
        """A04: the security log and the queue of SecurityEventNotifications."""
        return SecurityEvents(self.config, clock=self._st.clock, state_dir=self._st.state_dir)

    def security_event(self, kind: str, tech_info: str | None = None) -> None:
        """Log a security event under its 2.0.1 name (critical ones as the shared table says,
        A04.FR.01) and send the critical ones now when online (A04.FR.02)."""
        queued = self.events.record(EVENT_NAMES.get(kind, kind), tech_info,
                                    critical=kind in CRITICAL_201
                                    or EVENT_TYPES.get(kind, False))
        if queued is not None and self._st.online:
            self._st.spawn(self.deliver_events())

    async def deliver_events(self) -> None:
        """The queued SecurityEventNotifications, in order (A04.FR.02/03)."""
        if self.built("events") and self.events.pending:
            await self.events.deliver(self._st.call)

    @cached_property
    def certs(self) -> CertificateStore:
        """Roots, the station's leaf certificates and pending keys (A02, A03, M03-M05)."""
        st = self._st
        return CertificateStore(self.config, clock=st.clock, state_dir=st.state_dir,
                                security_event=self.security_event)

    @cached_property
    def firmware(self) -> FirmwareUpdater:
        """L01 (the whitepaper's SignedUpdateFirmware is 2.0.1's UpdateFirmware): progress in
        FirmwareStatusNotification with the requestId (L01.FR.10)."""
        st = self._st
        return FirmwareUpdater(
            self.config, clock=st.clock, notify=st.call, reboot=st.firmware_installed,
            idle=lambda: all(e.tx is None for e in st.evses),
            manufacturer_roots=lambda: self.certs.manufacturer_roots(),
            security_event=self.security_event, faults=self.firmware_faults,
            signed_status_action="FirmwareStatusNotification", signature_required=False,
            installed_after_reboot=True,  # L01.FR.32 (a)
        )

    @cached_property
    def diagnostics(self) -> Diagnostics:
        """N01 GetLog (the same request and LogStatusNotification as the whitepaper's)."""
        st = self._st
        return Diagnostics(self.config, clock=st.clock, notify=st.call,
                           log_path=self.log_path, security_log_path=self.events.log_path,
                           report=lambda: json.dumps(st.snapshot()).encode() + b"\n")

    @property
    def log_path(self) -> Path | None:
        """The station's own message log (JSON Lines trace records), for GetLog DiagnosticsLog."""
        state_dir = self._st.state_dir
        return Path(state_dir) / "ocpp.log" if state_dir is not None else None

    @cached_property
    def smart(self) -> SmartCharging:
        """The profile store (persisted, K01.FR.? ChargingProfilePersistence) and the composite
        schedule; EVSE n is the engine's connector n, the station its connector 0."""
        st = self._st
        return SmartCharging.for_hardware(self.config, st.hardware, now=st.clock.now,
                                          state_dir=st.state_dir)

    def close(self) -> None:
        if self.smart_timer is not None:
            self.smart_timer.cancel()
        for task in self.__dict__.get("signing", {}).values():
            task.cancel()
        for name in ("firmware", "diagnostics"):
            feature: Any = self.__dict__.get(name)
            if feature is not None:
                feature.cancel()
