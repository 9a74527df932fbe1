"""Analytics routes (seeds/001 §7.4): energy and revenue per station / charger / day,
utilisation, sessions per hour, fault counts. ADMIN only; each is a list like any other
(pagination, CSV export), computed by `csms.services.analytics`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from csms.api.listing import Listing, respond
from csms.api.params import Param
from csms.api.spec import Call, Operation
from csms.services import analytics
from csms.store.timestamps import to_iso

WINDOW = (
    Param(
        "since",
        "date-time",
        "transactions started from (default: no bound; utilisation: 24 h before until)",
    ),
    Param("until", "date-time", "... up to, exclusive (default: no bound; utilisation: now)"),
)
ENERGY = Listing(
    "energy_revenue",
    columns=(
        "station",
        "charger",
        "day",
        "sessions",
        "energy_wh",
        "energy_kwh",
        "revenue",
        "currency",
    ),
    params=(
        Param(
            "by", enum=analytics.GROUPINGS, default="charger", description="station | charger | day"
        ),
    ),
    # a row has the column of its grouping (`by`) only
    always=("sessions", "energy_wh", "energy_kwh", "revenue", "currency"),
)
UTILISATION = Listing(
    "utilisation",
    columns=("charger_id", "connectors", "period_seconds", "busy_seconds", "utilisation_percent"),
    params=(Param("charger_id"),),
)
PER_HOUR = Listing("sessions_per_hour", columns=("hour", "sessions"))
FAULTS = Listing(
    "faults",
    columns=("charger_id", "connector_id", "faults", "last_fault"),
    params=(Param("charger_id"),),
)


def window(call: Call) -> tuple[Any, Any]:
    """[since, until) as asked; one with until <= since holds nothing (an empty answer)."""
    return call.query["since"], call.query["until"]


async def energy(call: Call) -> Any:
    since, until = window(call)
    store = call.ctx.store

    def fetch(f: dict) -> list:
        facts = store.transaction_facts(since=since, until=until)
        return analytics.energy_revenue(facts, f["by"])

    query = {**call.query, "by": None}  # grouping, not a row filter
    return await respond(call.request, ENERGY, lambda f: fetch(call.query), query)


async def utilisation(call: Call) -> Any:
    since, until = window(call)
    until = until or call.ctx.clock.now()
    since = since or until - timedelta(days=1)
    store = call.ctx.store

    def fetch(f: dict) -> list:
        if until <= since:
            return []  # an empty window has no time to use
        # a session that started before the window may still run into it
        start = to_iso(since) or ""  # `since` is set, so never ""
        facts = [
            fact
            for fact in store.transaction_facts(until=until)
            if fact["stop_time"] is None or fact["stop_time"] >= start
        ]
        connectors = dict.fromkeys((charger["id"] for charger in store.list_chargers()), 0)
        for connector in store.list_connectors():  # every charger's, in one query
            if connector["connector_id"] > 0 and connector["charger_id"] in connectors:
                connectors[connector["charger_id"]] += 1
        return analytics.utilisation(facts, since, until, connectors)

    return await respond(call.request, UTILISATION, fetch, call.query)


async def sessions_per_hour(call: Call) -> Any:
    since, until = window(call)
    store = call.ctx.store
    return await respond(
        call.request,
        PER_HOUR,
        lambda f: analytics.sessions_per_hour(store.transaction_facts(since=since, until=until)),
        call.query,
    )


async def faults(call: Call) -> Any:
    since, until = window(call)
    store = call.ctx.store
    return await respond(
        call.request, FAULTS, lambda f: store.fault_counts(since=since, until=until), call.query
    )


ROUTES: tuple[Operation, ...] = (
    Operation("GET", "/api/analytics/energy", "Energy and revenue per station, charger or day",
              energy, query=WINDOW, listing=ENERGY, tag="analytics"),
    Operation("GET", "/api/analytics/utilisation",
              "Share of connector time in use per charger over a window", utilisation,
              query=WINDOW, listing=UTILISATION, tag="analytics"),
    Operation("GET", "/api/analytics/sessions-per-hour", "Sessions started per UTC hour of day",
              sessions_per_hour, query=WINDOW, listing=PER_HOUR, tag="analytics"),
    Operation("GET", "/api/analytics/faults", "Faulted status notifications per connector",
              faults, query=WINDOW, listing=FAULTS, tag="analytics"),
)  # fmt: skip
