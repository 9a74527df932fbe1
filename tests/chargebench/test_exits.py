"""Every command keeps the exit promise as a user meets it: real processes, real ports, real
signals. 0 ok, 1 a verdict failed, 2 usage/environment with one line saying what to do,
130 on SIGINT, 143 on SIGTERM, and never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def chargebench(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chargebench", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=_env())


def _env() -> dict[str, str]:
    """The checkout importable from any cwd (tests run from a temporary folder)."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.pop("CHARGEBENCH_ADMIN_TOKEN", None)
    return env


def one_line(done: subprocess.CompletedProcess) -> str:
    """The single stderr line of a usage/environment error (and no traceback anywhere)."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def busy_port():
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_csms_port_in_use_is_exit_2_naming_the_option(tmp_path, busy_port):
    done = chargebench("csms", "--port", str(busy_port), cwd=tmp_path)
    assert done.returncode == 2
    line = one_line(done)
    assert f"--port {busy_port}" in line and "in use" in line


def test_csms_api_port_in_use_is_exit_2_naming_the_option(tmp_path, busy_port):
    done = chargebench("csms", "--port", "0", "--api-port", str(busy_port), "--admin-token",
                       "t", cwd=tmp_path)
    assert done.returncode == 2  # uvicorn's own exit was 3 with its log lines
    line = one_line(done)
    assert f"--api-port {busy_port}" in line and "in use" in line


def test_csms_bad_port_is_exit_2_one_line(tmp_path):
    done = chargebench("csms", "--port", "99999", cwd=tmp_path)
    assert done.returncode == 2
    assert "99999 is not a port number" in one_line(done)


def test_csms_unreadable_seed_is_exit_2_one_line(tmp_path):
    done = chargebench("csms", "--port", "0", "--seed-file", "nope.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.yaml: no such file" in one_line(done)


def _start(args: list[str], cwd: Path, ready: str, timeout: float = 60
           ) -> tuple[subprocess.Popen, str]:
    """Start `chargebench ARGS`; wait for a stdout line containing `ready` and return it."""
    process = subprocess.Popen([sys.executable, "-m", "chargebench", *args], cwd=cwd,
                               env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if ready in line:
            return process, line.strip()
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"no {ready!r}: {process.communicate()[1]}")


async def _boot(url: str) -> str:
    """One BootNotification over a real websocket; the CSMS's reply frame."""
    import websockets

    async with websockets.connect(url, subprotocols=["ocpp1.6"], compression=None) as ws:
        await ws.send('[2,"1","BootNotification",{"chargePointVendor":"V",'
                      '"chargePointModel":"M"}]')
        return str(await ws.recv())


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_csms_stops_on_a_signal_with_its_code(tmp_path, sig, code):
    """The CSMS serves until a signal; its exit code says which one, and the charger logs go
    beside the database, not into the folder it was started from."""
    import asyncio

    (tmp_path / "data").mkdir()
    process, line = _start(["csms", "--port", "0", "--db", str(tmp_path / "data" / "c.db")],
                           tmp_path, "OCPP endpoint")
    try:
        url = line.split(": ", 1)[1].replace("{chargePointId}", "CP1")
        reply = asyncio.run(asyncio.wait_for(_boot(url), 30))
        assert reply.startswith('[3,"1"'), reply
    finally:
        process.send_signal(sig)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert "Traceback" not in err
    assert (tmp_path / "data" / "c-logs" / "charger.CP1.log").is_file()
    assert not (tmp_path / "logs").exists()


def test_load_against_a_dead_csms_fails_with_the_reasons(tmp_path):
    """Nothing listens: no request can succeed, so the verdict is FAIL (exit 1), never PASS,
    and the first failure reasons are shown."""
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        done = chargebench("load", "--csms", f"ws://127.0.0.1:{port}/ocpp", "-u", "2", "-r", "10",
                           "-t", "6s", cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "PASS" not in done.stdout
    fail = next(line for line in done.stdout.splitlines() if line.startswith("FAIL: "))
    assert "connection attempts failed" in fail and "no request succeeded" in fail
    assert "Connection refused" in done.stdout
    assert "Traceback" not in done.stderr


def test_load_deprecated_host_still_works_with_one_warning(tmp_path):
    done = chargebench("load", "--host", "http://x", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == ("chargebench: warning: --host is deprecated, "
                                           "use --csms")
    assert "--csms must be a ws:// or wss:// URL, not 'http://x'" in done.stderr.splitlines()[1]


def test_load_builtin_csms_sigterm_is_143_with_the_stats_so_far(tmp_path):
    """SIGTERM (a CI cancel) to `load --builtin-csms`: Locust is stopped, the stats so far are
    printed, exit 143, no traceback from us, Locust or the CSMS child, no temp folder left."""
    prefix = tmp_path / "run"
    env = _env()
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    load = subprocess.Popen(
        [sys.executable, "-m", "chargebench", "load", "--builtin-csms", "-u", "2", "-r", "2",
         "-t", "120s", "--csv", str(prefix), "--", "--heartbeat-interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    try:
        history = Path(f"{prefix}_stats_history.csv")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
                not history.exists() or len(history.read_text().splitlines()) < 3):
            time.sleep(0.2)
        load.send_signal(signal.SIGTERM)
        out, err = load.communicate(timeout=60)
    finally:
        if load.poll() is None:
            load.kill()
    assert load.returncode == 143, out + err
    assert "INTERRUPTED" in out and "Heartbeat" in out
    assert "Traceback" not in err
    assert list((tmp_path / "tmp").iterdir()) == []


def test_report_on_a_file_that_is_not_a_trace_is_exit_2_with_file_and_line(tmp_path):
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"\x7fELF\x02\x01 binary\nsecond line\n")
    done = chargebench("report", str(garbage), "-o", str(tmp_path / "r.html"), cwd=tmp_path)
    assert done.returncode == 2
    assert one_line(done).startswith(f"chargebench: error: {garbage}:1: not JSON")
    assert not (tmp_path / "r.html").exists()


def test_report_to_an_unwritable_place_is_exit_2(tmp_path):
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"ts":"2026-01-01T00:00:00Z","cp_id":"CP1","dir":"cp->cs","type":"CALL",'
                     '"id":"1","action":"Heartbeat","payload":{},"latency_ms":null,'
                     '"session":"1"}\n')
    done = chargebench("report", str(trace), "-o", "/proc/x/report.html", cwd=tmp_path)
    assert done.returncode == 2
    assert "cannot write /proc/x/report.html" in one_line(done)


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])
def test_report_stopped_by_a_signal_while_reading(tmp_path, sig, code, word):
    """A report reading a trace that is still being written (a FIFO here, so the moment is
    certain: the signal comes while it waits for more lines) stops with the signal's code."""
    folder = tmp_path / "traces"
    folder.mkdir()
    fifo = folder / "live.jsonl"
    os.mkfifo(fifo)
    report = subprocess.Popen([sys.executable, "-m", "chargebench", "report", str(folder)],
                              cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    writer = None
    try:
        deadline = time.monotonic() + 60
        while writer is None and time.monotonic() < deadline:
            try:  # succeeds once the report has opened the FIFO for reading
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.05)
        assert writer is not None, "the report never opened the trace"
        os.write(writer, b'{"ts":"2026-01-01T00:00:00Z","cp_id":"CP1","dir":"cp->cs",'
                         b'"type":"CALL","id":"1","action":"Heartbeat","payload":{},'
                         b'"latency_ms":null,"session":"1"}\n')
        time.sleep(0.3)
        report.send_signal(sig)
        _out, err = report.communicate(timeout=30)
    finally:
        if writer is not None:
            os.close(writer)
        if report.poll() is None:
            report.kill()
    assert report.returncode == code, err
    assert err.strip() == f"chargebench: {word}"


def test_run_with_an_unwritable_junit_is_exit_2_before_running(tmp_path):
    done = chargebench("run", "--library", "cold_boot_accepted", "--junit", "/proc/x.xml",
                       cwd=tmp_path)
    assert done.returncode == 2
    assert "--junit /proc/x.xml: cannot write" in one_line(done)
    assert "cold boot" not in done.stdout  # nothing ran


def test_run_with_an_unknown_library_name_is_exit_2(tmp_path):
    done = chargebench("run", "--library", "no_such_scenario", cwd=tmp_path)
    assert done.returncode == 2
    assert "no scenario no_such_scenario in the library" in one_line(done)


def test_load_with_an_unwritable_csv_is_exit_2_before_locust(tmp_path):
    done = chargebench("load", "--csms", "ws://127.0.0.1:9/ocpp", "--csv", "/proc/x/run",
                       cwd=tmp_path)
    assert done.returncode == 2
    assert "--csv /proc/x/run_stats.csv: cannot write" in one_line(done)


@pytest.mark.parametrize("db", ["/proc/x.db", "FOLDER"])
def test_csms_unusable_db_is_exit_2_one_line(tmp_path, db):
    db = str(tmp_path) if db == "FOLDER" else db
    done = chargebench("csms", "--port", "0", "--db", db, cwd=tmp_path, timeout=30)
    assert done.returncode == 2  # was sqlite3's traceback, exit 1
    line = one_line(done)
    assert f"--db {db}" in line and ("cannot write" in line or "is a directory" in line)


def test_csms_unwritable_log_dir_is_exit_2_at_start(tmp_path):
    done = chargebench("csms", "--port", "0", "--db", str(tmp_path / "c.db"), "--log-dir",
                       "/proc/nolog", cwd=tmp_path, timeout=30)
    assert done.returncode == 2  # it used to start, then fail every charger connection
    line = one_line(done)
    assert "--log-dir" in line and "/proc/nolog" in line
    assert "OCPP endpoint" not in done.stdout


@pytest.mark.parametrize("command, option", [
    (["run", "--library", "cold_boot_accepted"], "--workdir"),
    (["demo"], "--out"),
    (["conform", "--role", "csms", "--csms", "ws://127.0.0.1:9/ocpp"], "--results"),
])
def test_unwritable_output_folder_is_exit_2_before_running(tmp_path, command, option):
    done = chargebench(*command, option, "/proc/out", cwd=tmp_path)
    assert done.returncode == 2  # was a FileNotFoundError traceback / pytest INTERNALERROR (3)
    assert f"{option} /proc/out: cannot write" in one_line(done)


@pytest.mark.parametrize("url, why", [
    ("ws://127.0.0.1:99999/ocpp", "Port out of range"),
    ("http://127.0.0.1:9000/ocpp", "must be a ws:// or wss:// URL"),
    ("ws:///ocpp", "names no host"),
])
@pytest.mark.parametrize("command", [
    ["sim"], ["run", "--library", "cold_boot_accepted"], ["load", "-t", "1s"],
    ["conform", "--role", "csms"],
])
def test_bad_csms_url_is_exit_2_one_line_everywhere(tmp_path, command, url, why):
    done = chargebench(*command, "--csms", url, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert "--csms" in line and why in line


def test_run_against_a_dead_csms_says_why_it_failed(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on (bound, never listening)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        done = chargebench("run", "--library", "cold_boot_accepted", "--csms",
                           f"ws://127.0.0.1:{port}/ocpp", cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stderr  # a failed run against the target
    assert "Traceback" not in done.stdout + done.stderr
    text = " ".join(done.stdout.split())  # rich wraps long lines
    assert f"could not connect to ws://127.0.0.1:{port}/ocpp/" in text
    assert "connection refused" in text
