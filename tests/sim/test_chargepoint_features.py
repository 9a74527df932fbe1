"""CSMS-initiated feature profiles on a live charge point: local list, reservations, smart
charging, TriggerMessage and fault plans (1.6 §3.5, §3.11, §3.13, §5.1-§5.17)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chargebench.clock import iso
from chargebench.ocppj import CallErrorReply
from sim.features.faults import FaultPlan
from tests.sim.conftest import WAIT, until

FEATURES = {"Core": {"MeterValueSampleInterval": 0}}


@pytest.fixture
async def booted(csms, make_cp):
    """A started charge point past its boot StatusNotifications."""

    async def factory(**profiles):
        cp = await make_cp(**profiles)
        await cp.wait_booted(WAIT)
        await csms.wait_sent("StatusNotification", 2)
        return cp

    return factory


def _expiry(cp, seconds: float = 3600) -> str:
    return iso(cp.clock.now() + timedelta(seconds=seconds))


class TestLocalAuthList:
    async def test_send_full_then_differential_and_version(self, csms, booted):
        """SendLocalList Full then Differential is Accepted; GetLocalListVersion tells it."""
        await booted()
        full = {"listVersion": 3, "updateType": "Full",
                "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}]}
        assert await csms.call("CP1", "SendLocalList", full) == {"status": "Accepted"}
        diff = {"listVersion": 4, "updateType": "Differential",
                "localAuthorizationList": [{"idTag": "B", "idTagInfo": {"status": "Blocked"}}]}
        assert await csms.call("CP1", "SendLocalList", diff) == {"status": "Accepted"}
        assert await csms.call("CP1", "GetLocalListVersion") == {"listVersion": 4}

    async def test_version_mismatch(self, csms, booted):
        """A Differential update not newer than the list is VersionMismatch (§5.15)."""
        await booted()
        await csms.call("CP1", "SendLocalList", {"listVersion": 5, "updateType": "Full"})
        reply = await csms.call("CP1", "SendLocalList",
                                {"listVersion": 5, "updateType": "Differential"})
        assert reply == {"status": "VersionMismatch"}

    async def test_failed(self, csms, booted):
        """Version 0 is reserved (errata 3.52): Failed, and the list stays as it was."""
        await booted()
        reply = await csms.call("CP1", "SendLocalList", {"listVersion": 0, "updateType": "Full"})
        assert reply == {"status": "Failed"}
        assert await csms.call("CP1", "GetLocalListVersion") == {"listVersion": 0}

    async def test_not_supported_when_disabled(self, csms, booted):
        """LocalAuthListEnabled false: NotSupported, and version -1 (§5.10)."""
        await booted(LocalAuthListManagement={"LocalAuthListEnabled": False})
        reply = await csms.call("CP1", "SendLocalList", {"listVersion": 1, "updateType": "Full"})
        assert reply == {"status": "NotSupported"}
        assert await csms.call("CP1", "GetLocalListVersion") == {"listVersion": -1}

    async def test_profile_missing_is_callerror(self, csms, booted):
        """Without LocalAuthListManagement in SupportedFeatureProfiles the session core answers
        CALLERROR NotSupported before any handler runs."""
        await booted(Core={"SupportedFeatureProfiles": "Core"})
        with pytest.raises(CallErrorReply) as error:
            await csms.call("CP1", "GetLocalListVersion")
        assert error.value.code == "NotSupported"

    async def test_list_authorizes_offline_with_cache_disabled(self, csms, booted):
        """The list is consulted offline even when the cache is disabled (§3.5.3)."""
        cp = await booted(Core={"AuthorizationCacheEnabled": False, "LocalAuthorizeOffline": True})
        await csms.call("CP1", "SendLocalList", {
            "listVersion": 1, "updateType": "Full",
            "localAuthorizationList": [{"idTag": "LISTED", "idTagInfo": {"status": "Accepted"}}]})
        assert await csms.call("CP1", "ClearCache") == {"status": "Rejected"}
        await cp.go_offline()
        await cp.plug_in(1)
        assert not await cp.present_id_tag("UNKNOWN", 1)  # AllowOfflineTxForUnknownId false
        assert await cp.present_id_tag("LISTED", 1)
        assert cp.port(1).tx.id_tag == "LISTED"

    async def test_conflict_reported_on_connector_zero(self, csms, booted):
        """An Authorize.conf contradicting the list: StatusNotification LocalListConflict."""
        cp = await booted()
        await csms.call("CP1", "SendLocalList", {
            "listVersion": 1, "updateType": "Full",
            "localAuthorizationList": [{"idTag": "X", "idTagInfo": {"status": "Accepted"}}]})
        csms.script("Authorize", {"idTagInfo": {"status": "Blocked"}})
        await cp.authorize("X")
        notes = await csms.wait_for(lambda c: [p for p in c.sent("StatusNotification")
                                               if p["errorCode"] == "LocalListConflict"])
        assert notes[0]["connectorId"] == 0


class TestReservation:
    async def test_reserved_connector_takes_only_its_tag(self, csms, booted):
        """Accepted: Reserved; another tag is refused; the reserving tag starts with the
        reservationId (§5.13)."""
        cp = await booted()
        reply = await csms.call("CP1", "ReserveNow", {
            "connectorId": 1, "idTag": "OWNER", "expiryDate": _expiry(cp), "reservationId": 7})
        assert reply == {"status": "Accepted"}
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["Reserved"])
        await cp.plug_in(1)
        assert not await cp.present_id_tag("STRANGER", 1)
        assert cp.port(1).tx is None
        assert await cp.present_id_tag("OWNER", 1)
        start = await csms.wait_sent("StartTransaction")
        assert start[0]["reservationId"] == 7
        assert csms.statuses("CP1", 1)[-3:] == ["Reserved", "Preparing", "Charging"]

    async def test_occupied(self, csms, booted):
        """A connector in use is Occupied."""
        cp = await booted()
        await cp.plug_in(1)
        reply = await csms.call("CP1", "ReserveNow", {
            "connectorId": 1, "idTag": "T", "expiryDate": _expiry(cp), "reservationId": 1})
        assert reply == {"status": "Occupied"}

    async def test_faulted(self, csms, booted):
        """A faulted connector is Faulted."""
        cp = await booted()
        await cp.fault(1, "GroundFailure")
        reply = await csms.call("CP1", "ReserveNow", {
            "connectorId": 1, "idTag": "T", "expiryDate": _expiry(cp), "reservationId": 1})
        assert reply == {"status": "Faulted"}

    async def test_unavailable(self, csms, booted):
        """An Inoperative connector is Unavailable."""
        cp = await booted()
        await csms.call("CP1", "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
        await until(lambda: cp.port(1).status.value == "Unavailable")
        reply = await csms.call("CP1", "ReserveNow", {
            "connectorId": 1, "idTag": "T", "expiryDate": _expiry(cp), "reservationId": 1})
        assert reply == {"status": "Unavailable"}

    async def test_rejected_on_connector_zero(self, csms, booted):
        """Connector 0 without ReserveConnectorZeroSupported is Rejected (9.3.1)."""
        cp = await booted()
        reply = await csms.call("CP1", "ReserveNow", {
            "connectorId": 0, "idTag": "T", "expiryDate": _expiry(cp), "reservationId": 1})
        assert reply == {"status": "Rejected"}

    async def test_expiry_makes_connector_available(self, csms, booted):
        """At expiryDate the reservation ends and the connector is Available again (G1)."""
        cp = await booted()
        await csms.call("CP1", "ReserveNow", {
            "connectorId": 1, "idTag": "T", "expiryDate": _expiry(cp, 60), "reservationId": 2})
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-2:] == ["Reserved", "Available"])
        assert cp.features.reservations.reservations == []

    async def test_cancel(self, csms, booted):
        """CancelReservation frees the connector; an unknown id is Rejected (§5.1)."""
        cp = await booted()
        await csms.call("CP1", "ReserveNow", {
            "connectorId": 1, "idTag": "T", "expiryDate": _expiry(cp), "reservationId": 3})
        assert await csms.call("CP1", "CancelReservation", {"reservationId": 3}) == \
            {"status": "Accepted"}
        await csms.wait_for(lambda c: c.statuses("CP1", 1)[-2:] == ["Reserved", "Available"])
        assert await csms.call("CP1", "CancelReservation", {"reservationId": 3}) == \
            {"status": "Rejected"}


_METERED = {"Core": {"MeterValueSampleInterval": 60,
                     "MeterValuesSampledData": "Current.Offered,Power.Active.Import"}}


def _relative_profile(profile_id: int, stack: int, purpose: str, *, amps: float) -> dict:
    """A csChargingProfiles of one Relative period: `amps` from the start (1.6 §7.8)."""
    return {"chargingProfileId": profile_id, "stackLevel": stack,
            "chargingProfilePurpose": purpose, "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": "A",
                                 "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}]}}


def _sampled(payload: dict, measurand: str) -> float:
    values = payload["meterValue"][0]["sampledValue"]
    return sum(float(v["value"]) for v in values if v.get("measurand") == measurand)


class TestSmartCharging:
    async def test_tx_default_profile_limits_meter_values(self, csms, booted):
        """A TxDefaultProfile of 6 A shows in MeterValues: Current.Offered 6 A and the power
        drops from the hardware rating to about 3 x 230 V x 6 A."""
        cp = await booted(**_METERED)
        await cp.plug_in(1)
        await cp.present_id_tag("T1")
        before = (await csms.wait_sent("MeterValues"))[0]
        profile = _relative_profile(1, 0, "TxDefaultProfile", amps=6)
        reply = await csms.call("CP1", "SetChargingProfile",
                                {"connectorId": 0, "csChargingProfiles": profile})
        assert reply == {"status": "Accepted"}
        count = len(csms.sent("MeterValues"))
        after = (await csms.wait_sent("MeterValues", count + 1))[-1]
        assert _sampled(before, "Current.Offered") > 6
        assert _sampled(after, "Current.Offered") == pytest.approx(6, abs=0.1)
        assert _sampled(after, "Power.Active.Import") < 0.5 * _sampled(before,
                                                                       "Power.Active.Import")
        assert _sampled(after, "Power.Active.Import") <= 3 * 230 * 6 + 1

    async def test_remote_start_with_profile(self, csms, booted):
        """RemoteStartTransaction with a TxProfile: Accepted, the profile limits the new
        transaction (GetCompositeSchedule, Current.Offered)."""
        cp = await booted(**_METERED)
        await cp.plug_in(1)
        profile = _relative_profile(9, 1, "TxProfile", amps=10)
        reply = await csms.call("CP1", "RemoteStartTransaction",
                                {"idTag": "R", "connectorId": 1, "chargingProfile": profile})
        assert reply == {"status": "Accepted"}
        await csms.wait_sent("StartTransaction")
        sample = (await csms.wait_sent("MeterValues"))[0]
        assert _sampled(sample, "Current.Offered") == pytest.approx(10, abs=0.1)
        schedule = await csms.call("CP1", "GetCompositeSchedule",
                                   {"connectorId": 1, "duration": 600})
        assert schedule["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10

    async def test_remote_start_with_unfit_profile_rejected(self, csms, booted):
        """A chargingProfile that is not a TxProfile is Rejected and nothing starts."""
        cp = await booted()
        await cp.plug_in(1)
        profile = _relative_profile(9, 0, "TxDefaultProfile", amps=10)
        reply = await csms.call("CP1", "RemoteStartTransaction",
                                {"idTag": "R", "connectorId": 1, "chargingProfile": profile})
        assert reply == {"status": "Rejected"}
        assert cp.port(1).tx is None and cp.features.smart.profiles == []


def _trace(cp) -> list[tuple[str, str, str]]:
    """(dir, type, action) of every frame in the charge point's own log, in order."""
    lines = cp.features.log_path.read_text("utf-8").splitlines()
    return [(r["dir"], r["type"], r["action"]) for r in map(json.loads, lines)]


class TestTriggerMessage:
    @pytest.mark.parametrize(("requested", "sent"), [
        ("BootNotification", "BootNotification"),
        ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
        ("FirmwareStatusNotification", "FirmwareStatusNotification"),
        ("Heartbeat", "Heartbeat"),
        ("MeterValues", "MeterValues"),
        ("StatusNotification", "StatusNotification"),
    ])
    async def test_accepted_then_sent_after_the_reply(self, csms, booted, requested, sent):
        """Each requested message is Accepted and sent after the TriggerMessage.conf
        (1.6 §5.17)."""
        cp = await booted()
        before = len(csms.sent(sent))
        reply = await csms.call("CP1", "TriggerMessage",
                                {"requestedMessage": requested, "connectorId": 1})
        assert reply == {"status": "Accepted"}
        await csms.wait_sent(sent, before + 1)
        frames = _trace(cp)
        answered = frames.index(("cp->cs", "CALLRESULT", "TriggerMessage"))
        assert ("cp->cs", "CALL", sent) in frames[answered:]

    async def test_status_of_every_connector_without_connector_id(self, csms, booted):
        """No connectorId: a StatusNotification for connector 0 and each connector."""
        await booted()
        reply = await csms.call("CP1", "TriggerMessage", {"requestedMessage": "StatusNotification"})
        assert reply == {"status": "Accepted"}
        notes = await csms.wait_sent("StatusNotification", 4)
        assert [n["connectorId"] for n in notes[2:]] == [0, 1]

    async def test_rejected_for_unknown_connector(self, csms, booted):
        """A connectorId the charge point does not have: Rejected."""
        await booted()
        reply = await csms.call("CP1", "TriggerMessage",
                                {"requestedMessage": "MeterValues", "connectorId": 5})
        assert reply == {"status": "Rejected"}

    async def test_not_implemented_without_firmware_management(self, csms, booted):
        """DiagnosticsStatusNotification without FirmwareManagement: NotImplemented."""
        await booted(Core={"SupportedFeatureProfiles": "Core,RemoteTrigger"})
        reply = await csms.call("CP1", "TriggerMessage",
                                {"requestedMessage": "DiagnosticsStatusNotification"})
        assert reply == {"status": "NotImplemented"}

    @pytest.mark.parametrize(("requested", "sent"), [
        ("LogStatusNotification", "LogStatusNotification"),
        ("FirmwareStatusNotification", "SignedFirmwareStatusNotification"),
        ("Heartbeat", "Heartbeat"),
    ])
    async def test_extended(self, csms, booted, requested, sent):
        """ExtendedTriggerMessage (whitepaper F06): Accepted, then the requested message;
        FirmwareStatusNotification means the signed one."""
        await booted()
        reply = await csms.call("CP1", "ExtendedTriggerMessage", {"requestedMessage": requested})
        assert reply == {"status": "Accepted"}
        payload = (await csms.wait_sent(sent))[0]
        if sent != "Heartbeat":
            assert payload["status"] == "Idle"

    async def test_extended_sign_certificate(self, csms, booted, make_cp):
        """SignChargePointCertificate: Rejected without CpoName; with it Accepted and a
        SignCertificate.req with a CSR follows (A02.FR.02/03)."""
        await booted()
        reply = await csms.call("CP1", "ExtendedTriggerMessage",
                                {"requestedMessage": "SignChargePointCertificate"})
        assert reply == {"status": "Rejected"}
        cp2 = await make_cp("CP2", Security={"CpoName": "ChargeBench"})
        await cp2.wait_booted(WAIT)
        csms.script("SignCertificate", {"status": "Accepted"})
        reply = await csms.call("CP2", "ExtendedTriggerMessage",
                                {"requestedMessage": "SignChargePointCertificate"})
        assert reply == {"status": "Accepted"}
        request = (await csms.wait_sent("SignCertificate"))[0]
        assert request["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")


class TestFaultPlan:
    async def test_one_action_fails_once(self, csms, make_cp):
        """A plan rule makes ChangeConfiguration answer CALLERROR once, then it works."""
        cp = await make_cp(start=False)
        cp.fault_plan = FaultPlan().add("ChangeConfiguration", "callerror",
                                        error_code="InternalError")
        await cp.start()
        await cp.wait_booted(WAIT)
        change = {"key": "HeartbeatInterval", "value": "120"}
        with pytest.raises(CallErrorReply) as error:
            await csms.call("CP1", "ChangeConfiguration", change)
        assert error.value.code == "InternalError"
        assert await csms.call("CP1", "ChangeConfiguration", change) == {"status": "Accepted"}
        await cp.stop()

    async def test_outgoing_rejected_boot_is_retried(self, csms, make_cp):
        """An outbound fault on the first BootNotification: the charge point retries it."""
        cp = await make_cp(start=False)
        cp.fault_plan = FaultPlan().add("BootNotification", "reject", direction="out")
        await cp.start()
        await cp.wait_booted(WAIT)
        assert csms.actions("CP1").count("BootNotification") == 1  # the first never went out
        await cp.stop()

    def test_fleet_plan_is_per_charge_point_with_override(self):
        """A fleet-wide plan gives each charge point its own copy; an override replaces it."""
        from sim.fleet import Fleet
        from tests.sim.conftest import libocpp_config

        plan = {"rules": [{"action": "Reset", "effect": "ignore", "times": 1}]}
        fleet = Fleet(libocpp_config(), 3, fault_plan=plan, fault_plans={"CB00003": FaultPlan()})
        first, second, third = (cp.fault_plan for cp in fleet.charge_points)
        assert first.decide("Reset").effect.value == "ignore"
        assert second.decide("Reset").effect.value == "ignore"  # not used up by the first
        assert third.rules == []
