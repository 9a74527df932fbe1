"""`chargebench sim` as a user runs it (issue 14.2, 14.4): real subprocesses, real ports, real
signals; exit codes and the lines a user reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from http import HTTPStatus

import pytest

from chargebench.ocppj import serve
from chargebench.ports import listen_port

#: Wall seconds a `chargebench sim` process may take beyond what it was asked to run.
SLACK = 20.0


def _dead_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    return listen_port()  # outside the ephemeral range: the sim's retries never self-connect


async def _sim(*args: str, wait: float = SLACK) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "sim", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), wait)
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(("url", "says"), [
    ("http://127.0.0.1:9000/ocpp", "ws:// or wss://"),
    ("ws://127.0.0.1:99999/ocpp", "Port out of range"),
    ("ws:///ocpp", "names no host"),
    ("wss://127.0.0.1:9000/ocpp", "needs --ca FILE"),
])
async def test_bad_url_is_one_line_exit_2(url, says):
    """A URL `chargebench sim` cannot use: one line on stderr, exit 2, nothing started."""
    code, out, err = await _sim("--csms", url, wait=30)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "Traceback" not in err and out == ""


async def test_refused_counted_duration_from_start_json():
    """Against a dead port: plain status lines (stdout is no terminal) name the reason, the run
    ends `--duration` after the start although nothing ever booted, the JSON summary counts the
    charge points by reason, exit 1."""
    started = time.monotonic()
    code, out, err = await _sim("--csms", f"ws://127.0.0.1:{_dead_port()}/ocpp", "--count",
                                "4", "--duration", "3", "--json")
    elapsed = time.monotonic() - started
    assert code == 1, err
    assert elapsed < 3 + SLACK
    summary = json.loads(out)
    assert summary["not_booted"] == {"connection refused": 4}
    assert summary["booted"] == 0 and summary["stopped_by"] == "duration"
    assert 2.5 <= summary["elapsed_s"] < 6, summary
    assert "not booted: connection refused 4" in err  # the live status (stderr with --json)


async def _rejecting_server(status: HTTPStatus):
    def refuse(connection, _request):
        return connection.respond(status, f"{status.phrase}\n")

    async def never(_ws) -> None:  # pragma: no cover - the handshake never completes
        return None

    return await serve(never, "127.0.0.1", 0, process_request=refuse)


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND])
async def test_http_refusal_is_a_reason(status):
    """A CSMS that answers the upgrade with 401 or 404: "HTTP 401" / "HTTP 404" per charger,
    in the status lines and the summary."""
    server = await _rejecting_server(status)
    port = server.sockets[0].getsockname()[1]
    try:
        code, out, err = await _sim("--csms", f"ws://127.0.0.1:{port}/ocpp", "--count", "2",
                                    "--duration", "2")
    finally:
        server.close()
        await server.wait_closed()
    assert code == 1, err
    assert f"not booted: HTTP {status.value} 2" in out, out
    assert f"not booted: HTTP {status.value}" in err  # the summary table


async def test_tls_failure_is_a_reason(tmp_path):
    """A wss:// CSMS whose certificate the given --ca did not sign: "TLS: certificate verify
    failed" per charger, at profile 2 and with the default (profile 0) configuration alike."""
    from chargebench.security import init_pki, server_ssl_context
    from sim.config import DEFAULT_CONFIG

    pki, other = init_pki(tmp_path / "pki", cpo_name="A"), init_pki(tmp_path / "o", cpo_name="B")
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["Security"] = {"SecurityProfile": 2, "AuthorizationKey": "0" * 32}
    secure = tmp_path / "profile2.json"
    secure.write_text(json.dumps(config))
    server = await serve(lambda _ws: asyncio.sleep(0), "127.0.0.1", 0,
                         ssl=server_ssl_context(pki.csms_cert, pki.csms_key))
    url = f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
    try:
        code, out, err = await _sim("--csms", url, "--config", str(secure), "--ca",
                                    str(other.ca_cert), "--count", "2", "--duration", "2")
        code0, out0, err0 = await _sim("--csms", url, "--ca", str(other.ca_cert), "--count",
                                       "2", "--duration", "2")
    finally:
        server.close()
        await server.wait_closed()
    assert code == 1, err
    assert "not booted: TLS: certificate verify failed 2" in out, out
    assert code0 == 1, err0
    assert "not booted: TLS: certificate verify failed 2" in out0, out0


@contextlib.asynccontextmanager
async def _builtin_csms(tmp_path, *options: str):
    """`chargebench csms` as a process on a free port (unknown chargers accepted, its
    default); yields the OCPP base URL it prints. SIGTERM and a bounded wait at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "csms", "--port", "0", "--db",
        str(tmp_path / "csms.db"), "--log-dir", str(tmp_path / "logs"), *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), SLACK)).decode()
        assert line.startswith("OCPP endpoint: "), line
        yield line.removeprefix("OCPP endpoint: ").strip().removesuffix("{chargePointId}")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), SLACK)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_wss_url_at_profile_0_is_tls(tmp_path):
    """`--csms wss://... --ca CA` with the default configuration (SecurityProfile 0) against
    a TLS-only CSMS that admits everyone: the URL is used as given (TLS, no Basic auth, no
    client certificate), every charger boots; it was silently turned into ws:// before and
    failed with "handshake: InvalidMessage"."""
    from chargebench.security import init_pki

    pki = init_pki(tmp_path / "pki", cpo_name="A")
    async with _builtin_csms(tmp_path, "--tls-cert", str(pki.csms_cert),
                             "--tls-key", str(pki.csms_key)) as url:
        assert url.startswith("wss://"), url
        code, out, err = await _sim("--csms", url, "--ca", str(pki.ca_cert), "--count", "3",
                                    "--duration", "4", "--json", wait=4 + SLACK)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["booted"] == 3 and summary["not_booted"] == {}, summary
    assert "all 3 booted" in err


def test_endpoint_keeps_explicit_wss():
    """The scheme: an explicit wss:// stays, whatever the profile; ws:// and a URL without
    scheme (libocpp's CentralSystemURI) follow the profile, so a raise to 2 moves to TLS."""
    from sim.features.connection import endpoint, uses_tls
    from tests.sim.conftest import make_config

    for profile, url, expected in [
        (0, "wss://h:1/ocpp", "wss://h:1/ocpp/CP1"),
        (1, "wss://h:1/ocpp/", "wss://h:1/ocpp/CP1"),
        (0, "ws://h:1/ocpp", "ws://h:1/ocpp/CP1"),
        (2, "ws://h:1/ocpp", "wss://h:1/ocpp/CP1"),
        (0, "h:1/ocpp", "ws://h:1/ocpp/CP1"),
        (3, "h:1/ocpp", "wss://h:1/ocpp/CP1"),
    ]:
        security = {"SecurityProfile": profile, "AuthorizationKey": "0" * 32}
        config = make_config("CP1", Security=security)
        assert endpoint(config, url) == expected, (profile, url)
        assert uses_tls(config, url) == expected.startswith("wss://")


async def test_boot_time_with_a_slow_ramp(tmp_path):
    """50 chargers started 20 per second against the built-in CSMS: most are not started when
    the run begins to wait for the boots, yet `boot_s` is measured (no earlier than the ramp
    allows) and "all 50 booted" is said."""
    count, ramp = 50, 20
    async with _builtin_csms(tmp_path) as url:
        code, out, err = await _sim("--csms", url, "--count", str(count), "--ramp", str(ramp),
                                    "--duration", "15", "--json", wait=15 + SLACK)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["booted"] == count, summary
    assert isinstance(summary["boot_s"], float), summary
    assert (count - 1) / ramp <= summary["boot_s"] <= summary["elapsed_s"], summary
    assert f"all {count} booted in " in err, err


@pytest.mark.parametrize(("sig", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_signal_exit_after_summary(sig, expected, tmp_path):
    """Ctrl-C or SIGTERM: the summary with reasons is printed (not just "booted 0"), then exit
    130 / 143."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "sim", "--csms",
        f"ws://127.0.0.1:{_dead_port()}/ocpp", "--count", "3", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    line = await asyncio.wait_for(proc.stderr.readline(), SLACK)  # the first status line
    assert line.startswith(b"sim:"), line
    await asyncio.sleep(1.5)
    proc.send_signal(sig)
    out, err = await asyncio.wait_for(proc.communicate(), SLACK)
    assert proc.returncode == expected, err.decode()
    summary = json.loads(out)
    assert summary["stopped_by"] == sig.name
    assert summary["not_booted"] == {"connection refused": 3}
    assert b"Traceback" not in err


async def test_boots_against_scripted_csms_trace_dir_and_seed_alias(csms, tmp_path):
    """A CSMS that accepts: every charger boots, "all N booted" is said, `--trace DIR` gets the
    records, the deprecated `--seed` still works with one line on stderr; exit 0."""
    trace = tmp_path / "trace"
    code, out, err = await _sim("--csms", csms.url, "--count", "3", "--speed", "50",
                                "--duration", "100", "--trace", str(trace), "--seed", "4")
    assert code == 0, err
    assert "all 3 booted" in out
    assert err.count("--seed is deprecated, use --random-seed") == 1
    assert len(csms.sent("BootNotification")) == 3
    records = (trace / "sim-trace.jsonl").read_text().splitlines()
    assert any(json.loads(r)["action"] == "BootNotification" for r in records)


def test_trace_must_be_a_folder(tmp_path):
    """`--trace` names a folder now; a file there is a usage error, not an overwrite."""
    from chargebench.cli import main

    existing = tmp_path / "trace.jsonl"
    existing.write_text("")
    assert main(["sim", "--csms", "ws://127.0.0.1:1/ocpp", "--trace", str(existing)]) == 2
    assert os.path.getsize(existing) == 0


@pytest.mark.parametrize(("error", "reason"), [
    (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
    (TimeoutError(), "timeout"),
    (ValueError("SecurityProfile 2 needs a CA file (TlsFiles)"), "wss without --ca"),
    (socket.gaierror(-2, "Name or service not known"), "unknown host"),
    (ConnectionError("ws://x: server agreed to no OCPP subprotocol"),
     "no OCPP subprotocol agreed"),
])
def test_failure_reason_labels(error, reason):
    """The labels a fleet counts its charge points by, for the failures a socket gives."""
    from sim.features.connection import failure_reason

    assert failure_reason(error) == reason
