"""What went wrong on the wire, from trace records alone (sans-I/O): the report's findings.

    findings = analyse(records)               # every frame worth a reader's look, in trace order
    [f for f in findings if f.anomaly]        # the protocol anomalies the report counts

A verdict says whether a scenario's expectations held; it does not see a Heartbeat nobody
answered. Every CALL of the trace is therefore accounted for: answered (in time or late), or
unanswered, and an unanswered CALL is an anomaly unless the trace itself explains it:

- *lost in a disconnect*: the connection carried nothing past the reply's deadline and the charge
  point is later seen on another connection (OCPP-J 1.6 §5: a reply travels on the connection
  that carried the CALL, so a closed connection loses it);
- *open at the end of the trace*: the trace stops before the reply was due.

A CALL is "due" `call_timeout` seconds after it was sent: OCPP-J leaves the value to the
implementation; every ChargeBench part (session core, sim, CSMS, load test) defaults to the
session core's, which is the default here. A caller that sends its next CALL on the same
connection before any reply has given up on the first (OCPP-J 1.6 §4.1.1: one CALL at a time),
so that CALL is an anomaly whatever follows. Timestamps and latencies are those the trace holds
(simulated seconds in an accelerated run, the same clock the parts' timeouts ran on).

Kinds, and whether they count as anomalies: CALL without reply (yes), late reply (yes: after the
deadline, or traced without its action by a side that had stopped waiting), reply without CALL
(yes), RAW frame (yes), CALLERROR (listed and counted on its own: often the expected answer of a
robustness case), lost in a disconnect and open at the end of the trace (no: counted so that
CALLs = replies + unanswered adds up).
"""

from __future__ import annotations

import inspect
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargebench.ocppj.core import OcppSession
from chargebench.ocppj.faults import UNREADABLE_ID
from chargebench.trace import MessageType, TraceRecord
from reports.timestamps import parse_ts

__all__ = [
    "ANOMALY_KINDS",
    "CALLERROR",
    "CALL_TIMEOUT",
    "DISCONNECTED",
    "LATE",
    "ORPHAN",
    "RAW",
    "TRACE_END",
    "UNANSWERED",
    "Finding",
    "analyse",
]

# Kinds
UNANSWERED = "CALL without reply"
LATE = "late reply"
ORPHAN = "reply without CALL"
RAW = "RAW frame"
CALLERROR = "CALLERROR"
DISCONNECTED = "lost in a disconnect"
TRACE_END = "open at the end of the trace"
ANOMALY_KINDS = (UNANSWERED, LATE, ORPHAN, RAW)

#: Seconds a caller waits for a reply: the session core's default, which every part uses
CALL_TIMEOUT: float = inspect.signature(OcppSession).parameters["call_timeout"].default



@dataclass(slots=True, frozen=True)
class Finding:
    """One frame worth a look; `index` is its position in the records analysed (from 0)."""

    index: int
    ts: str
    cp_id: str
    session: str
    dir: str
    kind: str
    action: str | None
    message_id: str | None
    detail: str

    @property
    def anomaly(self) -> bool:
        return self.kind in ANOMALY_KINDS


@dataclass(slots=True)
class _Open:
    index: int
    record: TraceRecord
    deadline: datetime | None


def analyse(records: Sequence[TraceRecord], *, call_timeout: float = CALL_TIMEOUT
            ) -> list[Finding]:
    """The findings of `records` (in file order, one side of a connection or both), sorted by
    position. A trace holding each frame twice (both sides merged) pairs each copy once."""
    wait = timedelta(seconds=call_timeout)
    findings: list[Finding] = []
    # CALLs (and RAW frames with an id, which a CALLERROR may answer) not yet replied to, by
    # (cp_id, dir of the CALL, message id); a list because a merged trace holds each twice
    waiting: dict[tuple[str, str, str], list[_Open]] = {}
    # frames whose id could not be read, by (cp_id, dir): a CALLERROR with the id "-1" answers
    # them (OCPP-J 2.0.1 §4.2.3, which ChargeBench follows for 1.6 too: ocppj/faults.py)
    unreadable: dict[tuple[str, str], list[_Open]] = {}
    for index, record in enumerate(records):
        moment = parse_ts(record.ts)
        if record.type in (MessageType.CALL, MessageType.RAW):
            deadline = None if moment is None else moment + wait
            opened = _Open(index, record, deadline)
            if record.id is not None:
                waiting.setdefault((record.cp_id, record.dir, record.id), []).append(opened)
            else:
                unreadable.setdefault((record.cp_id, record.dir), []).append(opened)
        if record.type is MessageType.RAW:
            findings.append(_finding(index, record, RAW, _text(record.payload)))
        elif record.type.is_reply:
            key = (record.cp_id, record.dir.reverse, record.id or "")
            asked = waiting.get(key)
            if not asked and record.type is MessageType.CALLERROR and record.id == UNREADABLE_ID:
                asked = unreadable.get((record.cp_id, record.dir.reverse))
            call = asked.pop(0) if asked else None
            if call is None:
                findings.append(_finding(index, record, ORPHAN,
                                         f"{record.type} id {record.id!r}: "
                                         f"{_text(record.payload)}"))
                continue
            if record.type is MessageType.CALLERROR:
                findings.append(_finding(index, record, CALLERROR, _text(record.payload),
                                         action=call.record.action))
            late = _late(record, call, moment, call_timeout)
            if late:
                findings.append(_finding(index, record, LATE, late, action=call.record.action))
    findings += _unanswered(records, waiting)
    findings.sort(key=lambda f: f.index)
    return findings


def _late(reply: TraceRecord, call: _Open, moment: datetime | None, timeout: float) -> str:
    """Why `reply` came too late, or "" when it did not."""
    if reply.action is None and call.record.type is MessageType.CALL and call.record.id is not None:
        # the session core traces a reply it cannot pair without its action: the side that
        # wrote this trace had stopped waiting for it (ocppj/core.py LateReply)
        return "traced by a caller that had stopped waiting"
    latency = reply.latency_ms
    if isinstance(latency, int | float) and not isinstance(latency, bool):
        if latency > timeout * 1000:
            return f"after {latency / 1000:.1f} s (deadline {timeout:g} s)"
        return ""
    if moment is not None and call.deadline is not None and moment > call.deadline:
        seconds = timeout + (moment - call.deadline).total_seconds()
        return f"after {seconds:.1f} s (deadline {timeout:g} s)"
    return ""


def _unanswered(records: Sequence[TraceRecord],
                waiting: dict[tuple[str, str, str], list[_Open]]) -> list[Finding]:
    """A finding per CALL no reply answered: an anomaly unless the trace explains it."""
    calls = [call for opened in waiting.values() for call in opened
             if call.record.type is MessageType.CALL]
    if not calls:
        return []
    # one pass of indexes, so that a trace with many unanswered CALLs stays linear
    last_of_session: dict[str, dict[str, int]] = {}  # cp -> session -> its last index
    calls_of: dict[tuple[str, str, str], list[int]] = {}
    for index, record in enumerate(records):
        last_of_session.setdefault(record.cp_id, {})[record.session] = index
        if record.type is MessageType.CALL:
            calls_of.setdefault((record.cp_id, record.session, record.dir), []).append(index)
    last_moment = max(filter(None, (parse_ts(r.ts) for r in records)), default=None)
    found = []
    for call in calls:
        kind, why = _why_unanswered(records, call, last_of_session, calls_of, last_moment)
        found.append(_finding(call.index, call.record, kind, why))
    return found


def _why_unanswered(records: Sequence[TraceRecord], call: _Open,
                    last_of_session: dict[str, dict[str, int]],
                    calls_of: dict[tuple[str, str, str], list[int]],
                    last_moment: datetime | None) -> tuple[str, str]:
    cp, session, direction = call.record.cp_id, call.record.session, call.record.dir
    same_side = calls_of[(cp, session, direction)]
    for n in range(bisect_right(same_side, call.index), len(same_side)):
        later = records[same_side[n]]
        if later.id == call.record.id:
            continue  # the same CALL again: a trace of both sides holds each frame twice
        # OCPP-J 1.6 §4.1.1: the caller sent its next CALL, so it had given up on this one
        return UNANSWERED, f"the caller sent its next CALL ({later.action}) at {later.ts}"
    sessions = last_of_session[cp]
    end = parse_ts(records[sessions[session]].ts)
    if call.deadline is not None and end is not None and end > call.deadline:
        return UNANSWERED, "the connection carried on past the reply's deadline"
    if any(last > call.index for other, last in sessions.items() if other != session):
        return DISCONNECTED, "the connection ended before the reply was due"
    if call.deadline is None or last_moment is None or last_moment <= call.deadline:
        return TRACE_END, "the trace ends before the reply was due"
    return UNANSWERED, "no reply, and the trace shows no disconnect"


def _finding(index: int, record: TraceRecord, kind: str, detail: str, *,
             action: str | None = None) -> Finding:
    return Finding(index, record.ts, record.cp_id, record.session, record.dir, kind,
                   record.action or action, record.id, detail[:200])


def _text(payload: object) -> str:
    return payload if isinstance(payload, str) else str(payload)
