"""Sequence diagram of one charge point's frames as inline SVG: what was said, in what order.

Two lifelines (the charge point and the CSMS), one arrow per frame labelled with action and
type; CALLERRORs in red and RAW frames in orange so a failing exchange stands out; a frame's
payload shows on hover (`<title>`). Long sessions are cut at `limit` frames with a note, so a
day-long fleet trace still gives a readable page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from chargebench.ocppj.faults import UNREADABLE_ID
from chargebench.trace import TraceRecord
from reports.stats import parse_ts
from reports.svg import document, el, fmt_duration, fmt_ms, text, tooltip

__all__ = ["DEFAULT_LIMIT", "select", "sequence_svg"]

DEFAULT_LIMIT = 80
# Layout, px
WIDTH = 720
CP_X, CS_X = 170, 630
TOP = 44  # first row, below the lifeline heads
ROW = 24
PAYLOAD_CHARS = 1500  # hover text beyond this is cut: a firmware URL list is not worth more

_STYLE = {  # frame type -> (colour, dash pattern, label weight); RAW also marks unpaired replies
    "CALL": ("#1f4e8c", None, None),
    "CALLRESULT": ("#4b7b4b", "5 3", None),
    "CALLERROR": ("#c62828", None, "bold"),
    "RAW": ("#e07000", "2 2", "bold"),
}


def select(
    records: Iterable[TraceRecord], cp_id: str, *, session: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> list[TraceRecord]:
    """`cp_id`'s records, optionally of one connection and/or a time window [since, until]."""
    chosen = []
    for record in records:
        if record.cp_id != cp_id or (session is not None and record.session != session):
            continue
        if since is not None or until is not None:
            moment = parse_ts(record.ts)
            if moment is None or (since and moment < since) or (until and moment > until):
                continue
        chosen.append(record)
    return chosen


def sequence_svg(records: Sequence[TraceRecord], *, cp_label: str = "Charge point",
                 limit: int = DEFAULT_LIMIT, highlight: int | None = None) -> str:
    """The diagram of `records` (one charge point's, in order), at most `limit` frames;
    `records[highlight]` gets a marked background (the frame a finding is about)."""
    shown = records[:limit]
    start = next((m for m in map(parse_ts, (r.ts for r in shown)) if m is not None), None)
    rows: list[str] = []
    y = TOP
    session = None
    for position, record in enumerate(shown):
        if record.session != session:
            if session is not None or len({r.session for r in shown}) > 1:
                y += ROW
                rows.append(_divider(y, f"connection {record.session}"))
            session = record.session
        y += ROW
        if position == highlight:
            rows.append(el("rect", x=2, y=y - ROW + 6, width=WIDTH - 4, height=ROW,
                           fill="#fff3c4", cls="highlight"))
        rows.append(_frame(record, y, start))
    if len(records) > limit:
        y += ROW
        rows.append(text(WIDTH / 2, y, f"… {len(records) - limit} more frames not shown "
                         f"(first {limit} of {len(records)})", text_anchor="middle",
                         fill="#666", font_style="italic"))
    height = y + ROW
    heads = _head(CP_X, cp_label) + _head(CS_X, "CSMS")
    lifelines = "".join(el("line", x1=x, y1=34, x2=x, y2=height - 6, stroke="#999",
                           stroke_dasharray="4 4") for x in (CP_X, CS_X))
    return document(WIDTH, height, heads + lifelines + "".join(rows),
                    f"sequence diagram: {cp_label} and CSMS, {len(shown)} frames")


def _head(x: int, label: str) -> str:
    box = el("rect", x=x - 70, y=8, width=140, height=24, rx=4, fill="#eef2f7",
             stroke="#1f4e8c")
    return box + text(x, 24, label[:22], text_anchor="middle", font_weight="bold")


def _divider(y: float, label: str) -> str:
    line = el("line", x1=4, y1=y, x2=WIDTH - 4, y2=y, stroke="#bbb", stroke_dasharray="1 3")
    return line + text(WIDTH / 2, y - 3, label, text_anchor="middle", fill="#777")


def _frame(record: TraceRecord, y: float, start: datetime | None) -> str:
    # The core traces a reply it could not pair with a CALL without an action: an anomaly,
    # unless it is the CALLERROR answering a frame whose id could not be read (reports.findings)
    unpaired = (record.type in ("CALLRESULT", "CALLERROR") and record.action is None
                and not _answers_unreadable(record))
    colour, dash, weight = _STYLE.get("RAW" if unpaired else record.type, _STYLE["RAW"])
    rightwards = record.dir == "cp->cs"
    x1, x2 = (CP_X, CS_X) if rightwards else (CS_X, CP_X)
    tip = x2 - 2 if rightwards else x2 + 2
    back = tip - 8 if rightwards else tip + 8
    arrow = (el("line", x1=x1, y1=y, x2=tip, y2=y, stroke=colour, stroke_width=1.5,
                stroke_dasharray=dash)
             + el("polygon", points=f"{tip},{y} {back},{y - 4} {back},{y + 4}", fill=colour))
    label = text((CP_X + CS_X) / 2, y - 4, _label(record), text_anchor="middle", fill=colour,
                 font_weight=weight)
    moment = parse_ts(record.ts)
    offset = "" if moment is None or start is None else \
        "+" + fmt_duration((moment - start).total_seconds())
    when = text(8, y + 4, offset, fill="#666")
    hover = tooltip(_hover(record))
    return el("g", hover + when + arrow + label, cls=record.type.lower())


def _answers_unreadable(record: TraceRecord) -> bool:
    return record.type == "CALLERROR" and record.id == UNREADABLE_ID


def _label(record: TraceRecord) -> str:
    if record.type == "RAW":
        return "RAW frame"
    if record.action is None and _answers_unreadable(record):
        code = record.payload[0] if isinstance(record.payload, list) and record.payload else ""
        return f"CALLERROR {code} (id {UNREADABLE_ID}: to an unreadable frame)"[:80]
    if record.action is None:
        return f"{record.type} without CALL (id {record.id})"[:80]
    label = f"{record.action} {record.type}"
    if record.type == "CALLERROR" and isinstance(record.payload, list) and record.payload:
        label += f" {record.payload[0]}"
    if record.latency_ms is not None:
        label += f" · {fmt_ms(record.latency_ms)} ms"
    return label[:80]


def _hover(record: TraceRecord) -> str:
    try:
        payload = json.dumps(record.payload, indent=1, ensure_ascii=False, default=str)
    except ValueError:
        payload = repr(record.payload)
    if len(payload) > PAYLOAD_CHARS:
        payload = payload[:PAYLOAD_CHARS] + " …"
    head = f"{record.ts}  {record.dir}  {record.type}  id={record.id}"
    return f"{head}\n{payload}"
