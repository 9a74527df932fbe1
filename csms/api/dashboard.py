"""The operator's dashboard: `GET /dashboard`, one server-rendered page (no script) that the
browser reloads every `REFRESH_S` seconds.

A browser logs in with HTTP Basic: any user name, an ADMIN token (the admin token) as the
password (it asks by itself); a Bearer token works too. The page shows totals, the chargers
with their connectors and live connection, the running sessions with energy and estimated cost
so far (the same figures as `GET /api/transactions`), and the faults of the last 24 hours.
A charger never heard from says "never connected", an offline one's statuses are its last
report, marked so (only a connected charger's are live); times are UTC to the second. The
operator UI (`/ui`, csms.api.ui) is the live page with commands. Everything on it came from
charge points and is escaped.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse, Response

from csms.api.connector_view import connectors_by_charger
from csms.api.resources import with_estimates
from csms.api.spec import Call, Operation
from csms.api.ui_fleet import connection_of, connectors_text
from reports import page
from reports.svg import esc
from reports.timestamps import parse_ts

if TYPE_CHECKING:
    from csms.store.base import Charger, Store

__all__ = ["REFRESH_S", "ROUTES", "Snapshot", "dashboard", "render", "snapshot"]

#: seconds between two reloads of the page
REFRESH_S = 10
#: rows per table; the rest is counted under it
ROWS = 200
#: how far back the fault table looks
FAULT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the page shows, read from the store and the live connections in one go."""

    chargers: list[Charger]  # every charger
    shown: list[Charger]  # the table's: online ones first, then by id
    connectors: dict[str, list[dict[str, Any]]]  # every charger's
    online: set[str]
    running: list[dict[str, Any]]
    running_total: int
    faults: list[dict[str, Any]]
    at: datetime


def snapshot(store: Store, online: set[str], now: datetime) -> Snapshot:
    """Read the page's data (blocking: call it in a worker thread)."""
    chargers = store.list_chargers()
    shown = sorted(chargers, key=lambda c: (c["id"] not in online, c["id"]))[:ROWS]
    running = store.list_transactions(status="Running", limit=None)
    connectors = connectors_by_charger(store)
    return Snapshot(
        chargers=chargers,
        shown=shown,
        connectors=connectors,
        online=online,
        running=with_estimates(store, running[:ROWS]),
        running_total=len(running),
        faults=store.fault_counts(since=now - FAULT_WINDOW),
        at=now,
    )


def render(data: Snapshot, *, title: str = "ChargeBench CSMS") -> str:
    """The page for one snapshot."""
    statuses = Counter(c["status"] for rows in data.connectors.values() for c in rows)
    energy_wh = sum(tx.get("live_energy_wh") or 0 for tx in data.running)
    energy_caption = ("kWh in running sessions" if len(data.running) == data.running_total
                      else f"kWh in the newest {len(data.running)} sessions")
    online = sum(1 for c in data.chargers if c["id"] in data.online)
    faulted = statuses.get("Faulted", 0)
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(second(data.at))} · reloads every {REFRESH_S} s · the '
        'operator UI, live and with commands: <a href="/ui">/ui</a></p>',
        page.cards([
            ("chargers", len(data.chargers), ""),
            ("online", online, "ok" if online else ""),
            ("connectors charging", statuses.get("Charging", 0), ""),
            ("connectors faulted", faulted, "bad" if faulted else ""),
            ("running sessions", data.running_total, ""),
            (energy_caption, f"{energy_wh / 1000:.1f}", ""),
        ]),
        page.section("Chargers", _chargers(data)),
        page.section("Running sessions", _sessions(data)),
        page.section(f"Faults, last {FAULT_WINDOW.total_seconds() / 3600:.0f} h", _faults(data)),
    ]
    head = f'<meta http-equiv="refresh" content="{REFRESH_S}">'
    return page.document(title, parts, head=head)


def second(value: object) -> str:
    """A stored time as `YYYY-MM-DD HH:MM:SS UTC` (no microseconds); '–' when there is none."""
    moment = value if isinstance(value, datetime) else parse_ts(value)
    if moment is None:
        return "–" if value in (None, "") else str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _chargers(data: Snapshot) -> str:
    rows = []
    for charger in data.shown:
        cp_id = charger["id"]
        # only an online charger's statuses are live; one never heard from has none
        connectors = connectors_text(connection_of(charger, data.online),
                                     [c for c in data.connectors.get(cp_id, [])
                                      if not c["whole"]])  # fmt: skip
        rows.append((
            cp_id, " ".join(filter(None, (charger["vendor"], charger["model"]))) or "–",
            charger["firmware_version"] or "–",
            "online" if cp_id in data.online else "offline",
            second(charger["last_heartbeat"]), charger["security_profile"],
            charger["registration_status"], connectors or "–",
        ))
    return page.table(("charger", "vendor / model", "firmware", "connection", "last heartbeat",
                       "profile", "registration", "connectors"),
                      rows, total=len(data.chargers))


def _sessions(data: Snapshot) -> str:
    if not data.running:
        return '<p class="note">none</p>'
    rows = [(
        tx["id"], tx["charger_id"], tx["connector_id"], tx["id_tag"], second(tx["start_time"]),
        "–" if tx.get("live_energy_wh") is None else f"{tx['live_energy_wh'] / 1000:.3f}",
        "–" if tx.get("estimated_cost") is None
        else f"{tx['estimated_cost']} {tx.get('currency') or ''}".strip(),
    ) for tx in data.running]
    return page.table(("transaction", "charger", "connector", "id tag", "started", "kWh",
                       "estimated cost"), rows, numeric=(0, 2, 5), total=data.running_total)


def _faults(data: Snapshot) -> str:
    if not data.faults:
        return '<p class="note">none</p>'
    rows = [(f["charger_id"], f["connector_id"], f["faults"], second(f["last_fault"]))
            for f in data.faults[:ROWS]]
    return page.table(("charger", "connector", "faults", "last"), rows, numeric=(1, 2),
                      total=len(data.faults))


async def dashboard(call: Call) -> Response:
    """`GET /dashboard`: the page of this moment."""
    ctx = call.ctx
    online = {conn.cp_id for conn in ctx.registry}
    data = await asyncio.to_thread(snapshot, ctx.store, online, ctx.clock.now())
    return HTMLResponse(render(data))


ROUTES: tuple[Operation, ...] = (
    Operation("GET", "/dashboard", "The operator's page (HTML; reloads itself)", dashboard,
              basic=True, tag="dashboard", media="text/html", result={"type": "string"},
              description="A browser logs in with HTTP Basic: any user name, an ADMIN token "
                          "(the admin token) as the password."),
)  # fmt: skip
