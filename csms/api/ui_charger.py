"""The operator UI's page of one charger (`GET /ui/chargers/{cp_id}`) and its commands
(`POST /ui/chargers/{cp_id}/actions/{Action}`).

The page: connection and identity, connectors with live status, transactions with an
energy/power chart of one of them, every CSMS-initiated action as a form generated from its
schema (csms.api.ui_forms) answered inline, configuration (the baseline the CSMS keeps and the
keys the charger reported in GetConfiguration.conf), the message log with its sequence
diagram (reports.sequence, as the reports draw it), security profile and events, firmware and
diagnostics history. The connectors, transactions and log regions follow the CSMS's events.

A command goes through the actions API's own endpoint (csms.api.chargers_api.send_action),
with that API's schema check first: the same bookkeeping, the same answers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import HTMLResponse, Response

from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion
from csms.api import chargers_api
from csms.api.connector_view import connector_rows
from csms.api.jsonio import ApiError, DecimalJSONResponse, dumps
from csms.api.resources import with_estimates
from csms.api.spec import Call
from csms.api.ui_auth import form_data, guard
from csms.api.ui_chart import energy_power_svg
from csms.api.ui_fleet import connection_of
from csms.api.ui_forms import fields_html, payload_from_form
from csms.api.ui_html import layout, live, quote_id, time_el
from reports import page
from reports.sequence import sequence_svg
from reports.svg import esc

__all__ = ["ACTIONS", "charger_page", "send_from_form"]

#: the actions API's operations by action (one home for each action's check)
ACTIONS = {op.path.rsplit("/", 1)[1]: op for op in chargers_api.ROUTES if "/actions/" in op.path}
LOG_ROWS = 60
DIAGRAM_FRAMES = 40
TX_ROWS = 20


def _read(store: Any, cp_id: str, tx_id: int | None) -> dict[str, Any] | None:
    charger = store.get_charger(cp_id)
    if charger is None:
        return None
    txs = with_estimates(store, store.list_transactions(charger_id=cp_id, limit=TX_ROWS))
    txs.sort(key=lambda t: t["id"], reverse=True)
    chosen = next((t for t in txs if t["id"] == tx_id), txs[0] if txs else None)
    if tx_id is not None and (chosen is None or chosen["id"] != tx_id):
        other = store.get_transaction(tx_id)
        chosen = dict(other) if other is not None and other["charger_id"] == cp_id else chosen
    meters = store.list_meter_values(transaction_id=chosen["id"], limit=5000) if chosen else []
    log = list(reversed(store.query_log(cp_id=cp_id, limit=LOG_ROWS, newest_first=True)))
    return {
        "charger": dict(charger),
        "connectors": connector_rows(store, cp_id),
        "transactions": txs,
        "chosen": chosen,
        "meters": meters,
        "log": log,
        "baseline": store.get_config_baseline(cp_id),
        "reported": store.get_reported_config(cp_id),
        "security_events": store.list_security_events(charger_id=cp_id, limit=50),
        "certificates": store.list_certificates(cp_id),
        "firmware": store.list_firmware_deployments(charger_id=cp_id),
        "diagnostics": store.list_diagnostics_requests(charger_id=cp_id),
        "limits": store.list_charging_limits(cp_id),
        "publish": store.get_publish_firmware_status(cp_id),
        "displays": store.list_display_messages(cp_id),
        "customer": store.list_customer_information(cp_id),
    }


def _overview(d: dict[str, Any], connection: str) -> str:
    c = d["charger"]
    label = {"online": "online", "offline": "offline", "never": "never connected"}[connection]
    rows = [
        ("connection", f'<span class="{connection}" data-connection="{connection}">'
                       f"{esc(label)}</span>"),
        ("vendor / model", esc(" ".join(filter(None, (c["vendor"], c["model"]))) or "–")),
        ("serial", esc(c["serial"] or "–")),
        ("registered serial", esc(c["registered_serial"] or f"– (its certificate names "
                                                             f"{c['id']})")),
        ("firmware", esc(c["firmware_version"] or "–")),
        ("registration", esc(c["registration_status"])),
        ("last boot", time_el(c["last_boot"])),
        ("last heartbeat", time_el(c["last_heartbeat"])),
        ("OCPP", "1.6J"),
    ]  # fmt: skip
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _connectors(d: dict[str, Any], connection: str) -> str:
    shown = [c for c in d["connectors"] if not c["whole"]] or d["connectors"]
    if connection == "never":
        return '<p class="never">never connected: no status reported</p>'
    if not shown:
        return '<p class="note">no connector reported yet</p>'
    lines = []
    for c in shown:
        status = c["status"] or "not reported"
        if connection == "offline":
            cell = (f'<td class="stale" data-status="">unknown (offline; last reported '
                    f"{esc(status)})</td>")
        else:
            cell = f'<td data-status="{esc(status)}">{esc(status)}</td>'
        error = c["error_code"] if c["error_code"] not in (None, "NoError") else ""
        lines.append(f'<tr data-connector="{esc(c["connector"])}"><td class="n">'
                     f'{esc(c["connector"])}</td>{cell}<td class="err">{esc(error)}</td>'
                     f"<td>{esc(c['info'] or '')}</td><td>{time_el(c['timestamp'])}</td></tr>")
    return ("<table><thead><tr><th>connector</th><th>status</th><th>error</th><th>info</th>"
            f"<th>since</th></tr></thead><tbody>{''.join(lines)}</tbody></table>")


def _transactions(d: dict[str, Any], cp_id: str) -> str:
    txs = d["transactions"]
    if not txs:
        return '<p class="note">no transactions yet</p>'
    chosen = d["chosen"]
    lines = []
    for t in txs:
        energy = t.get("live_energy_wh") if t["stop_time"] is None else t["energy_wh"]
        kwh = "–" if energy is None else f"{energy / 1000:.3f}"
        cost = t.get("amount") if t["stop_time"] is not None else t.get("estimated_cost")
        link = f'/ui/chargers/{esc(quote_id(cp_id))}?tx={t["id"]}#transactions'
        lines.append(
            f'<tr data-tx="{t["id"]}"><td class="n"><a href="{link}">{t["id"]}</a></td>'
            f'<td class="n">{t["connector_id"]}</td><td>{esc(t["id_tag"])}</td>'
            f'<td>{esc(t["status"])}</td><td>{time_el(t["start_time"])}</td>'
            f'<td>{time_el(t["stop_time"])}</td><td class="n">{kwh}</td>'
            f'<td class="n">{esc("–" if cost is None else cost)}</td></tr>'
        )
    table = ("<table><thead><tr><th>transaction</th><th>connector</th><th>id tag</th>"
             "<th>status</th><th>started</th><th>stopped</th><th>kWh</th><th>cost</th></tr>"
             f"</thead><tbody>{''.join(lines)}</tbody></table>")  # fmt: skip
    chart = ""
    if chosen is not None:
        chart = (f'<h3>Transaction {chosen["id"]}: energy and power</h3>'
                 + energy_power_svg(d["meters"], chosen["meter_start"],
                                    label=f"transaction {chosen['id']}: energy and power"))
    return table + chart


def _log(d: dict[str, Any], cp_id: str) -> str:
    log = d["log"]
    if not log:
        return '<p class="note">no messages yet</p>'
    diagram = sequence_svg(log[-DIAGRAM_FRAMES:], cp_label=cp_id)
    rows = [(r.seq, r.dir, r.type, r.action or "", r.id or "",
             dumps(r.payload)[:200]) for r in reversed(log)]  # fmt: skip
    times = [time_el(r.ts) for r in reversed(log)]
    table = page.table(("#", "direction", "type", "action", "message id", "payload"), rows,
                       numeric=(0,))  # fmt: skip
    # the time column as <time> markup: insert after each row's first cell
    parts = table.split("<tr><td class=\"n\">")
    table = parts[0] + "".join(f'<tr><td>{t}</td><td class="n">{p}'
                               for t, p in zip(times, parts[1:], strict=False))
    table = table.replace("<thead><tr>", "<thead><tr><th>time</th>", 1)
    return (f'<p class="meta">the last {len(log)} frames, newest first; the diagram shows the '
            f"last {min(len(log), DIAGRAM_FRAMES)} in order</p>{diagram}"
            f"<details><summary>frames</summary>{table}</details>")


def _configuration(d: dict[str, Any]) -> str:
    keys = sorted(set(d["baseline"]) | set(d["reported"]))
    if not keys:
        return ('<p class="note">nothing known yet: send GetConfiguration (Commands) to read the '
                "charger's keys</p>")
    rows = []
    for key in keys:
        reported = d["reported"].get(key)
        rows.append((key, "–" if reported is None else reported["value"] or "",
                     "" if reported is None else ("read-only" if reported["readonly"] else "rw"),
                     d["baseline"].get(key, "–") if key in d["baseline"] else "–"))
    return page.table(("key (OCPP 1.6 §9)", "reported value", "access", "baseline"), rows)


def _security(d: dict[str, Any]) -> str:
    c = d["charger"]
    parts = [page.table(("security profile", "highest seen", "basic-auth password"),
                        [(c["security_profile"], c["max_profile_seen"],
                          "set" if c["has_password"] else "none")])]  # fmt: skip
    events = d["security_events"]
    if events:
        parts.append("<h3>Security events</h3>" + page.table(
            ("type", "time", "tech info"),
            [(e["type"], e["timestamp"], e["tech_info"] or "") for e in events]))
    certs = d["certificates"]
    if certs:
        parts.append("<h3>Certificates</h3>" + page.table(
            tuple(k for k in certs[0] if k != "pem")[:6],
            [tuple(v for k, v in cert.items() if k != "pem")[:6] for cert in certs]))
    return "".join(parts)


def _firmware(d: dict[str, Any]) -> str:
    parts = []
    if d["firmware"]:
        parts.append(page.table(
            ("deployment", "location", "retrieve date", "status", "history"),
            [(f["id"], f["location"], f["retrieve_date"], f["status"],
              " → ".join(h["status"] for h in f["history"])) for f in d["firmware"]],
            numeric=(0,)))
    else:
        parts.append('<p class="note">no firmware updates</p>')
    parts.append("<h3>Diagnostics</h3>")
    if d["diagnostics"]:
        parts.append(page.table(
            ("request", "location", "status", "file", "created"),
            [(r["id"], r["location"], r["status"], r["file_name"] or "–", r["created_at"])
             for r in d["diagnostics"]], numeric=(0,)))
    else:
        parts.append('<p class="note">no diagnostics requests</p>')
    return "".join(parts)


def _version(call: Call, cp_id: str) -> OcppVersion:
    """The OCPP version of the charger's live connection (the API's default when offline)."""
    conn = call.ctx.registry.get(cp_id)
    return DEFAULT_VERSION if conn is None else conn.session.core.version


def _actions(cp_id: str, csrf: str | None, version: OcppVersion = DEFAULT_VERSION) -> str:
    forms = []
    for action in sorted(version.cs_initiated):
        schema = chargers_api.action_schema(action, version=version)
        out = f"answer-{action}"
        forms.append(
            f'<details class="action" data-action="{action}"><summary>{action} '
            f'<span class="hint">{esc(version.profiles.get(action, ""))}</span></summary>'
            f'<form method="post" action="/ui/chargers/{esc(quote_id(cp_id))}/actions/{action}"'
            f' data-answer="{out}"><input type="hidden" name="csrf" value="{esc(csrf or "")}">'
            f"{fields_html(schema)}<p><button type=\"submit\">Send {action}</button></p></form>"
            f'<pre class="answer" id="{out}"></pre></details>'
        )
    return (f'<p class="meta">forms from the OCPP {version.name} JSON schemas (the actions '
            "API's); the charger's answer shows under each</p>" + '<div class="grid">'
            + "".join(forms) + "</div>")


FRAGMENTS = ("connectors", "transactions", "log", "overview")


def _station_reports(d: dict[str, Any]) -> str:
    """What a 2.0.1 station notified (csms.api.station_reports_api has them as JSON)."""
    parts = []
    if d["limits"]:
        parts.append("<h3>External charging limits (K11-K13)</h3>" + page.table(
            ("EVSE", "source", "grid critical", "schedules", "reported"),
            [(r["evse_id"] or "station", r["source"], {None: "–", True: "yes", False: "no"}[
                r["is_grid_critical"]], len(r["schedules"] or ()), r["reported_at"])
             for r in d["limits"]]))  # fmt: skip
    if d["publish"]:
        p = d["publish"]
        parts.append("<h3>Publish firmware (L03)</h3>" + page.table(
            ("status", "request", "locations", "reported"),
            [(p["status"], p["request_id"] or "–", " ".join(p["locations"] or ()) or "–",
              p["reported_at"])]))  # fmt: skip
    if d["displays"]:
        parts.append("<h3>Display messages (O03/O04)</h3>" + page.table(
            ("id", "priority", "state", "content", "reported"),
            [(m["message_id"], m["info"].get("priority"), m["info"].get("state") or "–",
              m["info"].get("message", {}).get("content", ""), m["reported_at"])
             for m in d["displays"]], numeric=(0,)))  # fmt: skip
    if d["customer"]:
        parts.append("<h3>Customer information (N09)</h3>" + page.table(
            ("request", "data", "parts", "complete", "received"),
            [(r["request_id"], r["data"], r["parts"], "yes" if r["complete"] else "no",
              r["received_at"]) for r in d["customer"]], numeric=(0,)))  # fmt: skip
    return "".join(parts) or '<p class="note">nothing notified</p>'


@guard()
async def charger_page(call: Call) -> Response:
    """`GET /ui/chargers/{cp_id}` (`?tx=N` charts that transaction; `?fragment=NAME` is one
    live region alone)."""
    ctx = call.ctx
    cp_id = call.path["cp_id"]
    params = call.request.query_params
    tx_text = params.get("tx", "")
    tx_id = int(tx_text) if tx_text.isdigit() and len(tx_text) < 19 else None
    if ctx.flush_log is not None:
        await ctx.flush_log()
    d = await asyncio.to_thread(_read, ctx.store, cp_id, tx_id)
    if d is None:
        return HTMLResponse(layout("Unknown charger", [f'<p class="error">no charger '
                                   f"{esc(cp_id)}</p>"], csrf=call.request.state.csrf),
                            status_code=404)  # fmt: skip
    online = {cp_id} if cp_id in ctx.registry else set()
    connection = connection_of(d["charger"], online)
    regions = {
        "overview": _overview(d, connection),
        "connectors": _connectors(d, connection),
        "transactions": _transactions(d, cp_id),
        "log": _log(d, cp_id),
    }
    fragment = params.get("fragment")
    if fragment in regions:
        return HTMLResponse(regions[fragment])
    base = f"/ui/chargers/{quote_id(cp_id)}?" + (f"tx={tx_id}&" if tx_id else "")
    on = {"overview": ("connection",), "connectors": ("status", "connection"),
          "transactions": ("transaction",),
          "log": ("status", "transaction", "connection")}  # fmt: skip

    def region(name: str) -> str:
        return live(name, regions[name], fragment=f"{base}fragment={name}", on=on[name],
                    cp_id=cp_id)  # fmt: skip

    parts = [
        region("overview"),
        page.section("Connectors", region("connectors")),
        page.section("Commands", _actions(cp_id, call.request.state.csrf, _version(call, cp_id))),
        page.section("Transactions", region("transactions")),
        page.section("Message log", region("log")),
        page.section("Configuration", _configuration(d)),
        page.section("Security", _security(d)),
        page.section("Firmware", _firmware(d)),
        page.section("Station reports", _station_reports(d)),
    ]
    events = f"/ui/events?cp_id={quote_id(cp_id)}"
    return HTMLResponse(layout(f"Charger {cp_id}", parts, csrf=call.request.state.csrf,
                               events=events))  # fmt: skip


@guard()
async def send_from_form(call: Call) -> Response:
    """`POST /ui/chargers/{cp_id}/actions/{Action}`: the form's payload, checked by the
    actions API's schema check, sent by its endpoint; the answer as JSON (the page's script
    asks for it) or as a page."""
    action = call.path["action"]
    form = await form_data(call.request)
    cp_id = call.path["cp_id"]
    version = _version(call, cp_id)
    if action not in version.cs_initiated:
        version = chargers_api.versions_of(action)[0]
    schema = chargers_api.action_schema(action, version=version)
    status, body = 200, None
    try:
        payload = payload_from_form(schema, form)
        op = ACTIONS[action]
        op.check(payload)  # type: ignore[misc]
        api_call = Call(call.request, call.ctx, call.principal, {"cp_id": call.path["cp_id"]},
                        {"timeout": None}, payload)  # fmt: skip
        result = await chargers_api.send_action(api_call)
        status, body = result.status_code, json.loads(result.body)
    except ApiError as error:
        status = error.status
        body = {"error": str(error), **({"field": error.field} if error.field else {})}
    if "application/json" in call.request.headers.get("Accept", ""):
        return DecimalJSONResponse(body, status_code=status)
    back = f"/ui/chargers/{quote_id(call.path['cp_id'])}"
    html = layout(f"{action}: answer {status}", [
        f'<pre class="answer">{esc(json.dumps(body, indent=1))}</pre>',
        f'<p><a href="{esc(back)}">back to the charger</a></p>'],
        csrf=call.request.state.csrf)  # fmt: skip
    return HTMLResponse(html, status_code=status)
