"""Look-alike charge point ids (issue 15 point 0b): under `--unknown-chargers accept`, an id that
differs from a known charger only in letter case is refused at the upgrade, and the CSMS says at
start, in one line, that it admits unknown chargers without credentials."""

from __future__ import annotations

import logging

import pytest
from websockets.exceptions import InvalidStatus

from chargebench.ocppj import connect
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint

KEY = "key-for-CP-P1-012345"  # 20 bytes (A00.FR.205)


async def refused_status(url: str) -> int:
    with pytest.raises(InvalidStatus) as caught:
        await connect(url)
    return caught.value.response.status_code


async def test_case_twin_of_a_protected_charger_is_refused(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="csms.central")
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="accept") as csms:  # fmt: skip
        started = [r.getMessage() for r in caplog.records if r.name == "csms.central"]
        assert len([m for m in started if "without credentials" in m]) == 1
        csms.store.upsert_charger("CP-P1", security_profile=1, registration_status="Accepted")
        csms.store.set_charger_password("CP-P1", KEY, n=2)
        for twin in ("cp-p1", "Cp-P1", "CP-p1"):
            assert await refused_status(csms.url(twin)) == 404
            assert csms.store.get_charger(twin) is None
        assert await refused_status(csms.url("CP-P1")) == 401  # the real one needs its key
        # a genuinely new id is still admitted per policy
        async with await ScriptedChargePoint.connect(csms.url("CP-P2"), "CP-P2") as cp:
            assert (await cp.boot())["status"] == "Accepted"
        async with await ScriptedChargePoint.connect(csms.url("CP-P1"), "CP-P1",
                                                     auth_key=KEY) as cp:  # fmt: skip
            assert (await cp.boot())["status"] == "Accepted"


async def test_refuse_policy_says_nothing_about_credentials(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="csms.central")
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="refuse"):  # fmt: skip
        pass
    assert not [r for r in caplog.records if "without credentials" in r.getMessage()]
