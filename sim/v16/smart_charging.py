"""Smart charging on the charge point side: profile store, composite schedule, limits for the EV.

1.6 §3.13 and §5.16 with the errata (3.8, 3.25, 3.34, 3.37-3.39, 3.43-3.45, 3.56, 3.57, 3.65,
3.66, 3.69). Sans-I/O: `SmartCharging` answers SetChargingProfile, ClearChargingProfile and
GetCompositeSchedule from plain dicts (`handlers`), and the charge point asks it for the limit in
force (`limit_at`) and for the next moment that limit may change (`next_change`), then drives
the EV model with `Meter.set_limit(amps, watts, phases)`.

How the composite schedule is built, at every instant t:

- per purpose, the *prevailing* profile is the one with the highest stackLevel that is valid at t
  (validFrom <= t < validTo) and whose schedule covers t (§3.13.2). A profile whose schedule has
  not started or has ended (duration, recurrence remainder) falls back to the next lower stack
  level (§5.16.4, errata 3.43/3.44);
- TxDefaultProfile: profiles on the connector and on connector 0 both count; at one stack level
  the connector's own profile wins (§3.13.1: connector > 0 replaces connector 0 "only for that
  specific connector");
- TxProfile overrules TxDefaultProfile while it gives a limit (§3.13.1, 7.10); it only exists
  during a transaction and is deleted when the transaction ends;
- the limit is the minimum of ChargePointMaxProfile, the Tx(Default) limit and the hardware
  rating (a "local limit", §5.7), each converted to the asked unit (§3.13.3).

Unit conversion (7.12, errata 3.69): W = A x nominal voltage x numberPhases, numberPhases 3 when
absent. For the EV model (`limit_at`) the phases are also capped at what the hardware has
(errata 3.34: a limit is applied as given, never rescaled to the phases in use).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocpp.v16.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
    GetCompositeScheduleStatus,
    RecurrencyKind,
)

from chargebench.clock import iso, parse_iso
from chargebench.ocppj.errors import OcppCallError
from sim.state import read_json, state_file, write_json

__all__ = [
    "InstalledProfile",
    "SmartCharging",
    "amps_to_watts",
    "watts_to_amps",
]

_P = ChargingProfilePurposeType
_KIND = ChargingProfileKindType
_UNIT = ChargingRateUnitType
_RECURRENCE_S = {RecurrencyKind.daily: 86_400, RecurrencyKind.weekly: 7 * 86_400}
_CLEAR_UNKNOWN = ClearChargingProfileStatus.unknown
_DEFAULT_PHASES = 3  # 7.12 / 7.14: "numberPhases=3 will be assumed unless another number is given"


def amps_to_watts(amps: float, voltage: float, phases: int) -> float:
    """Total power of a per-phase current (7.12: A is per phase, W is the total)."""
    return amps * voltage * phases


def watts_to_amps(watts: float, voltage: float, phases: int) -> float:
    """Per-phase current of a total power: Power / (Line Voltage x Number of Phases) (7.12)."""
    return watts / (voltage * phases)


@dataclass(frozen=True)
class InstalledProfile:
    """One ChargingProfile (1.6 §7.8) as installed on a connector, with when it arrived."""

    connector_id: int
    profile: dict[str, Any]
    installed_at: datetime

    @property
    def id(self) -> int:
        return int(self.profile["chargingProfileId"])

    @property
    def purpose(self) -> str:
        return self.profile["chargingProfilePurpose"]

    @property
    def stack_level(self) -> int:
        return int(self.profile["stackLevel"])

    @property
    def schedule(self) -> dict[str, Any]:
        return self.profile["chargingSchedule"]

    def valid_at(self, t: datetime) -> bool:
        """validFrom <= t < validTo (7.8; absent validFrom: valid as soon as received)."""
        start = self.profile.get("validFrom")
        end = self.profile.get("validTo")
        if start is not None and t < parse_iso(start):
            return False
        return not (end is not None and t >= parse_iso(end))

    def to_json(self) -> dict[str, Any]:
        return {"connectorId": self.connector_id, "profile": self.profile,
                "installedAt": iso(self.installed_at)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InstalledProfile:
        return cls(int(data["connectorId"]), data["profile"], parse_iso(data["installedAt"]))


@dataclass(frozen=True)
class _Period:
    """A limit in force: the value in its own unit and the phases it assumes."""

    limit: float
    unit: str
    phases: int

    def amps(self, voltage: float, phases_cap: int | None = None) -> float:
        if self.unit == _UNIT.amps:
            return self.limit
        return watts_to_amps(self.limit, voltage, self._phases(phases_cap))

    def watts(self, voltage: float, phases_cap: int | None = None) -> float:
        if self.unit == _UNIT.watts:
            return self.limit
        return amps_to_watts(self.limit, voltage, self._phases(phases_cap))

    def in_unit(self, unit: str, voltage: float) -> float:
        return self.amps(voltage) if unit == _UNIT.amps else self.watts(voltage)

    def _phases(self, cap: int | None) -> int:
        return min(self.phases, cap) if cap else self.phases


class SmartCharging:
    """The charging profiles of one charge point, persisted (errata 3.37).

    Wire `handlers` into the session; call `transaction_started` / `transaction_stopped` from
    the transaction logic and `install_remote_start_profile` for RemoteStartTransaction's
    chargingProfile; drive the meter with `limit_at` and re-evaluate at `next_change`.
    """

    FILE_NAME = "charging_profiles.json"

    def __init__(
        self,
        config: Any,
        *,
        connectors: int,
        now: Callable[[], datetime],
        # Hardware (local limit, §5.7) and conversion (7.12)
        voltage: float = 230.0,
        phases: int = 3,
        max_current_a: float = 32.0,
        max_power_w: float | None = None,
        # Persistence
        state_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """`config` is the `ChargePointConfig`; `now` the simulated clock's `now`."""
        self.config = config
        self.connectors = connectors
        self.now = now
        self.voltage = float(config.get("Internal", "SupplyVoltage", None) or voltage)
        self.phases = phases
        self.max_current_a = max_current_a
        self.max_power_w = max_power_w or amps_to_watts(max_current_a, self.voltage, phases)
        self.path = state_file(state_dir, self.FILE_NAME)
        self._profiles: list[InstalledProfile] = []
        #: connector -> (transactionId or None until StartTransaction.conf, start time)
        #: connector -> (transactionId once known, start; None until a remote start begins)
        #: (2.0.1 transactionIds are strings: the same engine serves `sim.v201.smart_charging`)
        self._transactions: dict[int, tuple[int | str | None, datetime | None]] = {}
        self._load()

    @classmethod
    def for_hardware(cls, config: Any, hardware: Any, **kwargs: Any) -> SmartCharging:
        """Build from `sim.hardware.Hardware` (ratings per connector)."""
        return cls(
            config,
            connectors=hardware.connectors,
            voltage=hardware.nominal_voltage_v,
            phases=hardware.phases,
            max_current_a=hardware.max_current_a,
            max_power_w=hardware.max_power_w,
            **kwargs,
        )

    @property
    def handlers(self) -> dict[str, Callable[[dict], dict]]:
        """CSMS-initiated actions this feature answers (merge into the session's handlers)."""
        return {
            "SetChargingProfile": self.on_set_charging_profile,
            "ClearChargingProfile": self.on_clear_charging_profile,
            "GetCompositeSchedule": self.on_get_composite_schedule,
        }

    @property
    def profiles(self) -> list[InstalledProfile]:
        """Installed profiles (a copy), in installation order."""
        return list(self._profiles)

    # Configuration -----------------------------------------------------------------------

    def _supported(self) -> bool:
        profiles = self.config.get_list("Core", "SupportedFeatureProfiles", "")
        return "SmartCharging" in profiles

    def _max_stack_level(self) -> int:
        return self.config.get_int("SmartCharging", "ChargeProfileMaxStackLevel", 0)

    def _max_periods(self) -> int | None:
        return self.config.get("SmartCharging", "ChargingScheduleMaxPeriods", None)

    def _max_installed(self) -> int | None:
        return self.config.get("SmartCharging", "MaxChargingProfilesInstalled", None)

    def _allowed_units(self) -> set[str]:
        # 9.4.2: "Current" -> A, "Power" -> W
        items = self.config.get_list(
            "SmartCharging", "ChargingScheduleAllowedChargingRateUnit", "Current,Power"
        )
        names = {"Current": _UNIT.amps, "Power": _UNIT.watts}
        return {names[i] for i in items if i in names}

    def _supported_purposes(self) -> set[str]:
        value = self.config.get("Internal", "SupportedChargingProfilePurposeTypes", None)
        if value is None:
            return set(_P)
        items = value if isinstance(value, list) else str(value).split(",")
        return {i.strip() for i in items if i.strip()}

    # Transactions ------------------------------------------------------------------------

    def transaction_started(
        self, connector_id: int, transaction_id: int | str | None,
        start: datetime | None = None
    ) -> None:
        """A transaction began on the connector (Relative profiles count from `start`).

        Call again with the transactionId once StartTransaction.conf arrives; the start time
        is kept from the first call.
        """
        previous = self._transactions.get(connector_id)
        begun = previous[1] if previous and previous[1] else (start or self.now())
        self._transactions[connector_id] = (transaction_id, begun)

    def running(self, connector_id: int) -> int | str | None:
        """The transactionId the engine knows on the connector (None: none, or not yet)."""
        tx = self._transactions.get(connector_id)
        return None if tx is None else tx[0]

    def transaction_expected(self, connector_id: int) -> None:
        """A RemoteStartTransaction was accepted and its transaction has not begun yet: its
        TxProfile may be installed (§5.11), and a Relative schedule in it counts from when the
        transaction does begin (7.13), e.g. once the EV is plugged in."""
        self._transactions.setdefault(connector_id, (None, None))

    def transaction_stopped(self, connector_id: int) -> None:
        """§3.13.1 / 7.10: TxProfiles cease to be valid when the transaction terminates."""
        self._transactions.pop(connector_id, None)
        before = len(self._profiles)
        self._profiles = [
            p for p in self._profiles
            if not (p.purpose == _P.tx_profile and p.connector_id == connector_id)
        ]
        if len(self._profiles) != before:
            self._save()

    def install_remote_start_profile(self, connector_id: int, profile: dict[str, Any]) -> bool:
        """RemoteStartTransaction.req chargingProfile (§5.16.2, errata 3.41): call after
        `transaction_expected`; False means the profile is unfit (answer Rejected)."""
        if profile.get("chargingProfilePurpose") != _P.tx_profile or "transactionId" in profile:
            return False
        status = self.set_profile(connector_id, profile)
        return status == ChargingProfileStatus.accepted

    # SetChargingProfile (1.6 §5.16) ------------------------------------------------------

    def on_set_charging_profile(self, payload: dict) -> dict:
        """SetChargingProfile.req handler."""
        if not self._supported():
            # errata 3.39: a charge point without smart charging answers CALLERROR NotSupported
            raise OcppCallError("NotSupported", "SmartCharging is not a supported feature profile")
        connector_id = payload["connectorId"]
        if not 0 <= connector_id <= self.connectors:
            # errata 3.39: invalid connectorId -> PropertyConstraintViolation
            raise OcppCallError("PropertyConstraintViolation", f"no connector {connector_id}")
        return {"status": self.set_profile(connector_id, payload["csChargingProfiles"]).value}

    def set_profile(self, connector_id: int, profile: dict[str, Any]) -> ChargingProfileStatus:
        """Validate and install one profile; the status for SetChargingProfile.conf."""
        if profile["chargingProfilePurpose"] not in self._supported_purposes():
            return ChargingProfileStatus.not_supported
        if self.rejection_reason(connector_id, profile) is not None:
            return ChargingProfileStatus.rejected
        new = InstalledProfile(connector_id, profile, self.now())
        replaced = [p for p in self._profiles if self._replaces(new, p)]
        limit = self._max_installed()
        if not replaced and limit is not None and len(self._profiles) >= limit:
            return ChargingProfileStatus.rejected  # 9.4.5 MaxChargingProfilesInstalled
        self._profiles = [p for p in self._profiles if p not in replaced] + [new]
        self._save()
        return ChargingProfileStatus.accepted

    def rejection_reason(self, connector_id: int, profile: dict[str, Any]) -> str | None:
        """Why a profile must be Rejected, or None. Public so the trace can show the reason."""
        purpose = profile["chargingProfilePurpose"]
        kind = profile["chargingProfileKind"]
        schedule = profile["chargingSchedule"]
        periods = schedule["chargingSchedulePeriod"]
        if purpose == _P.charge_point_max_profile and connector_id != 0:
            return "ChargePointMaxProfile only on connector 0 (§3.13.1)"
        if purpose == _P.tx_profile:
            if connector_id == 0:
                return "TxProfile only on a connector > 0 (§3.13.1)"
            tx = self._transactions.get(connector_id)
            if tx is None:
                return "TxProfile without a transaction on the connector (§3.13.1, §5.16.4)"
            wanted = profile.get("transactionId")
            if wanted is not None and tx[0] is not None and wanted != tx[0]:
                return f"transactionId {wanted} is not the connector's transaction {tx[0]}"
        elif "transactionId" in profile:
            return "transactionId is only valid for a TxProfile (7.8)"
        if not 0 <= profile["stackLevel"] <= self._max_stack_level():
            return "stackLevel above ChargeProfileMaxStackLevel (9.4.1)"
        if schedule["chargingRateUnit"] not in self._allowed_units():
            return "chargingRateUnit not in ChargingScheduleAllowedChargingRateUnit (9.4.2)"
        max_periods = self._max_periods()
        if not periods or (max_periods is not None and len(periods) > max_periods):
            return "number of periods outside 1..ChargingScheduleMaxPeriods (9.4.3)"
        starts = [p["startPeriod"] for p in periods]
        if starts[0] != 0:
            return "first startPeriod must be 0 (errata 3.45/3.70)"
        if any(b <= a for a, b in itertools.pairwise(starts)):
            return "startPeriods must increase"
        if any(p["limit"] < 0 or p.get("numberPhases", 3) not in (1, 2, 3) for p in periods):
            return "negative limit or numberPhases not 1..3"
        if schedule.get("duration") is not None and schedule["duration"] <= 0:
            return "duration must be positive"
        if kind == _KIND.recurring:
            if profile.get("recurrencyKind") is None or schedule.get("startSchedule") is None:
                return "Recurring needs recurrencyKind and startSchedule (7.8, 7.13)"
        elif profile.get("recurrencyKind") is not None:
            return "recurrencyKind only with chargingProfileKind Recurring (errata 3.56)"
        if (
            kind == _KIND.absolute
            and schedule.get("startSchedule") is None
            and not self.config.get("Internal", "AllowChargingProfileWithoutStartSchedule", False)
        ):
            return "Absolute without startSchedule (AllowChargingProfileWithoutStartSchedule)"
        valid_from, valid_to = profile.get("validFrom"), profile.get("validTo")
        if valid_to is not None:
            if parse_iso(valid_to) <= self.now():
                return "validTo is in the past"
            if valid_from is not None and parse_iso(valid_to) <= parse_iso(valid_from):
                return "validTo not after validFrom"
        return None

    @staticmethod
    def _replaces(new: InstalledProfile, old: InstalledProfile) -> bool:
        """§5.16.3/§5.16.4: same chargingProfileId, or same stackLevel and purpose (on the same
        connector: a connector's TxDefaultProfile does not replace connector 0's, §3.13.1)."""
        if old.id == new.id:
            return True
        return (
            old.purpose == new.purpose
            and old.stack_level == new.stack_level
            and old.connector_id == new.connector_id
        )

    # ClearChargingProfile (1.6 §5.5, errata 3.25/3.26) -----------------------------------

    def on_clear_charging_profile(self, payload: dict) -> dict:
        """ClearChargingProfile.req handler."""
        removed = self.clear(
            profile_id=payload.get("id"),
            connector_id=payload.get("connectorId"),
            purpose=payload.get("chargingProfilePurpose"),
            stack_level=payload.get("stackLevel"),
        )
        status = ClearChargingProfileStatus.accepted if removed else _CLEAR_UNKNOWN
        return {"status": status.value}

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove the profiles matching every given field (logical AND; none given: all).
        Returns how many were removed."""

        def matches(p: InstalledProfile) -> bool:
            return (
                (profile_id is None or p.id == profile_id)
                and (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self._profiles if not matches(p)]
        removed = len(self._profiles) - len(kept)
        if removed:
            self._profiles = kept
            self._save()
        return removed

    # GetCompositeSchedule (1.6 §5.7, errata 3.28-3.30, 3.51, 3.57) -----------------------

    def on_get_composite_schedule(self, payload: dict) -> dict:
        """GetCompositeSchedule.req handler: the schedule from now (whole second) on."""
        connector_id = payload["connectorId"]
        if not 0 <= connector_id <= self.connectors:
            return {"status": GetCompositeScheduleStatus.rejected.value}
        unit = payload.get("chargingRateUnit") or self._default_unit()
        start = self.now().replace(microsecond=0)
        schedule = self.composite_schedule(connector_id, start, payload["duration"], unit)
        return {
            "status": GetCompositeScheduleStatus.accepted.value,
            "connectorId": connector_id,
            "scheduleStart": iso(start),
            "chargingSchedule": schedule,
        }

    def _default_unit(self) -> str:
        allowed = self._allowed_units()
        return _UNIT.amps if _UNIT.amps in allowed or not allowed else _UNIT.watts

    def composite_schedule(
        self, connector_id: int, start: datetime, duration: int, unit: str
    ) -> dict[str, Any]:
        """ChargingSchedule (7.13) of the composite limit over [start, start + duration).

        Periods are relative to `start`; equal neighbours are merged; startSchedule is omitted
        as errata 3.57 requires for GetCompositeSchedule.conf.
        """
        end = start + timedelta(seconds=duration)
        points = sorted({start, *(t for t in self._breakpoints(connector_id, start, end)
                                  if start < t < end)})
        periods: list[dict[str, Any]] = []
        for t in points:
            period = self._composite_at(connector_id, t, unit, window_start=start)
            value = round(period.in_unit(unit, self.voltage), 1)
            entry = {"startPeriod": int((t - start).total_seconds()), "limit": value,
                     "numberPhases": period.phases}
            if periods and (periods[-1]["limit"], periods[-1]["numberPhases"]) == (
                value, period.phases
            ):
                continue
            periods.append(entry)
        return {"duration": duration, "chargingRateUnit": str(unit),
                "chargingSchedulePeriod": periods}

    # Limits for the EV model -------------------------------------------------------------

    def limit_at(
        self, connector_id: int, when: datetime | None = None
    ) -> tuple[float | None, float | None]:
        """(amps per phase, total watts) the profiles allow on the connector at `when`;
        (None, None) when no profile constrains it (charge at the hardware rating, §3.13.6).

        Feed it to `Meter.set_limit(amps=..., watts=..., phases=...)` with `phases_at`.
        """
        when = when or self.now()
        period = self._profile_limit(connector_id, when, window_start=when)
        if period is None:
            return None, None
        cap = self.phases
        return period.amps(self.voltage, cap), period.watts(self.voltage, cap)

    def phases_at(self, connector_id: int, when: datetime | None = None) -> int | None:
        """numberPhases of the limiting period (None: no profile applies)."""
        when = when or self.now()
        period = self._profile_limit(connector_id, when, window_start=when)
        return None if period is None else min(period.phases, self.phases)

    def next_change(self, connector_id: int, after: datetime | None = None) -> datetime | None:
        """The next moment the limit may change (re-run `limit_at` then); None: never."""
        after = after or self.now()
        horizon = after + timedelta(days=8)  # longer than one weekly recurrence
        future = [t for t in self._breakpoints(connector_id, after, horizon) if t > after]
        return min(future, default=None)

    # Composite internals -----------------------------------------------------------------

    def _composite_at(
        self, connector_id: int, t: datetime, unit: str, *, window_start: datetime
    ) -> _Period:
        """min(profile limit, hardware limit) at t, in `unit`."""
        hardware = self._hardware_period(connector_id, unit)
        period = self._profile_limit(connector_id, t, window_start=window_start, unit=unit)
        if period is None:
            return hardware
        if hardware.in_unit(unit, self.voltage) < period.in_unit(unit, self.voltage):
            return hardware
        return period

    def _hardware_period(self, connector_id: int, unit: str) -> _Period:
        count = self.connectors if connector_id == 0 else 1  # §5.7: connector 0 is the grid
        if unit == _UNIT.amps:
            return _Period(self.max_current_a * count, _UNIT.amps, self.phases)
        return _Period(self.max_power_w * count, _UNIT.watts, self.phases)

    def _profile_limit(
        self, connector_id: int, t: datetime, *, window_start: datetime, unit: str = _UNIT.amps
    ) -> _Period | None:
        """The smallest of the prevailing ChargePointMax and Tx(Default) limits at t."""
        at = (connector_id, t, window_start)
        candidates = [self._prevailing(_P.charge_point_max_profile, [0], *at)]
        if connector_id > 0:
            tx = self._prevailing(_P.tx_profile, [connector_id], *at)
            if tx is None:
                tx = self._prevailing(_P.tx_default_profile, [connector_id, 0], *at)
            candidates.append(tx)
        else:
            candidates.append(self._prevailing(_P.tx_default_profile, [0], *at))
        found = [c for c in candidates if c is not None]
        if not found:
            return None
        return min(found, key=lambda p: p.in_unit(unit, self.voltage))

    def _prevailing(
        self,
        purpose: str,
        connectors: list[int],
        evaluated: int,
        t: datetime,
        window_start: datetime,
    ) -> _Period | None:
        """Highest stack level with a limit at t; the first listed connector wins a tie."""
        rank = {c: i for i, c in enumerate(connectors)}
        mine = [p for p in self._profiles if p.purpose == purpose and p.connector_id in rank]
        mine.sort(key=lambda p: (-p.stack_level, rank[p.connector_id]))
        for profile in mine:
            if not profile.valid_at(t):
                continue
            period = self._period_at(profile, evaluated, t, window_start)
            if period is not None:
                return period
        return None

    def _schedule_start(
        self, profile: InstalledProfile, evaluated: int, window_start: datetime
    ) -> datetime:
        """Where offset 0 of the schedule is, before recurrence (7.9, 7.13); Relative
        schedules count from the transaction on the evaluated connector."""
        start = profile.schedule.get("startSchedule")
        if profile.profile["chargingProfileKind"] == _KIND.relative or start is None:
            if profile.profile["chargingProfileKind"] == _KIND.absolute:
                return profile.installed_at  # allowed only with the libocpp key
            # Relative: from the start of the transaction (or, with none, as if it began now)
            tx = self._transactions.get(evaluated)
            return tx[1] if tx and tx[1] else window_start
        return parse_iso(start)

    def _cycle(self, profile: InstalledProfile) -> int | None:
        kind = profile.profile.get("recurrencyKind")
        return _RECURRENCE_S[RecurrencyKind(kind)] if kind else None

    def _period_at(
        self, profile: InstalledProfile, evaluated: int, t: datetime, window_start: datetime
    ) -> _Period | None:
        base = self._schedule_start(profile, evaluated, window_start)
        offset = (t - base).total_seconds()
        if offset < 0:
            return None
        cycle = self._cycle(profile)
        length = profile.schedule.get("duration")
        if cycle is not None:
            offset = math.fmod(offset, cycle)
            # errata 3.44: periods and duration beyond the recurrence period are not executed
            length = min(length, cycle) if length is not None else cycle
        if length is not None and offset >= length:
            return None
        chosen = None
        for period in profile.schedule["chargingSchedulePeriod"]:
            if period["startPeriod"] <= offset:
                chosen = period
        assert chosen is not None  # first startPeriod is 0 (validated)
        return _Period(
            float(chosen["limit"]),
            profile.schedule["chargingRateUnit"],
            int(chosen.get("numberPhases", _DEFAULT_PHASES)),
        )

    def _breakpoints(
        self, connector_id: int, start: datetime, end: datetime
    ) -> Iterable[datetime]:
        """Every instant in [start, end] at which some relevant profile may change value."""
        relevant = {0} if connector_id == 0 else {0, connector_id}
        for profile in self._profiles:
            if profile.connector_id not in relevant:
                continue
            for key in ("validFrom", "validTo"):
                if profile.profile.get(key):
                    yield parse_iso(profile.profile[key])
            base = self._schedule_start(profile, connector_id, start)
            offsets = [p["startPeriod"] for p in profile.schedule["chargingSchedulePeriod"]]
            length = profile.schedule.get("duration")
            cycle = self._cycle(profile)
            if cycle is None:
                bases = [base]
            else:
                length = min(length, cycle) if length is not None else cycle
                first = max(0, math.floor((start - base).total_seconds() / cycle))
                last = max(0, math.floor((end - base).total_seconds() / cycle))
                bases = [base + timedelta(seconds=k * cycle) for k in range(first, last + 1)]
            for b in bases:
                for off in offsets:
                    if length is None or off < length:
                        yield b + timedelta(seconds=off)
                if length is not None:
                    yield b + timedelta(seconds=length)

    # Persistence (errata 3.37) -----------------------------------------------------------

    def _load(self) -> None:
        data = read_json(self.path, {})
        self._profiles = [InstalledProfile.from_json(item) for item in data.get("profiles", [])]

    def _save(self) -> None:
        if self.path is None:
            return
        write_json(self.path, {"profiles": [p.to_json() for p in self._profiles]})
