"""The CSMS checks the connector statuses it is sent against the 1.6 §4.9 table (the core's
`chargebench.ocppj.v16.connectors`): an illegal change is logged and still stored and answered,
never refused (StatusNotification.conf has no field to refuse with, §6.48)."""

from __future__ import annotations

import logging

import pytest

from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             call_timeout=2) as central:  # fmt: skip
        central.store.upsert_charger("CP1", registration_status="Accepted")
        yield central


def status(connector: int, value: str) -> dict:
    return {"connectorId": connector, "errorCode": "NoError", "status": value}


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.name.startswith("csms")]  # fmt: skip


async def test_illegal_transition_is_logged_stored_and_answered(csms, caplog):
    caplog.set_level(logging.WARNING)
    async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as cp:
        assert (await cp.boot())["status"] == "Accepted"
        assert await cp.call("StatusNotification", status(1, "Available")) == {}
        assert await cp.call("StatusNotification", status(1, "Preparing")) == {}  # A2
        assert _warnings(caplog) == []
        assert await cp.call("StatusNotification", status(1, "Reserved")) == {}  # B7: no cell
        assert await cp.call("StatusNotification", status(0, "Charging")) == {}  # not on 0
    warned = _warnings(caplog)
    assert any("Preparing -> Reserved" in w and "1.6 §4.9" in w for w in warned), warned
    assert any("connector 0 cannot be Charging" in w for w in warned), warned
    connectors = {c["connector_id"]: c["status"] for c in csms.store.list_connectors("CP1")}
    assert connectors[1] == "Reserved"  # stored as sent: the charger's report is the truth
