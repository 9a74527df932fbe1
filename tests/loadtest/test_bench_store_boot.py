"""`python -m loadtest.bench_store_boot` in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import pytest

from loadtest.bench_store_boot import main
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


def test_store_boot_prints_both_stores_and_round_trips(
    pg_url: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    """Both stores booted 30 chargers' store calls; the round trips per boot are counted from
    the statements PostgreSQL really ran: at least 3 (the admission read, the connection step
    and the boot; the statuses may ride with a COMMIT), fewer would mean a call was skipped.
    The benchmark itself fails when a boot's writes are missing from the database."""
    main(["--cps", "30", "--in-flight", "10", "--db", pg_url])
    out = capsys.readouterr().out
    figures = dict(word.split("=", 1) for word in out.split() if "=" in word)
    assert float(figures["sqlite_s"]) > 0 and float(figures["postgresql_s"]) > 0, out
    assert float(figures["round_trips_per_boot"]) >= 3, out
    assert "INSERT INTO chargers" in out, out


def test_store_boot_refuses_a_sqlite_path(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--db", "csms.db"])
    assert exited.value.code == 2
    assert "postgresql://" in capsys.readouterr().err
