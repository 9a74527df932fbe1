"""Meter values of a charge point: what to sample, when, and how to package it.

1.6 §3.16.1 sampled values (MeterValueSampleInterval / MeterValuesSampledData, context
Sample.Periodic), §3.16.2 clock-aligned values (ClockAlignedDataInterval / MeterValuesAlignedData,
context Sample.Clock, aligned to midnight), and the transactionData of StopTransaction.req
(StopTxnSampledData / StopTxnAlignedData, §4.10). The EV model gives the readings.
"""

from __future__ import annotations

import math
from datetime import datetime

from chargebench.clock import iso


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


class TransactionMeter:
    """The readings a transaction keeps for its StopTransaction transactionData (1.6 §4.10)."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: list[dict] = []

    def keep(self, value: dict | None) -> None:
        if value is not None and value["sampledValue"]:
            self.data.append(value)
