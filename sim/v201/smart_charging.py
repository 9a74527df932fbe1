"""K. Smart charging on a 2.0.1 station: SetChargingProfile, GetChargingProfiles,
ClearChargingProfile, GetCompositeSchedule, the limits on the EV model, external limits
(NotifyChargingLimit, ClearedChargingLimit) and an ISO 15118 EV's charging needs
(NotifyEVChargingNeeds).

The profile store and the composite schedule are the version-neutral engine of
`sim.v16.smart_charging.SmartCharging` (stack levels, validity, recurrence, Relative schedules
from the transaction start, unit conversion, persistence): the stacking rules of 2.0.1 K01-K08
are 1.6's. A 2.0.1 ChargingProfileType goes in as the engine's shape (`engine_profile`: id ->
chargingProfileId, ChargingStationMaxProfile -> ChargePointMaxProfile, the first
chargingSchedule) with the profile as received kept beside it for GetChargingProfiles; EVSE n
is the engine's connector n, the station (evseId 0) its connector 0.

Configuration is SmartChargingCtrlr's: without that controller, or with Enabled false, every
K message is answered CALLERROR NotSupported (OCPP-J 2.0.1 §4.3: a feature the station does
not implement); ProfileStackLevel, PeriodsPerSchedule, Entries and RateUnit bound what is
Accepted (K01.FR.xx through the engine's rules).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chargebench.clock import iso
from chargebench.ocppj import CallFailed
from chargebench.ocppj.errors import OcppCallError
from sim.v16.smart_charging import SmartCharging, amps_to_watts

if TYPE_CHECKING:
    from sim.v201.evse import Evse
    from sim.v201.station import ChargingStation

__all__ = ["ExternalLimit", "apply", "clear_charging_profile", "clear_external_limit",
           "engine_profile", "get_charging_profiles", "get_composite_schedule",
           "set_charging_profile", "set_external_limit", "tx_ended", "tx_started"]

log = logging.getLogger(__name__)

#: ChargingProfilePurposeEnumType -> the engine's (1.6) purpose, and back
_PURPOSE = {"ChargingStationMaxProfile": "ChargePointMaxProfile",
            "TxDefaultProfile": "TxDefaultProfile", "TxProfile": "TxProfile"}
_PURPOSE_201 = {v: k for k, v in _PURPOSE.items()}
#: additionalInfo of StatusInfoType: string[0..512]
_INFO_MAX = 512


@dataclass(slots=True)
class ExternalLimit:
    """K12: a limit an external system (EMS, DSO) put on an EVSE or, evse 0, the station."""

    evse: int
    limit: float
    unit: str  # "A" or "W"
    source: str = "EMS"


def _engine(st: ChargingStation) -> SmartCharging:
    """The profile engine, or CALLERROR NotSupported without SmartChargingCtrlr (or with it
    disabled)."""
    s = st.settings
    if not s.has("SmartChargingCtrlr") or not s.bool("SmartChargingEnabled"):
        raise OcppCallError("NotSupported", "this station has no SmartChargingCtrlr enabled")
    smart = st.features.smart
    _sync(st, smart)
    return smart


def _sync(st: ChargingStation, smart: SmartCharging) -> None:
    """Tell the engine which transaction runs on each EVSE (a TxProfile needs one, K01.FR.09;
    Relative schedules count from its start); a transaction that ended takes its TxProfiles
    along (1.6 §3.13.1 as 2.0.1's TxProfile: "the transaction with the specified
    transactionId", K01.FR.04)."""
    for evse in st.evses:
        known = smart.running(evse.id)
        tx = evse.tx
        if tx is None:
            if known is not None:
                smart.transaction_stopped(evse.id)
        elif known != tx.transaction_id:
            if known is not None:
                smart.transaction_stopped(evse.id)
            smart.transaction_started(evse.id, tx.transaction_id)


def _count(st: ChargingStation, smart: SmartCharging) -> None:
    """SmartChargingCtrlr.Entries[ChargingProfiles]: the number of profiles installed now
    (GetVariables shows it; not persisted, the store is)."""
    st.settings.set("ChargingProfileEntries", len(smart.profiles))


def engine_profile(profile: dict) -> dict:
    """A ChargingProfileType in the engine's shape, the profile as received under "v201"."""
    schedule = {k: v for k, v in profile["chargingSchedule"][0].items()
                if k not in ("id", "salesTariff", "minChargingRate")}
    out: dict[str, Any] = {"chargingProfileId": profile["id"],
                           "stackLevel": profile["stackLevel"],
                           "chargingProfilePurpose": _PURPOSE[profile["chargingProfilePurpose"]],
                           "chargingProfileKind": profile["chargingProfileKind"],
                           "chargingSchedule": schedule, "v201": profile}
    for key in ("recurrencyKind", "validFrom", "validTo", "transactionId"):
        if key in profile:
            out[key] = profile[key]
    return out


def _rejected(reason: str) -> dict:
    return {"status": "Rejected",
            "statusInfo": {"reasonCode": "InvalidProfile", "additionalInfo": reason[:_INFO_MAX]}}


# K01 SetChargingProfile --------------------------------------------------------------------


def set_charging_profile(st: ChargingStation, p: dict) -> dict:
    """K01: Rejected for an EVSE this station does not have (K01.FR.28), a
    ChargingStationExternalConstraints profile (K01.FR.22: only the station sets those), a
    ChargingStationMaxProfile on an EVSE or Relative (K01.FR.38), a TxProfile on evseId 0
    (K01.FR.16), without a transaction there (K01.FR.09) or naming another one (K01.FR.33), more
    than one chargingSchedule without an ISO 15118 EV (K01.FR.34), a unit not in RateUnit
    (K01.FR.26), a first startPeriod other than 0 (K01.FR.31), Relative with a startSchedule
    (K01.FR.41) or Absolute/Recurring without one (K01.FR.40), a TxDefaultProfile at a stack
    level another one holds on EVSE 0 / an EVSE (K01.FR.52/53), a stack level or period count
    beyond SmartChargingCtrlr's. Else Accepted, replacing the profile of the same id (K01.FR.05)
    or purpose and stack level on that EVSE, and the limits are re-evaluated at once
    (K01.FR.07, K01.FR.32)."""
    smart = _engine(st)
    evse_id, profile = p["evseId"], p["chargingProfile"]
    purpose = profile["chargingProfilePurpose"]
    if not 0 <= evse_id <= len(st.evses):
        return _rejected(f"no EVSE {evse_id} (K01.FR.28)")
    if purpose not in _PURPOSE:
        return _rejected(f"{purpose} is set by the station itself (K01.FR.22)")
    schedules = profile["chargingSchedule"]
    ev = st.evse(evse_id).meter.ev if evse_id else None
    if len(schedules) > 1 and not (ev is not None and ev.iso15118):
        return _rejected("more than one chargingSchedule without ISO 15118 (K01.FR.34)")
    kind = profile["chargingProfileKind"]
    if purpose == "ChargingStationMaxProfile" and kind == "Relative":
        return _rejected("a ChargingStationMaxProfile is not Relative (K01.FR.38)")
    if kind == "Relative" and "startSchedule" in schedules[0]:
        return _rejected("a Relative schedule has no startSchedule (K01.FR.41)")
    if purpose == "TxProfile" and evse_id > 0 and "transactionId" not in profile:
        return _rejected("a TxProfile names its transactionId (K01.FR.03)")
    if purpose == "TxDefaultProfile" and any(
            i.purpose == "TxDefaultProfile" and i.stack_level == profile["stackLevel"]
            and i.id != profile["id"] and (i.connector_id == 0) != (evse_id == 0)
            for i in smart.profiles):
        return _rejected("a TxDefaultProfile of this stackLevel is installed on "
                         + ("an EVSE (K01.FR.52)" if evse_id == 0 else "EVSE 0 (K01.FR.53)"))
    converted = engine_profile(profile)
    reason = smart.rejection_reason(evse_id, converted)
    if reason is not None:
        return _rejected(reason.replace("ChargePointMaxProfile", "ChargingStationMaxProfile"))
    status = smart.set_profile(evse_id, converted)
    if status.value != "Accepted":
        return _rejected(f"SetChargingProfile {status.value}")
    _count(st, smart)
    apply(st)
    if purpose == "TxProfile" and ev is not None and ev.iso15118:
        st.spawn(notify_ev_charging_schedule(st, evse_id, schedules[0]))  # K15.FR.09/10
    return {"status": "Accepted"}


# K09 GetChargingProfiles -------------------------------------------------------------------


def get_charging_profiles(st: ChargingStation, p: dict) -> dict:
    """K09: NoProfiles when none matches every criterion given (K09.FR.03); else Accepted and
    the profiles in ReportChargingProfiles, one message per EVSE, after the response
    (K09.FR.01: `tbc` on all but the last). evseId 0: the station's own; left out: all."""
    smart = _engine(st)
    criteria = p["chargingProfile"]
    evse_id = p.get("evseId")
    ids = criteria.get("chargingProfileId")
    sources = criteria.get("chargingLimitSource")
    per_evse: dict[int, list[dict]] = {}
    for installed in smart.profiles:
        original = installed.profile.get("v201")
        if original is None:
            continue
        if evse_id is not None and installed.connector_id != evse_id:
            continue
        if ids and original["id"] not in ids:
            continue
        if "chargingProfilePurpose" in criteria and \
                original["chargingProfilePurpose"] != criteria["chargingProfilePurpose"]:
            continue
        if "stackLevel" in criteria and original["stackLevel"] != criteria["stackLevel"]:
            continue
        if sources and "CSO" not in sources:
            continue  # every profile here was set by the CSMS (source CSO)
        per_evse.setdefault(installed.connector_id, []).append(original)
    if not per_evse:
        return {"status": "NoProfiles"}
    st.spawn(_report_profiles(st, p["requestId"], per_evse))
    return {"status": "Accepted"}


async def _report_profiles(st: ChargingStation, request_id: int,
                           per_evse: dict[int, list[dict]]) -> None:
    await asyncio.sleep(0)  # the response goes out first
    last = max(per_evse)
    for evse_id in sorted(per_evse):
        payload: dict[str, Any] = {"requestId": request_id, "chargingLimitSource": "CSO",
                                   "evseId": evse_id, "chargingProfile": per_evse[evse_id]}
        if evse_id != last:
            payload["tbc"] = True
        with contextlib.suppress(CallFailed):
            await st.call("ReportChargingProfiles", payload)


# K10 ClearChargingProfile ------------------------------------------------------------------


def clear_charging_profile(st: ChargingStation, p: dict) -> dict:
    """K10: the profile with chargingProfileId (K10.FR.03), or those matching every criterion
    given (K10.FR.04), are removed: Accepted; none matches: Unknown (K10.FR.01). The limits
    are recalculated at once (K10.FR.05/07)."""
    smart = _engine(st)
    criteria = p.get("chargingProfileCriteria") or {}
    purpose = criteria.get("chargingProfilePurpose")
    if purpose is not None and purpose not in _PURPOSE:
        return {"status": "Unknown"}  # K10.FR.06/08: external constraints are the station's
    removed = smart.clear(profile_id=p.get("chargingProfileId"),
                          connector_id=criteria.get("evseId"),
                          purpose=_PURPOSE.get(purpose) if purpose else None,
                          stack_level=criteria.get("stackLevel"))
    if not removed:
        return {"status": "Unknown"}
    _count(st, smart)
    apply(st)
    return {"status": "Accepted"}


# K08 GetCompositeSchedule ------------------------------------------------------------------


def get_composite_schedule(st: ChargingStation, p: dict) -> dict:
    """K08: the schedule of the limits in force on the EVSE (0: the station's grid connection,
    K08.FR.03) from now for `duration` s (K08.FR.02), in the unit asked or the first of
    RateUnit, external limits included (K08.FR.04), as if a transaction ran where none does
    (K08.FR.06: the TxDefaultProfile counts); Rejected for an EVSE this station does not have
    (K08.FR.05) or a unit not in RateUnit (K08.FR.07)."""
    smart = _engine(st)
    evse_id = p["evseId"]
    units = st.settings.list("RateUnit")
    unit = p.get("chargingRateUnit") or (units[0] if units else "A")
    if not 0 <= evse_id <= len(st.evses) or unit not in units:
        return {"status": "Rejected"}
    start = st.clock.now().replace(microsecond=0)
    composite = smart.composite_schedule(evse_id, start, p["duration"], unit)
    periods = _with_external(st, smart, evse_id, composite["chargingSchedulePeriod"], unit)
    return {"status": "Accepted", "schedule": {
        "evseId": evse_id, "duration": p["duration"], "scheduleStart": iso(start),
        "chargingRateUnit": unit, "chargingSchedulePeriod": periods}}


def _external_for(st: ChargingStation, evse_id: int) -> list[ExternalLimit]:
    limits = st.external_limits or {}
    return [limit for key, limit in limits.items() if key in (0, evse_id)]


def _in_unit(smart: SmartCharging, limit: ExternalLimit, unit: str, phases: int) -> float:
    if limit.unit == unit:
        return limit.limit
    if unit == "W":
        return amps_to_watts(limit.limit, smart.voltage, phases)
    return limit.limit / (smart.voltage * phases)


def _with_external(st: ChargingStation, smart: SmartCharging, evse_id: int,
                   periods: list[dict], unit: str) -> list[dict]:
    """The periods capped by the external limits in force (they have no end time here)."""
    limits = _external_for(st, evse_id)
    if not limits:
        return periods
    out: list[dict] = []
    for period in periods:
        phases = period.get("numberPhases", 3)
        cap = min(_in_unit(smart, limit, unit, phases) for limit in limits)
        value = round(min(period["limit"], cap), 1)
        if out and out[-1]["limit"] == value and out[-1].get("numberPhases") == phases:
            continue
        out.append({**period, "limit": value})
    return out


# Limits on the EV model ----------------------------------------------------------------------


def apply(st: ChargingStation) -> None:
    """Put the limit in force on every EVSE with a transaction on its meter, so the EV model,
    the metered power and the charging state follow it (a limit of 0 is SuspendedEVSE); re-run
    when the composite limit next changes."""
    if not st.features.built("smart") and not st.external_limits:
        return
    smart = st.features.smart
    _sync(st, smart)
    upcoming: list[datetime] = []
    for evse in st.evses:
        if evse.tx is None:
            continue
        evse.advance(st.clock.monotonic())
        amps, watts = smart.limit_at(evse.id)
        phases = smart.phases_at(evse.id)
        for limit in _external_for(st, evse.id):
            cap_a = _in_unit(smart, limit, "A", phases or smart.phases)
            cap_w = _in_unit(smart, limit, "W", phases or smart.phases)
            amps = cap_a if amps is None else min(amps, cap_a)
            watts = cap_w if watts is None else min(watts, cap_w)
        before = evse.meter.power_w
        evse.meter.set_limit(amps=amps, watts=watts, phases=phases)
        st.spawn(_state_follows(st, evse, before))
        change = smart.next_change(evse.id)
        if change is not None:
            upcoming.append(change)
    _rearm(st, min(upcoming, default=None))


async def _state_follows(st: ChargingStation, evse: Evse, before_w: float) -> None:
    """The charging state follows the new limit (ChargingStateChanged: SuspendedEVSE at 0);
    a rate that changed by more than LimitChangeSignificance percent while the state stayed
    is an Updated event of its own, triggerReason ChargingRateChanged (K13.FR.03)."""
    from sim.v201 import evse as flows  # the flows import this module's hooks

    tx = evse.tx
    sent = tx.seq_no if tx is not None else None
    await flows.ev_changed(st, evse)
    if tx is None or evse.tx is not tx or tx.seq_no != sent:
        return
    after_w = evse.meter.power_w
    significance = st.settings.int("LimitChangeSignificance") / 100
    if abs(after_w - before_w) > significance * max(before_w, after_w, 1.0):
        await st.transaction_event(evse, "Updated", "ChargingRateChanged")


def _rearm(st: ChargingStation, when: datetime | None) -> None:
    features = st.features
    timer = features.smart_timer
    if timer is not None and not timer.done() and timer is not asyncio.current_task():
        timer.cancel()
    features.smart_timer = None
    if when is not None:
        features.smart_timer = st.spawn(_at(st, when))


async def _at(st: ChargingStation, when: datetime) -> None:
    delay = (when - st.clock.now()).total_seconds()
    await st.clock.sleep(max(delay, 0) + 0.001)
    apply(st)


def tx_started(st: ChargingStation, evse: Evse) -> None:
    """A transaction began on `evse`: its limits apply (TxDefaultProfile, K01); an ISO 15118
    EV tells its charging needs (K15.FR.01)."""
    if st.features_built("smart") or st.external_limits:
        apply(st)  # K01.FR.32: a running transaction follows the profiles
    ev = evse.meter.ev
    if ev is not None and ev.iso15118 and st.settings.has("ISO15118Ctrlr") \
            and st.settings.bool("ISO15118Enabled"):
        st.spawn(notify_ev_charging_needs(st, evse))


def tx_ended(st: ChargingStation, evse: Evse) -> None:
    """The transaction on `evse` ended: its TxProfiles go (K01.FR.05), the meter is unlimited."""
    evse.meter.set_limit()
    if st.features_built("smart"):
        _sync(st, st.features.smart)
        _count(st, st.features.smart)


# K15 ISO 15118 charging needs ----------------------------------------------------------------


def charging_needs(st: ChargingStation, evse: Evse) -> dict:
    """NotifyEVChargingNeedsRequest of the EV on `evse` (AC: the energy to its target, its
    current and voltage limits; K15.FR.01)."""
    ev = evse.meter.ev
    assert ev is not None
    energy_wh = max(0.0, (ev.target_soc - ev.soc) / 100 * ev.battery_kwh * 1000)
    hw = st.hardware
    needs: dict[str, Any] = {
        "requestedEnergyTransfer": "AC_three_phase" if ev.ac_phases == 3 else "AC_single_phase",
        "acChargingParameters": {"energyAmount": int(energy_wh), "evMinCurrent": 6,
                                 "evMaxCurrent": int(ev.max_ac_current_a),
                                 "evMaxVoltage": int((hw.nominal_voltage_v or 230) * 1.1)}}
    if ev.departure_s is not None:
        needs["departureTime"] = iso(st.clock.now() + timedelta(seconds=ev.departure_s))
    return {"evseId": evse.id, "chargingNeeds": needs}


async def notify_ev_charging_needs(st: ChargingStation, evse: Evse) -> str | None:
    """K15.FR.01: NotifyEVChargingNeeds after the transaction started; the status the CSMS
    answered (Accepted: a TxProfile follows, K15.FR.03; Processing, Rejected), None when it
    was not delivered."""
    await asyncio.sleep(0)  # after the Started event
    if evse.meter.ev is None:
        return None
    try:
        reply = await st.call("NotifyEVChargingNeeds", charging_needs(st, evse))
    except CallFailed as error:
        log.info("%s: NotifyEVChargingNeeds: %s", st.id, error)
        return None
    return reply.get("status")


def ev_schedule(st: ChargingStation, evse_id: int, offered: dict) -> dict:
    """The schedule an ISO 15118 EV chooses within the CSMS's (K15.FR.09): the offered
    periods, each capped at what the EV's charger takes (in A; in W at its phases)."""
    ev = st.evse(evse_id).meter.ev
    assert ev is not None
    cap = ev.max_ac_current_a if offered["chargingRateUnit"] == "A" else amps_to_watts(
        ev.max_ac_current_a, st.features.smart.voltage, ev.ac_phases)
    periods = [{"startPeriod": p["startPeriod"], "limit": min(p["limit"], round(cap, 1))}
               for p in offered["chargingSchedulePeriod"]]
    schedule: dict[str, Any] = {"id": offered["id"],
                                "chargingRateUnit": offered["chargingRateUnit"],
                                "chargingSchedulePeriod": periods}
    if "duration" in offered:
        schedule["duration"] = offered["duration"]
    return schedule


async def notify_ev_charging_schedule(st: ChargingStation, evse_id: int,
                                      offered: dict) -> str | None:
    """K15.FR.10: the EV's chosen schedule in NotifyEVChargingSchedule, after the
    SetChargingProfileResponse; the CSMS's status (Accepted when within its own, K15.FR.11),
    None when it was not delivered."""
    await asyncio.sleep(0)  # the response goes out first
    if st.evse(evse_id).meter.ev is None:
        return None
    payload = {"timeBase": iso(st.clock.now()), "evseId": evse_id,
               "chargingSchedule": ev_schedule(st, evse_id, offered)}
    try:
        reply = await st.call("NotifyEVChargingSchedule", payload)
    except CallFailed as error:
        log.info("%s: NotifyEVChargingSchedule: %s", st.id, error)
        return None
    return reply.get("status")


# K12/K13 external limits -----------------------------------------------------------------------


async def set_external_limit(st: ChargingStation, limit: float, unit: str = "W",
                             evse_id: int = 0, source: str = "EMS") -> None:
    """K12: an external system limits the station (evse 0) or an EVSE: the limit applies at
    once and the CSMS hears of it in NotifyChargingLimit (K12.FR.02; with the schedule when
    SmartChargingCtrlr.NotifyChargingLimitWithSchedules, not modelled: left out). A station
    with SmartChargingCtrlr.ExternalControlSignalsEnabled false takes no external signal."""
    if unit not in ("A", "W"):
        raise ValueError(f"unit {unit!r}: A or W")
    if limit < 0 or not 0 <= evse_id <= len(st.evses):
        raise ValueError(f"limit {limit} on EVSE {evse_id}")
    if not st.settings.bool("ExternalControlSignalsEnabled"):
        log.info("%s: external limit ignored: ExternalControlSignalsEnabled is false", st.id)
        return
    if st.external_limits is None:
        st.external_limits = {}
    st.external_limits[evse_id] = ExternalLimit(evse_id, limit, unit, source)
    apply(st)
    payload: dict[str, Any] = {"chargingLimit": {"chargingLimitSource": source}}
    if evse_id:
        payload["evseId"] = evse_id
    with contextlib.suppress(CallFailed):
        await st.call("NotifyChargingLimit", payload)


async def clear_external_limit(st: ChargingStation, evse_id: int = 0) -> None:
    """K13: the external limit is gone: ClearedChargingLimit (K13.FR.02), the limits follow."""
    limits = st.external_limits or {}
    gone = limits.pop(evse_id, None)
    if gone is None:
        return
    if not limits:
        st.external_limits = None
    for evse in st.evses:
        if evse.tx is not None:
            evse.meter.set_limit()
    apply(st)
    payload: dict[str, Any] = {"chargingLimitSource": gone.source}
    if evse_id:
        payload["evseId"] = evse_id
    with contextlib.suppress(CallFailed):
        await st.call("ClearedChargingLimit", payload)
