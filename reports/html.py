"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external asset).

    page = render(compute(records), records, sources=files, verdicts=[read_junit(junit)])

Sections, top to bottom: verdicts and totals, the per-scenario / per-case breakdown, unreadable
lines, what went wrong (every finding of `reports.findings`, the first ones with the sequence
diagram around them), latency per action (table and plot), message rate, CALLERRORs, charge
points, sequence diagrams, then one part per scenario or case (its findings, its diagrams, its
trace as a table and a link to its file). Each verdict links to its diagram and its trace.
Everything that came from a trace or a result file is escaped: payloads are whatever a peer sent.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from chargebench import __version__
from chargebench.trace import TraceRecord
from reports import page
from reports.breakdown import Row, breakdown
from reports.findings import (
    ANOMALY_KINDS,
    CALLERROR,
    DISCONNECTED,
    LATE,
    ORPHAN,
    RAW,
    TRACE_END,
    UNANSWERED,
    Finding,
)
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
#: Findings drawn with the sequence diagram around them (the rest are listed)
FINDING_DIAGRAMS = 20
#: Frames of the same charge point shown before and after a finding's frame
AROUND = 6
#: Frames of a case's trace shown as a table in the page (its file has all of them)
TRACE_ROWS = 200
#: Charge points of one case given a sequence diagram
CASE_DIAGRAMS = 3
#: Payload characters in a trace table cell
PAYLOAD_CELL = 160
#: Finding kinds in the order the page lists them: anomalies, CALLERRORs, then the explained
KIND_ORDER = (*ANOMALY_KINDS, CALLERROR, DISCONNECTED, TRACE_END)
#: Unanswered CALLs, whatever the reason: the "no reply" column of the action table
NO_REPLY = (UNANSWERED, DISCONNECTED, TRACE_END)



def default_cps(stats: TraceStats, count: int = DEFAULT_DIAGRAMS) -> list[str]:
    """The first `count` charge points in trace order: the ones a reader meets first."""
    return list(stats.charge_points)[:count]


def render(
    stats: TraceStats, records: Sequence[TraceRecord], *,
    sources: Iterable[Path] = (), starts: Sequence[int] = (),
    verdicts: Iterable[Verdicts] = (), problems: Sequence[Problem] = (),
    cps: Sequence[str] | None = None, since: datetime | None = None,
    until: datetime | None = None, limit: int = DEFAULT_LIMIT,
    title: str = "ChargeBench trace report", output: Path | None = None,
) -> str:
    """The page for `stats` (computed from `records` with the same `starts`); `cps` picks the
    sequence diagrams, optionally cut to the window [since, until].

    `starts[i]` is where `sources[i]`'s records begin (`Loaded.starts()`); without it the
    records are taken as the first source's. `output` is where the page will be written, so
    that links to trace files are relative to it (absolute file: URLs without it).
    """
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    files = list(sources)
    verdicts = list(verdicts)
    if not starts:
        files_read, starts = files[:1], [0]
    else:
        files_read = files
    rows = breakdown(verdicts, files_read, starts, stats.findings, len(records))
    listing = "".join(f"<li><code>{esc(p)}</code></li>" for p in files)
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<details class="meta"><summary>generated {esc(generated)} by chargebench '
        f"{esc(__version__)} from {len(files)} trace file(s)</summary><ul>{listing}</ul>"
        "</details>",
        *(_verdicts(v) for v in verdicts),
        _totals(stats),
        _breakdown(rows),
        _problems(problems),
        _findings(stats, records, rows),
        _latency(stats),
        _rate(stats),
        _errors(stats),
        _charge_points(stats),
        _sequences(records, cps if cps else default_cps(stats), since, until, limit),
        _cases(rows, records, limit, output),
    ]
    return page.document(title, body)


# Sections

def _verdicts(verdicts: Verdicts) -> str:
    cards = page.cards([
        ("passed", verdicts.passed, "ok"),
        ("failed", verdicts.failed, "bad" if verdicts.failed else ""),
        ("skipped", verdicts.skipped, ""),
        *([("not applicable", verdicts.not_applicable, "")] if verdicts.not_applicable else []),
    ])
    failures = ""
    if verdicts.failures:
        failures = page.table(("failed", "why"), verdicts.failures[:TABLE_ROWS],
                          total=len(verdicts.failures))
    return page.section(f"Verdicts — {verdicts.source}", cards, failures)


def _totals(stats: TraceStats) -> str:
    errors = sum(stats.error_codes.values())
    sessions = sum(len(cp.sessions) for cp in stats.charge_points.values())
    span = "–"
    if stats.first is not None and stats.last is not None:
        span = (f"{stats.first.isoformat(timespec='seconds')} → "
                f"{stats.last.isoformat(timespec='seconds')}")
    cards = page.cards([
        ("messages", stats.records, ""),
        ("charge points", len(stats.charge_points), ""),
        ("connections", sessions, ""),
        ("actions", len(stats.actions), ""),
        ("CALLERRORs", errors, "bad" if errors else "ok"),
        ("anomalies", len(stats.anomalies), "bad" if stats.anomalies else "ok"),
        ("time span", fmt_duration(stats.span_seconds), ""),
    ])
    kinds = Counter(f.kind for f in stats.findings)
    calls = sum(a.calls for a in stats.actions.values())
    unanswered = sum(kinds[k] for k in NO_REPLY)
    accounted = (f"{calls} CALLs: {calls - unanswered} answered ({kinds[LATE]} late), "
                 f"{unanswered} without reply ({kinds[UNANSWERED]} anomalies, "
                 f"{kinds[DISCONNECTED]} lost in a disconnect, {kinds[TRACE_END]} open at the "
                 "end of the trace)")
    return page.section("Trace", cards, f'<p class="accounted">{esc(accounted)}</p>',
                        f'<p class="meta">{esc(span)} (trace timestamps: '
                        "simulated time when the run was accelerated)</p>")


def _problems(problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    rows = [(f"{p.path}:{p.line}", p.reason) for p in problems[:TABLE_ROWS]]
    return page.section(f"Unreadable trace lines ({len(problems)}, skipped)",
                    page.table(("where", "why"), rows, total=len(problems)))


def _latency(stats: TraceStats) -> str:
    no_reply = Counter(f.action for f in stats.findings if f.kind in NO_REPLY)
    rows = [(a.action, "/".join(sorted(a.initiators)) or "–", a.calls, a.results, a.errors,
             no_reply[a.action], fmt_ms(a.p50), fmt_ms(a.p95), fmt_ms(a.p99), fmt_ms(a.max))
            for a in stats.actions.values()]
    table = page.table(("action", "from", "CALLs", "results", "errors", "no reply", "p50 ms",
                        "p95 ms", "p99 ms", "max ms"), rows, numeric=range(2, 10))
    note = ('<p class="meta">latency: CALL sent → reply received (or CALL received → reply '
            "sent), as the side that wrote the trace measured it</p>")
    return page.section("Actions and latency", table, note,
                        latency_plot(list(stats.actions.values())))


def _rate(stats: TraceStats) -> str:
    plot = rate_plot(stats)
    return page.section("Message rate", plot) if plot else ""


def _errors(stats: TraceStats) -> str:
    rows = [(code, count, ", ".join(actions)) for code, count, actions in stats.errors_by_code()]
    if not rows:
        return page.section("CALLERRORs", '<p class="note">none</p>')
    return page.section("CALLERRORs", page.table(("error code", "count", "in reply to"), rows,
                                         numeric=(1,)))


def _charge_points(stats: TraceStats) -> str:
    ranked = sorted(stats.charge_points.values(), key=lambda cp: -cp.messages)
    rows = [(cp.cp_id, cp.messages, len(cp.sessions), cp.errors) for cp in ranked[:TABLE_ROWS]]
    return page.section("Charge points", page.table(("charge point", "messages", "connections",
                                             "CALLERRORs"), rows, numeric=(1, 2, 3),
                                            total=len(ranked)))


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
    return page.section("Sequence diagrams", hint, *parts)


def _breakdown(rows: Sequence[Row]) -> str:
    """One line per scenario or case: its verdict, what its trace holds, links to both."""
    if not rows:
        return ""
    table_rows, classes = [], []
    for row in rows:
        outcome = row.outcome or "none"
        links = page.Markup(" · ".join([
            page.link(f"#{row.anchor}-diagram", "diagram"),
            page.link(f"#{row.anchor}-trace", "trace"),
        ]) if row.traced else '<span class="note">no trace read</span>')
        table_rows.append((
            page.link(f"#{row.anchor}", row.name),
            page.Markup(f'<span class="verdict {esc(outcome)}">'
                        f"{esc(outcome.replace('_', ' ') if row.outcome else '–')}</span>"),
            row.frames, row.anomalies, row.kinds[CALLERROR], links, row.reason,
        ))
        classes.append("anomaly" if row.outcome == "failed" or row.anomalies else "")
    verdicts = sum(1 for r in rows if r.outcome is not None)
    note = (f'<p class="meta">{verdicts} verdict(s), {len(rows)} row(s): a row without verdict '
            "is a trace file no result file names; anomalies are counted even when the verdict "
            "passed</p>")
    return page.section("Scenarios and cases", note, page.table(
        ("scenario / case", "verdict", "frames", "anomalies", "CALLERRORs", "links", "why"),
        table_rows, numeric=(2, 3, 4), row_classes=classes), anchor="breakdown")


def _ordered(findings: Sequence[Finding]) -> list[Finding]:
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    return sorted(findings, key=lambda f: (rank.get(f.kind, len(rank)), f.index))


def _findings(stats: TraceStats, records: Sequence[TraceRecord], rows: Sequence[Row]) -> str:
    """Everything that went wrong, anomalies first, each with the diagram around it."""
    kinds = Counter(f.kind for f in stats.findings)
    cards = page.cards([(kind, kinds[kind], "bad" if kinds[kind] else "ok")
                        for kind in (UNANSWERED, LATE, ORPHAN, RAW)]
                       + [(CALLERROR, kinds[CALLERROR], "bad" if kinds[CALLERROR] else "ok"),
                          (DISCONNECTED, kinds[DISCONNECTED], ""),
                          (TRACE_END, kinds[TRACE_END], "")])
    note = ('<p class="meta">a CALL without reply is an anomaly unless the trace explains it: '
            "its connection ended before the reply was due (lost in a disconnect) or the trace "
            "did</p>")
    if not stats.findings:
        return page.section("What went wrong", cards, note, '<p class="note">nothing: every '
                            "CALL answered in time, no CALLERROR, no RAW frame</p>",
                            anchor="findings")
    case_of = {id(f): row for row in rows for f in row.findings}
    ordered = _ordered(stats.findings)
    shown = ordered[:TABLE_ROWS]
    table_rows, classes = [], []
    for n, finding in enumerate(shown):
        row = case_of.get(id(finding))
        diagram = page.link(f"#finding-{n + 1}", "diagram") if n < FINDING_DIAGRAMS else ""
        table_rows.append((finding.ts, finding.cp_id, finding.kind, finding.action or "–",
                           finding.detail, page.link(f"#{row.anchor}", row.name) if row else "–",
                           diagram))
        classes.append("anomaly" if finding.anomaly else
                       "excused" if finding.kind in (DISCONNECTED, TRACE_END) else "")
    table = page.table(("time", "charge point", "kind", "action", "detail", "in", "around"),
                       table_rows, total=len(ordered), row_classes=classes)
    diagrams = [_around(n + 1, finding, records, case_of.get(id(finding)))
                for n, finding in enumerate(ordered[:FINDING_DIAGRAMS])]
    return page.section("What went wrong", cards, note, table, *diagrams, anchor="findings")


def _around(number: int, finding: Finding, records: Sequence[TraceRecord],
            row: Row | None) -> str:
    """The finding's charge point's frames just before and after it, its frame marked."""
    start, end = (row.start, row.end) if row else (0, len(records))
    mine = [i for i in range(start, end) if records[i].cp_id == finding.cp_id]
    at = mine.index(finding.index) if finding.index in mine else 0
    window = mine[max(0, at - AROUND): at + AROUND + 1]
    chosen = [records[i] for i in window]
    svg = sequence_svg(chosen, cp_label=finding.cp_id, limit=len(chosen),
                       highlight=window.index(finding.index) if finding.index in window else None)
    what = f"{finding.kind}: {finding.action}" if finding.action else finding.kind
    where = f" in {row.name}" if row else ""
    return (f'<div class="finding" id="finding-{number}"><h3>{number}. {esc(what)} — '
            f"{esc(finding.cp_id)} at {esc(finding.ts)}{esc(where)}</h3>{svg}</div>")


def _cases(rows: Sequence[Row], records: Sequence[TraceRecord], limit: int,
           output: Path | None) -> str:
    """One part per scenario or case: verdict, findings, diagrams, trace table, file link."""
    parts = [_case(row, records, limit, output) for row in rows if row.traced or row.outcome]
    if not parts:
        return ""
    return page.section("Each scenario and case", *parts, anchor="cases")


def _case(row: Row, records: Sequence[TraceRecord], limit: int, output: Path | None) -> str:
    outcome = row.outcome or "none"
    head = (f'<h3><span class="verdict {esc(outcome)}">'
            f"{esc(outcome.replace('_', ' ') if row.outcome else 'no verdict')}</span> "
            f"{esc(row.name)}</h3>")
    reason = f'<p class="meta">{esc(row.reason)}</p>' if row.reason else ""
    if not row.traced:
        where = f" (its result names {row.trace})" if row.trace else ""
        return (f'<div class="case" id="{esc(row.anchor)}">{head}{reason}<p class="note">'
                f"no trace of it among the files read{esc(where)}</p></div>")
    assert row.trace is not None
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(row.kinds.items())) or "no finding"
    summary = (f"<p>{row.frames} frames · {row.anomalies} anomalies ({esc(kinds)}) · file "
               f"{page.link(_href(row.trace, output), row.trace.name)}</p>")
    mine = records[row.start:row.end]
    cps = list(dict.fromkeys(r.cp_id for r in mine))
    diagrams = []
    for cp_id in cps[:CASE_DIAGRAMS]:
        chosen = [r for r in mine if r.cp_id == cp_id]
        diagrams.append(f"<h4>{esc(cp_id)}</h4>" + sequence_svg(chosen, cp_label=cp_id,
                                                              limit=limit))
    if len(cps) > CASE_DIAGRAMS:
        diagrams.append(f'<p class="note">… {len(cps) - CASE_DIAGRAMS} more charge points '
                        "(chargebench report --cp ID draws one)</p>")
    marked = {f.index for f in row.findings if f.anomaly}
    shown = range(row.start, min(row.end, row.start + TRACE_ROWS))
    table = page.table(
        ("time", "charge point", "dir", "type", "action", "id", "ms", "payload"),
        [(r.ts, r.cp_id, r.dir, r.type, r.action or "–", r.id or "–", fmt_ms(r.latency_ms),
          _cell(r.payload)) for r in (records[i] for i in shown)],
        total=row.frames, row_classes=["anomaly" if i in marked else "" for i in shown])
    return (f'<div class="case" id="{esc(row.anchor)}">{head}{reason}{summary}'
            f'<div id="{esc(row.anchor)}-diagram">{"".join(diagrams)}</div>'
            f"<details><summary>trace: {row.frames} frames</summary>"
            f'<div id="{esc(row.anchor)}-trace">{table}</div></details></div>')


def _href(path: Path, output: Path | None) -> str:
    """A link to a trace file: relative to the page when its place is known."""
    if output is None:
        return path.resolve().as_uri()
    try:
        relative = os.path.relpath(path.resolve(), output.resolve().parent)
    except ValueError:  # another drive (Windows)
        return path.resolve().as_uri()
    return quote(Path(relative).as_posix())


def _cell(payload: object) -> str:
    try:
        text = json.dumps(payload, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(payload)
    return text if len(text) <= PAYLOAD_CELL else text[:PAYLOAD_CELL] + " …"
