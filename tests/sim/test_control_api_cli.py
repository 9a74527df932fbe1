"""`chargebench sim --ui PORT` as a user runs it: a real subprocess against the built-in CSMS
(in this process), its printed login link, its token options, a port in use (exit 2)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys

import httpx

from csms.central import CentralSystem

SLACK = 30.0


async def _start(*args: str, env: dict | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "sim", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


async def _line(proc: asyncio.subprocess.Process, pattern: str) -> re.Match:
    """The first stderr line matching `pattern` (within SLACK seconds)."""
    async with asyncio.timeout(SLACK):
        while line := (await proc.stderr.readline()).decode():
            if found := re.search(pattern, line):
                return found
    raise AssertionError(f"no line matching {pattern!r}")


async def _stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    out, _err = await asyncio.wait_for(proc.communicate(), SLACK)
    return proc.returncode, out.decode()


async def test_ui_prints_its_login_link_once_and_serves_the_fleet(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="accept") as csms:
        proc = await _start("--csms", csms.url().rstrip("/"), "--count", "2", "--ui", "0",
                            "--state-dir", str(tmp_path / "sim"),
                            env={"CHARGEBENCH_ADMIN_TOKEN": ""})
        try:
            link = await _line(proc, r"fleet UI: (http://127\.0\.0\.1:(\d+)/login\?token=(\S+))")
            url, port, token = link.group(1), link.group(2), link.group(3)
            async with httpx.AsyncClient(timeout=SLACK) as client:
                r = await client.get(url, follow_redirects=True)  # the link logs in
                assert r.status_code == 200 and "ChargeBench fleet" in r.text
                assert (await client.get(f"http://127.0.0.1:{port}/api/fleet",
                                         headers={"Authorization": "Bearer nope"})
                        ).status_code == 401
                async with asyncio.timeout(SLACK):
                    while True:  # the page's own session reads the fleet
                        fleet = (await client.get(f"http://127.0.0.1:{port}/api/fleet")).json()
                        if fleet["online"] == 2:
                            break
                        await asyncio.sleep(0.1)
                assert [c["id"] for c in fleet["chargers"]] == ["CB00001", "CB00002"]
                assert len(token) >= 20  # generated: neither flag nor variable gave one
        finally:
            code, _out = await _stop(proc)
        assert code == 130


async def test_token_from_the_environment(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="accept") as csms:
        proc = await _start("--csms", csms.url().rstrip("/"), "--ui", "0",
                            env={"CHARGEBENCH_ADMIN_TOKEN": "from-env"})
        try:
            link = await _line(proc, r"fleet UI: http://127\.0\.0\.1:(\d+)/login\?token=(\S+)")
            assert link.group(2) == "from-env"
            async with httpx.AsyncClient(timeout=SLACK) as client:
                r = await client.get(f"http://127.0.0.1:{link.group(1)}/api/fleet",
                                     headers={"Authorization": "Bearer from-env"})
                assert r.status_code == 200
        finally:
            await _stop(proc)


async def test_ui_port_in_use_is_one_line_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await _start("--csms", "ws://127.0.0.1:9/ocpp", "--ui", str(port))
        _out, err = await asyncio.wait_for(proc.communicate(), SLACK)
    assert proc.returncode == 2, err
    assert len(err.decode().strip().splitlines()) == 1 and f"--ui {port}" in err.decode()
    assert "Traceback" not in err.decode()


async def test_bad_ui_port_is_a_usage_error():
    proc = await _start("--csms", "ws://127.0.0.1:9/ocpp", "--ui", "70000")
    _out, err = await asyncio.wait_for(proc.communicate(), SLACK)
    assert proc.returncode == 2 and "not a port number" in err.decode()


HAND = """\
name: waits for a hand
speed: 1
steps:
  - boot:
  - expect:
      action: StatusNotification
      dir: cp->cs
      payload: {connectorId: 1, status: Preparing}
      within: 60s
"""


async def test_run_ui_drives_the_running_scenario(tmp_path):
    """`chargebench run --ui`: the page's API shows the running scenario's charge point, and
    the scenario passes only because the API plugged an EV in (its loop is not the UI's)."""
    scenario = tmp_path / "hand.yaml"
    scenario.write_text(HAND, encoding="utf-8")
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="accept") as csms:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chargebench", "run", str(scenario), "--csms",
            csms.url().rstrip("/"), "--workdir", str(tmp_path / "work"), "--ui", "0",
            "--admin-token", "run-token",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            link = await _line(proc, r"fleet UI: http://127\.0\.0\.1:(\d+)/login\?token=run-token")
            base = f"http://127.0.0.1:{link.group(1)}"
            async with httpx.AsyncClient(base_url=base, timeout=SLACK,
                                         headers={"Authorization": "Bearer run-token"}) as api:
                async with asyncio.timeout(SLACK):
                    while not (chargers := (await api.get("/api/fleet",
                                                          params={"online": "true"})
                                            ).json()["chargers"]):
                        await asyncio.sleep(0.1)
                cp_id = chargers[0]["id"]
                r = await api.post(f"/api/fleet/{cp_id}/actions/plug_in", json={})
                assert r.status_code == 200, r.text
                assert r.json()["charger"]["connectors"][0]["status"] == "Preparing"
            out, _err = await asyncio.wait_for(proc.communicate(), SLACK)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, out.decode()


async def test_demo_ui_prints_its_link_and_the_demo_still_passes(tmp_path):
    """`chargebench demo --ui 0`: the UI starts before the first scenario (the link, with the
    token given) and stops after the last; the demo's verdict is unchanged."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "demo", "--only", "cold_boot_accepted", "--ui", "0",
        "--admin-token", "demo-token", "--out", str(tmp_path / "demo"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), SLACK * 4)
    assert proc.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    assert re.search(r"fleet UI: http://127\.0\.0\.1:\d+/login\?token=demo-token\n", err.decode())
    assert "1 passed" in out.decode()
