"""`conform --ocpp 2.0.1`: catalogue and implemented cases in step both ways, every catalogued
case reported once (implemented, or SKIPPED "not implemented", never passed), the summary per
certification profile in the terminal, summary.json, JUnit and Allure, and the exit codes:
nothing executed is not a pass (2, as a 1.6 run that selects no case)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from conformance.background import BackgroundLoop
from conformance.v201.catalog import PROFILE_NAMES, load_catalog
from tests.conformance.helpers import CASES, ROOT
from tests.conformance.v201.indep_csms201 import IndependentCsms201

CATALOG = load_catalog()
V201 = CASES / "v201"
PLACEHOLDERS = V201 / "test_not_implemented.py"


def _pytest(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """pytest with the suite's plugin and pytest-asyncio only: the venv's other plugins
    (hypothesis, faker, schemathesis) double a subprocess's start-up and play no part here;
    `_conform` runs with all of them, as a user does."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "conformance.plugin",
         "-p", "pytest_asyncio.plugin", *args], cwd=cwd,
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
             **(env or {})},
    )


def _conform(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chargebench", "conform", *args], cwd=cwd, capture_output=True,
        text=True, timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _declared() -> dict[str, str]:
    """octt ids the modules under cases/v201/cs and cases/v201/csms declare, by their text:
    octt marks and command table rows (`conformance.chargepoint.Command`)."""
    found: dict[str, str] = {}
    for module in sorted(V201.glob("*/**/*.py")):
        # a case's octt mark, or the id of a row of a command table (`Command("TC_...", ...)`)
        text = module.read_text()
        for case_id in re.findall(r"(?:octt|Command)\(\s*[\"'](TC_\w+)[\"']", text):
            found.setdefault(case_id, str(module))
    return found


@pytest.mark.parametrize("role", ["cp", "csms"])
def test_catalogue_and_implemented_cases_in_step(tmp_path, role):
    """Collected for a role, every catalogue case of that role is there exactly once: its
    implementation (a test under cases/v201/<role>) or its placeholder; every implementation
    names a catalogued case of its folder's role; no declared case is lost on the way. ("cp",
    the 1.6 name of the station, runs the Charging Station cases. That a 1.6 run never collects
    cases/v201 is tests/conformance/test_plugin.py's catalogue check: it would stop on them.)"""
    dump = tmp_path / "items.json"
    target = ["--cb-target", "ws://127.0.0.1:1/ocpp"] if role == "csms" else []
    done = _pytest(str(V201), "--collect-only", "-q", "--cb-ocpp", "2.0.1", "--cb-role", role,
                   *target, "-p", "tests.conformance.octt_dump", env={"CB_OCTT_DUMP": str(dump)})
    assert done.returncode == 0, done.stdout + done.stderr
    role = "cs" if role == "cp" else role
    items = json.loads(dump.read_text())
    ids = Counter(case_id for case_id, _, _ in items)
    expected = {case.id for case in CATALOG.values() if case.role == role}
    assert set(ids) == expected and set(ids.values()) == {1}, sorted(set(ids) ^ expected)
    implemented = {case_id for case_id, _, nodeid in items
                   if "test_not_implemented.py" not in nodeid}
    declared = {case_id for case_id in _declared() if case_id.endswith(f"_{role.upper()}")}
    assert implemented == declared, sorted(implemented ^ declared)
    for case_id, roles, nodeid in items:
        assert CATALOG[case_id].role == role and role in roles, nodeid
    print(f"{role}: {len(expected)} catalogued, {len(implemented)} implemented")


def test_every_declared_case_is_catalogued_in_its_folders_role():
    """The other way: every octt id a 2.0.1 case module declares is a catalogue id, in the
    folder of its role (cs/ for _CS, csms/ for _CSMS)."""
    for case_id, module in _declared().items():
        assert case_id in CATALOG, f"{module}: {case_id} is not in v201/catalog.yaml"
        assert f"/v201/{CATALOG[case_id].role}/" in module, f"{module}: {case_id}"


def test_nothing_implemented_is_reported_case_by_case_and_exits_2(tmp_path):
    """A run selecting only station cases without an implementation (the certification
    profiles none of whose cs cases is implemented yet): each appears SKIPPED "not
    implemented" in summary.json, JUnit and Allure, the terminal says per profile "Smart
    Charging: 0/36 passed, 36 not implemented", and the run exits 2 with the reason: nothing
    was tested (no station needed: nothing waits for one)."""
    implemented = {c for c in _declared() if c.endswith("_CS")}
    cs_cases = [case for case in CATALOG.values() if case.role == "cs"]
    untouched = sorted({p for case in cs_cases for p in case.profiles} - {
        p for case in cs_cases if case.id in implemented for p in case.profiles})
    assert untouched, "pick profiles with no implemented case"
    results = tmp_path / "results"
    done = _conform("--ocpp", "2.0.1", "--role", "cs", "--results", str(results), "--",
                    "--cb-profile", ",".join(untouched), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    wanted = [case for case in cs_cases if set(case.profiles) & set(untouched)]
    assert not {case.id for case in wanted} & implemented
    per_profile = Counter(p for case in wanted for p in case.profiles)
    for profile, count in per_profile.items():
        line = f"{PROFILE_NAMES[profile]}: 0/{count} passed, {count} not implemented"
        assert line in output, line
    assert f"none of the {len(wanted)} selected OCPP 2.0.1 cs cases is implemented" in output
    assert "Traceback" not in output
    summary = json.loads((results / "summary.json").read_text())
    assert (summary["ocpp"], summary["role"]) == ("2.0.1", "cs")
    assert "nothing was tested" in summary["problem"]
    assert {row["case"] for row in summary["cases"]} == {case.id for case in wanted}
    assert {(row["outcome"], row["reason"]) for row in summary["cases"]} == {
        ("skipped", "not implemented")}
    some = untouched[0]
    assert summary["profiles"][some] == {"passed": 0, "failed": 0, "error": 0,
                                         "skipped": per_profile[some], "not_applicable": 0,
                                         "not_implemented": per_profile[some]}
    assert {p: row["not_implemented"] for p, row in summary["profiles"].items()} == per_profile
    suite = ET.parse(results / "junit.xml").getroot()
    total = str(len(wanted))
    assert (suite.get("name"), suite.get("tests"), suite.get("skipped")) == (
        "chargebench.conformance.v201.cs", total, total)
    allure = [json.loads(p.read_text()) for p in (results / "allure").glob("*-result.json")]
    assert len(allure) == len(wanted) and {r["status"] for r in allure} == {"skipped"}
    assert "ocpp.version=2.0.1" in (results / "allure" / "environment.properties").read_text()


def _implemented(tmp_path: Path, body: str) -> Path:
    """A cases/v201/csms module of our own beside the real placeholders."""
    folder = tmp_path / "cases" / "v201" / "csms"
    folder.mkdir(parents=True)
    module = folder / "test_boot.py"
    module.write_text("import pytest\n\n" + body)
    return module


def _run_with(tmp_path: Path, module: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """The module and the placeholders, against a live CSMS (the independent one: the
    preflight dials it once before the first case)."""
    results = tmp_path / "results"
    with BackgroundLoop() as loop:
        csms = loop.run(IndependentCsms201().start())
        try:
            done = _pytest(str(module), str(PLACEHOLDERS), "--cb-ocpp", "2.0.1", "--cb-role",
                           "csms", "--cb-target", csms.url, "--cb-results", str(results),
                           "--rootdir", str(tmp_path), cwd=tmp_path)
        finally:
            loop.run(csms.close())
    summary = results / "summary.json"
    rows = json.loads(summary.read_text())["cases"] if summary.is_file() else []
    return done, {row["case"]: row for row in rows}


def test_implemented_cases_replace_their_placeholders(tmp_path):
    """With TC_B_01_CSMS (passing) and TC_B_02_CSMS (failing) implemented, the run executes
    both, the other 248 stay not implemented, the summary counts them ("Core: 1/131 passed,
    1 failed, 129 not implemented") and the exit code is the verdicts' (1)."""
    module = _implemented(tmp_path, "@pytest.mark.octt('TC_B_01_CSMS')\n"
                          "def test_boot():\n    pass\n\n\n"
                          "@pytest.mark.octt('TC_B_02_CSMS')\n"
                          "def test_pending():\n    assert False, 'no Pending'\n")
    done, rows = _run_with(tmp_path, module)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert len(rows) == 250
    assert (rows["TC_B_01_CSMS"]["outcome"], rows["TC_B_02_CSMS"]["outcome"]) == (
        "passed", "failed")
    assert "test_not_implemented" not in rows["TC_B_01_CSMS"]["nodeid"]
    assert sum(row["reason"] == "not implemented" for row in rows.values()) == 248
    assert "Core: 1/131 passed, 1 failed, 129 not implemented" in output, output[-3000:]


@pytest.mark.slow
def test_not_implemented_cases_do_not_fail_a_run_that_tested_something(tmp_path):
    """One case implemented and passing, 249 not implemented: exit 0, as a 1.6 run with
    skipped cases; the summary says what was not tested."""
    module = _implemented(tmp_path, "@pytest.mark.octt('TC_B_01_CSMS')\n"
                          "def test_boot():\n    pass\n")
    done, rows = _run_with(tmp_path, module)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert rows["TC_B_01_CSMS"]["outcome"] == "passed"
    assert "Core: 1/131 passed, 130 not implemented" in output, output[-3000:]


@pytest.mark.slow
def test_misplaced_and_unknown_cases_stop_the_run(tmp_path):
    """A case in the other role's folder would be dropped by both roles' runs, an unknown id
    reported by neither: each is a catalogue mismatch that stops the run (pytest 4)."""
    module = _implemented(tmp_path, "@pytest.mark.octt('TC_B_01_CS')\ndef test_x():\n    pass\n"
                          "\n\n@pytest.mark.octt('TC_B_99_CSMS')\ndef test_y():\n    pass\n")
    done = _pytest(str(module), "--cb-ocpp", "2.0.1", "--cb-role", "csms",
                   "--cb-target", "ws://x", "--rootdir", str(tmp_path), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    assert "TC_B_01_CS is a cs case in the folder of the csms cases" in output
    assert "TC_B_99_CSMS (csms) is not in v201/catalog.yaml" in output


class _Options:
    """The options `settings_from` reads, as pytest.Config.getoption gives them."""

    def __init__(self, **given: object) -> None:
        self.values = {"--cb-listen": "127.0.0.1:9000", "--cb-ocpp": "2.0.1", **given}

    def getoption(self, name: str, default: object = None) -> object:
        return self.values.get(name, default)


def test_role_names_and_profiles_per_version(capsys):
    """`cs` is the 2.0.1 station and `cp` is accepted for it; with 1.6, `cs` is refused (1.6
    ids ending in _CS test a Central System), by `conform` and by the plugin; profiles are
    those of the version."""
    from chargebench.cli import main
    from conformance.plugin import settings_from

    assert main(["conform", "--role", "cs"]) == 2
    assert "for OCPP 1.6 say --role cp" in capsys.readouterr().err
    for given, role in (("cp", "cs"), ("cs", "cs")):
        assert settings_from(_Options(**{"--cb-role": given})).role == role
    cases = [({"--cb-role": "cs", "--cb-ocpp": "1.6"}, "--cb-role cs names the OCPP 2.0.1"),
             ({"--cb-role": "cs", "--cb-profile": "firmware"}, "unknown ['firmware']"),
             ({"--cb-role": "cs", "--cb-capabilities": "x.yaml"}, "not read by the OCPP 2.0.1")]
    for given, message in cases:
        with pytest.raises(pytest.UsageError, match=re.escape(message)):
            settings_from(_Options(**given))
    chosen = settings_from(_Options(**{"--cb-role": "cs", "--cb-profile": "core,none"}))
    assert chosen.profiles == {"core", "none"} and chosen.ocpp == "2.0.1"
