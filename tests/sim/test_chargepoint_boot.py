"""Boot, heartbeat and connection behaviour of a virtual charge point (1.6 §4.2, §4.6)."""

from __future__ import annotations

import pytest

from tests.sim.conftest import WAIT, until


class TestBootNotification:
    async def test_accepted_then_status_per_connector(self, csms, make_cp):
        """Accepted boot is followed by StatusNotification for connector 0 and connector 1."""
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        await csms.wait_sent("StatusNotification", 2)
        actions = [a for a in csms.actions("CP1") if a != "SecurityEventNotification"]
        assert actions == ["BootNotification", "StatusNotification", "StatusNotification"]
        assert [p["connectorId"] for p in csms.sent("StatusNotification")] == [0, 1]
        boot = csms.sent("BootNotification")[0]
        assert boot["chargePointVendor"] == "Pionix" and boot["chargePointModel"] == "Yeti"

    async def test_pending_then_accepted(self, csms, make_cp):
        """Pending makes the charge point wait `interval` and boot again, silent meanwhile."""
        csms.script("BootNotification",
                    {"status": "Pending", "currentTime": "2026-01-01T00:00:00Z", "interval": 20})
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        await csms.wait_sent("StatusNotification", 2)
        assert csms.actions("CP1")[:3] == ["BootNotification", "BootNotification",
                                           "StatusNotification"]

    async def test_rejected_then_retried(self, csms, make_cp):
        """Rejected: no other message until the interval passed, then BootNotification again."""
        csms.script("BootNotification",
                    {"status": "Rejected", "currentTime": "2026-01-01T00:00:00Z", "interval": 30},
                    {"status": "Rejected", "currentTime": "2026-01-01T00:00:00Z", "interval": 30})
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        assert csms.actions("CP1")[:4] == ["BootNotification"] * 3 + ["StatusNotification"]

    async def test_no_answer_while_rejected(self, csms, make_cp):
        """1.6 §4.2: while Rejected the charge point does not respond to CSMS-initiated
        messages at all (no CALLRESULT, no CALLERROR): the CSMS's CALL times out."""
        from chargebench.ocppj import CallTimeout

        csms.script("BootNotification",
                    {"status": "Rejected", "currentTime": "2026-01-01T00:00:00Z",
                     "interval": 100000})
        cp = await make_cp()
        await until(lambda: cp.registration == "Rejected")
        with pytest.raises(CallTimeout):
            await csms.sessions["CP1"].call("ClearCache", {}, timeout=0.3)
        with pytest.raises(CallTimeout):  # and again: the first one left nothing open
            await csms.sessions["CP1"].call("GetConfiguration", {}, timeout=0.3)

    async def test_pending_refuses_remote_start(self, csms, make_cp):
        """1.6 §4.2: while Pending, RemoteStartTransaction is not allowed (SecurityError);
        other commands are answered."""
        from chargebench.ocppj import CallErrorReply

        csms.script("BootNotification",
                    {"status": "Pending", "currentTime": "2026-01-01T00:00:00Z",
                     "interval": 100000})
        cp = await make_cp()
        await until(lambda: cp.registration == "Pending")
        with pytest.raises(CallErrorReply) as error:
            await csms.call("CP1", "RemoteStartTransaction", {"idTag": "T"})
        assert error.value.code == "SecurityError"
        assert "configurationKey" in await csms.call("CP1", "GetConfiguration", {})


class TestHeartbeat:
    async def test_heartbeat_at_interval_from_boot(self, csms, make_cp):
        """The interval of BootNotification.conf becomes the heartbeat period."""
        csms.script("BootNotification",
                    {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 10})
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        await csms.wait_sent("Heartbeat", 3)
        assert cp.config.heartbeat_interval == 10


class TestReconnect:
    async def test_reconnects_after_drop_without_new_boot(self, csms, make_cp):
        """A dropped connection is re-established with back-off; no second boot is needed."""
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        await csms.wait_sent("StatusNotification", 2)
        await csms.drop("CP1")
        await csms.wait_for(lambda c: c.connections("CP1") == 2)
        assert csms.actions("CP1").count("BootNotification") == 1
        await until(lambda: cp.link.connects == 2)


class TestTrace:
    async def test_frames_are_traced(self, csms, clock, tmp_path):
        """Every frame the charge point sends or receives becomes a trace record."""
        from sim.chargepoint import ChargePoint
        from tests.sim.conftest import make_config

        records = []
        cp = ChargePoint(make_config("CPT"), csms_url=csms.url, clock=clock,
                         trace_sink=records.append)
        await cp.start()
        try:
            await cp.wait_booted(WAIT)
        finally:
            await cp.stop()
        assert [(r.dir, r.type, r.action) for r in records[:2]] == [
            ("cp->cs", "CALL", "BootNotification"),
            ("cs->cp", "CALLRESULT", "BootNotification"),
        ]
        assert {r.cp_id for r in records} == {"CPT"}
