"""Locust runs of the OCPP 2.0.1 station users (`loadtest.users201`), alone and beside the 1.6
charge points on one built-in CSMS port, through `chargebench load` (real Locust, real
websockets, the real CSMS with its SQLite file)."""

from __future__ import annotations

import pytest

import chargebench.cli
from loadtest.options import MixError, read_mix
from loadtest.report import read_stats

FAST = ["--heartbeat-interval", "0.5", "--meter-interval", "0.5", "--meter-values", "3",
        "--reboot-interval", "0.5"]
ACTIONS_201 = {"BootNotification", "StatusNotification", "Heartbeat", "Authorize",
               "TransactionEvent Started", "TransactionEvent Updated", "TransactionEvent Ended"}
ONLY_16 = {"StartTransaction", "MeterValues", "StopTransaction"}


@pytest.fixture
def main(monkeypatch):
    """The root CLI with only `load` registered (as tests/loadtest/test_locust_run.py)."""
    monkeypatch.setattr(chargebench.cli, "SUBCOMMAND_MODULES", ("loadtest.cli",))
    return chargebench.cli.main


@pytest.mark.slow
def test_201_and_16_users_on_one_builtin_csms(main, tmp_path, capsys):
    """`--ocpp both`: 2.0.1 stations and 1.6 charge points for 5 s on one port, no failure;
    every 2.0.1 action has its own row (each TransactionEvent eventType apart), beside the 1.6
    ones, with latency percentiles and a request rate."""
    prefix = tmp_path / "run"
    code = main(["load", "--builtin-csms", "-u", "24", "-r", "24", "-t", "5s", "--csv",
                 str(prefix), "--max-failure-ratio", "0", "--", "--ocpp", "both", *FAST])
    out = capsys.readouterr().out
    assert code == 0, out + (tmp_path / "run.log").read_text()[-3000:]
    rows = {row.name: row for row in read_stats(f"{prefix}_stats.csv")}
    assert set(rows) >= ACTIONS_201 | ONLY_16, sorted(rows)
    assert all(row.failures == 0 for row in rows.values())
    ended = rows["TransactionEvent Ended"]
    assert ended.requests >= 2 and ended.p95_ms > 0 and ended.rps > 0
    assert rows["TransactionEvent Updated"].requests >= 3 * ended.requests
    assert "TransactionEvent Started" in out and "StartTransaction" in out


@pytest.mark.slow
def test_201_only_run_has_no_16_rows(main, tmp_path, capsys):
    """`--ocpp 2.0.1`: only the 2.0.1 classes run (a short run: boots and heartbeats)."""
    prefix = tmp_path / "run"
    code = main(["load", "--builtin-csms", "-u", "4", "-r", "4", "-t", "2s", "--csv",
                 str(prefix), "--max-failure-ratio", "0", "--", "--ocpp", "2.0.1", *FAST])
    out = capsys.readouterr().out
    assert code == 0, out
    names = {row.name for row in read_stats(f"{prefix}_stats.csv")}
    assert "BootNotification" in names and not names & ONLY_16, names


def test_mix_weighs_201_classes(tmp_path, main, capsys):
    """A mix may weigh the 2.0.1 classes; all of the run's classes at 0 is a usage error."""
    mix = tmp_path / "mix.yaml"
    mix.write_text("IdleStation201: 2\nChargingStation201: 0\nBootStormStation201: 0\n")
    assert read_mix(mix, ("IdleStation201", "ChargingStation201", "BootStormStation201")) == {
        "IdleStation201": 2, "ChargingStation201": 0, "BootStormStation201": 0}
    mix.write_text("IdleStation201: 0\nChargingStation201: 0\nBootStormStation201: 0\n")
    with pytest.raises(MixError, match="every weight is 0"):
        read_mix(mix, ("IdleStation201", "ChargingStation201", "BootStormStation201"))
    assert main(["load", "--builtin-csms", "-t", "2s", "--", "--ocpp", "2.0.1", "--mix",
                 str(mix)]) == 2
    assert "every weight is 0" in capsys.readouterr().err
