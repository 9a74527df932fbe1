"""Read Locust's `PREFIX_stats.csv`, print one line per action, judge against thresholds; follow
`PREFIX_stats_history.csv` while the run lasts."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ActionStats:
    """One row of the stats CSV (times in ms; None where Locust wrote N/A)."""

    type: str
    name: str
    requests: int
    failures: int
    median_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    rps: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_stats(path: str | Path) -> list[ActionStats]:
    """Every row of a Locust stats CSV, the `Aggregated` row last."""
    with open(path, newline="") as file:
        return [
            ActionStats(
                type=row["Type"], name=row["Name"],
                requests=int(row["Request Count"]), failures=int(row["Failure Count"]),
                median_ms=_number(row["50%"]), p95_ms=_number(row["95%"]),
                p99_ms=_number(row["99%"]), max_ms=_number(row["100%"]),
                rps=float(row["Requests/s"]),
            )
            for row in csv.DictReader(file)
        ]


@dataclass(frozen=True, slots=True)
class RunSoFar:
    """The newest line of Locust's `PREFIX_stats_history.csv` (written about once a second)."""

    users: int
    rps: float
    requests: int
    failures: int

    def describe(self) -> str:
        return (f"{self.users} chargers · {self.rps:.0f} req/s · {self.requests} requests · "
                f"{self.failures} failed")


def read_so_far(path: str | Path) -> RunSoFar | None:
    """The run so far from the stats history; None before Locust has written a line."""
    try:
        with open(path, newline="") as file:
            rows = list(csv.DictReader(file))
    except OSError:
        return None
    for row in reversed(rows):
        try:
            return RunSoFar(users=int(row["User Count"]), rps=float(row["Requests/s"]),
                            requests=int(row["Total Request Count"]),
                            failures=int(row["Total Failure Count"]))
        except (KeyError, TypeError, ValueError):
            continue  # a line Locust is still writing
    return None


def format_table(rows: list[ActionStats]) -> str:
    """A fixed-width table: one line per action, then the aggregate."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    lines = [f"{'type':<5} {'action':<28} {'reqs':>8} {'fails':>6} {'req/s':>8} "
             f"{'p50ms':>6} {'p95ms':>6} {'p99ms':>6} {'maxms':>6}"]
    for row in rows:
        lines.append(
            f"{row.type:<5} {row.name:<28} {row.requests:>8} {row.failures:>6} {row.rps:>8.1f} "
            f"{ms(row.median_ms):>6} {ms(row.p95_ms):>6} {ms(row.p99_ms):>6} {ms(row.max_ms):>6}"
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Failure:
    """One row of Locust's `PREFIX_failures.csv`: a distinct error and how often it happened."""

    method: str
    name: str
    error: str
    occurrences: int

    def __str__(self) -> str:
        return f"{self.occurrences} x {self.method} {self.name}: {self.error}"


def read_failures(path: str | Path) -> list[Failure]:
    """The failures CSV, most frequent first; empty when Locust wrote none."""
    try:
        with open(path, newline="") as file:
            failures = [Failure(row["Method"], row["Name"], row["Error"], int(row["Occurrences"]))
                        for row in csv.DictReader(file)]
    except (OSError, KeyError, ValueError):
        return []
    return sorted(failures, key=lambda failure: -failure.occurrences)


def verdict(rows: list[ActionStats], *, max_p95_ms: float | None = None,
            max_failure_ratio: float | None = None, connect_type: str = "WS") -> list[str]:
    """Reasons the run failed (empty: passed).

    A charger that could not connect fails the run whatever the ratio (its load never reached
    the CSMS), so does a run in which no request succeeded; p95 and the failure ratio are
    judged on the `Aggregated` row.
    """
    total = next((row for row in rows if row.name == "Aggregated"), None)
    if total is None or total.requests == 0:
        return ["no requests were made"]
    reasons = []
    connects = [row for row in rows if row.type == connect_type and row.name == "connect"]
    failed_connects = sum(row.failures for row in connects)
    if failed_connects:
        reasons.append(f"{failed_connects} of {sum(r.requests for r in connects)} connection "
                       "attempts failed")
    if total.failures >= total.requests:
        reasons.append(f"no request succeeded ({total.failures} failed)")
    if max_p95_ms is not None and (total.p95_ms or 0.0) > max_p95_ms:
        reasons.append(f"p95 {total.p95_ms:.0f} ms > {max_p95_ms:g} ms")
    if max_failure_ratio is not None and total.failure_ratio > max_failure_ratio:
        reasons.append(f"failure ratio {total.failure_ratio:.4f} > {max_failure_ratio:g}")
    return reasons
