"""Run the conformance suite in a pytest subprocess, with peers on a background loop here."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "conformance" / "cases"
#: Scaled down so that a peer that never answers fails fast; raise it on a slow machine.
TIMEOUT = "0.3"
PASSWORD = "CB-TEST-PASSWORD-1"


@dataclass
class Run:
    returncode: int
    output: str
    summary: dict | None

    def outcomes(self) -> dict[str, str]:
        """Full case id (with parameter when several tests share one) -> outcome."""
        cases = (self.summary or {}).get("cases", [])
        return {case["case"]: case["outcome"] for case in cases}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_suite(tmp_path: Path, *args: str, timeout: float = 120) -> Run:
    """`pytest conformance/cases ARGS` in a subprocess, results in `tmp_path`."""
    results = tmp_path / "results"
    command = [
        sys.executable, "-m", "pytest", str(CASES), "-p", "no:cacheprovider", "-q",
        "--cb-results", str(results), "--cb-timeout", TIMEOUT, *args,
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    summary_path = results / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Run(done.returncode, done.stdout + done.stderr, summary)


def capabilities(tmp_path: Path, **entries: object) -> str:
    """Write a capabilities YAML file and return its path."""
    import yaml

    path = tmp_path / "capabilities.yaml"
    path.write_text(yaml.safe_dump(entries))
    return str(path)
