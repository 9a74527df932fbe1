"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external asset).

    page = render(compute(records), records, sources=files, verdicts=[read_junit(junit)])

Sections, top to bottom: verdicts and totals, unreadable lines, latency per action (table and
plot), message rate, CALLERRORs, charge points, protocol anomalies, sequence diagrams. Everything
that came from a trace or a result file is escaped: payloads are whatever a peer sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from chargebench import __version__
from chargebench.trace import TraceRecord
from reports.load import Problem
from reports.plots import latency_plot, rate_plot
from reports.sequence import DEFAULT_LIMIT, select, sequence_svg
from reports.stats import TraceStats
from reports.svg import esc, fmt_duration, fmt_ms
from reports.verdicts import Verdicts

__all__ = ["default_cps", "render"]

#: Rows shown in the long tables (charge points, anomalies, problems) before "… n more"
TABLE_ROWS = 50
#: Charge points given a sequence diagram when none are named
DEFAULT_DIAGRAMS = 3

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;
 padding:0 16px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
.bad b{color:#c62828}.ok b{color:#2e7d32}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.err{color:#c62828}code{font-size:12px;word-break:break-all}
.note{color:#777;font-style:italic}svg{display:block;margin:8px 0;max-width:100%;height:auto}
"""


def default_cps(stats: TraceStats, count: int = DEFAULT_DIAGRAMS) -> list[str]:
    """The first `count` charge points in trace order: the ones a reader meets first."""
    return list(stats.charge_points)[:count]


def render(
    stats: TraceStats, records: Sequence[TraceRecord], *,
    sources: Iterable[Path] = (), verdicts: Iterable[Verdicts] = (),
    problems: Sequence[Problem] = (), cps: Sequence[str] | None = None,
    since: datetime | None = None, until: datetime | None = None,
    limit: int = DEFAULT_LIMIT, title: str = "ChargeBench trace report",
) -> str:
    """The page for `stats` (computed from `records`); `cps` picks the sequence diagrams,
    optionally cut to the window [since, until]."""
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    files = list(sources)
    listing = "".join(f"<li><code>{esc(p)}</code></li>" for p in files)
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<details class="meta"><summary>generated {esc(generated)} by chargebench '
        f"{esc(__version__)} from {len(files)} trace file(s)</summary><ul>{listing}</ul>"
        "</details>",
        *(_verdicts(v) for v in verdicts),
        _totals(stats),
        _problems(problems),
        _latency(stats),
        _rate(stats),
        _errors(stats),
        _charge_points(stats),
        _anomalies(stats),
        _sequences(records, cps if cps else default_cps(stats), since, until, limit),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(part for part in body if part) + "\n</body></html>\n")


# Building blocks

def _cards(items: Iterable[tuple[str, object, str]]) -> str:
    """Big numbers with a caption; the third item is a CSS class ('ok', 'bad' or '')."""
    cards = "".join(f'<div class="card {cls}"><b>{esc(value)}</b><span>{esc(caption)}</span>'
                    "</div>" for caption, value, cls in items)
    return f'<div class="cards">{cards}</div>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], *,
           numeric: Iterable[int] = (), total: int | None = None) -> str:
    """A table of escaped cells; `numeric` columns are right-aligned. When `total` exceeds
    the rows given, a note says how many were left out."""
    right = set(numeric)

    def cell(tag: str, i: int, value: object) -> str:
        cls = ' class="n"' if i in right else ""
        return f"<{tag}{cls}>{esc(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    lines = ["<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
             for row in rows]
    note = ""
    if total is not None and total > len(lines):
        note = f'<p class="note">… {total - len(lines)} more not shown</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>{note}"


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{esc(title)}</h2>{''.join(parts)}</section>"


# Sections

def _verdicts(verdicts: Verdicts) -> str:
    cards = _cards([
        ("passed", verdicts.passed, "ok"),
        ("failed", verdicts.failed, "bad" if verdicts.failed else ""),
        ("skipped", verdicts.skipped, ""),
        *([("not applicable", verdicts.not_applicable, "")] if verdicts.not_applicable else []),
    ])
    failures = ""
    if verdicts.failures:
        failures = _table(("failed", "why"), verdicts.failures[:TABLE_ROWS],
                          total=len(verdicts.failures))
    return _section(f"Verdicts — {verdicts.source}", cards, failures)


def _totals(stats: TraceStats) -> str:
    errors = sum(stats.error_codes.values())
    sessions = sum(len(cp.sessions) for cp in stats.charge_points.values())
    span = "–"
    if stats.first is not None and stats.last is not None:
        span = (f"{stats.first.isoformat(timespec='seconds')} → "
                f"{stats.last.isoformat(timespec='seconds')}")
    cards = _cards([
        ("messages", stats.records, ""),
        ("charge points", len(stats.charge_points), ""),
        ("connections", sessions, ""),
        ("actions", len(stats.actions), ""),
        ("CALLERRORs", errors, "bad" if errors else "ok"),
        ("anomalies", len(stats.anomalies), "bad" if stats.anomalies else "ok"),
        ("time span", fmt_duration(stats.span_seconds), ""),
    ])
    return _section("Trace", cards, f'<p class="meta">{esc(span)} (trace timestamps: '
                    "simulated time when the run was accelerated)</p>")


def _problems(problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    rows = [(f"{p.path}:{p.line}", p.reason) for p in problems[:TABLE_ROWS]]
    return _section(f"Unreadable trace lines ({len(problems)}, skipped)",
                    _table(("where", "why"), rows, total=len(problems)))


def _latency(stats: TraceStats) -> str:
    rows = [(a.action, "/".join(sorted(a.initiators)) or "–", a.calls, a.results, a.errors,
             fmt_ms(a.p50), fmt_ms(a.p95), fmt_ms(a.p99), fmt_ms(a.max))
            for a in stats.actions.values()]
    table = _table(("action", "from", "CALLs", "results", "errors", "p50 ms", "p95 ms",
                    "p99 ms", "max ms"), rows, numeric=range(2, 9))
    note = ('<p class="meta">latency: CALL sent → reply received (or CALL received → reply '
            "sent), as the side that wrote the trace measured it</p>")
    return _section("Actions and latency", table, note, latency_plot(list(stats.actions.values())))


def _rate(stats: TraceStats) -> str:
    plot = rate_plot(stats)
    return _section("Message rate", plot) if plot else ""


def _errors(stats: TraceStats) -> str:
    rows = [(code, count, ", ".join(actions)) for code, count, actions in stats.errors_by_code()]
    if not rows:
        return _section("CALLERRORs", '<p class="note">none</p>')
    return _section("CALLERRORs", _table(("error code", "count", "in reply to"), rows,
                                         numeric=(1,)))


def _charge_points(stats: TraceStats) -> str:
    ranked = sorted(stats.charge_points.values(), key=lambda cp: -cp.messages)
    rows = [(cp.cp_id, cp.messages, len(cp.sessions), cp.errors) for cp in ranked[:TABLE_ROWS]]
    return _section("Charge points", _table(("charge point", "messages", "connections",
                                             "CALLERRORs"), rows, numeric=(1, 2, 3),
                                            total=len(ranked)))


def _anomalies(stats: TraceStats) -> str:
    if not stats.anomalies:
        return _section("Protocol anomalies", '<p class="note">none: no RAW frame, every reply '
                        "answers a CALL</p>")
    rows = [(a.ts, a.cp_id, a.dir, a.kind, a.detail) for a in stats.anomalies[:TABLE_ROWS]]
    return _section("Protocol anomalies", _table(("time", "charge point", "dir", "kind",
                                                  "frame"), rows, total=len(stats.anomalies)))


def _sequences(records: Sequence[TraceRecord], cps: Sequence[str], since: datetime | None,
               until: datetime | None, limit: int) -> str:
    window = ""
    if since and until:
        window = f", {since.isoformat()} to {until.isoformat()}"
    elif since or until:
        window = f", since {since.isoformat()}" if since else f", until {until.isoformat()}"
    parts = []
    for cp_id in cps:
        chosen = select(records, cp_id, since=since, until=until)
        parts.append(f"<h3>{esc(cp_id)}{esc(window)}</h3>")
        if not chosen:
            parts.append('<p class="note">no frames</p>')
            continue
        parts.append(sequence_svg(chosen, cp_label=cp_id, limit=limit))
    hint = ('<p class="meta">hover over an arrow for its payload; dashed arrows are replies, '
            "red ones CALLERRORs, orange ones RAW frames</p>")
    return _section("Sequence diagrams", hint, *parts)
