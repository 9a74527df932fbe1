"""The injectable clock and the trace record format."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from chargebench.clock import Clock, FrozenClock, iso, parse_iso
from chargebench.trace import TraceRecord, TraceWriter, make_tracer, read_trace


def test_accelerated_clock_runs_faster():
    """At speed 100, 20 ms of wall time is about 2 simulated seconds."""
    clock = Clock(speed=100)
    start = clock.monotonic()
    time.sleep(0.02)
    assert 1.5 < clock.monotonic() - start < 10


async def test_accelerated_sleep_is_short():
    """Sleeping 5 simulated seconds at speed 500 takes about 10 ms."""
    clock = Clock(speed=500)
    started = time.monotonic()
    await clock.sleep(5)
    assert time.monotonic() - started < 0.5


async def test_frozen_clock_moves_only_when_told():
    """FrozenClock advances on advance() and sleep(), never by itself."""
    clock = FrozenClock()
    first = clock.now()
    time.sleep(0.01)
    assert clock.now() == first
    await clock.sleep(60)
    assert (clock.now() - first).total_seconds() == 60


def test_iso_round_trip():
    """OCPP dateTime strings are RFC 3339 UTC with Z and parse back."""
    moment = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    assert iso(moment) == "2026-03-04T05:06:07.890Z"
    assert parse_iso(iso(moment)) == moment
    with pytest.raises(ValueError):
        Clock(speed=0)


def test_trace_round_trip(tmp_path):
    """A tracer's records are written as JSON lines and read back field for field."""
    path = tmp_path / "t.jsonl"
    with TraceWriter(path) as writer:
        tracer = make_tracer(writer, "CP9", "sess-1")
        tracer("cp->cs", "CALL", "m1", "Heartbeat", {}, None)
        tracer("cs->cp", "CALLRESULT", "m1", "Heartbeat", {"currentTime": "x"}, 0.0123)
    first, second = read_trace(path)
    assert isinstance(first, TraceRecord)
    assert (first.cp_id, first.dir, first.type, first.id, first.session) == (
        "CP9", "cp->cs", "CALL", "m1", "sess-1")
    assert second.latency_ms == 12.3 and first.latency_ms is None
    assert datetime.fromisoformat(first.ts).tzinfo is not None


async def test_accelerated_sleep_never_ends_early():
    """Many short sleeps at speed 3000 add up to at least the simulated time asked for."""
    clock = Clock(speed=3000)
    start = clock.monotonic()
    for _ in range(20):
        await clock.sleep(3)
    assert clock.monotonic() - start >= 60
