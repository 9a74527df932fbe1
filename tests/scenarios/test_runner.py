"""Scenarios run for real: library vs the built-in CSMS, verdicts, the CLI, an external CSMS."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chargebench.trace import read_trace
from scenarios.features import missing
from scenarios.loader import LIBRARY, load_scenario
from scenarios.results import FAILED, PASSED, SKIPPED
from scenarios.runner import RunOptions, run_scenario

#: Simulated seconds per wall second for library runs; raise it on a fast machine.
SPEED = float(os.environ.get("CHARGEBENCH_SCENARIO_SPEED", "1200"))
DATA = Path(__file__).parent / "data"
#: The fleet days run in their own tests.
QUICK = sorted(p for p in LIBRARY.glob("*.yaml") if not p.stem.startswith("fleet_day"))


def explain(result) -> str:
    failure = result.failure()
    return result.reason if failure is None else f"{failure.where}: {failure.detail}"


@pytest.mark.parametrize("path", QUICK, ids=lambda p: p.stem)
async def test_library_scenario_passes_against_builtin_csms(path, tmp_path):
    """Each library scenario passes at speed, or is skipped naming the feature it waits for."""
    scenario = load_scenario(path)
    result = await run_scenario(scenario, RunOptions(speed=SPEED, workdir=tmp_path,
                                                     trace_dir=tmp_path / "trace"))
    lacking = missing(scenario.requires)
    if lacking:
        assert result.status == SKIPPED and lacking[0] in result.reason
        return
    assert result.status == PASSED, explain(result)
    records = list(read_trace(result.trace))
    assert records and {r.dir for r in records} == {"cp->cs", "cs->cp"}


async def test_fleet_day_small(tmp_path):
    """The 8-charger fleet lives through a simulated day (at 3000x here) and every check holds."""
    result = await run_scenario(load_scenario(LIBRARY / "fleet_day_small.yaml"),
                                RunOptions(speed=3000, workdir=tmp_path))
    assert result.status == PASSED, explain(result)
    assert result.simulated_seconds >= 24 * 3600
    assert result.summary["transactions"] >= 8 * 3


async def test_failing_expectation_names_step_expected_and_came(tmp_path):
    """A failed expect: fails the scenario at that step, with what was expected and what came."""
    scenario = load_scenario(DATA / "must_fail.yaml")
    result = await run_scenario(scenario, RunOptions(workdir=tmp_path))
    assert result.status == FAILED
    failure = result.failure()
    assert failure.title == "boot is rejected"
    assert failure.where.endswith("must_fail.yaml:6")
    assert "expected CALLRESULT BootNotification" in failure.detail
    assert 'payload.status: expected "Rejected", got "Accepted"' in failure.detail
    assert len(result.steps) == 2  # the plug_in after it did not run


def chargebench(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "chargebench", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_cli_exits_1_and_names_failing_step(tmp_path):
    """`chargebench run` exits 1 on a failed expectation, names the step and writes JUnit."""
    junit = tmp_path / "junit.xml"
    done = chargebench("run", str(DATA / "must_fail.yaml"), "--junit", str(junit),
                       "--trace", str(tmp_path / "trace"), "--workdir", str(tmp_path / "w"))
    assert done.returncode == 1, done.stderr
    assert "step 'boot is rejected'" in done.stdout and "must_fail.yaml:6" in done.stdout
    failure = ET.parse(junit).getroot().find("testcase/failure")
    assert failure is not None and "boot is rejected" in failure.get("message")
    assert list((tmp_path / "trace").glob("*.jsonl"))


def test_cli_refuses_invalid_file_before_running(tmp_path):
    """An invalid file: exit 2, every problem as FILE:LINE:COL, nothing started."""
    broken = Path(__file__).parent / "broken" / "many_errors.yaml"
    done = chargebench("run", str(DATA / "must_fail.yaml"), str(broken))
    assert done.returncode == 2
    assert done.stderr.count("many_errors.yaml:") == 6
    assert "boot is rejected" not in done.stdout


def test_cli_check_only_validates():
    """--check validates every file and runs nothing."""
    done = chargebench("run", "--check", *map(str, QUICK))
    assert done.returncode == 0, done.stderr
    assert sum(line.startswith("ok ") for line in done.stdout.splitlines()) == len(QUICK)


async def test_same_scenario_against_builtin_csms_over_its_url(tmp_path):
    """The built-in CSMS reached over its URL and API as an external CSMS: the scenario passes;
    store assertions are skipped (an external CSMS's state is not ours to read)."""
    from chargebench.clock import Clock
    from csms.central import CentralSystem
    from csms.config import CsmsConfig
    from scenarios.loader import DEFAULT_SEED

    config = CsmsConfig(port=0, api_port=0, admin_token="t0ken", db=tmp_path / "ext.db",
                        seed=DEFAULT_SEED, log_dir=None, clock=Clock(SPEED))
    async with CentralSystem(config) as csms:
        options = RunOptions(speed=SPEED, workdir=tmp_path, csms_url=csms.url(""),
                             csms_api=f"http://127.0.0.1:{csms.api_port}", csms_token="t0ken")
        result = await run_scenario(load_scenario(LIBRARY / "remote_start_stop.yaml"), options)
        assert result.status == PASSED, explain(result)
        statuses = {step.title: step.status for step in result.steps}
        assert statuses["command RemoteStartTransaction"] == PASSED
        assert statuses["assert"] == SKIPPED
        transactions = csms.store.list_transactions(charger_id="CP-001")
        assert transactions and transactions[0]["stop_reason"] == "Remote"


def test_demo_runs_and_points_to_its_files(tmp_path):
    """`chargebench demo` (one scenario here) prints the summary and writes trace and JUnit."""
    done = chargebench("demo", "--out", str(tmp_path), "--only", "cold_boot_accepted")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "energy delivered" in done.stdout
    assert (tmp_path / "junit.xml").is_file() and (tmp_path / "csms.db").is_file()
    assert list((tmp_path / "traces").glob("*.jsonl"))


def test_demo_figures_are_each_scenarios_own(tmp_path):
    """On the demo's shared CSMS each row shows its scenario's own transactions, energy, bill
    and simulated time (they were running totals); the rows add up exactly to the CSMS's totals,
    including a transaction that only ends at the scenario's teardown (smart_charging leaves
    its transaction running: the teardown stops it, reason Other, and it is billed then)."""
    from rich.console import Console

    from scenarios.demo import run_demo
    from scenarios.interrupt import run_loop

    files = [LIBRARY / "charging_plug_in_first.yaml", LIBRARY / "remote_start_stop.yaml",
             LIBRARY / "smart_charging.yaml"]
    console = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    results, totals = run_loop(lambda: run_demo(files, tmp_path, 2400, console), virtual=True)
    assert [r.status for r in results] == [PASSED] * 3, [explain(r) for r in results]
    assert [r.summary["transactions"] for r in results] == [1, 1, 1]
    assert totals["transactions"] == 3
    assert round(sum(r.summary["energy_kwh"] for r in results), 3) == totals["energy_kwh"]
    assert sum(r.summary["billed"] for r in results) == totals["billed"]
    assert all(0 < r.summary["energy_kwh"] < totals["energy_kwh"] for r in results)
    assert all(r.summary["billed"] > 0 for r in results)
    # the teardown's stop is in the smart charging row, not lost between rows
    stopped = [row for row in _transactions(tmp_path / "csms.db") if row[0] == "Other"]
    assert len(stopped) == 1 and stopped[0][1] > 0, stopped
    # each scenario's own simulated time, not the shared clock's reading
    second = load_scenario(files[1])
    assert results[1].simulated_seconds < 3 * 3600, second.name


def _transactions(db: Path) -> list[tuple[str, int]]:
    """(stop reason, energy Wh) of every transaction in the demo's database, read through the
    store interface (only the SQLite backend's own tests open the file with sqlite3)."""
    from csms.store import open_store

    store = open_store(str(db))
    try:
        return [(tx["stop_reason"], tx["energy_wh"]) for tx in store.list_transactions(limit=None)]
    finally:
        store.close()
