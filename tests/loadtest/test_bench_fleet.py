"""`python -m loadtest.bench_fleet` in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import math

from loadtest.bench_fleet import measure
from sim.config import DEFAULT_CONFIG


def test_bench_fleet_200_charge_points():
    """200 fleet charge points boot against the CSMS, charge, and every metric is a number."""
    assert DEFAULT_CONFIG.exists()
    result = measure(cps=200, meter_interval=1, steady_s=2.0, timeout=60)
    assert result["cps"] == "200"
    for key in ("boot_storm_s", "csms_rss_kb_per_cp", "sim_rss_kb_per_cp", "steady_msgs_s",
                "p99_ms", "csms_cpu_pct"):
        assert math.isfinite(float(result[key])), (key, result)
    # 200 chargers sampling every second: about 200 MeterValues/s once all are charging
    assert float(result["steady_msgs_s"]) > 100, result
    assert result["steady_cps_seen"] == "200", result
