"""One timestamp format in the store: UTC ISO-8601 with microseconds and `Z`.

A single fixed-width format makes text comparison equal time comparison, so range queries on
TEXT columns (`ts >= ?`) are correct and indexable.
"""

from __future__ import annotations

from datetime import UTC, datetime

TimeLike = datetime | str


def parse_ts(value: TimeLike) -> datetime:
    """An aware UTC datetime from a datetime (naive means UTC) or an ISO-8601 string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_iso(value: TimeLike | None) -> str | None:
    """Canonical store form, e.g. `2025-01-17T10:35:00.000000Z`; None stays None."""
    if value is None:
        return None
    return parse_ts(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    """The current time in canonical store form (for `received_at`-style columns)."""
    return to_iso(datetime.now(UTC))  # type: ignore[return-value]
