"""`python -m loadtest.bench_fleet` in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import math

import pytest

from loadtest.bench_fleet import main, measure
from sim.config import DEFAULT_CONFIG
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


def test_bench_fleet_200_charge_points():
    """200 fleet charge points boot against the CSMS, charge, and every metric is a number."""
    assert DEFAULT_CONFIG.exists()
    result = measure(cps=200, meter_interval=1, steady_s=2.0, timeout=60)
    assert result["cps"] == "200"
    for key in ("boot_storm_s", "csms_rss_kb_per_cp", "sim_rss_kb_per_cp", "steady_msgs_s",
                "p99_ms", "csms_cpu_pct"):
        assert math.isfinite(float(result[key])), (key, result)
    # 200 chargers sampling every second: about 200 MeterValues/s once all are charging
    assert float(result["steady_msgs_s"]) > 100, result
    assert result["steady_cps_seen"] == "200", result


@pytest.mark.slow
def test_bench_fleet_db_prints_sqlite_beside_postgresql(
    pg_url: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    """`--db postgresql://...`: SQLite and PostgreSQL measured in the same run, side by side
    with their ratio; the scratch database is gone afterwards."""
    import psycopg

    main(["--cps", "20", "--boot-only", "--db", pg_url])
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["metric"] == ["sqlite", "postgresql", "pg/sqlite"], rows
    assert rows["store"][:2] == ["sqlite", "postgresql"], rows
    sqlite_s, pg_s, ratio = (float(v) for v in rows["boot_storm_s"])
    assert sqlite_s > 0 and pg_s > 0 and abs(ratio - pg_s / sqlite_s) < 0.01 + ratio * 0.05
    with psycopg.connect(pg_url) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database")]
    assert not [name for name in names if "_bench_" in name], names


def test_bench_fleet_db_refuses_a_sqlite_path(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--cps", "20", "--db", "csms.db"])
    assert exited.value.code == 2
    assert "postgresql://" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_fleet_ocpp_both_prints_2_0_1_beside_1_6() -> None:
    """`--ocpp both` as a user runs it (a subprocess): 50 charge points in 1.6, then 50 2.0.1
    stations, each booting, charging and seen in the window; side by side with the ratio."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "loadtest.bench_fleet", "--ocpp", "both", "--cps", "50",
         "--meter-interval", "1", "--steady-s", "2", "--probes", "2", "--timeout", "60"],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()}
    assert rows["metric"] == ["1.6", "2.0.1", "2.0.1/1.6"], rows
    assert rows["ocpp"][:2] == ["1.6", "2.0.1"], rows
    assert rows["steady_cps_seen"][:2] == ["50", "50"], rows
    for key in ("boot_storm_s", "csms_rss_kb_per_cp", "sim_rss_kb_per_cp", "steady_msgs_s",
                "p99_ms"):
        v16, v201, ratio = (float(v) for v in rows[key])
        assert math.isfinite(v16) and math.isfinite(v201), (key, rows[key])
        if v16 > 0:
            assert abs(ratio - v201 / v16) <= 0.01 + 0.05 * ratio, (key, rows[key])
    # 50 stations sampling every second: about 50 TransactionEvent Updated a second
    assert float(rows["steady_msgs_s"][1]) > 25, rows



@pytest.mark.slow
def test_bench_fleet_workers_two_fleet_processes(
    pg_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """`--workers 2`: the CSMS is `chargebench csms --workers 2` (both worker processes counted:
    three CSMS processes' RSS), and a fleet over FLEET_MAX runs in two fleet processes with
    distinct ids, every charger booting, charging and seen in the window."""
    from loadtest import bench_fleet

    monkeypatch.setattr(bench_fleet, "FLEET_MAX", 15)
    assert bench_fleet.fleet_prefixes(30) == [("BF0", 15), ("BF1", 15)]
    result = measure(cps=30, meter_interval=1, steady_s=2.0, timeout=60, probes=2, db=pg_url,
                     workers=2)
    assert result["csms"] == "builtin_2_workers" and result["store"] == "postgresql", result
    assert result["steady_cps_seen"] == "30", result
    for key in ("boot_storm_s", "csms_rss_kb_per_cp", "p99_ms", "csms_handling_p99_ms"):
        assert math.isfinite(float(result[key])), (key, result)
    import psycopg

    with psycopg.connect(pg_url) as conn:
        ids = {r[0] for r in conn.execute("SELECT id FROM chargers WHERE id LIKE 'BF_0%'")}
        sessions = {r[0].split(".")[0] for r in conn.execute(
            "SELECT session FROM message_log WHERE cp_id LIKE 'BF_0%'")}
    assert {"BF000001", "BF000015", "BF100001", "BF100015"} <= ids, sorted(ids)
    assert len(sessions) == 2, sessions  # both workers held chargers


def test_bench_fleet_compare_refuses_more_than_a_csms_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--cps", "16000", "--compare"])
    assert exited.value.code == 2
    assert "per CSMS process" in capsys.readouterr().err


def test_compare_table_gives_each_column_its_ratio_to_the_first() -> None:
    """`--compare`'s table: one line per metric, the three figures, then each other column's
    ratio to the first ("-" where a figure is not a number)."""
    from loadtest.bench_fleet import table

    lines = table([("sqlite", {"store": "sqlite", "p99_ms": "10.0"}),
                   ("pg", {"store": "postgresql", "p99_ms": "15.0"}),
                   ("pg_2w", {"store": "postgresql", "p99_ms": "25.0"})])
    rows = {line.split()[0]: line.split()[1:] for line in lines}
    assert rows["metric"] == ["sqlite", "pg", "pg_2w", "pg/sqlite", "pg_2w/sqlite"]
    assert rows["p99_ms"] == ["10.0", "15.0", "25.0", "1.50", "2.50"]
    assert rows["store"] == ["sqlite", "postgresql", "postgresql", "-", "-"]
