"""Build the scenario's charge points (`sim.chargepoint.ChargePoint`) from its fleet groups.

Identities (serials, vendor, model) come from `sim.fleet.identities` with the group's Faker seed,
then take the ids the scenario names. Each charge point's trace records go to its `Inbox` (for
`expect:`) and to the run's trace sink (for the trace file and the reports).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from chargebench.clock import Clock
from chargebench.trace import TraceRecord
from scenarios.model import CsmsSpec, GroupSpec
from scenarios.observe import Inbox
from sim.chargepoint import ChargePoint
from sim.config import ChargePointConfig
from sim.features.connection import TlsFiles
from sim.features.faults import FaultPlan
from sim.fleet import config_for, identities, share_profiles
from sim.hardware import Hardware

__all__ = ["DEFAULT_TEMPLATE", "Station", "apply_faults", "build_stations", "load_template"]

#: The libocpp-layout config a group gets when it names none: 2 AC connectors, quick retries.
DEFAULT_TEMPLATE = Path(str(resources.files(__package__).joinpath("templates/ac-2x22kw.json")))


@dataclasses.dataclass(slots=True)
class Station:
    """One charge point of the scenario with what the runner keeps about it."""

    cp: ChargePoint
    group: str
    inbox: Inbox
    start_delay: float = 0.0  # wall seconds: the group's connection ramp
    started: bool = False

    @property
    def id(self) -> str:
        return self.cp.id

    async def ensure_started(self) -> None:
        """Power on once; later connect/boot steps only wait."""
        if not self.started:
            self.started = True
            if self.start_delay:
                await asyncio.sleep(self.start_delay)
            await self.cp.start()


def load_template(group: GroupSpec, csms: CsmsSpec) -> dict[str, Any]:
    """The group's libocpp config as a dict, with its overrides and the CSMS's security."""
    data = json.loads((group.config or DEFAULT_TEMPLATE).read_text(encoding="utf-8"))
    for profile, values in group.overrides.items():
        data.setdefault(profile, {}).update(values)
    security = data.setdefault("Security", {})
    if csms.security_profile:
        security["SecurityProfile"] = csms.security_profile
    password = group.password or csms.credentials.get("password")
    if password:
        security["AuthorizationKey"] = password
    ChargePointConfig.from_dict(data, source=str(group.config or DEFAULT_TEMPLATE))
    return data


def build_stations(
    groups: list[GroupSpec],
    csms: CsmsSpec,
    *,
    url: str,
    clock: Clock,
    state_dir: Path,
    trace_sink: Callable[[TraceRecord], None],
    ca_file: Path | None = None,
) -> dict[str, Station]:
    """One `Station` per charge point id, in fleet order; `ca_file` is the built-in CSMS's CA
    (`tls: true`), given to groups that start on profile 2."""
    tls = None
    if csms.credentials.get("ca"):
        creds = csms.credentials
        tls = TlsFiles(ca=creds["ca"], cert=creds.get("cert"), key=creds.get("key"))
    stations: dict[str, Station] = {}
    for group in groups:
        template = load_template(group, csms)
        group_tls = tls
        if tls is None and ca_file is not None and template["Security"].get("SecurityProfile") == 2:
            # configured for wss:// from the start: the installer imported the CSMS's CA
            # (seeds/000 §4.4); profile 1 and 3 chargers use their certificate store instead
            group_tls = TlsFiles(ca=str(ca_file))
        hardware = Hardware.from_dict(group.hardware) if group.hardware else None
        shared = share_profiles(template)
        people = identities(len(group.ids), seed=group.faker_seed or 0)
        gap = 1.0 / group.ramp_per_second if group.ramp_per_second else 0.0
        for index, (cp_id, person) in enumerate(zip(group.ids, people, strict=True)):
            inbox = Inbox()
            # One serial number per charge point: the simulator's CSR names ChargeBoxSerialNumber
            # (as libocpp does), the CSMS checks it against the serial it stored at boot
            # (chargePointSerialNumber first); a one-box charger has the same in both.
            person = dataclasses.replace(person, cp_id=cp_id, box_serial=person.serial)
            config = config_for(shared, person)
            cp = ChargePoint(
                config, hardware, csms_url=url, clock=clock, state_dir=state_dir / cp_id,
                trace_sink=_fan_out(inbox.add, trace_sink), tls=group_tls,
            )
            apply_faults(cp, group.faults)
            stations[cp_id] = Station(cp, group.name, inbox, start_delay=index * gap)
    return stations


def apply_faults(cp: ChargePoint, spec: dict[str, Any]) -> None:
    """Make `cp` misbehave as `spec` says (`fault_plan:` and `template.faults:`), replacing
    its faults so far: `firmware` sets `FirmwareFaults`, the rest is a `FaultPlan`; `{}` clears."""
    firmware = spec.get("firmware") or {}
    faults = cp.features.firmware_faults
    faults.download_failed = bool(firmware.get("download_failed", False))
    faults.installation_failed = bool(firmware.get("installation_failed", False))
    plan = {key: value for key, value in spec.items() if key != "firmware"}
    cp.fault_plan = FaultPlan.from_dict(plan) if plan else None


def _fan_out(*sinks: Callable[[TraceRecord], None]) -> Callable[[TraceRecord], None]:
    def sink(record: TraceRecord) -> None:
        for each in sinks:
            each(record)

    return sink
