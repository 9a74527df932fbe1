"""ChargeBench's own simulator as the charge point under test (`chargebench conform --role cp
--self`): one `sim.chargepoint.ChargePoint` built from ChargeBench's default configuration
(libocpp 1.6 format, `sim/default_config.json`), on an
accelerated clock, connected to the harness's `--cb-listen` address.

The operator hook drives it through `SimControl`, the simulator's control surface plus the few
things a person does at a real charger that the control surface does not name (make the next
firmware installation fail, read the charger's clock). `fault_plan` makes it misbehave, so the
suite's own tests can check that the right case fails (`sim.features.faults`).
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from chargebench.clock import Clock
from sim.chargepoint import ChargePoint
from sim.config import DEFAULT_CONFIG, ChargePointConfig
from sim.features.faults import FaultPlan
from sim.hardware import Hardware

#: Simulated seconds per wall-clock second: ConnectionTimeOut, reservations, retries and
#: meter intervals of a few simulated minutes take a few wall-clock seconds at most.
SPEED = 20.0

#: What the self run changes in the default configuration: every feature profile, both transfer
#: protocols the harness serves, quick reconnects, and timers short enough for the suite.
OVERRIDES: dict[str, dict[str, Any]] = {
    "Internal": {"RetryBackoffWaitMinimum": 1, "RetryBackoffRandomRange": 0,
                 "RetryBackoffRepeatTimes": 0, "ChargePointSerialNumber": "CBSELF0001"},
    "Core": {
        "SupportedFeatureProfiles": "Core,FirmwareManagement,RemoteTrigger,Reservation,"
                                    "LocalAuthListManagement,SmartCharging",
        "HeartbeatInterval": 86400, "ClockAlignedDataInterval": 0, "MeterValueSampleInterval": 0,
        "ConnectionTimeOut": 30, "LocalAuthorizeOffline": True, "LocalPreAuthorize": False,
        "AuthorizationCacheEnabled": True, "AllowOfflineTxForUnknownId": False,
        "StopTransactionOnInvalidId": True, "AuthorizeRemoteTxRequests": False,
    },
    "FirmwareManagement": {"SupportedFileTransferProtocols": "FTP,HTTP"},
    "Reservation": {"ReserveConnectorZeroSupported": True},
    # the key exists (libocpp files may omit it) so a case can set it; the cases raise the
    # profile themselves, the whitepaper's way (conformance.cases.cp.security)
    "Security": {"SecurityProfile": 0, "CpoName": "ChargeBench",
                 "AuthorizationKey": "0" * 32},
}

#: What the self run declares to the plugin (conformance.capabilities).
CAPABILITIES = """\
profiles: [core, ocppj, firmware, localauth, reservation, smartcharging, remotetrigger, security]
connectors: 1
fixed_cable: false
config_keys: [StopTransactionOnEVSideDisconnect, UnlockConnectorOnEVSideDisconnect]
cpo_name: ChargeBench
"""


def build(cp_id: str, url: str, *, state_dir: Path | None = None,
          fault_plan: FaultPlan | None = None, speed: float = SPEED) -> ChargePoint:  # fmt: skip
    """The simulator configured for the suite, not yet started."""
    data = json.loads(DEFAULT_CONFIG.read_text("utf-8"))
    for profile, values in OVERRIDES.items():
        data.setdefault(profile, {}).update(values)
    data["Internal"]["ChargePointId"] = cp_id
    config = ChargePointConfig.from_dict(data, source=f"{DEFAULT_CONFIG} (self run)")
    state = state_dir or Path(tempfile.mkdtemp(prefix="cb-self-cp-"))
    return ChargePoint(config, Hardware(connectors=1), csms_url=url, clock=Clock(speed),
                       state_dir=state, fault_plan=fault_plan, call_timeout=5.0)


class SimControl:
    """The control surface the operator hook uses: the simulator's, plus `fail_firmware_install`
    and `now()` (the charger's own clock, which runs `SPEED` times as fast as the wall)."""

    def __init__(self, cp: ChargePoint) -> None:
        self.cp = cp

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cp, name)

    async def jam_lock(self, connector: int = 1, jammed: bool = True) -> None:
        self.cp.jam_lock(connector, jammed)

    async def fail_firmware_install(self, fail: bool = True) -> None:
        self.cp.features.firmware_faults.installation_failed = fail

    def now(self) -> datetime:
        return self.cp.clock.now()
