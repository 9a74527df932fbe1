"""Numbers from a trace: counts, errors, nearest-rank percentiles, rate, anomalies, loading."""

from __future__ import annotations

from chargebench.trace import read_trace
from reports.load import load_traces
from reports.stats import compute, percentile


def test_percentile_is_nearest_rank():
    """Nearest rank: p50 of 1..4 is 2, p95 of 1..20 is 19, an empty sample has none."""
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 21)], 95) == 19.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_counts_and_latency_per_action(trace_file):
    """Per action: CALLs, results, errors, who initiates, and the hand-computed percentiles."""
    stats = compute(read_trace(trace_file))
    assert stats.records == 48
    heartbeat = stats.actions["Heartbeat"]
    assert (heartbeat.calls, heartbeat.results, heartbeat.errors) == (20, 20, 0)
    assert (heartbeat.p50, heartbeat.p95, heartbeat.p99, heartbeat.max) == (10, 19, 20, 20)
    assert heartbeat.initiators == {"CP"}
    assert stats.actions["RemoteStartTransaction"].initiators == {"CSMS"}
    assert stats.actions["RemoteStartTransaction"].p50 == 2.5
    authorize = stats.actions["Authorize"]
    assert (authorize.calls, authorize.results, authorize.errors, authorize.p50) == (1, 0, 1, 5)


def test_callerrors_by_code_and_per_charge_point(trace_file):
    """CALLERRORs are counted by code with the actions they answered, and per charge point."""
    stats = compute(read_trace(trace_file))
    assert stats.errors_by_code() == [("FormationViolation", 1, ["BootNotification"]),
                                      ("NotImplemented", 1, ["Authorize"])]
    cp1, cp2 = stats.charge_points["CP-1"], stats.charge_points["CP-2"]
    assert (cp1.messages, cp1.errors, cp1.sessions) == (44, 1, {"s1"})
    assert (cp2.messages, cp2.errors) == (4, 1)


def test_rate_buckets_and_time_span(trace_file):
    """Two records a second for 24 s: per-second buckets of 2, per-10 s buckets of 20/20/8."""
    stats = compute(read_trace(trace_file))
    assert stats.span_seconds == 23.5
    assert stats.rate(1) == [(i, 2) for i in range(24)]
    assert stats.rate(10) == [(0, 20), (10, 20), (20, 8)]


def test_anomalies_raw_frame_and_reply_without_call(trace_file):
    """A RAW frame and a reply nobody asked for are anomalies; a duplicate reply is one too."""
    stats = compute(read_trace(trace_file))
    assert [(a.cp_id, a.kind) for a in stats.anomalies] == [
        ("CP-2", "RAW frame"), ("CP-2", "reply without CALL")]
    again = list(read_trace(trace_file))[:2]  # Heartbeat CALL + its reply
    stats = compute([*again, again[1]])
    assert [a.kind for a in stats.anomalies] == ["reply without CALL"]


def test_merged_trace_of_both_sides_pairs_every_reply(trace_file):
    """A trace holding each frame twice (CSMS side and charge point side) has no false anomaly."""
    records = [r for r in read_trace(trace_file) if r.cp_id == "CP-1"]
    doubled = [copy for r in records for copy in (r, r)]
    assert compute(doubled).anomalies == []


def test_unreadable_lines_are_problems_with_file_and_line(trace_file):
    """Broken lines are reported as file:line with the reason; every good line still loads."""
    with trace_file.open("a", encoding="utf-8") as f:
        f.write('{"ts": "x", truncated\n[1, 2]\n{"ts": "t"}\n')
        f.write('{"ts":"t","cp_id":"C","dir":"up","type":"CALL","id":null,"action":null,'
                '"payload":null,"latency_ms":null,"session":"s"}\n')
    loaded = load_traces([trace_file])
    assert len(loaded.records) == 48
    assert [p.line for p in loaded.problems] == [49, 50, 51, 52]
    assert str(loaded.problems[0]).startswith(f"{trace_file}:49: not JSON")
    assert "dir 'up'" in loaded.problems[3].reason
