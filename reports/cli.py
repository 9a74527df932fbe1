"""`chargebench report`: trace files in, a text summary and one self-contained HTML page out.

    chargebench report out/traces -o report.html --junit out/junit.xml --cp CP-001

The page has a row per scenario or conformance case (verdicts from --junit / --conformance, or
a junit.xml / summary.json found in or beside a trace directory) linking to its sequence diagram
and its trace, and lists what went wrong even where every verdict passed (`reports.findings`):
CALLs without reply, late replies, replies without CALL, RAW frames and CALLERRORs.

Exit codes: 0 the report was written (whatever the trace shows: judging is the job of `run`
and `conform`), 2 a usage error (missing file, a file that is not a trace at all, unreadable
JUnit or summary, unknown --cp), 130 on SIGINT, 143 on SIGTERM. Unreadable lines of a trace
are listed with file:line and skipped; a file none of whose lines is a trace record is refused
with its first `FILE:LINE: reason`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from chargebench.cli import UsageError
from reports.findings import CALL_TIMEOUT
from reports.html import NO_REPLY, default_cps, render
from reports.load import Loaded, expand, load_traces
from reports.sequence import DEFAULT_LIMIT
from reports.stats import TraceStats, compute, parse_ts
from reports.svg import fmt_duration, fmt_ms
from reports.verdicts import Verdicts, read_conformance, read_junit

__all__ = ["add_parser", "found_results", "main", "print_summary", "write_report"]

#: Unreadable lines printed on the terminal (all of them are in the HTML, up to its own cap)
SHOWN_PROBLEMS = 10


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="HTML report (latency, rate, errors, sequence diagrams) from traces",
        description="Read trace files (JSON Lines; a directory means its *.jsonl), print a "
        "summary and write a self-contained HTML report.",
    )
    parser.add_argument("traces", nargs="+", type=Path, metavar="TRACE_FILE_OR_DIR")
    parser.add_argument("-o", "--output", type=Path, default=Path("report.html"),
                        metavar="HTML", help="where the page goes (default: report.html)")
    parser.add_argument("--junit", type=Path, action="append", default=[], metavar="XML",
                        help="JUnit XML whose verdicts head the report (repeatable; default: "
                        "a junit.xml in or beside a trace directory)")
    parser.add_argument("--conformance", type=Path, action="append", default=[],
                        metavar="JSON", help="conformance summary JSON (repeatable; default: "
                        "a summary.json in or beside a trace directory)")
    parser.add_argument("--cp", action="append", default=[], metavar="ID",
                        help="charge point to draw a sequence diagram of (repeatable; "
                        "default: the first three)")
    parser.add_argument("--since", type=_timestamp, metavar="ISO",
                        help="sequence diagrams start at this time")
    parser.add_argument("--until", type=_timestamp, metavar="ISO",
                        help="sequence diagrams end at this time")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                        help=f"frames per sequence diagram (default {DEFAULT_LIMIT})")
    parser.add_argument("--call-timeout", type=float, default=CALL_TIMEOUT, metavar="S",
                        help="seconds after which a reply is due: later is late, never is a "
                        f"CALL without reply (default {CALL_TIMEOUT:g}, the parts' own)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if not args.call_timeout > 0:
        raise UsageError("--call-timeout must be positive")
    try:
        files = expand(args.traces)
    except FileNotFoundError as missing:
        raise UsageError(f"no such trace file or directory: {missing}") from None
    if not files:
        raise UsageError(f"no *.jsonl trace files in {', '.join(map(str, args.traces))}")
    notes: list[str] = []
    if args.junit or args.conformance:
        verdicts = _verdicts(args.junit, args.conformance)
    else:  # found, not named: one that cannot be read is noted, not an error
        verdicts = []
        junit, conformance = found_results(args.traces)
        for path, read in [*((p, read_conformance) for p in conformance),
                           *((p, read_junit) for p in junit)]:
            try:
                verdicts.append(read(path))
                notes.append(f"verdicts: {path} (found beside the traces; --junit/"
                             "--conformance choose others)")
            except ValueError as error:
                notes.append(f"skipped {error}")
    try:
        stats, loaded = write_report(files, args.output, verdicts=verdicts, cps=args.cp,
                                     since=args.since, until=args.until, limit=args.limit,
                                     call_timeout=args.call_timeout)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    console = Console(highlight=False, markup=False)  # trace text may look like [markup]
    for note in notes:
        console.print(note, soft_wrap=True)
    print_summary(stats, loaded, verdicts, console)
    console.print(f"report: {args.output}", soft_wrap=True)
    return 0


def write_report(files: Sequence[Path], output: Path, *, verdicts: Sequence[Verdicts] = (),
                 cps: Sequence[str] = (), since: datetime | None = None,
                 until: datetime | None = None, limit: int = DEFAULT_LIMIT,
                 call_timeout: float = CALL_TIMEOUT) -> tuple[TraceStats, Loaded]:
    """Read `files`, write the HTML page to `output`; returns what was read, for a summary.

    The demo calls this too. Raises UsageError for a `cps` entry with no frames, OSError when
    `output` cannot be written.
    """
    loaded = load_traces(files)
    not_traces = loaded.not_traces()
    if not_traces:
        raise UsageError(f"{not_traces[0]} (not a trace file: no line of it is a trace record)")
    stats = compute(loaded.records, starts=loaded.starts(), call_timeout=call_timeout)
    unknown = [cp for cp in cps if cp not in stats.charge_points]
    if unknown:
        raise UsageError(f"no frames of charge point {', '.join(unknown)} in the traces")
    page = render(stats, loaded.records, sources=loaded.files, starts=loaded.starts(),
                  output=output, verdicts=verdicts,
                  problems=loaded.problems, cps=list(cps) or default_cps(stats),
                  since=since, until=until, limit=limit)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return stats, loaded


def print_summary(stats: TraceStats, loaded: Loaded, verdicts: Sequence[Verdicts],
                  console: Console) -> None:
    """Problems first (file:line), then verdicts, totals and the per-action table."""
    for problem in loaded.problems[:SHOWN_PROBLEMS]:
        console.print(Text.assemble(("skipped ", "yellow"), str(problem)), soft_wrap=True)
    if len(loaded.problems) > SHOWN_PROBLEMS:
        console.print(Text(f"… {len(loaded.problems) - SHOWN_PROBLEMS} more unreadable lines "
                           "(listed in the report)", style="yellow"))
    for v in verdicts:
        console.print(f"{v.source}: {v.passed} passed, {v.failed} failed, {v.skipped} skipped"
                      + (f", {v.not_applicable} not applicable" if v.not_applicable else ""),
                      soft_wrap=True)
    console.print(
        f"{stats.records} messages from {len(loaded.files)} file(s), "
        f"{len(stats.charge_points)} charge point(s), over {fmt_duration(stats.span_seconds)}; "
        f"{sum(stats.error_codes.values())} CALLERROR(s), {len(stats.anomalies)} anomalies",
        soft_wrap=True)
    kinds = Counter(f.kind for f in stats.findings)
    if kinds:
        console.print("findings: " + ", ".join(f"{n} {kind}" for kind, n in sorted(
            kinds.items())), soft_wrap=True)
    for finding in stats.anomalies[:SHOWN_PROBLEMS]:
        console.print(Text.assemble(("anomaly ", "red"), f"{finding.ts} {finding.cp_id} "
                                    f"{finding.kind}: {finding.action or '–'} "
                                    f"({finding.detail})"), soft_wrap=True)
    no_reply = Counter(f.action for f in stats.findings if f.kind in NO_REPLY)
    table = Table(title="Actions")
    for column in ("action", "CALLs", "errors", "no reply", "p50 ms", "p95 ms", "p99 ms",
                   "max ms"):
        table.add_column(column, justify="left" if column == "action" else "right")
    for a in stats.actions.values():
        table.add_row(Text(a.action), str(a.calls), str(a.errors) if a.errors else "",
                      str(no_reply[a.action]) if no_reply[a.action] else "",
                      fmt_ms(a.p50), fmt_ms(a.p95), fmt_ms(a.p99), fmt_ms(a.max))
    console.print(table)


def found_results(traces: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(JUnit files, conformance summaries) lying in or beside the trace directories given.

    `chargebench conform --results DIR` writes DIR/summary.json and DIR/traces/; `run --trace
    out/traces --junit out/junit.xml` and the demo write out/junit.xml beside out/traces. A
    summary is preferred over the JUnit of the same folder, which holds the same cases.
    """
    junit: list[Path] = []
    summaries: list[Path] = []
    for directory in dict.fromkeys(t for t in traces if t.is_dir()):
        for folder in (directory, directory.parent):
            if (folder / "summary.json").is_file():
                summaries.append(folder / "summary.json")
                break
            if (folder / "junit.xml").is_file():
                junit.append(folder / "junit.xml")
                break
    return list(dict.fromkeys(junit)), list(dict.fromkeys(summaries))


def _verdicts(junit: Sequence[Path], conformance: Sequence[Path]) -> list[Verdicts]:
    readers = [(path, read_junit) for path in junit]
    readers += [(path, read_conformance) for path in conformance]
    verdicts = []
    for path, read in readers:
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        try:
            verdicts.append(read(path))
        except ValueError as error:
            raise UsageError(str(error)) from None
    return verdicts


def _timestamp(text: str) -> datetime:
    moment = parse_ts(text)
    if moment is None:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}")
    return moment
