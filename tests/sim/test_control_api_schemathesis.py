"""The fleet control API and its OpenAPI document agree: schemathesis (a tool we did not write),
every one of its checks and phases, against a real fleet connected to the built-in CSMS on
127.0.0.1 (the same rig as tests/sim/test_control_api.py).

Path parameters are drawn mostly from the fleet's ids, so requests reach past the 404s and
really plug in, fault, take offline and power-cycle the charge points.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from tests.sim.test_control_api import TOKEN, Rig, rig  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::ResourceWarning")]

MAX_EXAMPLES = 10
SEED = 20261207
RUN_TIMEOUT = 500


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    return str(found) if found.exists() else shutil.which("schemathesis") or "schemathesis"


async def test_schemathesis_finds_nothing(rig: Rig, tmp_path):  # noqa: F811
    ids = ", ".join(f'"{identity.cp_id}"' for identity in rig.fleet.identities)
    (tmp_path / "schemathesis.toml").write_text(
        f"[dictionaries]\ncp_id = {{ values = [{ids}] }}\n[parameters]\n"
        '"path.cp_id" = { dictionary = "cp_id", probability = 0.8 }\n', encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        _schemathesis(), "--config-file", str(tmp_path / "schemathesis.toml"), "run",
        rig.ui.url("/api/openapi.json"), "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED), "--generation-deterministic", "--workers", "1", "--no-color",
        "--request-timeout", "40", "--header", f"Authorization: Bearer {TOKEN}",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = out.decode("utf-8", "replace")
    assert process.returncode == 0, text[-8000:]
    assert "Tested: 8" in text and "passed" in text, text[-3000:]
