"""Charging sessions of a virtual charge point (1.6 §4.1, §4.7, §4.8, §4.10, §5.11-§5.14)."""

from __future__ import annotations

import pytest

from tests.sim.conftest import WAIT, until


def _flow(csms, cp_id="CP1"):
    """Messages after the boot's StatusNotifications, as (action, status-or-reason)."""
    out = []
    for m in csms.messages:
        if m.cp_id != cp_id or m.dir != "cp->cs" or m.action == "SecurityEventNotification":
            continue  # security events (StartupOfTheDevice) are not part of the flow
        detail = m.payload.get("status") or m.payload.get("reason") or ""
        out.append((m.action, detail))
    return out[3:]


@pytest.fixture
async def booted(csms, make_cp):
    async def factory(**profiles):
        cp = await make_cp(**profiles)
        await cp.wait_booted(WAIT)
        await csms.wait_sent("StatusNotification", 2)
        return cp

    return factory


class TestLocalSessions:
    async def test_plug_in_first(self, csms, booted):
        """Plug in, present tag, charge, present tag again, unplug: the exact sequence."""
        cp = await booted()
        await cp.plug_in(1)
        await cp.present_id_tag("TAG1")
        await cp.present_id_tag("TAG1")
        await cp.plug_out(1)
        await csms.wait_sent("StopTransaction")
        await csms.wait_sent("StatusNotification", 6)
        assert _flow(csms) == [
            ("StatusNotification", "Preparing"),
            ("Authorize", ""),
            ("StartTransaction", ""),
            ("StatusNotification", "Charging"),
            ("StopTransaction", "Local"),  # the same tag stops without a new Authorize
            ("StatusNotification", "Finishing"),
            ("StatusNotification", "Available"),
        ]
        stop = csms.sent("StopTransaction")[0]
        assert stop["transactionId"] == 1001 and stop["idTag"] == "TAG1"

    async def test_authorize_first(self, csms, booted):
        """Present tag, then plug in: Preparing is entered on the tag, StartTransaction on plug."""
        cp = await booted()
        assert await cp.present_id_tag("TAG2")
        await cp.plug_in(1)
        await cp.plug_out(1)
        await csms.wait_sent("StopTransaction")
        await csms.wait_sent("StatusNotification", 5)
        assert _flow(csms) == [
            ("Authorize", ""),
            ("StatusNotification", "Preparing"),
            ("StartTransaction", ""),
            ("StatusNotification", "Charging"),
            ("StopTransaction", "EVDisconnected"),
            ("StatusNotification", "Available"),
        ]

    async def test_connection_timeout(self, csms, booted):
        """A tag presented without plug-in times out after ConnectionTimeOut (B1)."""
        cp = await booted(Core={"ConnectionTimeOut": 5})
        await cp.present_id_tag("TAG3")
        await csms.wait_sent("StatusNotification", 4)
        assert csms.statuses("CP1", 1)[-2:] == ["Preparing", "Available"]
        assert cp.port(1).authorized_tag is None

    async def test_tag_after_connection_timeout(self, csms, booted):
        """Cable in, ConnectionTimeOut expired (Finishing, B6): a tag restarts the session
        through Preparing (F2) into Charging."""
        cp = await booted(Core={"ConnectionTimeOut": 5})
        await cp.plug_in(1)
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["Finishing"])
        assert await cp.present_id_tag("TAG8")
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["Charging"])
        assert csms.statuses("CP1", 1)[-4:] == ["Preparing", "Finishing", "Preparing",
                                                "Charging"]

    async def test_invalid_tag_does_not_start(self, csms, booted):
        """An Authorize.conf other than Accepted leaves the connector alone."""
        csms.script("Authorize", {"idTagInfo": {"status": "Invalid"}})
        cp = await booted()
        await cp.plug_in(1)
        assert not await cp.present_id_tag("BAD")
        assert cp.port(1).tx is None
        assert "StartTransaction" not in csms.actions("CP1")

    async def test_start_rejected_stops_with_deauthorized(self, csms, booted):
        """StartTransaction.conf Invalid + StopTransactionOnInvalidId: stop, reason DeAuthorized."""
        csms.script("StartTransaction",
                    {"transactionId": 77, "idTagInfo": {"status": "Invalid"}})
        cp = await booted()
        await cp.plug_in(1)
        await cp.present_id_tag("TAG4")
        stops = await csms.wait_sent("StopTransaction")
        assert stops[0]["reason"] == "DeAuthorized" and stops[0]["transactionId"] == 77

    async def test_ev_full_suspends(self, csms, booted):
        """A full EV moves the connector from Charging to SuspendedEV (C4)."""
        cp = await booted()
        await cp.plug_in(1)
        await cp.present_id_tag("TAG5")
        await cp.ev_full(1)
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["SuspendedEV"])

    async def test_fault(self, csms, booted):
        """A fault is reported as Faulted with its error code (A9)."""
        cp = await booted()
        await cp.fault(1, "GroundFailure")
        notes = await csms.wait_sent("StatusNotification", 3)
        assert notes[-1]["status"] == "Faulted" and notes[-1]["errorCode"] == "GroundFailure"


class TestRemoteCommands:
    async def test_remote_start_and_stop(self, csms, booted):
        """RemoteStart with a plugged EV starts at once; RemoteStop stops with reason Remote."""
        cp = await booted()
        await cp.plug_in(1)
        reply = await csms.call("CP1", "RemoteStartTransaction", {"idTag": "R1", "connectorId": 1})
        assert reply == {"status": "Accepted"}
        start = await csms.wait_sent("StartTransaction")
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["Charging"])
        reply = await csms.call("CP1", "RemoteStopTransaction", {"transactionId": 1001})
        assert reply == {"status": "Accepted"}
        stop = await csms.wait_sent("StopTransaction")
        assert start[0]["idTag"] == "R1"
        assert stop[0]["reason"] == "Remote" and stop[0]["transactionId"] == 1001
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["Finishing"])
        assert "Authorize" not in csms.actions("CP1")  # AuthorizeRemoteTxRequests false

    async def test_remote_start_authorizes_when_configured(self, csms, booted):
        """AuthorizeRemoteTxRequests true: Authorize precedes StartTransaction."""
        cp = await booted(Core={"AuthorizeRemoteTxRequests": True})
        await cp.plug_in(1)
        await csms.call("CP1", "RemoteStartTransaction", {"idTag": "R2"})
        await csms.wait_sent("StartTransaction")
        actions = csms.actions("CP1")
        assert actions.index("Authorize") < actions.index("StartTransaction")

    async def test_remote_stop_unknown_transaction(self, csms, booted):
        """RemoteStop for a transaction that does not run is Rejected."""
        await booted()
        reply = await csms.call("CP1", "RemoteStopTransaction", {"transactionId": 5})
        assert reply == {"status": "Rejected"}

    async def test_reset_with_transaction(self, csms, booted):
        """Soft reset: StopTransaction(SoftReset), then a new BootNotification and statuses."""
        cp = await booted()
        await cp.plug_in(1)
        await cp.present_id_tag("TAG6")
        await csms.wait_sent("StartTransaction")
        assert await csms.call("CP1", "Reset", {"type": "Soft"}) == {"status": "Accepted"}
        await csms.wait_sent("BootNotification", 2)
        await cp.wait_booted(WAIT)
        tail = [a for a in csms.actions("CP1")]
        stop_at = tail.index("StopTransaction")
        assert csms.sent("StopTransaction")[0]["reason"] == "SoftReset"
        assert "BootNotification" in tail[stop_at:]
        await until(lambda: cp.port(1).status.value == "Preparing")

    async def test_change_availability_scheduled(self, csms, booted):
        """Inoperative during a transaction is Scheduled and applied after it ends (C8/F8)."""
        cp = await booted()
        await cp.plug_in(1)
        await cp.present_id_tag("TAG7")
        reply = await csms.call("CP1", "ChangeAvailability",
                                {"connectorId": 1, "type": "Inoperative"})
        assert reply == {"status": "Scheduled"}
        await cp.present_id_tag("TAG7")
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["Unavailable"])

    async def test_unsupported_profile_not_supported(self, csms, booted):
        """A command of a profile missing from SupportedFeatureProfiles gets NotSupported."""
        from chargebench.ocppj import CallErrorReply

        await booted(Core={"SupportedFeatureProfiles": "Core"})
        with pytest.raises(CallErrorReply) as error:
            await csms.call("CP1", "ReserveNow", {
                "connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "X",
                "reservationId": 1})
        assert error.value.code == "NotSupported"

    async def test_get_and_change_configuration(self, csms, booted):
        """GetConfiguration and ChangeConfiguration delegate to the libocpp configuration."""
        cp = await booted()
        reply = await csms.call("CP1", "GetConfiguration",
                                {"key": ["HeartbeatInterval", "Nope"]})
        assert reply["unknownKey"] == ["Nope"]
        reply = await csms.call("CP1", "ChangeConfiguration",
                                {"key": "MeterValueSampleInterval", "value": "30"})
        assert reply == {"status": "Accepted"} and cp.config.meter_value_sample_interval == 30
