"""Build the scenario's charge points from its fleet groups: 1.6 charge points
(`sim.chargepoint.ChargePoint`) or, for a group with `ocpp: "2.0.1"`, 2.0.1 charging stations
(`sim.v201.station.ChargingStation`, built by `sim.fleet.station_201` as a `Fleet` builds them).

Identities (serials, vendor, model) come from `sim.fleet.identities` with the group's Faker seed,
then take the ids the scenario names. Each charge point's trace records go to its `Inbox` (for
`expect:`) and to the run's trace sink (for the trace file and the reports). Both kinds have the
same control surface (`plug_in`, `present_id_tag`, `go_offline`...), `call`, `start`/`stop` and
`Link`, so the steps do not ask which version they drive.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, cast

from chargebench.clock import Clock
from chargebench.trace import TraceRecord
from scenarios.model import CsmsSpec, GroupSpec, variable_key
from scenarios.observe import Inbox
from sim.chargepoint import ChargePoint
from sim.config import ChargePointConfig
from sim.features.connection import TlsFiles
from sim.features.faults import FaultPlan
from sim.fleet import Identity, config_for, identities, share_profiles, station_201
from sim.hardware import Hardware
from sim.v201.device_model import DeviceModel, default_config_dir
from sim.v201.station import ChargingStation

__all__ = ["DEFAULT_TEMPLATE", "Station", "apply_faults", "build_stations", "load_template"]

#: The libocpp-layout config a group gets when it names none: 2 AC connectors, quick retries.
DEFAULT_TEMPLATE = Path(str(resources.files(__package__).joinpath("templates/ac-2x22kw.json")))


@dataclasses.dataclass(slots=True)
class Station:
    """One charge point of the scenario with what the runner keeps about it."""

    cp: ChargePoint | ChargingStation
    group: str
    inbox: Inbox
    start_delay: float = 0.0  # wall seconds: the group's connection ramp
    started: bool = False

    @property
    def id(self) -> str:
        return self.cp.id

    @property
    def ocpp(self) -> str:
        """The OCPP version the station speaks ("1.6" or "2.0.1")."""
        return "2.0.1" if isinstance(self.cp, ChargingStation) else "1.6"

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
        if group.ocpp == "2.0.1":
            stations.update(_stations_201(group, csms, url=url, clock=clock,
                                          state_dir=state_dir, trace_sink=trace_sink,
                                          tls=tls))
            continue
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


def _stations_201(group: GroupSpec, csms: CsmsSpec, *, url: str, clock: Clock,
                  state_dir: Path, trace_sink: Callable[[TraceRecord], None],
                  tls: TlsFiles | None) -> dict[str, Station]:
    """The 2.0.1 stations of `group`: one device model template (the group's component_config
    folder, else the simulator's default) shared by all, each station with its own changed
    values, the group's `overrides` ({Component: {Variable: value}}, checked by the loader) and
    its identity (vendor, model, serial number of its BootNotification)."""
    model = DeviceModel.load(group.config or default_config_dir())
    hardware = Hardware.from_dict(group.hardware) if group.hardware else None
    people = identities(len(group.ids), seed=group.faker_seed or 0)
    gap = 1.0 / group.ramp_per_second if group.ramp_per_second else 0.0
    stations: dict[str, Station] = {}
    for index, (cp_id, person) in enumerate(zip(group.ids, people, strict=True)):
        inbox = Inbox()
        st = station_201(model, cp_id, hardware, csms_url=url, clock=clock,
                         state_dir=state_dir / cp_id, trace_sink=_fan_out(inbox.add, trace_sink),
                         settings=_identity_201(person))
        dm = cast(DeviceModel, st.settings.dm)  # station_201 gives each station its own
        _security_201(st, dm, group, csms)
        st.tls = tls
        for component, values in group.overrides.items():
            for variable, value in values.items():
                name, instance = variable_key(variable)
                dm.set_local(component, name, value, variable_instance=instance, persist=False)
        apply_faults(st, group.faults)
        stations[cp_id] = Station(st, group.name, inbox, start_delay=index * gap)
    return stations


def _security_201(st: ChargingStation, dm: DeviceModel, group: GroupSpec, csms: CsmsSpec
                  ) -> None:
    """The scenario's security for a 2.0.1 station, as `load_template` gives a 1.6 one: its
    network profiles (InternalCtrlr.NetworkConnectionProfiles, B09) at `csms.security_profile`
    when the scenario names one, or when the station has the simulator's own folder (a scenario
    station starts at profile 0, as the 1.6 default template does); the group's password
    (or the CSMS credentials') as SecurityCtrlr.BasicAuthPassword (A01). A folder of the
    user's own keeps its profiles."""
    if csms.security_profile or group.config is None:
        text = dm.get("InternalCtrlr", "NetworkConnectionProfiles")
        try:
            slots = json.loads(text) if text else []
            for slot in slots:
                slot["connectionData"]["securityProfile"] = csms.security_profile
        except (ValueError, KeyError, TypeError):
            slots = []
        if slots:
            dm.set_local("InternalCtrlr", "NetworkConnectionProfiles", json.dumps(slots),
                         persist=False)
    password = group.password or csms.credentials.get("password")
    if password:
        dm.set_local("SecurityCtrlr", "BasicAuthPassword", password, persist=False)


def _identity_201(person: Identity) -> dict[str, str]:
    """`Settings` overrides (sim.v201.settings) giving a station the fleet's identity."""
    return {"VendorName": person.vendor, "Model": person.model, "SerialNumber": person.serial}


def apply_faults(cp: ChargePoint | ChargingStation, spec: dict[str, Any]) -> None:
    """Make `cp` misbehave as `spec` says (`fault_plan:` and `template.faults:`), replacing
    its faults so far: `firmware` sets `FirmwareFaults`, the rest is a `FaultPlan`; `{}` clears."""
    firmware = spec.get("firmware") or {}
    faults = _firmware_faults(cp, wanted=bool(firmware))
    if faults is not None:
        faults.download_failed = bool(firmware.get("download_failed", False))
        faults.installation_failed = bool(firmware.get("installation_failed", False))
    plan = {key: value for key, value in spec.items() if key != "firmware"}
    cp.fault_plan = FaultPlan.from_dict(plan) if plan else None


def _firmware_faults(cp: ChargePoint | ChargingStation, *, wanted: bool) -> Any:
    """The charge point's `FirmwareFaults`; a 2.0.1 station builds its features (updater,
    certificates...) on first use, so only when faults are `wanted` or its features exist
    already (None otherwise: nothing to clear)."""
    if isinstance(cp, ChargePoint):
        return cp.features.firmware_faults
    if wanted or cp._features is not None:  # built or not, without building
        return cp.features.firmware_faults
    return None


def _fan_out(*sinks: Callable[[TraceRecord], None]) -> Callable[[TraceRecord], None]:
    def sink(record: TraceRecord) -> None:
        for each in sinks:
            each(record)

    return sink
