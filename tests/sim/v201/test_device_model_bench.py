"""loadtest.bench_device_model: the per-station figure is measured and the template shared."""

from __future__ import annotations

import pytest

from loadtest.bench_device_model import main


def test_bench_prints_the_ratio_against_the_16_configuration(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stations", "100"]) == 0
    figures = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    per_station = float(figures["dm201_bytes_per_station"])
    # the ~150 variables are shared: a station holds only its own identity values
    assert 0 < per_station < float(figures["dm201_template_kb"]) * 1024 / 20
    assert float(figures["dm201_vs_cfg16"]) == pytest.approx(
        per_station / float(figures["cfg16_bytes_per_station"]), abs=0.01)
