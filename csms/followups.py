"""Multi-message results: what a 2.0.1 station sends after accepting a request, collected into one.

A GetBaseReport/GetReport is answered Accepted, then the report comes in NotifyReport messages
with the request's `requestId`, numbered by `seqNo` and continued while `tbc` is true (B07.FR.04,
B08.FR.04); GetChargingProfiles -> ReportChargingProfiles (K09.FR.03, `tbc`),
CustomerInformation -> NotifyCustomerInformation (N09.FR.04, `tbc`, `seqNo`),
GetMonitoringReport -> NotifyMonitoringReport (N02.FR.03/04/09), GetDisplayMessages ->
NotifyDisplayMessages (O04; part 2 generic FR.05). `csms.commands`
registers a `Collector` before the CALL; the station-message handlers `feed()` every part; the
collector is complete at the part with `tbc` false.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Collected:
    """One multi-message result: the parts in arrival order and whether the last one came."""

    action: str
    request_id: int
    parts: list[dict] = field(default_factory=list)
    complete: bool = False

    @property
    def missing(self) -> list[int]:
        """seqNo values (0 .. the highest seen) never received (parts without seqNo: none)."""
        seen = {part["seqNo"] for part in self.parts if "seqNo" in part}
        return [n for n in range(max(seen) + 1) if n not in seen] if seen else []

    def as_dict(self, items: str) -> dict:
        """The parts' `items` lists joined in seqNo order (arrival order without seqNo)."""
        ordered = sorted(self.parts, key=lambda part: part.get("seqNo", 0))
        values = [part[items] for part in ordered if items in part]
        joined: Any = "".join(values) if all(isinstance(v, str) for v in values) and values \
            else [item for value in values for item in value]  # fmt: skip
        return {
            "requestId": self.request_id, "complete": self.complete and not self.missing,
            "parts": len(self.parts), "missingSeqNo": self.missing, items: joined,
        }  # fmt: skip


class Collector:
    """The parts of one expected result; `wait()` until complete or a deadline."""

    def __init__(self, cp_id: str, action: str, request_id: int) -> None:
        self.key = (cp_id, action, request_id)
        self.result = Collected(action, request_id)
        self._done = asyncio.Event()

    def feed(self, payload: dict) -> None:
        self.result.parts.append(payload)
        if not payload.get("tbc", False):
            self.result.complete = True
            self._done.set()

    async def wait(self, timeout: float) -> Collected:
        """The result so far after the last part or `timeout` seconds (`complete` says which)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), timeout)
        return self.result


class FollowUps:
    """The collectors a CSMS waits on, keyed (charger, follow-up action, requestId)."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str, int], Collector] = {}

    def expect(self, cp_id: str, action: str, request_id: int) -> Collector:
        collector = Collector(cp_id, action, request_id)
        self._open[collector.key] = collector
        return collector

    def forget(self, collector: Collector) -> None:
        if self._open.get(collector.key) is collector:
            del self._open[collector.key]

    def feed(self, cp_id: str, action: str, payload: dict) -> bool:
        """Give a part to its collector; False when nobody waits for it (a report asked for
        by an earlier connection, or one the station sends on its own)."""
        collector = self._open.get((cp_id, action, payload.get("requestId", -1)))
        if collector is None:
            return False
        collector.feed(payload)
        return True
