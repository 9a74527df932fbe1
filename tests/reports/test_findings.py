"""What went wrong, from hand-made trace records: every CALL accounted for (1.6 OCPP-J §4.1.1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargebench.trace import TraceRecord
from reports.breakdown import breakdown
from reports.findings import (
    CALLERROR,
    DISCONNECTED,
    LATE,
    ORPHAN,
    RAW,
    TRACE_END,
    UNANSWERED,
    analyse,
)
from reports.stats import compute
from reports.verdicts import Case, Verdicts, read_conformance, read_junit

START = datetime(2026, 1, 1, tzinfo=UTC)


def rec(at: float, kind: str, mid: str | None, action: str | None = "Heartbeat", *,
        cp: str = "CP-1", session: str = "s1", direction: str = "cp->cs",
        latency: float | None = None, payload: object = None) -> TraceRecord:
    """One record `at` seconds into the trace."""
    ts = (START + timedelta(seconds=at)).isoformat(timespec="microseconds")
    return TraceRecord(ts, cp, direction, kind, mid, action, {} if payload is None else payload,
                       latency, session)


def back(direction: str) -> str:
    return "cs->cp" if direction == "cp->cs" else "cp->cs"


def exchange(at: float, mid: str, action: str = "Heartbeat", **where) -> list[TraceRecord]:
    """A CALL answered 10 ms later."""
    direction = where.pop("direction", "cp->cs")
    return [rec(at, "CALL", mid, action, direction=direction, **where),
            rec(at + 0.01, "CALLRESULT", mid, action, direction=back(direction), latency=10.0,
                **where)]


def kinds(records: list[TraceRecord], **options) -> list[tuple[str, str | None]]:
    return [(f.kind, f.action) for f in analyse(records, **options)]


def test_answered_calls_have_no_finding():
    """CALLs answered in time, both ways, are not findings."""
    records = [*exchange(0, "1"), *exchange(5, "r", "Reset", direction="cs->cp"),
               *exchange(60, "2")]
    assert analyse(records) == []


def test_call_without_reply_while_the_connection_carries_on_is_an_anomaly():
    """The CSMS's CALL the charge point never answered, heartbeats going on: an anomaly."""
    records = [rec(0, "CALL", "t1", "TriggerMessage", direction="cs->cp"),
               *exchange(20, "1"), *exchange(40, "2")]
    [finding] = analyse(records)
    assert (finding.kind, finding.action, finding.cp_id, finding.ts) == (
        UNANSWERED, "TriggerMessage", "CP-1", records[0].ts)
    assert finding.anomaly and finding.index == 0
    assert "past the reply's deadline" in finding.detail


def test_next_call_of_the_same_caller_means_it_gave_up():
    """OCPP-J 1.6 §4.1.1: a caller's next CALL on the connection means it stopped waiting,
    even before the deadline and even if the connection closes right after."""
    records = [rec(0, "CALL", "1", "MeterValues"), *exchange(5, "2"),
               *exchange(6, "x", session="s2")]
    assert kinds(records) == [(UNANSWERED, "MeterValues")]
    assert "next CALL (Heartbeat)" in analyse(records)[0].detail


def test_call_lost_in_a_disconnect_is_explained_not_an_anomaly():
    """The connection ends before the reply is due and the charger reconnects: not an anomaly,
    still counted."""
    records = [*exchange(0, "1"), rec(10, "CALL", "2", "StatusNotification"),
               *exchange(100, "b1", "BootNotification", session="s2")]
    [finding] = analyse(records)
    assert (finding.kind, finding.anomaly) == (DISCONNECTED, False)


def test_call_open_when_the_trace_ends_is_explained():
    """The trace stops before the reply was due: not an anomaly."""
    records = [*exchange(0, "1"), rec(10, "CALL", "2")]
    assert kinds(records) == [(TRACE_END, "Heartbeat")]
    assert not analyse(records)[0].anomaly


def test_silent_connection_without_disconnect_is_an_anomaly():
    """The charger goes quiet after a CALL while the trace goes on (other chargers) and no
    disconnect shows: the reply never came, an anomaly."""
    records = [rec(0, "CALL", "1"), *exchange(120, "a", cp="CP-2", session="z")]
    assert kinds(records) == [(UNANSWERED, "Heartbeat")]
    assert "no disconnect" in analyse(records)[0].detail


def test_deadline_follows_the_call_timeout():
    """A shorter --call-timeout makes a reply due sooner."""
    records = [rec(0, "CALL", "t", "Reset", direction="cs->cp"), *exchange(20, "1")]
    assert kinds(records) == [(TRACE_END, "Reset")]
    assert kinds(records, call_timeout=10) == [(UNANSWERED, "Reset")]


def test_late_replies_by_latency_by_time_and_by_a_caller_that_gave_up():
    """After the deadline (by measured latency, or by timestamps without one), or traced
    without its action by a caller that had stopped waiting: a late reply, not an orphan."""
    by_latency = [rec(0, "CALL", "1"), rec(45, "CALLRESULT", "1", direction="cs->cp",
                                            latency=45000.0)]
    by_time = [rec(0, "CALL", "1"), rec(31, "CALLRESULT", "1", direction="cs->cp")]
    gave_up = [rec(0, "CALL", "1"), rec(5, "CALLRESULT", "1", None, direction="cs->cp")]
    for records in (by_latency, by_time, gave_up):
        [finding] = analyse(records)
        assert (finding.kind, finding.action, finding.index, finding.anomaly) == (
            LATE, "Heartbeat", 1, True)
    assert "after 45.0 s" in analyse(by_latency)[0].detail


def test_reply_without_call_and_duplicate_reply_are_orphans():
    """A reply to no CALL, or a second reply to one, is an anomaly."""
    records = [*exchange(0, "1"), rec(1, "CALLRESULT", "1", direction="cs->cp"),
               rec(2, "CALLERROR", "ghost", None, direction="cs->cp",
                   payload=["GenericError", "", {}])]
    assert [(f.kind, f.anomaly) for f in analyse(records)] == [(ORPHAN, True), (ORPHAN, True)]


def test_callerror_is_listed_with_its_calls_action_not_an_anomaly():
    """A CALLERROR names the action of the CALL it answers; it is counted on its own."""
    records = [rec(0, "CALL", "r", "Reset", direction="cs->cp"),
               rec(0.1, "CALLERROR", "r", "Reset", direction="cp->cs",
                   latency=3.0, payload=["NotSupported", "", {}]),
               rec(1, "RAW", None, None, payload="[2, broken")]
    found = analyse(records)
    assert [(f.kind, f.action, f.anomaly) for f in found] == [
        (CALLERROR, "Reset", False), (RAW, None, True)]


def test_callerror_for_an_unreadable_id_answers_the_frame_it_could_not_read():
    """OCPP-J §4.2.3: a frame whose id cannot be read gets a CALLERROR with id "-1"; that
    answers the broken frame (RAW, or a CALL with no id), it is no reply without CALL."""
    records = [rec(0, "RAW", None, None, payload="[2, broken"),
               rec(0.1, "CALLERROR", "-1", None, direction="cs->cp",
                   payload=["FormationViolation", "", {}]),
               rec(1, "CALL", None, "Heartbeat"),
               rec(1.1, "CALLERROR", "-1", None, direction="cs->cp",
                   payload=["FormationViolation", "", {}]),
               rec(2, "CALLERROR", "-1", None, direction="cs->cp",
                   payload=["FormationViolation", "", {}])]
    assert kinds(records) == [(RAW, None), (CALLERROR, None), (CALLERROR, "Heartbeat"),
                              (ORPHAN, None)]


def test_merged_trace_of_both_sides_has_no_false_finding():
    """Each frame twice (CSMS side and charge point side), an open CALL twice: paired once."""
    one_side = [*exchange(0, "1"), *exchange(30, "2"), rec(40, "CALL", "3")]
    doubled = [copy for r in one_side for copy in (r, r)]
    assert kinds(doubled) == [(TRACE_END, "Heartbeat")] * 2


def test_no_reply_adds_up_per_file():
    """Files are separate runs: a reply in one never answers a CALL of another, and
    CALLs = results + errors + unanswered (the demo's Heartbeat 2,471 / 2,461 gap explained)."""
    first = [*exchange(0, "1"), rec(10, "CALL", "2"), *exchange(100, "3")]
    second = [rec(0, "CALLRESULT", "2", direction="cs->cp", latency=1.0), *exchange(1, "4")]
    stats = compute(first + second, starts=[0, len(first)])
    assert [(f.kind, f.index) for f in stats.findings] == [(UNANSWERED, 2), (ORPHAN, 5)]
    heartbeat = stats.actions["Heartbeat"]
    unanswered = sum(1 for f in stats.findings if f.kind == UNANSWERED)
    assert heartbeat.calls == 4 == heartbeat.results - 1 + heartbeat.errors + unanswered
    assert len(stats.anomalies) == 2


def test_breakdown_matches_verdicts_to_their_traces(tmp_path: Path):
    """A verdict finds its trace by path or, moved, by file name; a trace no verdict names
    gets a row; a verdict without a trace read says so. Findings go to their file's row."""
    files = [tmp_path / "a.jsonl", tmp_path / "moved" / "b.jsonl", tmp_path / "c.jsonl"]
    verdicts = Verdicts("JUnit: j.xml", cases=[
        Case("scenario b", "failed", "step x", Path("/elsewhere/b.jsonl")),
        Case("scenario a", "passed", "", files[0]),
        Case("scenario z", "skipped", "no CSMS", Path("z.jsonl")),
    ])
    records = [*exchange(0, "1"), rec(1, "CALL", "2"), *exchange(100, "3"), *exchange(0, "9")]
    stats = compute(records, starts=[0, 2, 5])
    rows = breakdown([verdicts], files, [0, 2, 5], stats.findings, len(records))
    assert [(r.name, r.outcome, r.trace, r.frames) for r in rows] == [
        ("scenario b", "failed", files[1], 3), ("scenario a", "passed", files[0], 2),
        ("scenario z", "skipped", Path("z.jsonl"), 0), ("c", None, files[2], 2)]
    assert rows[0].anomalies == 1 and rows[0].kinds == {UNANSWERED: 1}
    assert [r.anchor for r in rows] == ["case-1", "case-2", "case-3", "case-4"]


def test_result_files_name_each_verdicts_trace(tmp_path: Path):
    """JUnit's `trace: PATH` (scenarios) and the conformance node id (RESULTS/traces/<id>.jsonl)
    give each verdict its trace file."""
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuite><testcase classname="scenarios.x" name="boot">'
                     "<system-out>trace: out/traces/boot.jsonl</system-out></testcase>"
                     '<testcase name="later"><skipped message="no CSMS"/></testcase>'
                     "</testsuite>", encoding="utf-8")
    assert [(c.name, c.outcome, c.reason, c.trace) for c in read_junit(junit).cases] == [
        ("boot", "passed", "", Path("out/traces/boot.jsonl")),
        ("later", "skipped", "no CSMS", None)]
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"role": "csms", "cases": [
        {"case": "TC_001_CS", "title": "Cold boot", "outcome": "failed", "reason": "timeout",
         "nodeid": "conformance/cases/csms/test_core.py::test_cold_boot[CP 1]"}]}),
        encoding="utf-8")
    [case] = read_conformance(summary).cases
    assert (case.name, case.outcome, case.reason) == ("TC_001_CS Cold boot", "failed", "timeout")
    assert case.trace == tmp_path / "traces" / (
        "conformance_cases_csms_test_core.py_test_cold_boot_CP_1_.jsonl")
