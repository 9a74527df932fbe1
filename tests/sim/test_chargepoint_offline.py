"""Offline behaviour: the persisted transaction queue and offline authorization (1.6 §3.5, §3.7)."""

from __future__ import annotations

from chargebench.ocppj import OcppCallError
from tests.sim.conftest import WAIT, until


def _fail(_cp_id: str, _payload: dict) -> dict:
    raise OcppCallError("InternalError", "database down")


class TestOfflineQueue:
    async def test_queue_survives_restart(self, csms, make_cp, tmp_path):
        """An offline transaction is replayed in order by a restarted simulator, ids mapped."""
        state = tmp_path / "state"
        core = {"AllowOfflineTxForUnknownId": True, "MeterValueSampleInterval": 60}
        cp = await make_cp(state_dir=state, Core=core)
        await cp.wait_booted(WAIT)
        await cp.go_offline()
        await until(lambda: not cp.online)
        await cp.plug_in(1)
        assert await cp.present_id_tag("OFFLINE")
        await until(lambda: len(cp.queue) >= 3)  # StartTransaction + 2 MeterValues
        await cp.stop()
        assert "StartTransaction" not in csms.actions("CP1")
        queued = [m.action for m in cp.queue.pending()]
        assert queued[0] == "StartTransaction" and queued[-1] == "StopTransaction"

        again = await make_cp(state_dir=state, Core=core)
        await again.wait_booted(WAIT)
        await csms.wait_sent("StopTransaction")
        delivered = [a for a in csms.actions("CP1")
                     if a in ("StartTransaction", "MeterValues", "StopTransaction")]
        assert delivered == queued
        assert {m["transactionId"] for m in csms.sent("MeterValues")} == {1001}
        assert csms.sent("StopTransaction")[0]["transactionId"] == 1001
        await until(lambda: len(again.queue) == 0)

    async def test_reconnect_replays_queue(self, csms, make_cp):
        """Messages queued while offline go out after reconnecting, before new ones."""
        cp = await make_cp(Core={"AllowOfflineTxForUnknownId": True})
        await cp.wait_booted(WAIT)
        await cp.go_offline()
        await until(lambda: not cp.online)
        await cp.plug_in(1)
        await cp.present_id_tag("T")
        await cp.present_id_tag("T")
        assert [m.action for m in cp.queue.pending()] == ["StartTransaction", "StopTransaction"]
        await cp.go_online()
        stop = (await csms.wait_sent("StopTransaction"))[0]
        assert stop["transactionId"] == 1001

    async def test_retries_then_delivers(self, csms, make_cp):
        """A CALLERROR is a failure to process: retried after RetryInterval × n (§3.7.1)."""
        csms.script("StartTransaction", _fail, _fail)
        cp = await make_cp(Core={"TransactionMessageAttempts": 3,
                                 "TransactionMessageRetryInterval": 5})
        await cp.wait_booted(WAIT)
        await cp.plug_in(1)
        await cp.present_id_tag("R")
        await csms.wait_sent("StartTransaction", 3)
        await until(lambda: len(cp.queue) == 0)
        assert cp.queue.csms_tx_id(cp.port(1).tx.local_id) == 1001

    async def test_skipped_after_last_attempt(self, csms, make_cp):
        """After TransactionMessageAttempts failures the message is dropped (§3.7.1)."""
        csms.script("StartTransaction", _fail, _fail)
        cp = await make_cp(Core={"TransactionMessageAttempts": 2,
                                 "TransactionMessageRetryInterval": 1})
        await cp.wait_booted(WAIT)
        await cp.plug_in(1)
        await cp.present_id_tag("S")
        await until(lambda: len(cp.queue) == 0)
        assert len(csms.sent("StartTransaction")) == 2


class TestOfflineAuthorization:
    async def test_unknown_tag_refused_offline_by_default(self, csms, make_cp):
        """Without AllowOfflineTxForUnknownId an unknown tag cannot start offline."""
        cp = await make_cp(Core={"AllowOfflineTxForUnknownId": False})
        await cp.wait_booted(WAIT)
        await cp.go_offline()
        await until(lambda: not cp.online)
        await cp.plug_in(1)
        assert not await cp.present_id_tag("WHO")

    async def test_cached_tag_accepted_offline(self, csms, make_cp):
        """LocalAuthorizeOffline: a tag the cache knows as Accepted starts while offline."""
        cp = await make_cp(Core={"LocalAuthorizeOffline": True})
        await cp.wait_booted(WAIT)
        assert await cp.authorize("KNOWN")
        await cp.go_offline()
        await until(lambda: not cp.online)
        await cp.plug_in(1)
        assert await cp.present_id_tag("KNOWN")
        assert cp.port(1).tx is not None

    async def test_pre_authorize_skips_authorize(self, csms, make_cp):
        """LocalPreAuthorize: a cached Accepted tag starts without Authorize.req."""
        cp = await make_cp(Core={"LocalPreAuthorize": True})
        await cp.wait_booted(WAIT)
        cp.auth.remember("PRE", {"status": "Accepted"})
        await cp.plug_in(1)
        await cp.present_id_tag("PRE")
        await csms.wait_sent("StartTransaction")
        assert "Authorize" not in csms.actions("CP1")


class TestPowerLoss:
    async def test_power_loss_reboots_and_reports_stop(self, csms, make_cp):
        """After a power loss: boot again, then StopTransaction(PowerLoss) for the open one."""
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        await cp.plug_in(1)
        await cp.present_id_tag("P")
        await csms.wait_sent("StartTransaction")
        await cp.power_loss()
        stop = (await csms.wait_sent("StopTransaction"))[0]
        assert stop["reason"] == "PowerLoss" and stop["transactionId"] == 1001
        actions = csms.actions("CP1")
        assert actions.count("BootNotification") == 2
        assert actions.index("StopTransaction") > actions.index("BootNotification", 1)


class TestStatusAfterReconnect:
    """1.6 §4.9 "after having been offline": a reconnect without reboot reports what changed."""

    async def _reconnect(self, csms, cp) -> int:
        """Back online; returns how many StatusNotifications were sent before going offline."""
        before = len(csms.sent("StatusNotification"))
        await cp.go_online()
        await until(lambda: cp.online and csms.connections("CP1") == 2)
        return before

    async def test_current_status_sent_without_history(self, csms, make_cp):
        """A session started offline: after the reconnect the CSMS hears Charging (rule 1),
        not the Preparing that came and went (rule 3), and no new BootNotification."""
        cp = await make_cp(Core={"AllowOfflineTxForUnknownId": True})
        await cp.wait_booted(WAIT)
        await cp.go_offline()
        await until(lambda: not cp.online)
        before = len(csms.sent("StatusNotification"))
        await cp.plug_in(1)
        await cp.present_id_tag("OFF")
        await cp.go_online()
        await csms.wait_sent("StatusNotification", before + 1)
        await csms.wait_sent("StartTransaction")
        after = csms.sent("StatusNotification")[before:]
        assert [(p["connectorId"], p["status"]) for p in after] == [(1, "Charging")]
        assert csms.actions("CP1").count("BootNotification") == 1

    async def test_error_while_offline_then_current_status(self, csms, make_cp):
        """A fault that came and went offline is reported (rule 2), then the current status,
        in the order they happened (rule 4); unchanged connectors stay silent."""
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        await cp.go_offline()
        await until(lambda: not cp.online)
        before = len(csms.sent("StatusNotification"))
        await cp.fault(1, "GroundFailure")
        await cp.clear_fault(1)
        await cp.go_online()
        await csms.wait_sent("StatusNotification", before + 2)
        await until(lambda: cp.online)
        after = [(p["connectorId"], p["status"], p["errorCode"])
                 for p in csms.sent("StatusNotification")[before:]]
        assert after == [(1, "Faulted", "GroundFailure"), (1, "Available", "NoError")]

    async def test_nothing_changed_nothing_sent(self, csms, make_cp):
        """Offline and back with no change: no StatusNotification at all."""
        cp = await make_cp()
        await cp.wait_booted(WAIT)
        await cp.go_offline()
        await until(lambda: not cp.online)
        before = await self._reconnect(csms, cp)
        await cp.call("Heartbeat", {})
        assert len(csms.sent("StatusNotification")) == before
