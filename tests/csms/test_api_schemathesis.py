"""The OpenAPI document and the API agree: schemathesis (a tool we did not write), every one of
its checks, against a real CSMS on 127.0.0.1 (real SQLite file, a connected charge point).

Each run: bounded examples per operation, a fixed seed, all four phases (examples, coverage,
fuzzing, stateful). Path parameters are drawn mostly from the seeded records (so requests reach
past the 404s) and otherwise generated. Failing output names the check and a curl to replay.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from csms.central import CentralSystem
from csms.services import users
from csms.testing import ScriptedChargePoint, now_iso

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "schemathesis-admin-token"
#: examples per operation and phase; the two runs take ~1 min each on 2 busy cores
MAX_EXAMPLES = int(os.environ.get("CB_SCHEMATHESIS_EXAMPLES", "20"))
SEED = 20261207
#: junit always; CB_SCHEMATHESIS_REPORTS=junit,har keeps every request and answer (debugging)
REPORTS = os.environ.get("CB_SCHEMATHESIS_REPORTS", "junit")
RUN_TIMEOUT = 600


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    return str(found) if found.exists() else shutil.which("schemathesis") or "schemathesis"


def _config(values: dict[str, list]) -> str:
    """schemathesis.toml: dictionaries of known ids, drawn for path parameters 80 % of the time."""
    lines = ["[dictionaries]"]
    for name, known in values.items():
        items = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in known)
        lines.append(f"{name} = {{ values = [{items}] }}")
    lines.append("[parameters]")
    for name in values:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}')
    return "\n".join(lines) + "\n"


@pytest.fixture
async def seeded(tmp_path):
    """A CSMS with a location, two chargers (CP1 connected), a user with a wallet, a tag, a
    transaction with meter values on CP2, a running one on CP1 (a remote stop reaches the
    charger), a remote start record and a tariff; CP1's connector 1 is Available (a remote
    start reaches the charger)."""
    async with CentralSystem(port=0, api_port=0, admin_token=ADMIN_TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=2) as csms:  # fmt: skip
        store = csms.store
        store.upsert_location("LOC1", "Depot", address="1 Road", timezone="UTC")
        for cp_id in ("CP1", "CP2"):
            store.upsert_charger(cp_id, location_id="LOC1", registration_status="Accepted")
            store.upsert_connector(cp_id, 1)
            store.upsert_connector(cp_id, 2)
        user = users.create_user(store, "Asha", email="asha@example.com")
        token = users.issue_token(store, user["id"])
        store.upsert_id_tag("TAG1")
        store.set_tariff(None, "12.50", "INR")
        tx = store.start_transaction("CP2", 1, user["rfid_card_id"], 0, now_iso())
        store.add_meter_values("CP2", 1, [{"timestamp": now_iso(), "sampledValue": [
            {"value": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}],
            transaction_id=tx)  # fmt: skip
        running = store.start_transaction("CP1", 2, "TAG1", 0, now_iso())
        remote_start = store.create_remote_start("CP2", 1, user["rfid_card_id"], now_iso(),
                                                 user_id=user["id"])  # fmt: skip
        async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as cp:
            assert (await cp.boot())["status"] == "Accepted"
            await cp.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                 "status": "Available"})  # fmt: skip
            values = {
                "cp_id": ["CP1", "CP2"],
                "user_id": [user["id"]],
                "transaction_id": [tx, running],
                "id_tag": ["TAG1", user["rfid_card_id"]],
                "remote_start_id": [remote_start["id"]],
            }
            (tmp_path / "schemathesis.toml").write_text(_config(values), encoding="utf-8")
            yield csms, token, tmp_path


async def _run(csms, token: str, workdir: Path, name: str) -> tuple[int, str]:
    base = f"http://127.0.0.1:{csms.api_port}"
    process = await asyncio.create_subprocess_exec(
        _schemathesis(), "--config-file", str(workdir / "schemathesis.toml"), "run",
        f"{base}/api/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED), "--generation-deterministic",
        "--workers", "1", "--no-color", "--request-timeout", "30",
        "--header", f"Authorization: Bearer {token}",
        "--report", REPORTS, "--report-junit-path", str(workdir / f"{name}.xml"),
        "--report-har-path", str(workdir / f"{name}.har"),
        cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode("utf-8", "replace")


async def test_schemathesis_admin_token(seeded):
    """With the admin token every operation is reachable: all checks pass, no 5xx."""
    csms, _, workdir = seeded
    code, out = await _run(csms, ADMIN_TOKEN, workdir, "admin")
    assert code == 0, out[-20000:]


async def test_schemathesis_user_token(seeded):
    """With a USER token: ADMIN operations answer 403, the user's own data answers, and the
    document still holds for every answer."""
    csms, token, workdir = seeded
    code, out = await _run(csms, token, workdir, "user")
    assert code == 0, out[-20000:]
