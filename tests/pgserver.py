"""pytest fixtures for a throw-away PostgreSQL server (loadtest/pgserver.py starts it):
`from tests.pgserver import pg_server, pg_url` in a conftest or test module."""

from __future__ import annotations

import itertools
import os

import pytest

from loadtest.pgserver import (
    PgServer,
    PgUnavailable,
    find_bindir,
    free_port,
    wait_ready,
    with_database,
)

__all__ = ["PgServer", "PgUnavailable", "find_bindir", "free_port", "pg_server", "pg_url",
           "wait_ready", "with_database"]

_numbers = itertools.count(1)

@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    """One PostgreSQL server for the test session; fails (never skips) when there is none."""
    try:
        server = PgServer.start()
    except PgUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()

@pytest.fixture
def pg_url(pg_server: PgServer):  # type: ignore[no-untyped-def]
    """The URL of a new, empty database for one test, dropped after it."""
    name = f"cbtest_{os.getpid()}_{next(_numbers)}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)
