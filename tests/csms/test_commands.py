"""CSMS-initiated actions to a scripted charger over real WebSockets, with their bookkeeping."""

from __future__ import annotations

import asyncio

import pytest

from chargebench.ocppj import CallErrorReply, CallTimeout, OcppCallError
from csms import commands
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint, now_iso


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             call_timeout=2) as central:  # fmt: skip
        central.store.upsert_charger("CP1", registration_status="Accepted")
        yield central


@pytest.fixture
async def cp(csms):
    async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as client:
        await client.boot()
        yield client


class TestSend:
    async def test_accepted_and_rejected_replies(self, csms, cp):
        """The charger's reply comes back as is, whatever its status."""
        assert await commands.reset(csms, "CP1", type="Soft") == {"status": "Accepted"}
        cp.replies["Reset"] = {"status": "Rejected"}
        assert await commands.reset(csms, "CP1", type="Hard") == {"status": "Rejected"}
        assert [(await cp.next_call())[1]["type"] for _ in range(2)] == ["Soft", "Hard"]

    async def test_not_connected(self, csms):
        """A charger without a live connection raises NotConnected and nothing is stored."""
        with pytest.raises(commands.NotConnected):
            await commands.reserve_now(csms, "CP1", connectorId=1, idTag="T",
                                       expiryDate=now_iso())  # fmt: skip
        assert csms.store.list_reservations(charger_id="CP1") == []

    async def test_call_error_is_raised(self, csms, cp):
        """A CALLERROR from the charger surfaces as CallErrorReply with its code."""
        def refuse(payload):
            raise OcppCallError("NotSupported", "no cache here")

        cp.replies["ClearCache"] = refuse
        with pytest.raises(CallErrorReply) as caught:
            await commands.clear_cache(csms, "CP1")
        assert caught.value.code == "NotSupported"

    async def test_timeout(self, csms, cp):
        """No reply within the timeout raises the core's CallTimeout."""
        release = asyncio.Event()

        async def silent(payload):
            await release.wait()
            return {"status": "Unlocked"}

        cp.replies["UnlockConnector"] = silent
        try:
            with pytest.raises(CallTimeout):
                await commands.unlock_connector(csms, "CP1", connectorId=1, timeout=0.2)
        finally:
            release.set()


class TestBookkeeping:
    async def test_reservation_allocated_and_recorded(self, csms, cp):
        """1.6 §5.13: the CSMS allocates reservationId and stores the charger's answer."""
        reply = await commands.reserve_now(csms, "CP1", connectorId=1, idTag="T",
                                           expiryDate="2030-01-01T00:00:00Z")  # fmt: skip
        assert reply == {"status": "Accepted"}
        _, sent = await cp.next_call()
        reservation = csms.store.get_reservation(sent["reservationId"])
        assert (reservation["status"], reservation["id_tag"]) == ("Accepted", "T")
        await commands.cancel_reservation(csms, "CP1", reservationId=sent["reservationId"])
        assert csms.store.get_reservation(sent["reservationId"])["status"] == "Cancelled"

    async def test_firmware_deployment_created(self, csms, cp):
        """1.6 §5.19: UpdateFirmware opens a deployment that status notifications then move."""
        await commands.update_firmware(csms, "CP1", location="http://fw/3.bin",
                                       retrieveDate=now_iso())  # fmt: skip
        (deployment,) = csms.store.list_firmware_deployments(charger_id="CP1")
        assert deployment["location"] == "http://fw/3.bin"

    async def test_local_list_version_moves_only_when_accepted(self, csms, cp):
        """1.6 §5.15: the stored list version follows Accepted SendLocalList only."""
        entries = [{"idTag": "T", "idTagInfo": {"status": "Accepted"}}]
        await commands.send_local_list(csms, "CP1", listVersion=3, updateType="Full",
                                       localAuthorizationList=entries)  # fmt: skip
        cp.replies["SendLocalList"] = {"status": "Failed"}
        await commands.send_local_list(csms, "CP1", listVersion=4, updateType="Full")
        assert csms.store.get_local_list_version("CP1") == 3

    async def test_charging_profile_set_and_cleared(self, csms, cp):
        """1.6 §5.16/§5.5: accepted profiles are stored and cleared by id."""
        profile = {
            "chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": {
                "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                     "limit": 16}]},
        }  # fmt: skip
        await commands.set_charging_profile(csms, "CP1", connectorId=1, csChargingProfiles=profile)
        assert [p["profile_id"] for p in csms.store.list_charging_profiles("CP1")] == [7]
        await commands.clear_charging_profile(csms, "CP1", id=7)
        assert csms.store.list_charging_profiles("CP1") == []

    async def test_configuration_reported_and_baseline(self, csms, cp):
        """GetConfiguration stores what the charger reports; an accepted ChangeConfiguration
        becomes part of the baseline."""
        cp.replies["GetConfiguration"] = {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}
        await commands.get_configuration(csms, "CP1")
        assert csms.store.get_reported_config("CP1")["HeartbeatInterval"]["value"] == "300"
        await commands.change_configuration(csms, "CP1", key="MeterValueSampleInterval",
                                            value="60")  # fmt: skip
        assert csms.store.get_config_baseline("CP1") == {"MeterValueSampleInterval": "60"}

    async def test_authorization_key_change_replaces_password(self, csms, cp):
        """OCPP-J §6.2.2: an accepted AuthorizationKey change makes only the new key valid, and
        the write-only key never lands in the baseline; a rejected change keeps the old key."""
        csms.store.set_charger_password("CP1", "old-key-0123456789")
        new_key = "A1" * 20
        await commands.change_configuration(csms, "CP1", key="AuthorizationKey", value=new_key)
        assert csms.store.verify_charger_password("CP1", new_key)
        assert not csms.store.verify_charger_password("CP1", "old-key-0123456789")
        assert "AuthorizationKey" not in (csms.store.get_config_baseline("CP1") or {})
        cp.replies["ChangeConfiguration"] = {"status": "Rejected"}
        await commands.change_configuration(csms, "CP1", key="AuthorizationKey", value="B2" * 20)
        assert csms.store.verify_charger_password("CP1", new_key)

    async def test_reconnect_with_new_key_while_it_is_being_stored(self, csms):
        """OCPP-J §6.2.2: a charger that accepted a new AuthorizationKey reconnects with it at
        once; admission waits for the key the CSMS is still hashing into the store instead of
        refusing the charger with 401."""
        old_key, new_key = "old-key-0123456789", "C3" * 20
        csms.store.upsert_charger("CP1", security_profile=1)
        csms.store.set_charger_password("CP1", old_key)
        first = await ScriptedChargePoint.connect(csms.url("CP1"), "CP1", auth_key=old_key)
        await first.boot()
        change = asyncio.create_task(commands.change_configuration(
            csms, "CP1", key="AuthorizationKey", value=new_key))
        async with asyncio.timeout(5):
            while "CP1" not in csms.recording:  # the reply is in; the new key is being hashed
                await asyncio.sleep(0.001)
        await first.close()
        again = await ScriptedChargePoint.connect(csms.url("CP1"), "CP1", auth_key=new_key)
        try:
            assert (await again.boot())["status"] == "Accepted"
        finally:
            await again.close()
        await change
        assert "CP1" not in csms.recording

    async def test_security_profile_change_is_asked_for_until_reached(self, csms, cp):
        """An accepted SecurityProfile change is the profile asked for (the baseline); it becomes
        the one the charger must use once it reconnects with it (whitepaper A05.FR.09), so a
        charger that cannot and falls back (A05.FR.08) is still admitted (tests of the
        reconnect: tests/csms/test_v201_security.py)."""
        await commands.change_configuration(csms, "CP1", key="SecurityProfile", value="2")
        assert csms.store.get_config_baseline("CP1")["SecurityProfile"] == "2"
        assert csms.store.get_charger("CP1")["security_profile"] == 0

    async def test_get_log_allocates_request_id(self, csms, cp):
        """Whitepaper N01: GetLog's requestId is the stored request; the reply's file name kept."""
        cp.replies["GetLog"] = {"status": "Accepted", "filename": "security.log"}
        await commands.get_log(csms, "CP1", logType="SecurityLog",
                               log={"remoteLocation": "ftp://up/"})  # fmt: skip
        _, sent = await cp.next_call()
        request = csms.store.get_diagnostics_request(sent["requestId"])
        assert (request["status"], request["file_name"]) == ("Accepted", "security.log")
