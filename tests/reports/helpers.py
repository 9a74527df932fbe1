"""A synthetic trace whose numbers are known by hand, written the way every part writes one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargebench.trace import TraceRecord, TraceWriter

START = datetime(2026, 1, 1, tzinfo=UTC)
#: Seconds between consecutive records of the synthetic trace
STEP = 0.5


def frames() -> list[tuple]:
    """(cp_id, session, dir, type, id, action, payload, latency_ms), in trace order.

    Heartbeat: 20 CALLs answered in 1..20 ms, so nearest-rank p50 = 10, p95 = 19, p99 = 20.
    """
    rows: list[tuple] = []
    for i in range(1, 21):
        rows.append(("CP-1", "s1", "cp->cs", "CALL", f"h{i}", "Heartbeat", {}, None))
        rows.append(("CP-1", "s1", "cs->cp", "CALLRESULT", f"h{i}", "Heartbeat",
                     {"currentTime": "2026-01-01T00:00:00Z"}, float(i)))
    rows += [
        ("CP-1", "s1", "cp->cs", "CALL", "a1", "Authorize", {"idTag": "T1"}, None),
        ("CP-1", "s1", "cs->cp", "CALLERROR", "a1", "Authorize",
         ["NotImplemented", "no", {}], 5.0),
        ("CP-1", "s1", "cs->cp", "CALL", "r1", "RemoteStartTransaction", {"idTag": "T1"}, None),
        ("CP-1", "s1", "cp->cs", "CALLRESULT", "r1", "RemoteStartTransaction",
         {"status": "Accepted"}, 2.5),
        ("CP-2", "s2", "cs->cp", "RAW", None, None, "[2, broken", None),
        ("CP-2", "s2", "cp->cs", "CALLRESULT", "ghost", None, {}, None),
        ("CP-2", "s2", "cp->cs", "CALL", "b1", "BootNotification", {"chargePointVendor": "V"},
         None),
        ("CP-2", "s2", "cs->cp", "CALLERROR", "b1", "BootNotification",
         ["FormationViolation", "bad", {}], 7.0),
    ]
    return rows


def write_trace(path: Path, rows: list[tuple] | None = None) -> Path:
    """`rows` (default: `frames()`) as a trace file, one record every STEP seconds."""
    with TraceWriter(path) as writer:
        for i, (cp, session, direction, kind, mid, action, payload, latency) in enumerate(
                rows if rows is not None else frames()):
            ts = (START + timedelta(seconds=i * STEP)).isoformat(timespec="microseconds")
            writer(TraceRecord(ts, cp, direction, kind, mid, action, payload, latency, session))
    return path

