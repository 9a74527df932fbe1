"""The 2.0.1 station's A, K, L, N, O, P, I and M blocks against an independent CSMS
(`tests.sim.v201.csms201_peer`, the `ocpp` package's `ocpp.v201.ChargePoint` server side), over
real websockets on 127.0.0.1: legal variants (optional fields left out, other allowed choices)
and illegal or odd ones (what a CSMS SHALL NOT send, payloads its own schema forbids, malformed
responses): the station answers what part 2 says, a CALLERROR where OCPP-J says, and keeps
going."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.exceptions import FormationViolationError, NotSupportedError, OCPPError
from ocpp.routing import on
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as dt

from sim.v16.firmware import make_image
from sim.v201.device_model import DeviceModel, default_config_dir
from tests.sim.features.conftest import FileHttpServer
from tests.sim.v201.conftest import LIBOCPP_201, until
from tests.sim.v201.csms201_peer import Csms, csms201


@pytest.fixture
def http_server() -> Iterator[FileHttpServer]:
    server = FileHttpServer()
    yield server
    server.close()


def iso(delta_s: float = 0) -> str:
    when = datetime.now(UTC) + timedelta(seconds=delta_s)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def period(limit: float, start: int = 0, **extra: Any) -> dt.ChargingSchedulePeriodType:
    return dt.ChargingSchedulePeriodType(start_period=start, limit=limit, **extra)


def schedule(*periods: dt.ChargingSchedulePeriodType, unit: str = "A",
             **extra: Any) -> dt.ChargingScheduleType:
    return dt.ChargingScheduleType(id=1, charging_rate_unit=unit,
                                   charging_schedule_period=list(periods), **extra)


async def booted(server, make_station, cp_id: str, **overrides: Any):
    station, frames = await make_station(server.url, cp_id, TxUpdatedInterval=0, **overrides)
    await station.wait_booted(5)
    return station, frames, await server.peer(cp_id)


# K. Smart charging -------------------------------------------------------------------------


async def test_k01_legal_variants_and_what_a_csms_shall_not_send(make_station):
    """Legal: a Recurring Daily TxDefaultProfile with every optional field left out but
    startSchedule (K01.FR.40) is Accepted; GetCompositeSchedule without chargingRateUnit
    answers in the first of RateUnit; ClearChargingProfile by criteria only (K10.FR.04).
    Illegal: ChargingStationExternalConstraints (K01.FR.22), a TxProfile without a transaction
    (K01.FR.09), an EVSE it does not have (K01.FR.28), a unit not in RateUnit (K01.FR.26), a
    first startPeriod other than 0 (K01.FR.31), a Relative schedule with a startSchedule
    (K01.FR.41), two schedules without ISO 15118 (K01.FR.34): each Rejected with a reason;
    a payload missing chargingSchedule: CALLERROR, the station stays online."""
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-KP", RateUnit="A")

        async def set_profile(evse: int, **fields: Any) -> Any:
            profile = {"id": 1, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                       "charging_profile_kind": "Relative",
                       "charging_schedule": [schedule(period(16))], **fields}
            return await peer.call(call201.SetChargingProfile(
                evse_id=evse, charging_profile=dt.ChargingProfileType(**profile)),
                suppress=False)  # fmt: skip

        daily = await set_profile(0, id=5, charging_profile_kind="Recurring",
                                  recurrency_kind="Daily",
                                  charging_schedule=[schedule(period(10), period(20, 3600),
                                                              start_schedule=iso(-60))])
        assert daily.status == "Accepted"
        composite = await peer.call(call201.GetCompositeSchedule(duration=7200, evse_id=1),
                                    suppress=False)  # fmt: skip
        assert composite.status == "Accepted"
        assert composite.schedule["charging_rate_unit"] == "A"
        assert [p["limit"] for p in composite.schedule["charging_schedule_period"]] == [10, 20]
        refused = {
            "external": await set_profile(0, charging_profile_purpose=
                                          "ChargingStationExternalConstraints"),
            "no tx": await set_profile(1, charging_profile_purpose="TxProfile",
                                       transaction_id="tx-none"),
            "evse": await set_profile(3),
            "unit": await set_profile(1, charging_schedule=[schedule(period(7000), unit="W")]),
            "start": await set_profile(1, charging_schedule=[schedule(period(16, 5))]),
            "relative": await set_profile(1, charging_schedule=[
                schedule(period(16), start_schedule=iso())]),
            "two": await set_profile(1, charging_schedule=[schedule(period(16)),
                                                           schedule(period(8))]),
        }
        assert {k: r.status for k, r in refused.items()} == dict.fromkeys(refused, "Rejected")
        assert "K01.FR.22" in refused["external"].status_info["additional_info"]
        assert "K01.FR.28" in refused["evse"].status_info["additional_info"]
        with pytest.raises(OCPPError):
            await peer.call(call201.SetChargingProfile(
                evse_id=1, charging_profile={"id": 9, "stackLevel": 0,  # type: ignore[arg-type]
                                             "chargingProfilePurpose": "TxDefaultProfile",
                                             "chargingProfileKind": "Relative"}),
                suppress=False, skip_schema_validation=True)  # fmt: skip
        cleared = await peer.call(call201.ClearChargingProfile(
            charging_profile_criteria=dt.ClearChargingProfileType(stack_level=0)),
            suppress=False)  # fmt: skip
        assert cleared.status == "Accepted"
        none = await peer.call(call201.GetChargingProfiles(
            request_id=1, charging_profile=dt.ChargingProfileCriterionType(stack_level=0)),
            suppress=False)  # fmt: skip
        assert none.status == "NoProfiles" and station.online


async def test_k01_fr_27_profiles_survive_a_restart(make_station, tmp_path):
    """K01.FR.27: a profile set with SetChargingProfile is still installed after the station
    was stopped and built again on its state directory: GetChargingProfiles reports it."""
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-KEEP",
                                        state_dir=tmp_path / "st")
        profile = dt.ChargingProfileType(
            id=21, stack_level=1, charging_profile_purpose="TxDefaultProfile",
            charging_profile_kind="Relative", charging_schedule=[schedule(period(12))])
        reply = await peer.call(call201.SetChargingProfile(evse_id=1, charging_profile=profile),
                                suppress=False)  # fmt: skip
        assert reply.status == "Accepted"
        await station.stop()
        again, _, peer = await booted(server, make_station, "ST-KEEP",
                                      state_dir=tmp_path / "st")
        await until(lambda: server.connections == 2)
        peer = server.peers["ST-KEEP"]
        reply = await peer.call(call201.GetChargingProfiles(
            request_id=1, charging_profile=dt.ChargingProfileCriterionType(stack_level=1)),
            suppress=False)  # fmt: skip
        assert reply.status == "Accepted"
        report = await until(lambda: next((p for a, p in peer.received
                                           if a == "ReportChargingProfiles"), None))
        assert [p["id"] for p in report["charging_profile"]] == [21]
        assert again is not station


async def test_k01_entries_counts_profiles_and_its_max_limit_bounds_them(make_station,
                                                                          tmp_path):
    """SmartChargingCtrlr.Entries[ChargingProfiles] is the number installed (part 2 appendix
    3.1.16): GetVariables shows 2 after two profiles; its maxLimit is the most there may be:
    with maxLimit 2 a third profile is Rejected, one replacing an installed id is not."""
    folder = tmp_path / "dm"
    shutil.copytree(default_config_dir(), folder)
    path = folder / "standardized" / "SmartChargingCtrlr.json"
    data = json.loads(path.read_text("utf-8"))
    data["properties"]["EntriesChargingProfiles"]["characteristics"]["maxLimit"] = 2
    path.write_text(json.dumps(data), "utf-8")
    async with csms201() as server:
        _station, _, peer = await booted(server, make_station, "ST-ENT",
                                         dm=DeviceModel.load(folder))

        async def set_profile(profile_id: int, stack: int) -> str:
            profile = dt.ChargingProfileType(
                id=profile_id, stack_level=stack, charging_profile_purpose="TxDefaultProfile",
                charging_profile_kind="Relative", charging_schedule=[schedule(period(16))])
            return (await peer.call(call201.SetChargingProfile(
                evse_id=1, charging_profile=profile), suppress=False)).status

        assert [await set_profile(1, 0), await set_profile(2, 1)] == ["Accepted", "Accepted"]
        entries = await peer.call(call201.GetVariables(get_variable_data=[dt.GetVariableDataType(
            component=dt.ComponentType(name="SmartChargingCtrlr"),
            variable=dt.VariableType(name="Entries", instance="ChargingProfiles"))]),
            suppress=False)  # fmt: skip
        assert entries.get_variable_result[0]["attribute_value"] == "2"
        assert await set_profile(3, 2) == "Rejected"
        assert await set_profile(2, 1) == "Accepted"


async def test_k_without_a_smart_charging_controller_is_not_supported(make_station, tmp_path):
    """K01.FR.29: a station whose device model has no SmartChargingCtrlr answers every K
    message CALLERROR NotSupported; O the same without DisplayMessageCtrlr."""
    folder = tmp_path / "dm"
    shutil.copytree(LIBOCPP_201 / "component_config", folder)
    (folder / "standardized" / "SmartChargingCtrlr.json").unlink()
    (folder / "standardized" / "DisplayMessageCtrlr.json").unlink()
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-NOK",
                                        dm=DeviceModel.load(folder))
        with pytest.raises(NotSupportedError):
            await peer.call(call201.GetCompositeSchedule(duration=60, evse_id=0),
                            suppress=False)
        with pytest.raises(NotSupportedError):
            await peer.call(call201.ClearDisplayMessage(id=1), suppress=False)
        assert station.online


async def test_k09_report_and_k12_notify_with_the_peer(make_station):
    """K09: GetChargingProfiles by id list: Accepted, one ReportChargingProfiles with source
    CSO and the profile as sent. K12/K13 to a CSMS whose responses are empty: NotifyChargingLimit
    then ClearedChargingLimit for EVSE 1 (evseId given); with ExternalControlSignalsEnabled
    false the external signal is not taken."""
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-K09")
        profile = dt.ChargingProfileType(
            id=11, stack_level=2, charging_profile_purpose="ChargingStationMaxProfile",
            charging_profile_kind="Absolute", valid_to=iso(3600),
            charging_schedule=[schedule(period(32), start_schedule=iso(-1))])
        reply = await peer.call(call201.SetChargingProfile(evse_id=0, charging_profile=profile),
                                suppress=False)  # fmt: skip
        assert reply.status == "Accepted"
        reply = await peer.call(call201.GetChargingProfiles(
            request_id=4, charging_profile=dt.ChargingProfileCriterionType(
                charging_profile_id=[11])), suppress=False)  # fmt: skip
        assert reply.status == "Accepted"
        report = await until(lambda: next((p for a, p in peer.received
                                           if a == "ReportChargingProfiles"), None))
        assert (report["request_id"], report["evse_id"], report["charging_limit_source"]) == (
            4, 0, "CSO")
        assert report["charging_profile"][0]["id"] == 11 and "tbc" not in report
        station.settings.overrides["ExternalControlSignalsEnabled"] = "false"
        await station.set_external_limit(10, "A", evse=1)  # not taken
        assert station.external_limits is None
        del station.settings.overrides["ExternalControlSignalsEnabled"]
        await station.set_external_limit(10, "A", evse=1)
        await station.clear_external_limit(1)
        assert [(a, p) for a, p in peer.received if "ChargingLimit" in a] == [
            ("NotifyChargingLimit", {"charging_limit": {"charging_limit_source": "EMS"},
                                     "evse_id": 1}),
            ("ClearedChargingLimit", {"charging_limit_source": "EMS", "evse_id": 1})]


# A. Security, M. Certificates ----------------------------------------------------------------


class MalformedSign(Csms):
    """Answers SignCertificate with a status its schema does not know."""

    # the base's handler name: the `ocpp` package routes by name in decoration order
    # (`routables`), so another name would lose to any later module's `on_SignCertificate`
    @on("SignCertificate", skip_schema_validation=True)
    def on_SignCertificate(self, **payload: Any) -> Any:
        self._got("SignCertificate", payload)
        return result201.SignCertificate(status="Perhaps")


async def test_a02_sign_and_odd_certificate_messages(make_station):
    """A02: TriggerMessage SignChargingStationCertificate: Accepted, then SignCertificate with a
    CSR and certificateType. CertificateSigned with garbage: Rejected (A02.FR.07) and the
    security event InvalidChargingStationCertificate in the log; without certificateType it is a
    ChargingStationCertificate. B09: SetNetworkProfile to a slot the priority's valuesList does
    not have (B09.FR.05) or with a lower securityProfile (B09.FR.04): Rejected. M: an
    InstallCertificate that is no certificate: Rejected (M05.FR.06); GetInstalledCertificateIds
    with nothing installed: NotFound (M03.FR.02); DeleteCertificate unknown: NotFound
    (M04.FR.04)."""
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-A02",
                                        dm=DeviceModel.load(LIBOCPP_201 / "component_config"),
                                        SecurityProfile=0, OrganizationName="ChargeBench")
        reply = await peer.call(call201.TriggerMessage(
            requested_message="SignChargingStationCertificate"), suppress=False)  # fmt: skip
        assert reply.status == "Accepted"
        sign = await until(lambda: next((p for a, p in peer.received
                                         if a == "SignCertificate"), None))
        assert sign["certificate_type"] == "ChargingStationCertificate"
        assert "BEGIN CERTIFICATE REQUEST" in sign["csr"]
        signed = await peer.call(call201.CertificateSigned(certificate_chain="not a chain"),
                                 suppress=False)  # fmt: skip
        assert signed.status == "Rejected"
        events = [e["type"] for e in station.features.events.log_lines()]
        assert "InvalidChargingStationCertificate" in events
        connection = dt.NetworkConnectionProfileType(
            ocpp_version="OCPP20", ocpp_transport="JSON", ocpp_csms_url=server.url,
            message_timeout=30, security_profile=1, ocpp_interface="Wired0")
        for slot in (0, 7):  # libocpp's valuesList is 1,2
            reply = await peer.call(call201.SetNetworkProfile(
                configuration_slot=slot, connection_data=connection), suppress=False)
            assert reply.status == "Rejected"
        station.settings.overrides["SecurityProfile"] = "2"
        reply = await peer.call(call201.SetNetworkProfile(configuration_slot=2,
                                                          connection_data=connection),
                                suppress=False)  # fmt: skip
        assert reply.status == "Rejected"  # B09.FR.04: 1 is below 2
        reply = await peer.call(call201.InstallCertificate(
            certificate_type="CSMSRootCertificate", certificate="garbage"), suppress=False)
        assert reply.status == "Rejected"
        reply = await peer.call(call201.GetInstalledCertificateIds(), suppress=False)
        assert reply.status == "NotFound"
        reply = await peer.call(call201.DeleteCertificate(
            certificate_hash_data=dt.CertificateHashDataType(
                hash_algorithm="SHA256", issuer_name_hash="00", issuer_key_hash="00",
                serial_number="01")), suppress=False)  # fmt: skip
        assert reply.status == "NotFound"
        assert station.online


async def test_a02_a_malformed_sign_certificate_response_is_survived(make_station):
    """A CSMS answering SignCertificate with a status its schema does not know: the station
    logs it, asks nothing more, and stays online (the next TriggerMessage still works)."""
    async with csms201(MalformedSign) as server:
        station, _, peer = await booted(server, make_station, "ST-MAL",
                                        OrganizationName="ChargeBench")
        assert not await station.request_certificate()
        reply = await peer.call(call201.TriggerMessage(requested_message="Heartbeat"),
                                suppress=False)  # fmt: skip
        assert reply.status == "Accepted" and station.online


async def test_a02_sign_certificate_back_off_until_certificate_signed(make_station):
    """A02.FR.17-19: the CSMS Accepts SignCertificate but sends no CertificateSigned: the
    station asks again, with a new CSR, after CertSigningWaitMinimum (30 s) and then after
    twice that, CertSigningRepeatTimes (2) times, then stops: 3 requests. A TriggerMessage
    starts it again; a CertificateSigned (here one it Rejects) ends the back-off (A02.FR.20)."""
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-BACK",
                                        OrganizationName="ChargeBench")
        started = station.clock.monotonic()
        assert await station.request_certificate()

        def signs() -> list[dict]:
            return [p for a, p in peer.received if a == "SignCertificate"]

        await until(lambda: len(signs()) == 3)
        assert station.clock.monotonic() - started >= 30 + 60
        assert len({p["csr"] for p in signs()}) == 3  # a new key pair each time
        await station.clock.sleep(240)  # four more back-off steps would have passed
        assert len(signs()) == 3 and not station.features.signing
        reply = await peer.call(call201.TriggerMessage(
            requested_message="SignChargingStationCertificate"), suppress=False)
        assert reply.status == "Accepted"
        await until(lambda: len(signs()) == 4)
        signed = await peer.call(call201.CertificateSigned(certificate_chain="garbage"),
                                 suppress=False)  # fmt: skip
        assert signed.status == "Rejected" and not station.features.signing
        await station.clock.sleep(90)
        assert len(signs()) == 4


async def test_a03_a_certificate_expiring_within_a_month_is_renewed(make_station, tmp_path):
    """A03.FR.02/03: the station's ChargingStationCertificate expires in 20 days: after the
    next connection it sends SignCertificate with a new CSR for a ChargingStationCertificate."""
    from chargebench.security import init_pki, make_csr, sign_csr

    pki = init_pki(tmp_path / "pki")
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-A03",
                                        state_dir=tmp_path / "st",
                                        OrganizationName="ChargeBench")
        csr, key = make_csr("ST-A03", "ChargeBench")
        chain = sign_csr(csr, pki.ca_cert.read_bytes(), pki.ca_key.read_bytes(), days=20)
        station.features.certs.provision_leaf("ChargePointCertificate", chain, key)
        assert not [a for a, _ in peer.received if a == "SignCertificate"]
        await station.go_offline()
        await station.go_online()
        await until(lambda: server.connections == 2)
        peer = server.peers["ST-A03"]
        sign = await until(lambda: next((p for a, p in peer.received
                                         if a == "SignCertificate"), None))
        assert sign["certificate_type"] == "ChargingStationCertificate"
        assert "BEGIN CERTIFICATE REQUEST" in sign["csr"]


# L, N, O, P, I, M requests -----------------------------------------------------------------------


async def test_l_n_o_p_i_with_the_peer(make_station, http_server):
    """L02: UpdateFirmware without signature, optional retries left out: the statuses with the
    requestId, then BootNotification FirmwareUpdate. N01: GetLog SecurityLog with a window.
    O: SetDisplayMessage with a start in the future is held but not shown (O01.FR.06).
    P: DataTransfer to the CSMS returns its data; a DataTransfer from it: UnknownVendorId.
    I: CostUpdated for a transaction the station does not know is still answered
    (I02.FR.02). M: the station's Get15118EVCertificate and GetCertificateStatus requests get
    the CSMS's Failed."""
    http_server.files["/fw/a.bin"] = make_image("9.9")
    async with csms201() as server:
        station, _frames, peer = await booted(server, make_station, "ST-LNO")
        reply = await peer.call(call201.UpdateFirmware(request_id=77, firmware=dt.FirmwareType(
            location=f"{http_server.url}/fw/a.bin", retrieve_date_time=iso())), suppress=False)
        assert reply.status == "Accepted"
        await until(lambda: server.connections == 2)  # the reboot: a new connection
        fw = [p for a, p in peer.received if a == "FirmwareStatusNotification"]
        assert [p["status"] for p in fw] == ["Downloading", "Downloaded", "Installing",
                                             "InstallRebooting"]
        assert {p["request_id"] for p in fw} == {77}
        peer = server.peers["ST-LNO"]
        await station.wait_booted(5)
        # L01.FR.32 (a): the new firmware boots, then reports Installed with the requestId
        await until(lambda: any(a == "FirmwareStatusNotification" for a, _ in peer.received))
        after = [(a, p.get("reason") or p.get("status")) for a, p in peer.received
                 if a in ("BootNotification", "FirmwareStatusNotification")]
        assert after == [("BootNotification", "FirmwareUpdate"),
                         ("FirmwareStatusNotification", "Installed")]
        assert [p["request_id"] for a, p in peer.received
                if a == "FirmwareStatusNotification"] == [77]
        boot = [p for a, p in peer.received if a == "BootNotification"][-1]
        assert boot["charging_station"]["firmware_version"] == "9.9"
        reply = await peer.call(call201.GetLog(
            log_type="SecurityLog", request_id=5,
            log=dt.LogParametersType(remote_location=f"{http_server.url}/up/",
                                     oldest_timestamp=iso(-3600))), suppress=False)
        assert reply.status == "Accepted" and reply.filename
        await until(lambda: [p["status"] for a, p in peer.received
                             if a == "LogStatusNotification"] == ["Uploading", "Uploaded"])
        reply = await peer.call(call201.SetDisplayMessage(message=dt.MessageInfoType(
            id=1, priority="InFront", start_date_time=iso(3600),
            message=dt.MessageContentType(format="UTF8", content="Later"))), suppress=False)
        assert reply.status == "Accepted" and station.display_showing() == []
        answer = await station.data_transfer("org.chargebench", "ping", {"n": 1})
        assert answer == {"status": "Accepted", "data": {"echo": {"n": 1}}}
        reply = await peer.call(call201.DataTransfer(vendor_id="com.other", message_id="x"),
                                suppress=False)  # fmt: skip
        assert reply.status == "UnknownVendorId"
        reply = await peer.call(call201.CostUpdated(total_cost=2.5, transaction_id="tx-9"),
                                suppress=False)  # fmt: skip
        assert station.cost_shown("tx-9") == {"totalCost": 2.5}
        ev_cert = await station.get_15118_ev_certificate("AAEC")
        assert ev_cert["status"] == "Failed"
        status = await station.get_certificate_status({
            "hashAlgorithm": "SHA256", "issuerNameHash": "00", "issuerKeyHash": "00",
            "serialNumber": "01", "responderURL": "http://127.0.0.1:9/ocsp"})
        assert status == {"status": "Failed"}


async def test_l01_scheduled_update_and_one_that_replaces_it(make_station, http_server):
    """L01: a retrieveDateTime and installDateTime in the future: DownloadScheduled first
    (L01.FR.13), then InstallScheduled after the download (L01.FR.16); an UpdateFirmware while
    one is in progress is AcceptedCanceled (L01.FR.24) and the new one runs to Installed."""
    http_server.files["/fw/b.bin"] = make_image("4.0")
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-L01S", speed=100.0)
        first = await peer.call(call201.UpdateFirmware(request_id=1, firmware=dt.FirmwareType(
            location=f"{http_server.url}/fw/b.bin", retrieve_date_time=iso(3600))),
            suppress=False)  # fmt: skip
        assert first.status == "Accepted"
        await until(lambda: [p["status"] for a, p in peer.received
                             if a == "FirmwareStatusNotification"] == ["DownloadScheduled"])
        second = await peer.call(call201.UpdateFirmware(request_id=2, firmware=dt.FirmwareType(
            location=f"{http_server.url}/fw/b.bin", retrieve_date_time=iso(-1),
            install_date_time=iso(60))), suppress=False)  # fmt: skip
        assert second.status == "AcceptedCanceled"
        await until(lambda: server.connections == 2)  # rebooted into 4.0
        fw = [(p["status"], p["request_id"]) for a, p in peer.received
              if a == "FirmwareStatusNotification"]
        assert fw == [("DownloadScheduled", 1), ("Downloading", 2), ("Downloaded", 2),
                      ("InstallScheduled", 2), ("Installing", 2), ("InstallRebooting", 2)]
        peer = server.peers["ST-L01S"]  # L01.FR.32 (a): Installed from the new firmware
        await until(lambda: [(p["status"], p["request_id"]) for a, p in peer.received
                             if a == "FirmwareStatusNotification"] == [("Installed", 2)])
        assert station.settings.text("FirmwareVersion") == "4.0"


async def test_n_monitoring_variants_with_the_peer(make_station):
    """N04: a Delta monitor with the optional id left out is Accepted; one on a component the
    station does not have: UnknownComponent (N04.FR.03). N02: GetMonitoringReport by criterion
    and componentVariable: Accepted, NotifyMonitoringReport with seqNo 0 and no tbc; a
    criterion matching nothing: EmptyResultSet (N02.FR.10). N07: a Delta crossed by a
    SetVariables: NotifyEvent Delta."""
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-NMON",
                                        dm=DeviceModel.load(default_config_dir()))
        variable = {"component": dt.ComponentType(name="OCPPCommCtrlr"),
                    "variable": dt.VariableType(name="HeartbeatInterval")}
        reply = await peer.call(call201.SetVariableMonitoring(set_monitoring_data=[
            dt.SetMonitoringDataType(value=50, type="Delta", severity=8, **variable),
            dt.SetMonitoringDataType(value=1, type="Delta", severity=8,
                                     component=dt.ComponentType(name="NoSuchCtrlr"),
                                     variable=dt.VariableType(name="X"))]),
            suppress=False)  # fmt: skip
        assert [r["status"] for r in reply.set_monitoring_result] == [
            "Accepted", "UnknownComponent"]
        reply = await peer.call(call201.GetMonitoringReport(
            request_id=9, monitoring_criteria=["DeltaMonitoring"],
            component_variable=[dt.ComponentVariableType(**variable)]), suppress=False)
        assert reply.status == "Accepted"
        part = await until(lambda: next((p for a, p in peer.received
                                         if a == "NotifyMonitoringReport"), None))
        assert (part["request_id"], part["seq_no"], part.get("tbc", False)) == (9, 0, False)
        reply = await peer.call(call201.GetMonitoringReport(
            request_id=10, monitoring_criteria=["PeriodicMonitoring"],
            component_variable=[dt.ComponentVariableType(**variable)]), suppress=False)
        assert reply.status == "EmptyResultSet"
        reply = await peer.call(call201.SetVariables(set_variable_data=[dt.SetVariableDataType(
            attribute_value="400", **variable)]), suppress=False)
        assert reply.set_variable_result[0]["attribute_status"] == "Accepted"
        event = await until(lambda: next((p for a, p in peer.received
                                          if a == "NotifyEvent"), None))
        assert event["event_data"][0]["trigger"] == "Delta"
        assert station.online


async def test_odd_requests_get_the_callerror_ocpp_j_prescribes(make_station):
    """A GetLog without its log parameters, a CustomerInformation with two customer references
    (N09.FR.09: Invalid) and one with neither report nor clear (N09.FR.07: Rejected): a
    CALLERROR for the first (the schema), the statuses for the others; the station stays."""
    async with csms201() as server:
        station, _, peer = await booted(server, make_station, "ST-ODD")
        with pytest.raises((FormationViolationError, OCPPError)):
            await peer.call(call201.GetLog(log=None, log_type="DiagnosticsLog",  # type: ignore[arg-type]
                                           request_id=1),
                            suppress=False, skip_schema_validation=True)  # fmt: skip
        token = dt.IdTokenType(id_token="X", type="ISO14443")
        reply = await peer.call(call201.CustomerInformation(
            request_id=1, report=True, clear=False, id_token=token, customer_identifier="c"),
            suppress=False)  # fmt: skip
        assert reply.status == "Invalid"
        reply = await peer.call(call201.CustomerInformation(
            request_id=2, report=False, clear=False, customer_identifier="c"), suppress=False)
        assert reply.status == "Rejected"
        assert station.online
