"""`chargebench run` and `demo` as a user runs them: --check errors, real signals, no leftovers.

Every test starts the real command in a subprocess with TMPDIR pointed into its own folder, so
"no /tmp/chargebench-* left behind" is checked on exactly what that command created.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scenarios.loader import LIBRARY

BROKEN = Path(__file__).parent / "broken"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chargebench", *args]


def environment(tmp: Path) -> dict[str, str]:
    (tmp / "tmp").mkdir(exist_ok=True)
    return {**os.environ, "COLUMNS": "200", "TMPDIR": str(tmp / "tmp")}


def leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in (tmp / "tmp").iterdir() if p.name.startswith("chargebench-"))


def run(*args: str, tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), capture_output=True, text=True,
                          timeout=timeout, env=environment(tmp))


@pytest.mark.parametrize(("name", "wanted"), [
    ("misspelt_action", "steps[1].send.action: unknown OCPP 1.6 action 'StartTransactoin' "
                        "(did you mean StartTransaction?)"),
    ("misspelt_payload_key", "steps[1].send.payload.idTga: StartTransaction.req has no field "
                             "'idTga' (did you mean idTag?)"),
    ("undefined_variable", "${transaction} is not defined (define it in variables:, capture "
                           "it or set: it)"),
])
def test_check_refuses_what_would_fail_later(name, wanted, tmp_path):
    """`run --check` exits 2 with FILE:LINE:COL for a misspelt action, a misspelt payload
    field and an undefined variable (it said "ok" to all three before)."""
    path = BROKEN / f"{name}.yaml"
    done = run("run", "--check", str(path), tmp=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith(str(path))]
    assert any(line.split(": ", 1)[1] == wanted for line in lines), done.stderr
    assert all(line.split(":")[1].isdigit() and line.split(":")[2].isdigit() for line in lines)
    assert "Traceback" not in done.stderr and not done.stdout.startswith("ok")


def test_check_accepts_the_library(tmp_path):
    """No false alarm: every library scenario (includes, captures, ${files.*}, ${pki.*}) passes."""
    files = sorted(str(p) for p in LIBRARY.glob("*.yaml"))
    done = run("run", "--check", *files, tmp=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sum(line.startswith("ok ") for line in done.stdout.splitlines()) == len(files)


def test_run_without_workdir_leaves_no_temporary_folder(tmp_path):
    """The built-in CSMS's database, logs and charge point state live in a temporary folder
    that is gone when the command ends."""
    done = run("run", str(LIBRARY / "cold_boot_accepted.yaml"), tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert leftovers(tmp_path) == []


def interrupt(args: list[str], tmp: Path, wait_for: str, signum: int
              ) -> tuple[int, str, str]:
    """Start `chargebench ARGS`, send `signum` once `wait_for` appeared on stdout, and return
    (exit code, stdout, stderr)."""
    process = subprocess.Popen(command(*args), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=environment(tmp))
    seen = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        for line in process.stdout:
            seen.append(line)
            if wait_for in line:
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            pytest.fail("ended before the line to interrupt at:\n" + "".join(seen))
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, "".join(seen) + out, err


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_writes_what_finished(signum, code, tmp_path):
    """Ctrl-C or a CI cancel while the second scenario runs: the first scenario's verdict is
    in the JUnit file and the summary, the second is marked interrupted, exit 130/143, and no
    temporary folder is left."""
    junit = tmp_path / "junit.xml"
    returncode, out, err = interrupt(
        ["run", str(LIBRARY / "cold_boot_accepted.yaml"), str(LIBRARY / "fleet_day_small.yaml"),
         str(LIBRARY / "remote_start_stop.yaml"), "--junit", str(junit)],
        tmp_path, "small mixed fleet", signum)
    name = signal.Signals(signum).name
    assert returncode == code, out + err
    assert "Traceback" not in err
    cases = ET.parse(junit).getroot().findall("testcase")
    assert [case.get("name") for case in cases] == ["cold boot - accepted",
                                                   "small mixed fleet - one simulated day"]
    assert not list(cases[0])  # passed
    error = cases[1].find("error")
    assert error is not None and error.get("message") == f"interrupted by {name}"
    assert f"INTERRUPTED small mixed fleet - one simulated day: interrupted by {name}" in out
    assert f"interrupted by {name}: 1 of 3 scenario(s) finished" in out
    assert leftovers(tmp_path) == []


def test_interrupted_demo_writes_what_finished(tmp_path):
    """`chargebench demo` stopped by SIGTERM: JUnit of the finished scenarios, exit 143."""
    out_dir = tmp_path / "demo"
    returncode, out, err = interrupt(["demo", "--out", str(out_dir)], tmp_path,
                                     "charging session - authorize first", signal.SIGTERM)
    assert returncode == 143, out + err
    assert "Traceback" not in err
    cases = ET.parse(out_dir / "junit.xml").getroot().findall("testcase")
    assert len(cases) >= 3 and cases[0].get("name") == "cold boot - accepted"
    assert [c.get("name") for c in cases if c.find("error") is not None] == [cases[-1].get("name")]
    assert "interrupted by SIGTERM" in out
    assert leftovers(tmp_path) == []


def test_demo_without_out_leaves_no_temporary_folder(tmp_path):
    """Without --out the demo's files go to a temporary folder that is removed at exit, and
    the panel says how to keep them."""
    done = run("demo", "--only", "cold_boot_accepted", tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--out DIR keeps" in done.stdout
    assert leftovers(tmp_path) == []


def test_demo_with_unwritable_out_is_a_usage_error(tmp_path):
    """--out where nothing can be written: one line on stderr, exit 2, nothing run."""
    done = run("demo", "--out", "/proc/chargebench-demo", "--only", "cold_boot_accepted",
               tmp=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--out /proc/chargebench-demo" in done.stderr
    assert "built-in CSMS listening" not in done.stdout
    assert leftovers(tmp_path) == []
