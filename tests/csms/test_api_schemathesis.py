"""The OpenAPI document and the API agree: schemathesis (a tool we did not write), every one of
its checks, against a real CSMS on 127.0.0.1 (real SQLite file, a connected charge point).

Each run: bounded examples per operation, a fixed seed, all four phases (examples, coverage,
fuzzing, stateful). Path parameters are drawn mostly from the seeded records (so requests reach
past the 404s) and otherwise generated. Failing output names the check and a curl to replay.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from chargebench.ocppj.versions import OCPP16, OCPP201
from csms.central import CentralSystem
from csms.services import users
from csms.testing import ScriptedChargePoint, now_iso
from tests.csms.peer201 import station

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "schemathesis-admin-token"
#: examples per operation and phase; the two runs take ~1 min each on 2 busy cores
MAX_EXAMPLES = int(os.environ.get("CB_SCHEMATHESIS_EXAMPLES", "20"))
SEED = 20261207
RUN_TIMEOUT = 600
#: operations the 2xx tally leaves out: the webhook (no generated request carries the
#: provider's HMAC; 401 is its right answer) and the document (the run loaded it, not tested it)
NOT_TALLIED = {("POST", "/api/payments/webhook"), ("GET", "/api/openapi.json")}


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
    # the actions only 2.0.1 has go to the 2.0.1 station (drawn among three ids, too few of
    # their examples reached it for a 2xx); the shared ones keep drawing every charger
    only_201 = "|".join(sorted(OCPP201.cs_initiated - OCPP16.cs_initiated))
    # 504 is the charger's silence within ?timeout= (down to 10 ms; the `ocpp` peer checks a
    # large charging profile slower than that), documented, not a server error
    lines += ["[checks.not_a_server_error]", 'expected-statuses = ["2xx", "3xx", "4xx", "504"]']
    lines += ["[[operations]]", f'include-path-regex = "/actions/({only_201})$"',
              'parameters = { "path.cp_id" = "CS3" }']
    return "\n".join(lines) + "\n"


@pytest.fixture
async def seeded(tmp_path):
    """A CSMS with a location, two 1.6 chargers (CP1 connected), a connected 2.0.1 station
    (CS3, the `ocpp.v201` peer), a user with a wallet, a tag, a
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
        store.upsert_charger("CS3", location_id="LOC1", registration_status="Accepted")
        async with (await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as cp,
                    station(csms.url("CS3"), "CS3") as cs3):  # a 2.0.1 station: its actions
            assert (await cp.boot())["status"] == "Accepted"
            assert (await cs3.boot()).status == "Accepted"
            await cp.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                 "status": "Available"})  # fmt: skip
            values = {
                "cp_id": ["CP1", "CP2", "CS3"],
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
        "--report", "junit,har", "--report-junit-path", str(workdir / f"{name}.xml"),
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


def answered(workdir: Path, name: str) -> dict[tuple[str, str], set[int]]:
    """{(method, documented path): statuses seen} from the run's HAR file, so a run where
    every request stopped at a 401 or 404 cannot pass for a run that reached the API."""
    document = json.loads((workdir / "admin-doc.json").read_text())
    patterns = []
    for path, methods in document["paths"].items():
        # templates last: `/api/chargers/{cp_id}` must not take `/api/chargers/x/log`
        regex = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")
        patterns += [(path.count("{"), regex, method.upper(), path) for method in methods]
    patterns.sort(key=lambda item: item[0])
    seen: dict[tuple[str, str], set[int]] = {}
    har = json.loads((workdir / f"{name}.har").read_text())
    for entry in har["log"]["entries"]:
        url = urlsplit(entry["request"]["url"])
        method = entry["request"]["method"]
        for _, regex, declared, path in patterns:
            if declared == method and regex.match(url.path):
                seen.setdefault((method, path), set()).add(entry["response"]["status"])
                break
    return seen


async def _document(csms, workdir: Path) -> dict:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}") as client:
        document = (await client.get("/api/openapi.json")).json()
    (workdir / "admin-doc.json").write_text(json.dumps(document), encoding="utf-8")
    return document


async def test_schemathesis_admin_token(seeded):
    """With the admin token: all checks pass, no 5xx, and every operation (but the signed
    webhook) answered 2xx at least once, actions through the connected charger included."""
    csms, _, workdir = seeded
    document = await _document(csms, workdir)
    code, out = await _run(csms, ADMIN_TOKEN, workdir, "admin")
    assert code == 0, out[-20000:]
    seen = answered(workdir, "admin")
    operations = {(m.upper(), p) for p, methods in document["paths"].items() for m in methods}
    unreached = {op for op in operations - NOT_TALLIED
                 if not any(200 <= s < 300 for s in seen.get(op, ()))}  # fmt: skip
    assert not unreached, sorted(unreached)
