"""Operator analytics (seeds/001 §7.4), computed in Python from the store's light rows so money
stays Decimal end to end (SQLite's SUM would go through a float).

All functions are pure: the API fetches `store.transaction_facts(since=, until=)` and
`store.fault_counts(...)` and passes the rows here. Days and hours are UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from csms.services.billing import CENTS, WH_PER_KWH
from csms.store.base import MeterValueRow, Transaction, TransactionFact
from csms.store.timestamps import parse_ts

GROUPINGS = ("station", "charger", "day")
ENERGY_REGISTER = "Energy.Active.Import.Register"
_KWH_PLACES = Decimal("0.001")


def _key(fact: TransactionFact, by: str) -> str:
    if by == "station":
        return fact["location_id"] or ""
    if by == "charger":
        return fact["charger_id"]
    return fact["start_time"][:10]


def energy_revenue(facts: Iterable[TransactionFact], by: str = "charger") -> list[dict[str, Any]]:
    """Sessions, energy (kWh) and revenue per station, charger or day; revenue counts only
    billed amounts (status Completed), per currency."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for fact in facts:
        currency = fact["currency"] or ""
        group = groups.setdefault(
            (_key(fact, by), currency),
            {
                by: _key(fact, by),
                "currency": fact["currency"],
                "sessions": 0,
                "energy_wh": 0,
                "revenue": Decimal("0.00"),
            },
        )
        group["sessions"] += 1
        group["energy_wh"] += fact["energy_wh"] or 0
        if fact["status"] == "Completed" and fact["amount"] is not None:
            group["revenue"] += fact["amount"]
    rows = []
    for group in sorted(groups.values(), key=lambda g: (g[by], g["currency"] or "")):
        group["energy_kwh"] = (Decimal(group["energy_wh"]) / WH_PER_KWH).quantize(_KWH_PLACES)
        group["revenue"] = group["revenue"].quantize(CENTS)
        rows.append(group)
    return rows


def utilisation(
    facts: Iterable[TransactionFact],
    since: datetime,
    until: datetime,
    connectors: Mapping[str, int],
) -> list[dict[str, Any]]:
    """Share of connector time in use per charger over [since, until): busy connector-seconds
    / (period × connectors). A running transaction counts as busy until `until`."""
    period = (until - since).total_seconds()
    if period <= 0:
        raise ValueError("until must be after since")
    busy: dict[str, float] = defaultdict(float)
    for fact in facts:
        start = max(parse_ts(fact["start_time"]), since)
        stop = min(parse_ts(fact["stop_time"]) if fact["stop_time"] else until, until)
        busy[fact["charger_id"]] += max(0.0, (stop - start).total_seconds())
    rows = []
    for charger_id in sorted(set(connectors) | set(busy)):
        count = max(1, connectors.get(charger_id, 1))
        share = Decimal(str(busy[charger_id])) / Decimal(str(period * count)) * 100
        rows.append(
            {
                "charger_id": charger_id,
                "connectors": count,
                "period_seconds": int(period),
                "busy_seconds": int(busy[charger_id]),
                "utilisation_percent": share.quantize(CENTS, rounding=ROUND_HALF_UP),
            }
        )
    return rows


def sessions_per_hour(facts: Iterable[TransactionFact]) -> list[dict[str, int]]:
    """Sessions started in each UTC hour of the day (peak hours, 001 §7.4)."""
    counts = [0] * 24
    for fact in facts:
        counts[parse_ts(fact["start_time"]).hour] += 1
    return [{"hour": hour, "sessions": n} for hour, n in enumerate(counts)]


def live_estimate(
    tx: Transaction, meter_values: Iterable[MeterValueRow], rate: Decimal | None
) -> dict[str, Any]:
    """Energy so far and estimated cost of a running transaction, from its latest energy
    register reading (Wh); without a reading the energy is unknown (None)."""
    latest, reading = None, None
    for row in meter_values:
        if row["measurand"] == ENERGY_REGISTER and row["norm_value"] is not None:
            latest, reading = row, row["norm_value"]
    if latest is None or reading is None:
        return {"live_energy_wh": None, "estimated_cost": None, "last_meter_at": None}
    energy = energy_so_far(reading, tx["meter_start"])
    cost = None if rate is None else cost_of(energy, rate)
    return {"live_energy_wh": energy, "estimated_cost": cost, "last_meter_at": latest["timestamp"]}


def energy_so_far(reading: Decimal, meter_start: int) -> int:
    """Wh a running transaction delivered by its energy register reading `reading` (Wh)."""
    return max(0, int(reading) - meter_start)


def cost_of(energy_wh: int, rate: Decimal) -> Decimal:
    """The cost of `energy_wh` at `rate` per kWh, to the cent (half up)."""
    return (Decimal(energy_wh) / WH_PER_KWH * rate).quantize(CENTS, rounding=ROUND_HALF_UP)


def personal_summary(transactions: Iterable[Transaction], currency: str | None) -> dict[str, Any]:
    """One user's totals (seeds/001 §7.4 "For Users") over their sessions.

    `energy_wh` counts finished sessions (a running one has no final reading yet); `spending`
    counts billed amounts (status Completed) in the wallet's `currency`, what actually left the
    wallet; `average_cost_per_kwh` is that spending over the energy of those same billed
    sessions, so a session still waiting for billing does not make charging look cheaper.
    """
    sessions = running = unbilled = 0
    energy_wh = billed_wh = 0
    spending = Decimal("0.00")
    for tx in transactions:
        sessions += 1
        if tx["stop_time"] is None:
            running += 1
            continue
        energy_wh += tx["energy_wh"] or 0
        if tx["status"] == "Completed" and tx["amount"] is not None:
            if tx["currency"] == currency:
                spending += tx["amount"]
                billed_wh += tx["energy_wh"] or 0
        else:
            unbilled += 1
    average = None
    if billed_wh:
        average = (spending / (Decimal(billed_wh) / WH_PER_KWH)).quantize(
            CENTS, rounding=ROUND_HALF_UP
        )
    return {
        "sessions": sessions,
        "running_sessions": running,
        "unbilled_sessions": unbilled,
        "energy_wh": energy_wh,
        "energy_kwh": (Decimal(energy_wh) / WH_PER_KWH).quantize(_KWH_PLACES),
        "spending": spending.quantize(CENTS),
        "currency": currency,
        "average_cost_per_kwh": average,
    }
