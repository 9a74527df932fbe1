"""Numbers from trace records, sans-I/O: counts, errors, latency percentiles, rate, anomalies.

    stats = compute(read_trace("traces/run.jsonl"))
    stats.actions["BootNotification"].p95

Works on any iterable of `TraceRecord` in file order, from one side of a connection or both
(a trace merged from the CSMS and the charge points sees each frame twice, and still pairs every
reply with its CALL). The HTML report and the CLI's text summary both read a `TraceStats`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from chargebench.trace import Direction, MessageType, TraceRecord
from reports.findings import CALL_TIMEOUT, Finding, analyse
from reports.timestamps import parse_ts

__all__ = ["ActionStats", "CpStats", "TraceStats", "compute", "parse_ts", "percentile"]

CALL, CALLRESULT, CALLERROR, RAW = (MessageType.CALL, MessageType.CALLRESULT,
                                    MessageType.CALLERROR, MessageType.RAW)
REPLIES = (CALLRESULT, CALLERROR)
UNKNOWN_ACTION = "(unknown)"


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted `values` (None when empty).

    Nearest rank, not interpolation: every reported latency is one that was actually observed,
    and small samples give numbers a reader can check by hand (p95 of 20 values is the 19th).
    """
    if not values:
        return None
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]


@dataclass(slots=True)
class ActionStats:
    """One action: CALLs sent either way, how they were answered and how fast."""

    action: str
    calls: int = 0
    results: int = 0
    errors: int = 0
    initiators: set[str] = field(default_factory=set)  # "CP" and/or "CSMS"
    latencies: list[float] = field(default_factory=list)  # ms, sorted once computed

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies, 95)

    @property
    def p99(self) -> float | None:
        return percentile(self.latencies, 99)

    @property
    def max(self) -> float | None:
        return self.latencies[-1] if self.latencies else None


@dataclass(slots=True)
class CpStats:
    """One charge point: how much it said, over how many connections, how often it was refused."""

    cp_id: str
    messages: int = 0
    errors: int = 0
    sessions: set[str] = field(default_factory=set)


@dataclass(slots=True)
class TraceStats:
    records: int = 0
    actions: dict[str, ActionStats] = field(default_factory=dict)
    error_codes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (code, action)
    charge_points: dict[str, CpStats] = field(default_factory=dict)
    #: every finding (reports.findings), and the anomalies among them
    findings: list[Finding] = field(default_factory=list)
    anomalies: list[Finding] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    per_second: Counter[int] = field(default_factory=Counter)  # epoch second -> frames

    @property
    def span_seconds(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return (self.last - self.first).total_seconds()

    def errors_by_code(self) -> list[tuple[str, int, list[str]]]:
        """(code, count, actions it answered), most frequent first, then by code."""
        totals: Counter[str] = Counter()
        actions: dict[str, set[str]] = {}
        for (code, action), count in self.error_codes.items():
            totals[code] += count
            actions.setdefault(code, set()).add(action)
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        return [(code, n, sorted(actions[code])) for code, n in ranked]

    def rate(self, bucket: int = 1) -> list[tuple[int, int]]:
        """Frames per `bucket` seconds from the first record on: (offset s, count), no gaps."""
        if not self.per_second:
            return []
        start = min(self.per_second)
        counts: Counter[int] = Counter()
        for second, n in self.per_second.items():
            counts[(second - start) // bucket] += n
        return [(i * bucket, counts.get(i, 0)) for i in range(max(counts) + 1)]


def compute(records: Iterable[TraceRecord], *, starts: Iterable[int] = (),
            call_timeout: float = CALL_TIMEOUT) -> TraceStats:
    """Everything the report shows: counts in one pass over `records`, then the findings
    (`reports.findings.analyse`, which says what an unanswered or late reply is).

    `starts`: positions where another trace file begins (`Loaded.starts()`). Files are
    separate runs, whose charge points may share ids and message ids: no reply is paired with
    a CALL of another file, and a file's end is its trace's end.
    """
    records = records if isinstance(records, list) else list(records)
    bounds = sorted({0, *starts, len(records)})
    firsts = set(bounds)
    stats = TraceStats()
    # CALLs (and RAW frames with an id, which a CALLERROR may answer) not yet replied to,
    # keyed by (cp_id, dir of the CALL, message id); a list because a merged trace has each twice
    open_calls: dict[tuple[str, str, str], list[str]] = {}
    for index, record in enumerate(records):
        if index in firsts:
            open_calls.clear()
        stats.records += 1
        _count_time(stats, record.ts)
        cp = stats.charge_points.get(record.cp_id) or stats.charge_points.setdefault(
            record.cp_id, CpStats(record.cp_id))
        cp.messages += 1
        cp.sessions.add(record.session)
        if record.type in (CALL, RAW) and record.id is not None:
            key = (record.cp_id, record.dir, record.id)
            open_calls.setdefault(key, []).append(record.action or UNKNOWN_ACTION)
        if record.type == CALL:
            entry = _action(stats, record.action)
            entry.calls += 1
            entry.initiators.add("CP" if record.dir is Direction.CP_TO_CS else "CSMS")
        elif record.type in REPLIES:
            asked = open_calls.get((record.cp_id, record.dir.reverse, record.id or ""))
            called = asked.pop(0) if asked else None
            action = record.action or called or UNKNOWN_ACTION
            entry = _action(stats, action)
            if record.type == CALLRESULT:
                entry.results += 1
            else:
                entry.errors += 1
                cp.errors += 1
                stats.error_codes[(_error_code(record.payload), action)] += 1
            if isinstance(record.latency_ms, int | float) and not isinstance(
                    record.latency_ms, bool):
                entry.latencies.append(float(record.latency_ms))
    for entry in stats.actions.values():
        entry.latencies.sort()
    stats.actions = dict(sorted(stats.actions.items()))
    for start, end in itertools.pairwise(bounds):
        stats.findings += [dataclasses.replace(f, index=f.index + start) for f in
                           analyse(records[start:end], call_timeout=call_timeout)]
    stats.anomalies = [f for f in stats.findings if f.anomaly]
    return stats


def _action(stats: TraceStats, action: str | None) -> ActionStats:
    name = action or UNKNOWN_ACTION
    entry = stats.actions.get(name)
    if entry is None:
        entry = stats.actions[name] = ActionStats(name)
    return entry


def _count_time(stats: TraceStats, ts: str) -> None:
    moment = parse_ts(ts)
    if moment is None:
        return
    if stats.first is None or moment < stats.first:
        stats.first = moment
    if stats.last is None or moment > stats.last:
        stats.last = moment
    stats.per_second[math.floor(moment.timestamp())] += 1


def _error_code(payload: object) -> str:
    # OCPP-J 1.6 §4.2.3: the trace keeps a CALLERROR's [ErrorCode, ErrorDescription, ErrorDetails]
    if isinstance(payload, list) and payload and isinstance(payload[0], str):
        return payload[0]
    return "(unreadable)"
