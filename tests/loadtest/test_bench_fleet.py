"""`python -m loadtest.bench_fleet` in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import math

from loadtest.bench_fleet import LIBOCPP_CONFIG, measure


def test_bench_fleet_50_charge_points():
    """50 fleet charge points boot against the CSMS, charge, and every metric is a number."""
    assert LIBOCPP_CONFIG.exists()
    result = measure(cps=50, meter_interval=1, steady_s=2.0, timeout=60)
    assert result["cps"] == "50"
    for key in ("boot_storm_s", "csms_rss_kb_per_cp", "sim_rss_kb_per_cp", "steady_msgs_s",
                "p99_ms", "csms_cpu_pct"):
        assert math.isfinite(float(result[key])), (key, result)
    # 50 chargers sampling every second: about 50 MeterValues/s once all are charging
    assert float(result["steady_msgs_s"]) > 20, result
