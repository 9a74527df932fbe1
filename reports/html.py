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
from reports import page
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
    return page.section("Trace", cards, f'<p class="meta">{esc(span)} (trace timestamps: '
                    "simulated time when the run was accelerated)</p>")


def _problems(problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    rows = [(f"{p.path}:{p.line}", p.reason) for p in problems[:TABLE_ROWS]]
    return page.section(f"Unreadable trace lines ({len(problems)}, skipped)",
                    page.table(("where", "why"), rows, total=len(problems)))


def _latency(stats: TraceStats) -> str:
    rows = [(a.action, "/".join(sorted(a.initiators)) or "–", a.calls, a.results, a.errors,
             fmt_ms(a.p50), fmt_ms(a.p95), fmt_ms(a.p99), fmt_ms(a.max))
            for a in stats.actions.values()]
    table = page.table(("action", "from", "CALLs", "results", "errors", "p50 ms", "p95 ms",
                    "p99 ms", "max ms"), rows, numeric=range(2, 9))
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


def _anomalies(stats: TraceStats) -> str:
    if not stats.anomalies:
        return page.section("Protocol anomalies", '<p class="note">none: no RAW frame, every reply '
                        "answers a CALL</p>")
    rows = [(a.ts, a.cp_id, a.dir, a.kind, a.detail) for a in stats.anomalies[:TABLE_ROWS]]
    return page.section("Protocol anomalies", page.table(("time", "charge point", "dir", "kind",
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
    return page.section("Sequence diagrams", hint, *parts)
