"""A fleet of virtual charge points in one process (DESIGN.md "Fleet")."""

from __future__ import annotations

import asyncio
import gc
import json
import sys

from sim.fleet import Fleet, config_for, identities, share_profiles
from tests.sim.conftest import LIBOCPP_DIR, libocpp_config


def _template() -> dict:
    return libocpp_config(Internal={"RetryBackoffWaitMinimum": 1, "RetryBackoffRandomRange": 1},
                          Core={"HeartbeatInterval": 3600, "ClockAlignedDataInterval": 0})


def test_identities_are_deterministic():
    """The same seed gives the same identities; another seed gives others."""
    assert identities(5, seed=7) == identities(5, seed=7)
    assert identities(5, seed=7) != identities(5, seed=8)
    ids = identities(50, seed=1)
    assert len({i.cp_id for i in ids}) == 50
    assert all(len(i.vendor) <= 20 and len(i.model) <= 20 for i in ids)


def test_shared_template_is_copied_on_write():
    """Charge points share the template's profiles until one changes a key: the change is its
    own, the template and its siblings keep theirs."""
    template = _template()
    shared = share_profiles(template)
    first, second = (config_for(shared, i) for i in identities(2))
    assert first.change_configuration("MeterValueSampleInterval", "17").value == "Accepted"
    first.set_value("HeartbeatInterval", 42, persist=False)
    local = not template["LocalAuthListManagement"]["LocalAuthListEnabled"]
    first.set_value("LocalAuthListEnabled", local, persist=False)
    assert (first.meter_value_sample_interval, first.heartbeat_interval) == (17, 42)
    assert first.local_auth_list_enabled is local
    assert second.meter_value_sample_interval == template["Core"]["MeterValueSampleInterval"]
    assert second.heartbeat_interval == 3600
    assert second.local_auth_list_enabled is not local
    assert dict(shared["Core"]) == template["Core"]
    assert first.to_dict()["Core"]["HeartbeatInterval"] == 42
    assert second.charge_point_id != first.charge_point_id


async def test_fleet_of_20_boots(csms, clock, tmp_path):
    """Twenty charge points from one template connect at the ramp rate and all boot."""
    fleet = Fleet(_template(), 20, csms_url=csms.url, seed=3, ramp=400, clock=clock,
                  state_dir=tmp_path)
    await fleet.start()
    try:
        await fleet.wait_booted(10)
        assert fleet.heap is not None and gc.get_freeze_count() > 0  # chargebench.gcpolicy
        boots = csms.sent("BootNotification")
        assert len(boots) == 20
        assert {b["chargePointSerialNumber"] for b in boots} == \
            {i.serial for i in fleet.identities}
        await fleet.charge_points[0].plug_in(1)
        await fleet.charge_points[0].present_id_tag(fleet.identities[0].id_tags[0])
    finally:
        await fleet.stop()
    summary = fleet.summary()
    assert summary["booted"] == 20 and summary["open_transactions"] == 0
    assert gc.get_freeze_count() == 0  # the heap freezer is closed with the fleet
    assert len(csms.sent("StopTransaction")) == 1


async def test_cli_runs_and_summarises(csms, tmp_path):
    """`chargebench sim` boots the fleet, stops after --duration and exits 0."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(_template()))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "sim", "--csms", csms.url, "--count", "3",
        "--config", str(config), "--ramp", "100", "--speed", "100", "--duration", "100",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert len(csms.sent("BootNotification")) == 3
    assert "booted" in err.decode()


def test_cli_bad_config_is_usage_error(tmp_path, capsys):
    """An invalid config file is a usage error (exit code 2) naming the problem."""
    from chargebench.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Core": {}}))
    assert main(["sim", "--csms", "ws://127.0.0.1:1", "--config", str(bad)]) == 2
    assert LIBOCPP_DIR.exists()
