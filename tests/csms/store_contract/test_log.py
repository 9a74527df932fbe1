"""Contract: the message log (every backend)."""

from __future__ import annotations

import pytest

from csms.store import Conflict, Store
from tests.csms.store_contract.backends import T0


class TestMessageLog:
    """Trace records in, the same records out, filtered and paged."""

    @staticmethod
    def record(n: int, **over: object) -> dict:
        base = {
            "ts": f"2025-01-17T10:00:{n:02d}.123456+00:00", "cp_id": "CP1", "dir": "cp->cs",
            "type": "CALL", "id": f"m{n}", "action": "Heartbeat", "payload": {}, "latency_ms": None,
            "session": "s1",
        }  # fmt: skip
        return {**base, **over}


    def test_batch_round_trip(self, store: Store) -> None:
        """append_log writes a batch; records come back in trace shape with their payload."""
        records = [self.record(n, payload={"n": n, "text": "₹"}) for n in range(50)]
        records.append(self.record(50, type="CALLRESULT", latency_ms=12.5, payload=[1, "x"]))
        assert store.append_log(records) == 51
        assert store.append_log([]) == 0
        got = store.query_log(limit=None)
        assert len(got) == 51
        assert got[0].as_dict() == {
            **records[0], "ts": "2025-01-17T10:00:00.123456Z", "seq": got[0].seq
        }  # fmt: skip
        assert [r.seq for r in got] == sorted({r.seq for r in got})  # numbered in log order
        assert got[-1].payload == [1, "x"] and got[-1].latency_ms == 12.5

    def test_filters_and_paging(self, store: Store) -> None:
        """Queries filter by charger, action, type, direction, time range, and page."""
        store.append_log(
            [
                self.record(1),
                self.record(2, cp_id="CP2"),
                self.record(3, action="StartTransaction"),
                self.record(4, type="CALLERROR", dir="cs->cp"),
                self.record(5),
            ]
        )
        ids = lambda rows: [r.id for r in rows]  # noqa: E731
        assert ids(store.query_log(cp_id="CP2")) == ["m2"]
        assert ids(store.query_log(action="StartTransaction")) == ["m3"]
        assert ids(store.query_log(type="CALLERROR")) == ["m4"]
        assert ids(store.query_log(direction="cs->cp")) == ["m4"]
        assert ids(store.query_log(msg_id="m5")) == ["m5"]
        since, until = "2025-01-17T10:00:02Z", "2025-01-17T10:00:04.123456Z"
        assert ids(store.query_log(since=since, until=until)) == ["m2", "m3"]
        assert ids(store.query_log(cp_id="CP1", limit=2, offset=1)) == ["m3", "m4"]
        assert ids(store.query_log(limit=1, newest_first=True)) == ["m5"]

    def test_batch_is_all_or_nothing(self, store: Store) -> None:
        """A bad record rolls back the whole batch."""
        with pytest.raises(KeyError):
            store.append_log([self.record(1), {"ts": T0}])
        with pytest.raises(Conflict):
            store.append_log([self.record(1), self.record(2, cp_id=None)])
        assert store.query_log() == []

    def test_latencies_of_a_window(self, store: Store) -> None:
        """`log_latencies`: the latencies of matching records that have one, `until` inclusive."""
        store.append_log([
            self.record(1, type="CALLRESULT", dir="cs->cp", latency_ms=1.5),
            self.record(2, type="CALLRESULT", dir="cs->cp", latency_ms=2.5),
            self.record(3, type="CALLRESULT", dir="cs->cp"),  # no latency: left out
            self.record(4, latency_ms=9.0),  # a CALL
        ])  # fmt: skip
        got = store.log_latencies(direction="cs->cp", type="CALLRESULT")
        assert sorted(got) == [1.5, 2.5]
        assert store.log_latencies(
            direction="cs->cp", since="2025-01-17T10:00:02.123456Z",
            until="2025-01-17T10:00:02.123456Z",
        ) == [2.5]  # fmt: skip
