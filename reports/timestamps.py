"""Trace timestamps as aware datetimes: the one reader every report module shares."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["parse_ts"]


def parse_ts(text: object) -> datetime | None:
    """A record's `ts` as an aware datetime (naive ones are taken as UTC); None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
