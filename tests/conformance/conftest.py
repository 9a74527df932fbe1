"""Shared fixtures of the conformance suite's own tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conformance.helpers import SelfRun


@pytest.fixture(scope="session")
def self_runs(tmp_path_factory) -> Iterator[Callable[..., SelfRun]]:
    """`self_runs(name, role, *args, faults=..., conform_args=...)`: the background `--self` run
    called `name`,
    started on first request; later requests (from any module) get the same run. A module
    that asks for several up front lets them overlap."""
    runs: dict[str, SelfRun] = {}

    def get(name: str, role: str, *args: str, faults: dict | None = None,
            conform_args: tuple[str, ...] = ()) -> SelfRun:
        if name not in runs:
            runs[name] = SelfRun(tmp_path_factory.mktemp(name), role, *args, faults=faults,
                                 conform_args=conform_args)
        return runs[name]

    yield get
    for run in runs.values():
        run.kill()
