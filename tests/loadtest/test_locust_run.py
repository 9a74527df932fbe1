"""Locust runs of the OCPP charge point users, through `chargebench load` and distributed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import chargebench.cli
from chargebench.ports import listen_port
from loadtest._bench import ServerProcess
from loadtest.cli import LOCUSTFILE
from loadtest.report import read_stats
from loadtest.scripted_csms import start_scripted_csms

#: Short intervals so that the run covers every action several times (a charging session is
#: 3 MeterValues x 0.5 s); 15 s is the short run the load-test issue asks for.
FAST = ["--heartbeat-interval", "0.5", "--meter-interval", "0.5", "--meter-values", "3",
        "--reboot-interval", "0.5"]
ACTIONS = {"BootNotification", "StatusNotification", "Heartbeat", "Authorize",
           "StartTransaction", "MeterValues", "StopTransaction"}


@pytest.fixture
def main(monkeypatch):
    """The root CLI with only `load` registered: other subcommands land on their own schedule."""
    monkeypatch.setattr(chargebench.cli, "SUBCOMMAND_MODULES", ("loadtest.cli",))
    return chargebench.cli.main


def test_load_50_users_against_builtin_csms(main, tmp_path, capsys):
    """50 charge points for 15 s against the local CSMS (the issue's short run): no failure,
    every action in the CSV."""
    prefix = tmp_path / "run"
    code = main(["load", "--builtin-csms", "-u", "50", "-r", "50", "-t", "15s", "--csv",
                 str(prefix), "--max-failure-ratio", "0", "--max-p95-ms", "2000", "--", *FAST])
    out = capsys.readouterr().out
    assert code == 0, out + (tmp_path / "run.log").read_text()[-3000:]
    rows = {row.name: row for row in read_stats(f"{prefix}_stats.csv")}
    assert set(rows) >= ACTIONS, sorted(rows)
    assert all(row.failures == 0 for row in rows.values())
    assert rows["Aggregated"].requests > 300
    assert "PASS" in out and "MeterValues" in out


def test_threshold_exceeded_exits_1(main, tmp_path, capsys):
    """A p95 threshold no run can meet makes `chargebench load` exit 1."""
    code = main(["load", "--builtin-csms", "-u", "5", "-r", "5", "-t", "2s", "--csv",
                 str(tmp_path / "run"), "--max-p95-ms", "0.0001", "--", *FAST])
    assert code == 1
    assert "FAIL: p95" in capsys.readouterr().out


def _free_port() -> int:
    return listen_port()


def test_distributed_master_and_one_worker(tmp_path):
    """A master with one worker process runs the users and merges their stats."""
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    port = _free_port()
    with ServerProcess(start_scripted_csms) as csms:
        master = subprocess.Popen(
            [*locust, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port",
             str(port), "--headless", "--expect-workers", "1", "-u", "10", "-r", "10",
             "-t", "4s", "--host", f"ws://127.0.0.1:{csms.port}/ocpp", "--csv",
             str(tmp_path / "dist"), "--only-summary", *FAST],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        worker = subprocess.Popen(
            [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            master_out, _ = master.communicate(timeout=40)
            worker_out, _ = worker.communicate(timeout=15)
        finally:
            for process in (master, worker):
                if process.poll() is None:
                    process.kill()
    assert master.returncode == 0, master_out[-3000:]
    assert "1 workers connected" in master_out or "reported as ready" in master_out
    rows = {row.name: row for row in read_stats(Path(f"{tmp_path / 'dist'}_stats.csv"))}
    assert {"BootNotification", "Heartbeat"} <= set(rows), worker_out[-3000:]
    assert rows["Aggregated"].requests > 20 and rows["Aggregated"].failures == 0


def test_ctrl_c_stops_locust_and_shows_the_run_so_far(tmp_path):
    """Ctrl-C mid-run, sent as a terminal does to the whole process group (Locust and the
    built-in CSMS get it too): the stats so far are printed and the exit code is 130."""
    prefix = tmp_path / "run"
    load = subprocess.Popen(
        [sys.executable, "-m", "chargebench", "load", "--builtin-csms", "-u", "3", "-r", "3",
         "-t", "120s", "--csv", str(prefix), "--", *FAST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        history = Path(f"{prefix}_stats_history.csv")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
                not history.exists() or len(history.read_text().splitlines()) < 3):
            time.sleep(0.2)
        os.killpg(load.pid, signal.SIGINT)
        out, err = load.communicate(timeout=30)
    finally:
        if load.poll() is None:
            load.kill()
    assert load.returncode == 130, out + err
    assert "INTERRUPTED" in out and "Heartbeat" in out
    assert "Traceback" not in err  # neither ours nor the built-in CSMS child's
    assert {"BootNotification", "Heartbeat"} <= {row.name for row in read_stats(
        f"{prefix}_stats.csv")}
