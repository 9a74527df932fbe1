"""The operator UI's fleet list (`GET /ui`): every charger with its connection and connectors'
live status, searchable, sortable, filtered by connection and connector status, downloadable
as CSV (`?format=csv`, the same rows), refreshed live from the CSMS's events.

A charger is *online* while it holds a connection, *offline* when it had one, *never
connected* when nothing ever came from it (no boot, no heartbeat). Only an online charger's
connector statuses are live; an offline one's are shown as its last report, marked so.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.responses import HTMLResponse, Response

from csms.api.connector_view import STATUSES, connectors_by_charger
from csms.api.spec import Call
from csms.api.ui_auth import guard
from csms.api.ui_html import layout, live, quote_id, time_el
from reports.svg import esc

__all__ = ["CONNECTIONS", "SORTS", "connection_of", "fleet", "fleet_rows"]

CONNECTIONS = ("online", "offline", "never")
SORTS = ("id", "vendor", "firmware", "connection", "last_heartbeat", "profile")
ROWS = 500


def connection_of(charger: Mapping[str, Any], online: set[str]) -> str:
    """online / offline / never (connected)."""
    if charger["id"] in online:
        return "online"
    if charger.get("last_boot") or charger.get("last_heartbeat") or charger.get("online_since"):
        return "offline"
    return "never"


def connectors_text(connection: str, connectors: list[dict[str, Any]]) -> str:
    """The connectors' statuses as text: live only when online."""
    if connection == "never":
        return "never connected"
    listed = " · ".join(f"{c['connector']} {c['status'] or 'not reported'}"
                        for c in connectors)  # fmt: skip
    if connection == "offline":
        return f"unknown (offline; last reported: {listed})" if listed else "unknown (offline)"
    return listed or "none reported"


def _read(store: Any) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    connectors = {cp_id: [c for c in rows if not c["whole"]]
                  for cp_id, rows in connectors_by_charger(store).items()}  # fmt: skip
    return [dict(c) for c in store.list_chargers()], connectors


def fleet_rows(chargers: list[dict[str, Any]], connectors: dict[str, list[dict[str, Any]]],
               online: set[str], query: dict[str, str]) -> list[dict[str, Any]]:  # fmt: skip
    """The rows the filters keep, sorted; each with `connection` and `connectors` added."""
    text = query.get("q", "").strip().lower()
    wanted_conn = query.get("connection", "")
    wanted_status = query.get("status", "")
    rows = []
    for charger in chargers:
        conn = connection_of(charger, online)
        mine = connectors.get(charger["id"], [])
        if text and not any(text in str(charger.get(k) or "").lower()
                            for k in ("id", "vendor", "model", "serial", "firmware_version")):
            continue
        if wanted_conn in CONNECTIONS and conn != wanted_conn:
            continue
        if wanted_status and not (conn == "online"
                                  and any(c["status"] == wanted_status for c in mine)):
            continue
        rows.append({**charger, "connection": conn, "connectors": mine})
    key = query.get("sort", "id")
    order = {"online": 0, "offline": 1, "never": 2}
    sorters = {
        "id": lambda r: r["id"],
        "vendor": lambda r: (r["vendor"] or "", r["model"] or "", r["id"]),
        "firmware": lambda r: (r["firmware_version"] or "", r["id"]),
        "connection": lambda r: (order[r["connection"]], r["id"]),
        "last_heartbeat": lambda r: (r["last_heartbeat"] or "", r["id"]),
        "profile": lambda r: (r["security_profile"], r["id"]),
    }
    rows.sort(key=sorters.get(key, sorters["id"]), reverse=query.get("dir") == "desc")
    return rows


def _csv(rows: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "vendor", "model", "serial", "firmware", "connection",
                     "last_heartbeat", "security_profile", "registration", "connectors"])
    for r in rows:
        writer.writerow([r["id"], r["vendor"], r["model"], r["serial"], r["firmware_version"],
                         r["connection"], r["last_heartbeat"], r["security_profile"],
                         r["registration_status"],
                         connectors_text(r["connection"], r["connectors"])])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="chargers.csv"'})


def _table(rows: list[dict[str, Any]], query: dict[str, str]) -> str:
    def head(key: str, label: str) -> str:
        direction = "desc" if query.get("sort") == key and query.get("dir") != "desc" else "asc"
        link = "?" + urlencode({**query, "sort": key, "dir": direction})
        mark = ""
        if query.get("sort", "id") == key:
            mark = " ▼" if query.get("dir") == "desc" else " ▲"
        return f'<th><a href="{esc(link)}">{esc(label)}{mark}</a></th>'

    heads = (head("id", "charger") + head("vendor", "vendor / model")
             + head("firmware", "firmware") + head("connection", "connection")
             + head("last_heartbeat", "last heartbeat") + head("profile", "profile")
             + "<th>registration</th><th>connectors</th>")  # fmt: skip
    lines = []
    for r in rows[:ROWS]:
        conn = r["connection"]
        label = {"online": "online", "offline": "offline", "never": "never connected"}[conn]
        text = connectors_text(conn, r["connectors"])
        lines.append(
            f'<tr data-charger="{esc(r["id"])}">'
            f'<td><a href="/ui/chargers/{esc(quote_id(r["id"]))}">{esc(r["id"])}</a></td>'
            f'<td>{esc(" ".join(filter(None, (r["vendor"], r["model"]))) or "–")}</td>'
            f'<td>{esc(r["firmware_version"] or "–")}</td>'
            f'<td class="{conn}" data-connection="{conn}">{esc(label)}</td>'
            f'<td>{time_el(r["last_heartbeat"])}</td><td class="n">{r["security_profile"]}</td>'
            f'<td>{esc(r["registration_status"])}</td>'
            f'<td class="{"" if conn == "online" else "stale"}">{esc(text)}</td></tr>'
        )
    more = (f'<p class="note">… {len(rows) - ROWS} more not shown (narrow the search)</p>'
            if len(rows) > ROWS else "")  # fmt: skip
    return (f'<p class="meta">{len(rows)} chargers match</p><table><thead><tr>{heads}</tr>'
            f"</thead><tbody>{''.join(lines)}</tbody></table>{more}")


def _filters(query: dict[str, str]) -> str:
    def options(name: str, values: tuple[str, ...], labels: dict[str, str]) -> str:
        chosen = query.get(name, "")
        out = '<option value="">any</option>'
        for value in values:
            sel = " selected" if value == chosen else ""
            out += f'<option value="{value}"{sel}>{esc(labels.get(value, value))}</option>'
        return f'<select name="{name}">{out}</select>'

    csv_link = "?" + urlencode({**query, "format": "csv"})
    return (
        '<form class="filters" method="get" action="/ui">'
        f'<input type="search" name="q" placeholder="search id, vendor, model, serial, firmware" '
        f'size="40" value="{esc(query.get("q", ""))}">'
        f'<label>connection {options("connection", CONNECTIONS, {"never": "never connected"})}'
        f'</label><label>connector status {options("status", STATUSES, {})}</label>'
        f'<input type="hidden" name="sort" value="{esc(query.get("sort", "id"))}">'
        f'<input type="hidden" name="dir" value="{esc(query.get("dir", "asc"))}">'
        '<button type="submit">Apply</button>'
        f'<a href="{esc(csv_link)}" download>Download CSV</a></form>'
    )


@guard()
async def fleet(call: Call) -> Response:
    """`GET /ui`: the fleet; `?fragment=table` is the table alone (the live refresh),
    `?format=csv` the rows as CSV."""
    ctx = call.ctx
    query = {k: v for k, v in call.request.query_params.items()
             if k in ("q", "connection", "status", "sort", "dir")}  # fmt: skip
    online = {conn.cp_id for conn in ctx.registry}
    chargers, connectors = await asyncio.to_thread(_read, ctx.store)
    rows = fleet_rows(chargers, connectors, online, query)
    params = call.request.query_params
    if params.get("format") == "csv":
        return _csv(rows)
    table = _table(rows, query)
    if params.get("fragment") == "table":
        return HTMLResponse(table)
    counts = {k: sum(1 for c in chargers if connection_of(c, online) == k) for k in CONNECTIONS}
    summary = (f'<p class="meta">{len(chargers)} chargers: {counts["online"]} online, '
               f'{counts["offline"]} offline, {counts["never"]} never connected</p>')
    fragment = "/ui?" + urlencode({**query, "fragment": "table"})
    region = live("fleet", table, fragment=fragment, on=("connection", "status"))
    html = layout("Fleet", [summary, _filters(query), region], csrf=call.request.state.csrf,
                  events="/ui/events")  # fmt: skip
    return HTMLResponse(html)
