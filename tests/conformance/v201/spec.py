"""Where the tests find the OCPP 2.0.1 specification: ../shared beside the project, else the
machine's /work/shared (as tests/sim/conftest.py finds EVerest's configs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.v201.build_catalog import PART5, PART6

_SHARED = [Path(__file__).resolve().parents[4] / "shared", Path("/work/shared")]
SPEC = next((d for d in _SHARED if d.is_dir()), _SHARED[-1]) / "ocpp-spec" / "2.0.1"

needs_spec = pytest.mark.skipif(
    not ((SPEC / PART5).is_file() and (SPEC / PART6).is_file()),
    reason="../shared/ocpp-spec/2.0.1 (parts 5 and 6) missing",
)
