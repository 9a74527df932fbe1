"""The per-scenario / per-case breakdown, sans-I/O: each verdict next to its own trace and the
findings of that trace, and each trace file that no verdict names as a row of its own.

    rows = breakdown(verdicts, files, starts, stats.findings, record_count)

A scenario run (`chargebench run --trace DIR`, the demo) writes one trace file per scenario and
names it in the JUnit case (`trace: PATH`); a conformance run writes one per case under
`RESULTS/traces`, named after the pytest node id. Result files are often moved with their
traces, so a verdict's trace is found by its path first, then by its file name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reports.findings import Finding
from reports.verdicts import Case, Verdicts

__all__ = ["Row", "breakdown"]


@dataclass(slots=True)
class Row:
    """One scenario or case: its verdict (None for a trace no result file names) and the slice
    `records[start:end]` of its trace (empty when its trace was not among the files read)."""

    anchor: str  # id of its part of the page
    name: str
    outcome: str | None
    reason: str = ""
    trace: Path | None = None  # the file read, or the path its result named when not read
    start: int = 0
    end: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # finding kind -> count
    findings: list[Finding] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return self.end - self.start

    @property
    def anomalies(self) -> int:
        return sum(1 for f in self.findings if f.anomaly)

    @property
    def traced(self) -> bool:
        return self.end > self.start


def breakdown(verdicts: Sequence[Verdicts], files: Sequence[Path], starts: Sequence[int],
              findings: Sequence[Finding], total: int) -> list[Row]:
    """Rows in result-file order, then the trace files no verdict claimed, in reading order.

    `starts[i]` is where `files[i]`'s records begin among the `total` records read.
    """
    ranges = {}
    for i, path in enumerate(files):
        end = starts[i + 1] if i + 1 < len(starts) else total
        ranges[path] = (starts[i], end)
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.name, []).append(path)
    claimed: set[Path] = set()
    rows: list[Row] = []
    for verdict_file in verdicts:
        for case in verdict_file.cases:
            path = _match(case, ranges, by_name, claimed)
            row = Row(f"case-{len(rows) + 1}", case.name, case.outcome, case.reason,
                      path or case.trace)
            if path is not None:
                claimed.add(path)
                row.start, row.end = ranges[path]
            rows.append(row)
    for path in files:
        if path not in claimed:
            start, end = ranges[path]
            rows.append(Row(f"case-{len(rows) + 1}", path.stem, None, "", path, start, end))
    _attach(rows, findings)
    return rows


def _match(case: Case, ranges: dict[Path, tuple[int, int]], by_name: dict[str, list[Path]],
           claimed: set[Path]) -> Path | None:
    if case.trace is None:
        return None
    wanted = _resolved(case.trace)
    for path in ranges:
        if path not in claimed and _resolved(path) == wanted:
            return path
    return next((p for p in by_name.get(case.trace.name, []) if p not in claimed), None)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def _attach(rows: list[Row], findings: Sequence[Finding]) -> None:
    """Give each row the findings inside its slice of records."""
    traced = sorted((r for r in rows if r.traced), key=lambda r: r.start)
    i = 0
    for finding in sorted(findings, key=lambda f: f.index):
        while i < len(traced) and traced[i].end <= finding.index:
            i += 1
        if i < len(traced) and traced[i].start <= finding.index:
            traced[i].findings.append(finding)
            traced[i].kinds[finding.kind] += 1
