"""Split a migration's SQL script into statements, so each runs inside the migration's transaction
(sqlite3's `executescript` would commit first; a driver may refuse several statements at once)."""

from __future__ import annotations

import re

_COMMENT = re.compile(r"--[^\n]*")


def split_statements(script: str) -> list[str]:
    """The statements of `script`: `--` comments removed, split on `;` (our DDL has no `;` or
    `--` inside string literals)."""
    text = _COMMENT.sub("", script)
    return [part.strip() for part in text.split(";") if part.strip()]
