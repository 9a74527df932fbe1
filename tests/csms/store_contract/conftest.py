"""Fixtures of the store contract suite: every test runs once per backend in `FACTORIES`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csms.store import Store
from tests.csms.store_contract.backends import FACTORIES, Backend
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


@pytest.fixture(params=[*sorted(FACTORIES), "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh database of each backend in turn (PostgreSQL: a database on tests/pgserver.py's
    throw-away server, or on $CHARGEBENCH_TEST_PG_URL's)."""
    if request.param == "postgresql":
        return Backend("postgresql", request.getfixturevalue("pg_url"))
    return FACTORIES[request.param](tmp_path)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    """The backend's store with one location, one charger (profile 1) and its connector 1."""
    with backend.open() as s:
        s.upsert_location("LOC", "Hub")
        s.upsert_charger("CP1", location_id="LOC", vendor="V", model="M", security_profile=1)
        s.upsert_connector("CP1", 1, connector_type="Type2", max_power_w=22000)
        yield s
