"""The markup shared by the operator UI's pages: the layout (navigation, logout form), times
shown in the operator's time zone, live regions refreshed from server-sent events, and the
small script that does both. No front-end build: the pages work without script; with it,
times are local and the live regions follow the CSMS (csms.api.ui_events).

Everything shown came from charge points or operators and is escaped (`reports.svg.esc`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

from reports import page
from reports.svg import esc
from reports.timestamps import parse_ts

__all__ = ["layout", "live", "quote_id", "time_el"]

CSS = """
body{max-width:1200px !important}
nav{display:flex;gap:14px;align-items:center;border-bottom:1px solid #ddd;padding:6px 0;
 margin-bottom:12px}nav a{color:#1f4e8c;text-decoration:none}nav .right{margin-left:auto}
form.inline{display:inline}button{cursor:pointer}
.filters{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:8px 0}
.never{color:#888;font-style:italic}.offline{color:#888}.online{color:#2e7d32;font-weight:600}
.stale{color:#999;font-size:12px}details.action{border:1px solid #e3e3e3;border-radius:6px;
 padding:4px 10px;margin:4px 0}details.action summary{cursor:pointer;font-weight:600}
details.action label{display:block;margin:4px 0}details.action .hint{color:#777;font-size:12px}
pre.answer{background:#f5f7fa;padding:6px 10px;border-radius:4px;white-space:pre-wrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:4px 16px}
.error{color:#c62828}.login{max-width:360px;margin:80px auto}
"""

#: Times in the operator's zone, to the second; live regions re-fetched on the CSMS's events.
SCRIPT = """
(function(){
const fmt={year:'numeric',month:'2-digit',day:'2-digit',hour:'2-digit',minute:'2-digit',
 second:'2-digit',hourCycle:'h23',timeZoneName:'short'};
function times(root){root.querySelectorAll('time[datetime]').forEach(function(t){
 const d=new Date(t.getAttribute('datetime'));
 if(!isNaN(d)){t.textContent=d.toLocaleString(undefined,fmt);t.title=t.getAttribute('datetime');}
});}
times(document);
const src=document.body.dataset.events;
if(src&&window.EventSource){
 const timers={};
 function refresh(region){
  clearTimeout(timers[region.id]);
  timers[region.id]=setTimeout(function(){
   fetch(region.dataset.fragment,{credentials:'same-origin'}).then(function(r){
    if(r.ok)return r.text();throw new Error(r.status);}).then(function(html){
    region.innerHTML=html;times(region);region.dataset.updated=Date.now();});},250);
 }
 const es=new EventSource(src);
 es.onmessage=function(e){const ev=JSON.parse(e.data);
  document.querySelectorAll('[data-fragment]').forEach(function(region){
   if(region.dataset.on.split(' ').indexOf(ev.kind)<0)return;
   if(region.dataset.cp&&region.dataset.cp!==ev.cp_id)return;
   refresh(region);});};
 es.onopen=function(){document.body.dataset.live='open';};
}
document.querySelectorAll('form[data-answer]').forEach(function(form){
 form.addEventListener('submit',function(e){e.preventDefault();
  const out=document.getElementById(form.dataset.answer);out.textContent='sending…';
  fetch(form.action,{method:'POST',body:new URLSearchParams(new FormData(form)),
   credentials:'same-origin',headers:{'Accept':'application/json'}})
  .then(function(r){return r.json().then(function(b){
   out.textContent=r.status+' '+JSON.stringify(b,null,1);out.dataset.status=r.status;});})
  .catch(function(err){out.textContent=String(err);});});});
})();
"""


def quote_id(value: str) -> str:
    """A charger or user id as one path segment."""
    return quote(value, safe="")


def time_el(value: object, *, empty: str = "–") -> str:
    """`<time datetime="…Z">` in UTC to the second (no microseconds); the script shows it in
    the browser's time zone. A value that is no time is shown as given."""
    if value is None or value == "":
        return esc(empty)
    moment = value if isinstance(value, datetime) else parse_ts(str(value))
    if moment is None:
        return esc(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC).replace(microsecond=0)
    iso = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'<time datetime="{iso}">{utc.strftime("%Y-%m-%d %H:%M:%S")} UTC</time>'


def live(region: str, markup: str, *, fragment: str, on: Iterable[str],
         cp_id: str | None = None) -> str:  # fmt: skip
    """A region re-fetched from `fragment` when an event of a kind in `on` (of `cp_id`, when
    given) arrives."""
    cp = f' data-cp="{esc(cp_id)}"' if cp_id is not None else ""
    return (f'<div id="{esc(region)}" data-fragment="{esc(fragment)}" '
            f'data-on="{esc(" ".join(on))}"{cp}>{markup}</div>')


def layout(title: str, parts: Iterable[str], *, csrf: str | None, admin: bool = True,
           events: str | None = None) -> str:  # fmt: skip
    """A whole UI page: navigation, `parts`, the logout form (with the session's CSRF token)
    and the script; `events` is the SSE URL whose events refresh the live regions."""
    links = ([("/ui", "Fleet"), ("/ui/users", "Users"), ("/ui/tariffs", "Tariffs")]
             if admin else [("/ui/me", "My account")])  # fmt: skip
    nav = "".join(f'<a href="{href}">{esc(label)}</a>' for href, label in links)
    if csrf is not None:
        nav += ('<form class="inline right" method="post" action="/ui/logout">'
                f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
                '<button type="submit">Log out</button></form>')
    body = [f"<nav><b>ChargeBench CSMS</b>{nav}</nav>", f"<h1>{esc(title)}</h1>", *parts]
    head = f"<style>{CSS}</style>"
    html = page.document(f"{title} · ChargeBench CSMS", body, head=head)
    attrs = f' data-events="{esc(events)}"' if events else ""
    html = html.replace("<body>", f"<body{attrs}>", 1)
    return html.replace("</body>", f"<script>{SCRIPT}</script></body>", 1)
