"""The store backends the contract suite runs against, and the data its tests share.

Each backend is one entry of `FACTORIES`: a function that gives a fresh, empty database for one
test as a URL for `open_store`. SQLite is the only backend today; the PostgreSQL backend (issue
17) adds `"postgresql": ...` here (a throw-away database on the test server, or `pytest.skip`
when none is configured) and every contract test then runs on it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from csms.store import Store, open_store

T0 = "2025-01-17T10:00:00Z"
T1 = "2025-01-17T11:00:00Z"
CHEAP = 2**4  # scrypt cost for tests: the real cost is exercised once, in test_sqlite_backend


@dataclass(frozen=True)
class Backend:
    """One fresh database of one backend: open it as often as a test needs (a reopen is what a
    restarted CSMS sees)."""

    name: str
    url: str

    def open(self, *, clock: Callable[[], datetime] | None = None, **options: Any) -> Store:
        return open_store(self.url, clock=clock, **options)


def sqlite_backend(tmp_path: Path) -> Backend:
    return Backend("sqlite", f"sqlite:///{tmp_path / 'csms.db'}")


#: backend name -> a fresh database for one test
FACTORIES: dict[str, Callable[[Path], Backend]] = {"sqlite": sqlite_backend}
