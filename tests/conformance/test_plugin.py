"""The plugin stays out of the way without its options, and the catalogue matches the cases."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from conformance.catalog import Case, consistency_problems, load_catalog
from tests.conformance.helpers import CASES, ROOT


def _pytest(*args: str, env: dict | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, **(env or {})},
    )


def test_plugin_is_inert_without_options(tmp_path):
    """Without --cb-role an unrelated test run gets no summary, no files, no collection change."""
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")
    done = _pytest(str(tmp_path), "--rootdir", str(tmp_path), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "ChargeBench" not in done.stdout
    assert {p.name for p in tmp_path.iterdir()} - {"__pycache__"} == {"test_plain.py"}
    helped = _pytest("--help", cwd=tmp_path)
    assert "--cb-role" in helped.stdout, "the plugin was not loaded at all"


def test_cases_skip_without_role():
    """The cases themselves do nothing unless --cb-role is given."""
    done = _pytest(str(CASES), "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" not in done.stdout.splitlines()[-1]
    assert "skipped" in done.stdout.splitlines()[-1]


@pytest.mark.parametrize("role", ["csms", "cp"])
def test_catalogue_and_cases_match(tmp_path, role):
    """Every catalogue entry of a role has exactly one case and every case an entry."""
    dump = tmp_path / "items.json"
    done = _pytest(
        str(CASES), "--collect-only", "-q", "--cb-role", role, "--cb-target", "ws://x",
        "-p", "tests.conformance.octt_dump", env={"CB_OCTT_DUMP": str(dump)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [(case_id, role, nodeid) for case_id, roles, nodeid in json.loads(dump.read_text())
                 if role in roles]
    assert collected, "no case collected"
    catalog = {key: case for key, case in load_catalog().items() if key[1] == role}
    assert consistency_problems(catalog, collected) == []


def test_consistency_check_reports_both_directions():
    """A case missing from the catalogue, a duplicate and an untested entry are all reported."""
    catalog = {
        ("TC_001", "cp"): Case("TC_001", "cp", "Cold boot", "core", "§4.2"),
        ("TC_002", "cp"): Case("TC_002", "cp", "Pending", "core", "§4.2"),
    }
    problems = consistency_problems(catalog, [
        ("TC_001", "cp", "a"), ("TC_001", "cp", "b"), ("TC_999", "cp", "c"),
    ])
    assert problems == [
        "b: TC_001 (cp) already tested by a",
        "c: TC_999 (cp) is not in catalog.yaml",
        "TC_002_CP has no test",
    ]


def test_unknown_case_id_is_a_usage_error(tmp_path):
    """A case whose octt id is not in the catalogue stops the run (exit code 4)."""
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "test_stray.py").write_text(
        "import pytest\n\n@pytest.mark.octt('TC_999')\ndef test_stray():\n    pass\n"
    )
    junit = tmp_path / "junit.xml"
    done = _pytest(str(cases), "--cb-role", "cp", "--rootdir", str(tmp_path),
                   f"--junitxml={junit}", cwd=tmp_path)
    assert done.returncode == 4
    assert "TC_999 (cp) is not in catalog.yaml" in done.stdout + done.stderr
    (error,) = ET.parse(junit).getroot().iter("error")  # and in the JUnit file CI reads
    assert error.get("message") == "TC_999 (cp) is not in catalog.yaml"


@pytest.mark.slow
def test_collection_error_is_an_error_verdict_and_fails_the_run(tmp_path):
    """A case module that does not import is what pytest's own junitxml makes of it, a
    `<testcase>` with `<error>`, also broken in Allure and under `errors` in summary.json; it is
    not a signal ("interrupted by SIGINT"), and `conform` exits 2 (environment), not 130; the
    cases beside it do not run. A bad --cb-* option is the same kind of error, before any case."""
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "test_ok.py").write_text(
        "import pytest\n\n@pytest.mark.octt('RPC_001')\ndef test_pass():\n    pass\n")
    (cases / "test_broken.py").write_text("import no_such_module_of_chargebench\n")
    out = tmp_path / "out"
    done = _pytest(str(cases), "--cb-role", "cp", "--rootdir", str(tmp_path),
                   f"--junitxml={out / 'junit.xml'}", "--cb-results", str(out),
                   f"--alluredir={out / 'allure'}", cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 4, output  # pytest's usage/environment code; `conform`: 2
    assert "interrupted by SIGINT" not in output and "1 passed" not in output, output
    root = ET.parse(out / "junit.xml").getroot()
    assert (root.get("tests"), root.get("errors")) == ("1", "1")
    (case,) = root.iter("testcase")
    assert case.get("name") == "cases/test_broken.py"
    assert case.find("error").get("message") == (
        "ModuleNotFoundError: No module named 'no_such_module_of_chargebench'")
    (result,) = [json.loads(p.read_text()) for p in (out / "allure").glob("*-result.json")]
    assert (result["name"], result["status"]) == ("cases/test_broken.py", "broken")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cases"] == [] and [e["nodeid"] for e in summary["errors"]] == [
        "cases/test_broken.py"]

    results = tmp_path / "conform"
    run = _conform("--role", "cp", "--results", str(results), "--", str(cases / "test_broken.py"),
                   cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 2, output[-3000:]
    assert "Traceback" not in output.split("short test summary")[-1]
    (error,) = ET.parse(results / "junit.xml").getroot().iter("error")
    assert "no_such_module_of_chargebench" in error.get("message")

    run = _conform("--role", "cp", "--results", str(results), "--", "--cb-profile", "nope",
                   cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 2 and "--cb-profile: unknown ['nope']" in output, output[-3000:]
    (error,) = ET.parse(results / "junit.xml").getroot().iter("error")  # not the stale file
    assert error.get("message") == "--cb-profile: unknown ['nope']"
    assert json.loads((results / "summary.json").read_text())["problem"] == error.get("message")


@pytest.mark.parametrize("argv", [
    ["conform", "--role", "cp", "--self", "--self-profile", "2"],
    ["conform", "--role", "csms", "--self-profile", "1"],
])
def test_self_profile_only_with_the_self_csms(argv, capsys):
    """`--self-profile` configures the built-in CSMS: anywhere else it is a usage error (2)."""
    from chargebench.cli import main

    assert main(argv) == 2
    assert "--self-profile goes with --role csms --self" in capsys.readouterr().err


def _conform(*args: str, cwd, env: dict | None = None, **popen) -> subprocess.Popen:
    """`chargebench conform ARGS` in a subprocess from `cwd`, on this checkout's code."""
    return subprocess.Popen(
        [sys.executable, "-m", "chargebench", "conform", *args], cwd=cwd, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, **popen,
    )


@pytest.mark.slow
def test_same_verdicts_from_any_directory(tmp_path):
    """From a directory that is not the project's, under an ini file that is not ours (no
    asyncio settings, --strict-markers), `conform --role csms --self` gives the same verdicts
    as in the repository: no case fails ("async def functions are not natively supported")."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\n")
    results = tmp_path / "results"
    done = _conform("--role", "csms", "--self", "--results", str(results), "--",
                    "-q", "-c", str(tmp_path / "pytest.ini"), cwd=tmp_path,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = done.communicate(timeout=150)
    assert done.returncode == 0, output[-4000:]
    cases = json.loads((results / "summary.json").read_text())["cases"]
    outcomes = {case["case"]: case["outcome"] for case in cases}
    expected = {case.full_id for (_, role), case in load_catalog().items() if role == "csms"}
    assert expected <= set(outcomes), sorted(expected - set(outcomes))
    assert set(outcomes.values()) <= {"passed", "not_applicable"}, outcomes
    assert "not natively supported" not in output
    # Allure (`reports.allure`): OCTT id and title as the name, a step per expectation, the
    # trace attached (JSON Lines, as the run wrote it), and what was tested in the environment
    allure = results / "allure"
    tested = [json.loads(path.read_text()) for path in allure.glob("*-result.json")]
    tc_003 = next(r for r in tested if r["name"].startswith("TC_003_CS "))
    assert tc_003["name"] == "TC_003_CS Regular Charging Session – Plugin First"
    assert any(step["name"].startswith("StartTransaction") for step in tc_003["steps"])
    (attachment,) = tc_003["attachments"]
    trace = [json.loads(line) for line in (allure / attachment["source"]).read_text().splitlines()]
    replies = [r for r in trace if r["type"] == "CALLRESULT"]
    assert replies and all(r["action"] and r["latency_ms"] is not None for r in replies)
    environment = (allure / "environment.properties").read_text()
    for key in ("target=ws\\://127.0.0.1", "role=csms under test", "ocpp.version=1.6J",
                "profiles="):
        assert key in environment, environment


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_end_the_run_after_writing_what_finished(tmp_path, signum, code):
    """Ctrl-C gives exit 130, SIGTERM 143, and JUnit and summary.json are written first; the
    output ends with one line naming the signal, with no traceback-like noise."""
    from conformance.background import BackgroundLoop
    from tests.conformance.peers import inert_csms

    results = tmp_path / "results"
    log = tmp_path / "output.txt"
    with BackgroundLoop() as loop, log.open("w") as out:
        server = loop.run(inert_csms())  # upgrades, then never answers: cases wait
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        run = _conform("--role", "csms", "--csms", url, "--results", str(results), "--",
                       "--cb-timeout", "5", cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120  # a loaded machine starts pytest slowly
            while "test_rpc.py" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "test_rpc.py" in log.read_text(), "the first case never started"
            run.send_signal(signum)  # while the first case runs
            assert run.wait(60) == code, log.read_text()[-3000:]
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    assert (results / "junit.xml").is_file()
    assert "role" in json.loads((results / "summary.json").read_text())
    output = log.read_text()
    for noise in ("KeyboardInterrupt", "Task was destroyed", "Traceback", "runners.py"):
        assert noise not in output, output[-3000:]
    name = signal.Signals(signum).name
    assert re.search(rf"interrupted by {name}: \d+ of \d+ cases finished; results in ",
                     output), output[-3000:]


def test_conform_options_name_the_target_and_its_credentials(tmp_path):
    """--csms names the CSMS (a dead one: exit 1, one line saying so); --target still works
    with a deprecation note; --ca must exist; --csms and --self exclude each other."""
    from tests.conformance.helpers import free_port

    url = f"ws://127.0.0.1:{free_port()}/ocpp"
    for flag in ("--csms", "--target"):
        run = _conform("--role", "csms", flag, url, "--results", str(tmp_path / flag),
                       "--admin-token", "T", cwd=tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
        output, _ = run.communicate(timeout=60)
        assert run.returncode == 1, output[-3000:]
        assert f"could not connect to {url}/CB-CONFORM-1: connection refused" in output
        assert ("--target is deprecated: use --csms" in output) is (flag == "--target")
    for args, message in [
        (["--csms", url, "--ca", str(tmp_path / "missing.pem")], "no such file"),
        (["--csms", url, "--self"], "not both"),
    ]:
        run = _conform("--role", "csms", *args, cwd=tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
        output, _ = run.communicate(timeout=60)
        assert run.returncode == 2 and message in output, output


@pytest.mark.parametrize("role", ["csms", "cp"])
def test_octt_id_selects_the_case_in_either_role(role):
    """Every test id carries its OCTT id (`test_cold_boot[TC_001]`), so `-k TC_003` selects
    TC_003 and nothing else in either role, and `-k RPC_016` the shared robustness case."""
    for case in ("TC_003", "RPC_016"):
        done = _pytest(str(CASES), "--collect-only", "-q", "--cb-role", role,
                       "--cb-target", "ws://x", "-k", case)
        selected = [line for line in done.stdout.splitlines() if "::" in line]
        assert len(selected) == 1 and selected[0].endswith(f"[{case}]"), done.stdout


@pytest.mark.parametrize("role, cases", [("csms", "RPC_001"),
                                         ("cp", "TC_001 or TC_044 or TC_074")])
def test_self_run_leaves_no_temporary_folder(tmp_path, role, cases):
    """`conform --self` removes what it made at exit: the self peer's work folder (PKI, seed,
    database, simulator state), the file host's (firmware, diagnostics: TC_044) and the
    security kit's (TC_074): nothing named cb-* stays in TMPDIR (a fresh one here)."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    run = _conform("--role", role, "--self", "--results", str(tmp_path / "results"), "--",
                   "-k", cases, cwd=tmp_path, env={"TMPDIR": str(tmpdir)},
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = run.communicate(timeout=180)
    assert run.returncode == 0, output[-3000:]
    assert "passed" in output, output[-3000:]
    assert not list(tmpdir.glob("cb-*")), list(tmpdir.iterdir())


def test_junit_and_allure_come_from_the_projects_writers(tmp_path):
    """--junitxml and --alluredir with --cb-role: the verdicts go through `reports.junit` (case
    id and title as the name, the profile as classname; failure, error and skipped elements CI
    servers read) and `reports.allure` (one result per case, none from allure-pytest), and
    reading the JUnit file back gives the summary's outcomes."""
    from reports.verdicts import read_junit

    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "test_few.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('no charger')\n\n"
        "@pytest.mark.octt('RPC_001')\ndef test_pass():\n    pass\n\n"
        "@pytest.mark.octt('RPC_002')\ndef test_fail():\n    assert False, 'expected X'\n\n"
        "@pytest.mark.octt('RPC_003')\ndef test_skip():\n    pytest.skip('no operator')\n\n"
        "@pytest.mark.octt('RPC_004')\ndef test_error(broken):\n    pass\n"
    )
    junit = tmp_path / "out" / "junit.xml"
    done = _pytest(str(cases), "--cb-role", "cp", "--rootdir", str(tmp_path),
                   f"--junitxml={junit}", "--cb-results", str(tmp_path / "out"),
                   f"--alluredir={tmp_path / 'allure'}", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    allure = {json.loads(p.read_text())["name"].split()[0]: json.loads(p.read_text())
              for p in (tmp_path / "allure").glob("*-result.json")}
    assert len(list((tmp_path / "allure").glob("*-result.json"))) == 4
    assert {name: result["status"] for name, result in allure.items()} == {
        "RPC_001_CP": "passed", "RPC_002_CP": "failed", "RPC_003_CP": "skipped",
        "RPC_004_CP": "broken"}
    assert "role=cp under test" in (tmp_path / "allure" / "environment.properties").read_text()
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) \
        == ("4", "1", "1", "1")
    by_name = {case.get("name").split()[0]: case for case in root.iter("testcase")}
    assert set(by_name) == {"RPC_001_CP", "RPC_002_CP", "RPC_003_CP", "RPC_004_CP"}
    assert by_name["RPC_001_CP"].get("classname") == "ocppj"
    assert "expected X" in by_name["RPC_002_CP"].find("failure").get("message")
    assert by_name["RPC_003_CP"].find("skipped").get("message") == "no operator"
    assert by_name["RPC_004_CP"].find("error") is not None
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    back = {case.name.split()[0]: case.outcome for case in read_junit(junit).cases}
    assert back == {f"{c['case']}": ("failed" if c["outcome"] == "error" else c["outcome"])
                    for c in summary["cases"]}
