"""The CSMS and its PostgreSQL server as real processes (issue 17 points 2 and 6): a refused
password is one line and exit 2, a server that goes away and comes back loses no committed
data and the store recovers, and an acknowledged StartTransaction survives SIGKILL of the CSMS."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from csms.store import StoreUnavailable, open_store
from tests.pgserver import PgServer, PgUnavailable, pg_server, pg_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
T0 = "2025-01-17T10:00:00Z"


def csms_exit(db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chargebench", "csms", "--port", "0", "--db", db],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )


def test_wrong_password_is_one_line_exit_2(pg_url: str) -> None:  # noqa: F811
    wrong = re.sub(r"://([^:@/]+)(:[^@]*)?@", r"://\1:not-the-password@", pg_url)
    done = csms_exit(wrong)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "PostgreSQL" in lines[0], done.stderr
    assert "password" in lines[0] and "not-the-password" not in lines[0], lines[0]


def test_unknown_database_is_one_line_exit_2(pg_url: str) -> None:  # noqa: F811
    done = csms_exit(pg_url + "_missing")
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0], done.stderr


def test_environment_variable_names_the_database(pg_url: str) -> None:  # noqa: F811
    """CHARGEBENCH_DB is --db's default: a database newer than the code is refused from it."""
    import os

    import psycopg

    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version(version) VALUES (998)")
    done = subprocess.run(
        [sys.executable, "-m", "chargebench", "csms", "--port", "0"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "CHARGEBENCH_DB": pg_url},
    )
    assert done.returncode == 2 and "998" in done.stderr, done


def test_server_away_and_back_loses_nothing() -> None:
    """Stop the server under an open store: writes raise StoreUnavailable (nothing half-done);
    once the server is back the same store works again and every committed row is there."""
    try:
        server = PgServer.start()
    except PgUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    if server.datadir is None:
        server.stop()
        pytest.fail("needs a server this test may stop: unset CHARGEBENCH_TEST_PG_URL",
                    pytrace=False)
    try:
        url = server.create_database("outage")
        with open_store(url) as store:
            store.upsert_charger("CP1", registration_status="Accepted")
            tx = store.start_transaction("CP1", 1, "TAG", 100, T0)
            server.pause()
            with pytest.raises(StoreUnavailable):
                store.start_transaction("CP1", 2, "TAG-2", 0, T0)
            with pytest.raises(StoreUnavailable):
                store.get_transaction(tx)
            server.resume()
            assert store.get_transaction(tx)["meter_start"] == 100
            second = store.start_transaction("CP1", 2, "TAG-2", 0, T0)
            assert [t["id"] for t in store.list_transactions(charger_id="CP1")] in (
                [tx, second], [second, tx])
    finally:
        server.stop()


def test_restart_while_idle_is_not_an_outage(
    pg_server: PgServer, pg_url: str, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:
    """The server restarts while the store has nothing to do: its connection is dead, but the
    next read and the next write find a new one at once (nothing was done on the dead one), and
    nothing is logged as an outage. An outage is said once, and its end once."""
    if pg_server.datadir is None:
        pytest.fail("needs a server this test may stop: unset CHARGEBENCH_TEST_PG_URL",
                    pytrace=False)
    with open_store(pg_url) as store:
        store.upsert_charger("CP1", registration_status="Accepted")
        pg_server.pause()
        pg_server.resume()
        with caplog.at_level(logging.INFO, logger="csms.store.postgres"):
            assert store.get_charger("CP1") is not None  # a read
            pg_server.pause()
            pg_server.resume()
            store.upsert_charger("CP2", registration_status="Accepted")  # a write
        assert caplog.records == []
        pg_server.pause()
        with caplog.at_level(logging.INFO, logger="csms.store.postgres"):
            try:
                for _ in range(3):
                    with pytest.raises(StoreUnavailable):
                        store.get_charger("CP1")
            finally:
                pg_server.resume()
            deadline = time.monotonic() + 10
            while True:
                try:
                    assert store.get_charger("CP2") is not None
                    break
                except StoreUnavailable:  # the pause between two reconnection attempts
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
        said = [(r.levelname, r.getMessage()) for r in caplog.records]
        assert [level for level, _ in said] == ["ERROR", "WARNING"], said
        assert "unavailable" in said[0][1] and "is back after" in said[1][1], said
        password = urlsplit(pg_url).password
        assert password and all(password not in message for _, message in said)
