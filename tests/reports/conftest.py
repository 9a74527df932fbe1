"""The synthetic trace of `helpers.py` as a fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.helpers import write_trace


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    return write_trace(tmp_path / "traces" / "synthetic.jsonl")
