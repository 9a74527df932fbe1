"""`python -m loadtest.bench_sim_memory --ocpp 2.0.1` in a tiny configuration, so that it
cannot rot: 2.0.1 stations boot and charge against its trivial CSMS and the figures print."""

from __future__ import annotations

import math

import pytest

from loadtest.bench_sim_memory import main


@pytest.mark.slow
def test_bench_sim_memory_201_charging_prints_every_figure(
        capsys: pytest.CaptureFixture[str]) -> None:
    """20 2.0.1 stations boot, each gets a transaction (TransactionEvent Started answered by
    the trivial CSMS) and samples once more; every figure is a number, the target is 45 kB."""
    main(["--cps", "20", "--ramp", "0", "--ocpp", "2.0.1", "--charging",
          "--meter-interval", "1", "--timeout", "30"])
    out = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert out["ocpp"] == "2.0.1" and out["cps"] == "20", out
    for key in ("boot_s", "built_kb_per_cp", "idle_rss_kb_per_cp", "sim_rss_kb_per_cp"):
        assert math.isfinite(float(out[key])), (key, out)
    assert out["target_kb_per_cp"].split()[0] == "45", out


def test_bench_sim_memory_refuses_an_unknown_version(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--cps", "20", "--ocpp", "2.1"])
    assert exited.value.code == 2
    assert "--ocpp" in capsys.readouterr().err
