"""The fleet page and the login page of `sim.ui`: server-rendered shells, a small script.

The page asks `GET /api/fleet` once a second (fetch, no reload) and redraws the status cells
only, so a tag being typed keeps its focus. Its buttons POST to the actions API with the
session's CSRF token in `X-CSRF-Token`. Everything that came from a charge point is written with
`textContent`, never as markup.
"""

from __future__ import annotations

from reports import page
from reports.svg import esc

__all__ = ["login", "render"]

#: milliseconds between two polls of /api/fleet
POLL_MS = 1000

_CSS = """
.bar{display:flex;gap:.5em;align-items:center;flex-wrap:wrap;margin:.5em 0}
.bar input[type=text]{width:10em}.conn input[type=text]{width:7em}
.conn{display:flex;gap:.4em;align-items:center;margin:.15em 0;flex-wrap:wrap}
.st{display:inline-block;min-width:7em;padding:0 .4em;border-radius:3px;background:#eee}
.st.Available{background:#e3f4e3}.st.Preparing{background:#fff3cd}
.st.Charging{background:#cfe8ff}.st.Faulted{background:#f8d7da}
.st.SuspendedEV,.st.SuspendedEVSE,.st.Finishing{background:#ece2f7}
.st.Unavailable{background:#ddd}
button{font-size:.85em;padding:.1em .5em;cursor:pointer}
#msg{min-height:1.3em}#msg.bad{color:#a00}
td.off{color:#a00}td.on{color:#060}
"""

_SCRIPT = r"""
const CSRF = document.querySelector('meta[name=csrf]').content;
const POLL_MS = %(poll)d;
const $ = (sel) => document.querySelector(sel);
let shown = '';  // the ids the table was built for

function say(text, bad) {
  const m = $('#msg'); m.textContent = text; m.className = bad ? 'bad' : '';
}

async function post(path, body) {
  const r = await fetch(path, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': CSRF},
    body: JSON.stringify(body)});
  const data = await r.json().catch(() => ({error: r.statusText}));
  if (!r.ok) throw new Error(data.error || r.status);
  return data;
}

async function act(cpId, action, body) {
  try {
    const data = await post(`/api/fleet/${encodeURIComponent(cpId)}/actions/${action}`, body);
    const extra = action === 'present_id_tag' ? (data.result ? ': accepted' : ': refused') : '';
    say(`${cpId}: ${action}${extra}`);
  } catch (e) { say(`${cpId}: ${action}: ${e.message}`, true); }
  refresh();
}

async function actSelected() {
  const action = $('#bulk-action').value;
  const ids = [...document.querySelectorAll('input.pick:checked')].map(i => i.dataset.id);
  const body = {connector: Number($('#bulk-connector').value || 1)};
  if ($('#bulk-scope').value === 'filter') body.match = $('#filter').value;
  else body.ids = ids;
  if (action === 'present_id_tag') body.id_tag = $('#bulk-tag').value;
  try {
    const data = await post(`/api/fleet/actions/${action}`, body);
    say(`${action}: ${data.ok} of ${data.selected} done`, data.ok < data.selected);
  } catch (e) { say(`${action}: ${e.message}`, true); }
  refresh();
}

function button(label, onclick) {
  const b = document.createElement('button'); b.textContent = label; b.onclick = onclick;
  return b;
}

function build(chargers) {
  const body = $('#fleet tbody'); body.replaceChildren();
  for (const cp of chargers) {
    const tr = document.createElement('tr'); tr.dataset.id = cp.id;
    const pick = document.createElement('input'); pick.type = 'checkbox'; pick.className = 'pick';
    pick.dataset.id = cp.id;
    const cells = [pick, cp.id, '', ''];
    cells.forEach((c) => { const td = document.createElement('td');
      if (c instanceof Node) td.append(c); else td.textContent = c; tr.append(td); });
    tr.children[2].className = 'link';
    const conns = tr.children[3];
    for (const c of cp.connectors) {
      const row = document.createElement('div'); row.className = 'conn';
      row.dataset.connector = c.connector;
      const st = document.createElement('span'); st.className = 'st';
      const tag = document.createElement('input'); tag.type = 'text';
      tag.value = cp.id_tags[0] || ''; tag.placeholder = 'id tag';
      tag.setAttribute('aria-label', `id tag for ${cp.id} connector ${c.connector}`);
      const n = c.connector;
      row.append(`${n} `, st,
        button('plug in', () => act(cp.id, 'plug_in', {connector: n})),
        tag, button('present tag',
          () => act(cp.id, 'present_id_tag', {connector: n, id_tag: tag.value})),
        button('EV full', () => act(cp.id, 'ev_full', {connector: n})),
        button('plug out', () => act(cp.id, 'plug_out', {connector: n})),
        button('fault', () => act(cp.id, 'fault', {connector: n})),
        button('clear fault', () => act(cp.id, 'clear_fault', {connector: n})));
      conns.append(row);
    }
    const whole = document.createElement('td');
    whole.append(button('go offline', () => act(cp.id, 'go_offline', {})),
      button('go online', () => act(cp.id, 'go_online', {})),
      button('power loss', () => act(cp.id, 'power_loss', {})));
    tr.append(whole);
    body.append(tr);
  }
}

function update(chargers) {
  for (const cp of chargers) {
    const tr = document.querySelector(`tr[data-id="${CSS.escape(cp.id)}"]`);
    const link = tr.children[2];
    link.textContent = cp.online ? 'online'
      : (cp.registration ? `offline (${cp.registration})` : 'offline');
    link.className = cp.online ? 'on' : 'off';
    for (const c of cp.connectors) {
      const st = tr.querySelector(`div.conn[data-connector="${c.connector}"] .st`);
      let text = c.status;
      if (c.error_code !== 'NoError') text += ` (${c.error_code})`;
      if (c.session_wh !== null) {
        text += ` · ${c.id_tag} · ${(c.session_wh / 1000).toFixed(2)} kWh`;
        if (c.transaction !== null) text += ` · tx ${c.transaction}`;
      }
      else if (c.plugged) text += ' · plugged';
      st.textContent = text; st.className = `st ${c.status}`;
      st.closest('div').dataset.status = c.status;
    }
  }
}

async function refresh() {
  try {
    const q = new URLSearchParams({match: $('#filter').value, limit: '200'});
    const r = await fetch(`/api/fleet?${q}`, {credentials: 'same-origin'});
    if (r.status === 401) { location.href = '/login'; return; }
    const data = await r.json();
    $('#counts').textContent = `${data.matching} of ${data.total} chargers shown (max 200), `
      + `${data.online} online · `
      + Object.entries(data.statuses).map(([s, n]) => `${s} ${n}`).join(' · ');
    const ids = data.chargers.map(c => c.id).join(' ');
    if (ids !== shown) { build(data.chargers); shown = ids; }
    update(data.chargers);
    $('#updated').textContent = new Date().toLocaleTimeString();
  } catch (e) { say(`cannot reach the fleet: ${e.message}`, true); }
}

$('#filter').addEventListener('input', refresh);
$('#bulk-go').addEventListener('click', actSelected);
refresh();
setInterval(refresh, POLL_MS);
"""

_ACTIONS = ("plug_in", "present_id_tag", "ev_full", "plug_out", "fault", "clear_fault",
            "go_offline", "go_online", "power_loss")


def render(*, csrf: str, title: str = "ChargeBench fleet") -> str:
    """The fleet page; the table fills itself from /api/fleet."""
    options = "".join(f'<option value="{a}">{a.replace("_", " ")}</option>' for a in _ACTIONS)
    parts = [
        f"<h1>{esc(title)}</h1>",
        '<p class="meta">live: updated <span id="updated">–</span> · <span id="counts"></span>'
        '</p>',
        '<div class="bar"><label>filter ids <input id="filter" type="text" '
        'placeholder="e.g. CB0001"></label>'
        '<form method="post" action="/logout" id="logout" style="margin-left:auto">'
        '<button type="submit" onclick="event.preventDefault();fetch(\'/logout\',{method:'
        "'POST',headers:{'X-CSRF-Token':CSRF}}).then(()=>location.href='/login')\">log out"
        "</button></form></div>",
        f'<div class="bar">selection: <select id="bulk-action">{options}</select>'
        '<label>connector <input id="bulk-connector" type="number" min="0" value="1" '
        'style="width:4em"></label><input id="bulk-tag" type="text" placeholder="id tag">'
        '<select id="bulk-scope"><option value="ids">ticked chargers</option>'
        '<option value="filter">every charger matching the filter</option></select>'
        '<button id="bulk-go">apply</button></div>',
        '<p id="msg" role="status"></p>',
        '<table id="fleet"><thead><tr><th></th><th>charger</th><th>connection</th>'
        "<th>connectors</th><th>charge point</th></tr></thead><tbody></tbody></table>",
        f"<script>{_SCRIPT % {'poll': POLL_MS}}</script>",
    ]
    head = f'<meta name="csrf" content="{esc(csrf)}"><style>{_CSS}</style>'
    return page.document(title, parts, head=head)


def login(*, wrong: bool = False) -> str:
    """The only page reachable without the token."""
    parts = [
        "<h1>ChargeBench fleet</h1>",
        '<p class="note">The admin token: <code>--admin-token</code> or '
        "<code>$CHARGEBENCH_ADMIN_TOKEN</code>, else the one printed when the fleet "
        "started.</p>",
        '<p id="msg" class="bad">wrong token</p>' if wrong else "",
        '<form method="post" action="/login"><label>admin token <input name="token" '
        'type="password" autocomplete="current-password" autofocus></label> '
        '<button type="submit">log in</button></form>',
    ]
    return page.document("ChargeBench fleet: log in", parts)
