"""Meter values of a charge point: what to sample, when, and how to package it.

1.6 §3.16.1 sampled values (MeterValueSampleInterval / MeterValuesSampledData, context
Sample.Periodic), §3.16.2 clock-aligned values (ClockAlignedDataInterval / MeterValuesAlignedData,
context Sample.Clock, aligned to midnight), and the transactionData of StopTransaction.req
(StopTxnSampledData / StopTxnAlignedData, §4.10). The EV model gives the readings.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from chargebench.clock import iso

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # as sent


def meter_value(meter, measurands: list[str], context: str, timestamp: datetime) -> dict:
    """One MeterValue (1.6 §7.34): the meter's sampledValues for `measurands`."""
    return {"timestamp": iso(timestamp), "sampledValue": meter.sample(measurands, context=context)}


def seconds_to_next_aligned(now: datetime, interval: int) -> float:
    """Seconds until the next multiple of `interval` after midnight (1.6 §3.16.2: "if the
    interval is 900, values are sent at 0:00, 0:15, 0:30...")."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    boundary = math.floor(elapsed / interval + 1e-9) * interval + interval
    return max(0.0, boundary - elapsed)


def aligned_instant(now: datetime, interval: int) -> datetime:
    """The interval boundary (a multiple of `interval` after midnight) nearest to `now`: the
    instant a clock-aligned reading stands for (1.6 §3.16.2), even when the timer that took it
    ran a moment late on a busy machine."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    return midnight + timedelta(seconds=round(elapsed / interval) * interval)


class TransactionMeter:
    """The readings a transaction keeps for its StopTransaction transactionData (1.6 §4.10).

    Bounded: a transaction of hours with samples every minute would otherwise hold every
    reading (≈ 36 kB an hour per charge point, 360 MB an hour at 10 000). The first reading
    (Transaction.Begin) is kept; of the following ones every `stride`-th, and when they would
    leave no room for the last one in `max_readings`, or their encoded size exceeds
    `max_bytes`, every other one is dropped and the stride doubles: evenly spaced readings over
    the whole transaction. `end()` always adds the last one (Transaction.End). Readings are
    held as compact JSON (a third of the memory of their dicts) and decoded once, by `data`,
    for StopTransaction.req.
    """

    __slots__ = ("_kept", "_seen", "_size", "_stride", "max_bytes", "max_readings")

    def __init__(self, max_readings: int = 48, max_bytes: int = 64000) -> None:
        self.max_readings = max(2, max_readings)
        self.max_bytes = max_bytes
        self._kept: list[str] = []
        self._seen = 0
        self._size = 0
        self._stride = 1

    def keep(self, value: dict | None) -> None:
        """A reading during the transaction (Begin, Sample.Periodic, Sample.Clock)."""
        if value is None or not value["sampledValue"]:
            return
        seen, self._seen = self._seen, self._seen + 1
        if seen % self._stride:
            return
        self._add(value)
        while len(self._kept) > 1 and (len(self._kept) >= self.max_readings
                                       or self._size > self.max_bytes):  # fmt: skip
            self._kept = self._kept[::2]  # position i holds reading i × stride: keeps the first
            self._size = sum(map(len, self._kept))
            self._stride *= 2

    def end(self, value: dict | None) -> None:
        """The Transaction.End reading: always kept, older ones thinned if it does not fit."""
        if value is None or not value["sampledValue"]:
            return
        self._add(value)
        while len(self._kept) > 2 and self._size > self.max_bytes:
            last = self._kept.pop()
            self._kept = self._kept[::2]
            self._kept.append(last)
            self._size = sum(map(len, self._kept))

    def _add(self, value: dict) -> None:
        text = _dumps(value)
        self._kept.append(text)
        self._size += len(text)

    @property
    def data(self) -> list[dict]:
        """The kept readings, oldest first, as StopTransaction.req transactionData."""
        return [json.loads(text) for text in self._kept]

    def __len__(self) -> int:
        return len(self._kept)
