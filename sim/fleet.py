"""Many virtual charge points from one template, in one asyncio process.

`Fleet(template, count, csms_url=...)` makes `count` charge points whose identities (id, serial
numbers, vendor/model, id tags) come from Faker with a seed, so the same seed gives the same
fleet. `await fleet.start()` connects them as fast as the CSMS accepts them, with at most
`max_handshakes` first attempts (connect and BootNotification) in flight: a CSMS that sees
10 000 simultaneous handshakes measures its accept queue, not its OCPP handling, and a fixed
rate is either too slow for a fast CSMS or too fast for a slow one. `ramp=N` starts N per second
instead, `ramp=0` all at once. `await fleet.stop()` stops open transactions and leaves
undelivered messages in each charge point's state directory. `failures()` counts the charge
points not accepted by why (refused, HTTP 401, TLS, timeout, boot Rejected...).

Memory per idle charge point: one connection, one reader task, the connection loop and one
heartbeat task; connectors get tasks only while they have a transaction or a pending
ConnectionTimeOut. `python -m loadtest.bench_sim_memory --cps 10000` measures it (target 40 kB).

OCPP 2.0.1: `ocpp="2.0.1"` makes 2.0.1 charging stations (`sim.v201.station.ChargingStation`)
from one device-model template (`device_model`: a libocpp component_config folder, default
ChargeBench's own) instead of 1.6 charge points from `template`; `settings` are values that win
over the device model in every station (`sim.v201.settings.Settings` overrides, e.g.
TxUpdatedInterval). A sequence of versions, e.g. `ocpp=("1.6", "2.0.1")`, gives each charge
point the version at its index modulo the sequence's length: a mixed fleet on one clock, one
CSMS and one event loop. Both kinds share the connection state (`Link`), the control surface
(`plug_in`, `present_id_tag`...), `stop()` and the queue, so `start`, `wait_booted`, `failures`
and `summary` read them the same way.

Latency: from `start()` to `stop()` the fleet keeps CPython's full collections off its event loop
with the CSMS's heap freezer (`chargebench.gcpolicy`, `gc_freeze_interval` seconds, None leaves
the collector alone): at 10 000 charge points their automatic full passes walk millions of live
objects and stall every charger's timers. Process-wide: one fleet per process.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from faker import Faker

from chargebench.clock import Clock
from chargebench.gcpolicy import HeapFreezer
from chargebench.trace import TraceRecord
from sim.chargepoint import ChargePoint
from sim.config import ChargePointConfig
from sim.features.connection import TlsFiles
from sim.features.faults import FaultPlan
from sim.hardware import Hardware
from sim.v201.device_model import DeviceModel, default_config_dir
from sim.v201.settings import Settings
from sim.v201.station import ChargingStation

#: the OCPP versions a fleet builds charge points for
VERSIONS = ("1.6", "2.0.1")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who one charge point of the fleet is (BootNotification fields, 1.6 §6.3 lengths)."""

    cp_id: str
    serial: str
    box_serial: str
    vendor: str
    model: str
    id_tags: tuple[str, ...]


def identities(count: int, seed: int = 0, prefix: str = "CB", tags_per_cp: int = 3
               ) -> list[Identity]:
    """`count` deterministic identities: same seed, same fleet."""
    fake = Faker()
    fake.seed_instance(seed)
    vendors = [fake.company().split()[0].strip(",")[:20] for _ in range(5)]
    out = []
    for n in range(1, count + 1):
        vendor = vendors[n % len(vendors)]
        out.append(Identity(
            cp_id=f"{prefix}{n:05d}",
            serial=fake.bothify("CP-########"),
            box_serial=fake.bothify("BOX-#######"),
            vendor=vendor,
            model=fake.bothify(f"{vendor[:3].upper()}-??##").upper()[:20],
            id_tags=tuple(fake.hexify("^" * 8, upper=True) for _ in range(tags_per_cp)),
        ))
    return out


def share_profiles(template: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The template's profiles as read-only views, built once and shared by every charge point
    made from it: a charge point copies a profile only when it changes one of its keys
    (`ChargePointConfig._put`), which keeps 10 000 configurations cheap. Values are shared
    too: list values (CSL keys) are replaced on change, never changed in place. Profiles
    already shared stay as they are."""
    return {profile: values if isinstance(values, MappingProxyType)
            else MappingProxyType(dict(values)) for profile, values in template.items()}


def config_for(template: Mapping[str, Mapping[str, Any]], identity: Identity
               ) -> ChargePointConfig:
    """The template (validated once by the caller, ideally from `share_profiles`) with one
    identity filled in; Internal, where the identity goes, is the charge point's own."""
    data = share_profiles(template)
    data["Internal"] = {
        **template["Internal"],
        "ChargePointId": identity.cp_id,
        "ChargeBoxSerialNumber": identity.box_serial,
        "ChargePointSerialNumber": identity.serial,
        "ChargePointVendor": identity.vendor,
        "ChargePointModel": identity.model,
    }
    return ChargePointConfig(data, source=f"template:{identity.cp_id}")


def station_201(model: DeviceModel, station_id: str, hardware: Hardware | None = None, *,
                csms_url: str, clock: Clock, state_dir: Path | None = None,
                trace_sink: Callable[[TraceRecord], None] | None = None,
                settings: Mapping[str, str] | None = None,
                rng: random.Random | None = None,
                tls: TlsFiles | None = None) -> ChargingStation:
    """One 2.0.1 station on the shared template of `model` (loaded and validated once by the
    caller): its own device model over that template (changed values in
    `state_dir/device_model.json` when given), one EVSE per EVSE component of the template
    unless `hardware` says otherwise. `chargebench sim --config DIR` and `Fleet` build
    stations here."""
    dm = DeviceModel(model.template, None if state_dir is None else
                     state_dir / "device_model.json")
    evses = len(model.evse_ids()) or 1
    return ChargingStation(Settings(dm, dict(settings) if settings else None),
                           hardware or Hardware(connectors=evses), csms_url=csms_url or "",
                           station_id=station_id, clock=clock, state_dir=state_dir,
                           trace_sink=trace_sink, rng=rng, tls=tls)  # fmt: skip


def _open_transactions(cp: ChargePoint | ChargingStation) -> int:
    if isinstance(cp, ChargingStation):
        return sum(1 for evse in cp.evses if evse.tx is not None)
    return sum(1 for port in cp.ports if port.tx)


class Fleet:
    """A set of charge points sharing one template, clock and CSMS."""

    def __init__(
        self,
        template: Mapping[str, Any] | None,
        count: int,
        *,
        csms_url: str | None = None,
        hardware: Hardware | None = None,
        seed: int = 0,
        ramp: float | None = None,
        max_handshakes: int = 200,
        clock: Clock | None = None,
        state_dir: str | Path | None = None,
        trace_sink: Callable[[TraceRecord], None] | None = None,
        tls: TlsFiles | None = None,
        prefix: str = "CB",
        # Fault injection
        fault_plan: FaultPlan | Mapping[str, Any] | None = None,
        fault_plans: Mapping[str, FaultPlan | Mapping[str, Any]] | None = None,
        # Latency
        gc_freeze_interval: float | None = 5.0,
        # OCPP 2.0.1
        ocpp: str | Sequence[str] = "1.6",
        device_model: DeviceModel | str | Path | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        """`template` is a libocpp config dict (validated here, raises ConfigError); `ramp`
        None paces the start by the CSMS (`max_handshakes` first attempts in flight), a number
        is connections started per second (0: all at once); `state_dir` gets one
        sub-directory per charge point.
        `fault_plan` (a `FaultPlan` or its YAML dict) applies to every charge point, each with
        its own copy so `times`/`after` count per charge point; `fault_plans` overrides it by
        charge point id. `gc_freeze_interval`: see the module docstring.
        `ocpp`, `device_model`, `settings`: see the module docstring (`template` may be None
        when no charge point speaks 1.6; faults and TLS apply to 1.6 charge points only)."""
        versions = (ocpp,) if isinstance(ocpp, str) else tuple(ocpp)
        if not versions or any(v not in VERSIONS for v in versions):
            raise ValueError(f"ocpp: {ocpp!r}; one of {', '.join(VERSIONS)} or a sequence")
        if "1.6" in versions:
            if template is None:
                raise ValueError("a fleet with 1.6 charge points needs a template")
            ChargePointConfig.from_dict(template, source="fleet template")  # validate once
            shared = share_profiles(template)
        model: DeviceModel | None = None
        if "2.0.1" in versions:  # loaded and validated once (DeviceModelError)
            model = (device_model if isinstance(device_model, DeviceModel)
                     else DeviceModel.load(Path(device_model or default_config_dir())))
        self.clock = clock or Clock()
        self.ramp = ramp
        self.max_handshakes = max(1, max_handshakes)
        self.identities = identities(count, seed, prefix)
        # One generator for the fleet's reconnect jitter: a Mersenne Twister state is 2.5 kB,
        # too much to hold per charge point at 10 000 (loadtest.bench_sim_memory).
        rng = random.Random(seed)
        self.charge_points: list[ChargePoint | ChargingStation] = []
        for n, identity in enumerate(self.identities):
            folder = Path(state_dir) / identity.cp_id if state_dir else None
            if versions[n % len(versions)] == "2.0.1":
                assert model is not None
                self.charge_points.append(station_201(
                    model, identity.cp_id, hardware, csms_url=csms_url or "", clock=self.clock,
                    state_dir=folder, trace_sink=trace_sink, settings=settings, rng=rng,
                    tls=tls))
                continue
            self.charge_points.append(ChargePoint(
                config_for(shared, identity), hardware, csms_url=csms_url, clock=self.clock,
                state_dir=folder, trace_sink=trace_sink, tls=tls, rng=rng,
                fault_plan=_plan_for(identity.cp_id, fault_plan, fault_plans or {}),
            ))
        self.heap: HeapFreezer | None = None
        if gc_freeze_interval is not None:
            # a full pass once a tenth of the fleet's connections were lost (their cycles)
            self.heap = HeapFreezer(lambda: len(self.charge_points), interval=gc_freeze_interval,
                                    disconnects=self._disconnects)  # fmt: skip

    def __len__(self) -> int:
        return len(self.charge_points)

    async def start(self, on_started: Callable[[int], None] | None = None) -> None:
        """Start every charge point: paced by the CSMS (`ramp` None), or `ramp` per second
        (wall clock). `on_started(n)` after the n-th start."""
        if self.heap is not None:
            self.heap.start()
        if self.ramp is None:
            await self._start_paced(on_started)
            return
        gap = 1.0 / self.ramp if self.ramp > 0 else 0.0
        for n, cp in enumerate(self.charge_points, 1):
            await cp.start()
            if on_started is not None:
                on_started(n)
            if gap:
                await asyncio.sleep(gap)

    async def _start_paced(self, on_started: Callable[[int], None] | None) -> None:
        """At most `max_handshakes` charge points between start and the end of their first
        attempt (BootNotification answered, or the connection failed): the next starts as soon
        as one of them is done, so the pace is the CSMS's."""
        gate = asyncio.Semaphore(self.max_handshakes)
        for n, cp in enumerate(self.charge_points, 1):
            await gate.acquire()
            cp.link.on_attempt = gate.release
            await cp.start()
            if on_started is not None:
                on_started(n)

    def failures(self) -> dict[str, int]:
        """Charge points not accepted, counted by why (most frequent first); those still on
        their first attempt count as "connecting"."""
        counts: dict[str, int] = {}
        for cp in self.charge_points:
            if not cp.link.accepted:
                reason = cp.link.failure or "connecting"
                counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    def booted(self) -> int:
        """How many charge points the CSMS has accepted."""
        return sum(1 for cp in self.charge_points if cp.link.accepted)

    async def wait_booted(self, timeout: float | None = None) -> None:
        """Wait until every charge point is accepted (also those `start()` has not reached
        yet: a paced start may still be running)."""
        async with asyncio.timeout(timeout):
            for cp in self.charge_points:
                await cp.link.booted.wait()

    async def stop(self) -> None:
        """Stop open transactions, persist queues, close every connection."""
        await asyncio.gather(*(cp.stop() for cp in self.charge_points), return_exceptions=True)
        if self.heap is not None:
            await self.heap.close()

    def _disconnects(self) -> int:
        """Connections lost so far, fleet-wide (every connect but the open ones)."""
        cps = self.charge_points
        links = [cp.link for cp in cps]
        open_now = sum(1 for link in links if link.session is not None)
        return sum(link.connects for link in links) - open_now

    def summary(self) -> dict[str, int]:
        """Counts for the exit report."""
        cps = self.charge_points
        return {
            "charge_points": len(cps),
            "booted": self.booted(),
            "online": sum(1 for cp in cps if cp.online),
            "connections": sum(cp.link.connects for cp in cps),
            "open_transactions": sum(_open_transactions(cp) for cp in cps),
            "queued_messages": sum(len(cp.queue) for cp in cps),
        }


def _plan_for(
    cp_id: str,
    default: FaultPlan | Mapping[str, Any] | None,
    overrides: Mapping[str, FaultPlan | Mapping[str, Any]],
) -> FaultPlan | None:
    """The charge point's own plan: its override, else a fresh copy of the fleet's."""
    plan = overrides.get(cp_id, default)
    if plan is None:
        return None
    if isinstance(plan, FaultPlan):
        return copy.deepcopy(plan)
    return FaultPlan.from_dict(dict(plan))
