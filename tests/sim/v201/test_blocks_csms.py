"""The 2.0.1 station's K, L, N, O, P, I and M blocks against the built-in CSMS
(`csms.central.CentralSystem`, the `csms` fixture of conftest; its commands as the HTTP actions
API runs them), over real
websockets on 127.0.0.1, with a real HTTP server for firmware and logs: the exact message
sequences of each use case, with the requirement ids they check."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chargebench.ocppj import CallErrorReply
from chargebench.security import init_pki
from csms import commands
from sim.ev import EV
from sim.v16.firmware import make_image
from sim.v201.device_model import DeviceModel, default_config_dir
from tests.sim.features.conftest import FileHttpServer
from tests.sim.v201.conftest import until

TOKEN = {"idToken": "TAG-OK", "type": "ISO14443"}


@pytest.fixture
def http_server() -> Iterator[FileHttpServer]:
    server = FileHttpServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA (also the manufacturer root) and a key that signs firmware (the CSMS's)."""
    return init_pki(tmp_path_factory.mktemp("pki"))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def statuses(frames, action: str) -> list[str]:
    return [p["status"] for a, p in frames.calls() if a == action]


async def execute(csms, cp_id: str, action: str, payload: dict) -> dict:
    return (await commands.execute(csms, cp_id, action, payload)).reply


async def charging(csms, make_station, cp_id: str, **overrides):
    """A booted station with a transaction charging on EVSE 1."""
    station, frames = await make_station(csms.url(""), cp_id, TxUpdatedInterval=0, **overrides)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    await until(lambda: station.evse(1).charging_state == "Charging")
    return station, frames


def profile(profile_id: int, purpose: str, limit: float, *, stack: int = 0, unit: str = "A",
            tx: str | None = None, kind: str = "Relative") -> dict:
    schedule: dict = {"id": profile_id, "chargingRateUnit": unit,
                      "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}
    if kind == "Absolute":
        schedule["startSchedule"] = now()
    p: dict = {"id": profile_id, "stackLevel": stack, "chargingProfilePurpose": purpose,
               "chargingProfileKind": kind, "chargingSchedule": [schedule]}
    if tx is not None:
        p["transactionId"] = tx
    return p


# K. Smart charging -------------------------------------------------------------------------


async def test_k01_profiles_limit_the_ev_and_the_composite_schedule(csms, make_station):
    """K01: a TxDefaultProfile on EVSE 0 (16 A) is Accepted and applies to the running
    transaction at once (K01.FR.14/32): the meter draws 16 A a phase, an Updated event says
    ChargingRateChanged; a ChargingStationMaxProfile
    of 11 kW lowers it further (the minimum of both, K08.FR.04). K08: GetCompositeSchedule in A
    and W (K08.FR.02). A TxProfile of the transaction at 0 A (K01.FR.04) suspends it:
    Updated ChargingStateChanged SuspendedEVSE; cleared by id (K10.FR.03) it charges again
    (K10.FR.05); an unknown id is Unknown (K10.FR.01). K09: GetChargingProfiles reports what
    is installed, one ReportChargingProfiles per EVSE with tbc on all but the last (K09.FR.02)."""
    station, frames = await charging(csms, make_station, "ST-K01")
    evse = station.evse(1)
    tx_id = evse.tx.transaction_id
    set_ = {"evseId": 0, "chargingProfile": profile(1, "TxDefaultProfile", 16)}
    assert await execute(csms, "ST-K01", "SetChargingProfile", set_) == {"status": "Accepted"}
    assert evse.meter.limit.amps == 16
    assert 16 * 230 * 3 * 0.95 <= evse.meter.power_w <= 16 * 230 * 3 * 1.05
    # still Charging, at half the rate: Updated ChargingRateChanged (K13.FR.03's trigger)
    rate = await until(lambda: next((e for e in frames.events()
                                     if e["triggerReason"] == "ChargingRateChanged"), None))
    assert (rate["eventType"], rate["seqNo"]) == ("Updated", 2)
    station_max = {"evseId": 0, "chargingProfile": profile(
        2, "ChargingStationMaxProfile", 11000, unit="W", kind="Absolute")}
    assert await execute(csms, "ST-K01", "SetChargingProfile", station_max) == {
        "status": "Accepted"}
    assert evse.meter.limit.watts == pytest.approx(11000)
    reply = await execute(csms, "ST-K01", "GetCompositeSchedule",
                          {"duration": 600, "evseId": 1, "chargingRateUnit": "W"})
    assert reply["status"] == "Accepted"
    schedule = reply["schedule"]
    assert (schedule["evseId"], schedule["duration"], schedule["chargingRateUnit"]) == (
        1, 600, "W")
    assert [p["limit"] for p in schedule["chargingSchedulePeriod"]] == [11000]
    amps = await execute(csms, "ST-K01", "GetCompositeSchedule",
                         {"duration": 600, "evseId": 1, "chargingRateUnit": "A"})
    assert amps["schedule"]["chargingSchedulePeriod"][0]["limit"] == pytest.approx(15.9, 0.01)
    tx_profile = {"evseId": 1, "chargingProfile": profile(3, "TxProfile", 0, stack=1, tx=tx_id)}
    assert await execute(csms, "ST-K01", "SetChargingProfile", tx_profile) == {
        "status": "Accepted"}
    suspended = await until(lambda: next((e for e in frames.events() if e["transactionInfo"]
                                          .get("chargingState") == "SuspendedEVSE"), None))
    assert (suspended["eventType"], suspended["triggerReason"]) == (
        "Updated", "ChargingStateChanged")
    assert await execute(csms, "ST-K01", "GetChargingProfiles", {
        "requestId": 7, "chargingProfile": {"chargingLimitSource": ["CSO"]}}) == {
        "status": "Accepted"}
    reports = await until(lambda: [p for a, p in frames.calls()
                                   if a == "ReportChargingProfiles"] or None)
    await until(lambda: len([a for a, _ in frames.calls() if a == "ReportChargingProfiles"]) == 2)
    reports = [p for a, p in frames.calls() if a == "ReportChargingProfiles"]
    assert [(r["evseId"], r.get("tbc", False), [p["id"] for p in r["chargingProfile"]])
            for r in reports] == [(0, True, [1, 2]), (1, False, [3])]
    assert {r["requestId"] for r in reports} == {7}  # K09.FR.01
    assert await execute(csms, "ST-K01", "ClearChargingProfile", {"chargingProfileId": 3}) == {
        "status": "Accepted"}
    await until(lambda: evse.charging_state == "Charging")
    assert await execute(csms, "ST-K01", "ClearChargingProfile", {"chargingProfileId": 99}) == {
        "status": "Unknown"}


async def test_k15_an_iso15118_ev_gets_its_schedule(csms, make_station):
    """K15: an ISO 15118 EV's transaction starts: NotifyEVChargingNeeds with its AC
    parameters (K15.FR.01/06) after the Started event; the CSMS Accepts (K15.FR.03) and sends
    a TxProfile for the transaction (K15.FR.07), which the station Accepts and applies; the EV
    chooses its schedule within it and the station sends it in NotifyEVChargingSchedule
    (K15.FR.09/10), which the CSMS finds within its own: Accepted (K15.FR.11)."""
    station, frames = await make_station(csms.url(""), "ST-K15", TxUpdatedInterval=0)
    station.ev_factory = lambda _n: EV(iso15118=True, max_ac_current_a=20, departure_s=3600)
    await station.wait_booted(5)
    await station.plug_in(1)
    assert await station.present_id_tag("TAG-OK")
    needs = await until(lambda: next((p for a, p in frames.calls()
                                      if a == "NotifyEVChargingNeeds"), None))
    actions = [a for a, _ in frames.calls("Heartbeat", "StatusNotification")]
    assert actions.index("NotifyEVChargingNeeds") > actions.index("TransactionEvent")
    assert needs["evseId"] == 1
    assert needs["chargingNeeds"]["acChargingParameters"]["evMaxCurrent"] == 20
    assert "departureTime" in needs["chargingNeeds"]
    await until(lambda: station.features_built("smart") and station.features.smart.profiles)
    [installed] = station.features.smart.profiles
    assert installed.profile["v201"]["transactionId"] == station.evse(1).tx.transaction_id
    assert station.evse(1).meter.limit.amps is not None
    # K15.FR.09/10: the EV's schedule within the CSMS's, at most its own 20 A; K15.FR.11
    chosen = await until(lambda: next((p for a, p in frames.calls()
                                       if a == "NotifyEVChargingSchedule"), None))
    assert chosen["evseId"] == 1
    assert max(p["limit"] for p in chosen["chargingSchedule"]["chargingSchedulePeriod"]) <= 20
    reply = await until(lambda: next((r.payload for r in frames if r.action ==
                                      "NotifyEVChargingSchedule" and r.type.value ==
                                      "CALLRESULT"), None))
    assert reply == {"status": "Accepted"}


async def test_k12_an_external_limit_is_notified_and_applied(csms, make_station):
    """K12: an EMS limits the station to 4 kW: NotifyChargingLimit with source EMS
    (K12.FR.02/04), the EV draws at most that, the composite schedule shows it (K08.FR.04);
    released: ClearedChargingLimit (K13.FR.02) and the limit is gone (K13.FR.01)."""
    station, frames = await charging(csms, make_station, "ST-K12")
    await station.set_external_limit(4000, "W")
    [(_action, payload)] = [(a, p) for a, p in frames.calls() if a == "NotifyChargingLimit"]
    assert payload == {"chargingLimit": {"chargingLimitSource": "EMS"}}
    assert station.evse(1).meter.power_w <= 4000 * 1.01
    reply = await execute(csms, "ST-K12", "GetCompositeSchedule",
                          {"duration": 60, "evseId": 1, "chargingRateUnit": "W"})
    assert reply["schedule"]["chargingSchedulePeriod"][0]["limit"] == 4000
    await station.clear_external_limit()
    assert ("ClearedChargingLimit", {"chargingLimitSource": "EMS"}) in frames.calls()
    assert station.evse(1).meter.power_w > 4000 * 2


# L. Firmware management --------------------------------------------------------------------


async def test_l02_update_firmware_over_http_then_reboot(csms, make_station, http_server):
    """L02 (no signature): UpdateFirmware Accepted; FirmwareStatusNotification Downloading,
    Downloaded, Installing, InstallRebooting (L01.FR.15), each with the requestId (L01.FR.10);
    then the reboot: BootNotification reason FirmwareUpdate with the new firmwareVersion; only
    then Installed, sent by the new firmware (L01.FR.32 option (a)), and the security event
    FirmwareUpdated after it (L01.FR.31), after the reboot's ResetOrReboot."""
    http_server.files["/fw/station.bin"] = make_image("2.0.1-b7")
    station, frames = await make_station(csms.url(""), "ST-L02")
    await station.wait_booted(5)
    result = await commands.execute(csms, "ST-L02", "UpdateFirmware", {
        "requestId": 1, "firmware": {"location": f"{http_server.url}/fw/station.bin",
                                     "retrieveDateTime": now()}})  # fmt: skip
    assert result.reply == {"status": "Accepted"}
    await until(lambda: "Installed" in statuses(frames, "FirmwareStatusNotification"))
    assert statuses(frames, "FirmwareStatusNotification") == [
        "Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"]
    request_id = result.request["requestId"]  # the CSMS allocates it
    assert {p["requestId"] for a, p in frames.calls() if a == "FirmwareStatusNotification"} == {
        request_id}
    # L01.FR.32 (a): InstallRebooting, the reboot, then Installed from the new firmware
    order = [(a, p.get("status") or p.get("reason")) for a, p in frames.calls()
             if a in ("BootNotification", "FirmwareStatusNotification")]
    assert order[-3:] == [("FirmwareStatusNotification", "InstallRebooting"),
                          ("BootNotification", "FirmwareUpdate"),
                          ("FirmwareStatusNotification", "Installed")]
    boot = [p for a, p in frames.calls() if a == "BootNotification"][-1]
    assert boot["chargingStation"]["firmwareVersion"] == "2.0.1-b7"
    await until(lambda: [p["type"] for a, p in frames.calls()
                         if a == "SecurityEventNotification"][-1:] == ["FirmwareUpdated"])
    events = [p["type"] for a, p in frames.calls() if a == "SecurityEventNotification"]
    # A04.FR.01: the start-up, the reboot; L01.FR.31: the update, reported by the new firmware
    assert events == ["StartupOfTheDevice", "ResetOrReboot", "FirmwareUpdated"]


@pytest.mark.parametrize("good", [True, False])
async def test_l01_signed_firmware(csms, make_station, http_server, pki, good):
    """L01: the signing certificate chains to the installed ManufacturerRootCertificate
    (M05); a good signature is SignatureVerified and installed; a bad one ends in
    InvalidSignature (L01.FR.03) and the security event InvalidFirmwareSignature, nothing
    installed. A signing certificate of no installed root: InvalidCertificate (L01.FR.02)."""
    image = make_image("3.0.0")
    http_server.files["/fw/signed.bin"] = image
    station, frames = await make_station(csms.url(""), "ST-L01")
    await station.wait_booted(5)
    key = serialization.load_pem_private_key(pki.csms_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(image if good else image + b"x", ec.ECDSA(hashes.SHA256()))
    firmware = {"location": f"{http_server.url}/fw/signed.bin", "retrieveDateTime": now(),
                "signingCertificate": pki.csms_cert.read_text(),
                "signature": base64.b64encode(signature).decode()}
    assert await execute(csms, "ST-L01", "UpdateFirmware", {
        "requestId": 1, "firmware": firmware}) == {"status": "InvalidCertificate"}
    assert await execute(csms, "ST-L01", "InstallCertificate", {
        "certificateType": "ManufacturerRootCertificate",
        "certificate": pki.ca_cert.read_text()}) == {"status": "Accepted"}
    assert await execute(csms, "ST-L01", "UpdateFirmware", {
        "requestId": 1, "firmware": firmware}) == {"status": "Accepted"}
    final = "Installed" if good else "InvalidSignature"
    await until(lambda: final in statuses(frames, "FirmwareStatusNotification"))
    expected = ["Downloading", "Downloaded", "SignatureVerified", "Installing",
                "InstallRebooting", "Installed"] if good else [
        "Downloading", "Downloaded", "InvalidSignature"]
    assert statuses(frames, "FirmwareStatusNotification") == expected
    if not good:
        await until(lambda: "InvalidFirmwareSignature" in
                    [e["type"] for e in station.features.events.log_lines()])


# N. Diagnostics ----------------------------------------------------------------------------


async def test_n01_get_log_uploads_over_http(csms, make_station, http_server, tmp_path):
    """N01: GetLog DiagnosticsLog Accepted with the file name (N01.FR.01); LogStatusNotification
    Uploading then Uploaded with the requestId; the file, the station's own message log, arrives
    on the HTTP server. A location that refuses it (HTTP 403): PermissionDenied."""
    station, frames = await make_station(csms.url(""), "ST-N01", state_dir=tmp_path / "st")
    await station.wait_booted(5)
    result = await commands.execute(csms, "ST-N01", "GetLog", {
        "logType": "DiagnosticsLog", "requestId": 1,
        "log": {"remoteLocation": f"{http_server.url}/logs/"}})  # fmt: skip
    assert result.reply["status"] == "Accepted"
    name = result.reply["filename"]
    await until(lambda: "Uploaded" in statuses(frames, "LogStatusNotification"))
    assert statuses(frames, "LogStatusNotification") == ["Uploading", "Uploaded"]
    uploaded = http_server.received[f"/logs/{name}"]
    assert b'"action":"BootNotification"' in uploaded.replace(b" ", b""), uploaded[:200]
    await commands.execute(csms, "ST-N01", "GetLog", {
        "logType": "SecurityLog", "requestId": 2, "retries": 0,
        "log": {"remoteLocation": f"{http_server.url}/forbidden/"}})  # fmt: skip
    await until(lambda: statuses(frames, "LogStatusNotification")[-1] not in ("Uploading",
                                                                              "Uploaded"))
    assert statuses(frames, "LogStatusNotification")[-2:] == ["Uploading", "PermissionDenied"]


async def test_n09_customer_information(csms, make_station):
    """N09: CustomerInformation for an idToken with report: Accepted (N09.FR.02) and one
    NotifyCustomerInformation with what the station holds (the cached authorization, the
    running transaction; N09.FR.05), seqNo 0, no tbc; with clear the cache entry goes (N10)."""
    station, frames = await charging(csms, make_station, "ST-N09")
    reply = await execute(csms, "ST-N09", "CustomerInformation", {
        "requestId": 3, "report": True, "clear": True, "idToken": TOKEN})
    assert reply == {"status": "Accepted"}
    note = await until(lambda: next((p for a, p in frames.calls()
                                     if a == "NotifyCustomerInformation"), None))
    assert (note["requestId"], note["seqNo"], "tbc" in note) == (3, 0, False)
    assert "authorization cache: Accepted" in note["data"]
    assert station.evse(1).tx.transaction_id in note["data"]
    assert station.auth_cache.status(TOKEN, station.clock.now()) is None


# O. Display messages, P. DataTransfer, I. Cost, M. Certificates ----------------------------


async def test_o_display_messages(csms, make_station):
    """O01/O06: SetDisplayMessage Accepted, the same id again replaces it; a format not in
    SupportedFormats: NotSupportedMessageFormat (O02.FR.05); a transaction it does not have:
    UnknownTransaction (O02.FR.01). O04: GetDisplayMessages by id: Accepted and
    NotifyDisplayMessages with the requestId; none matching: Unknown (O04.FR.02). O05:
    ClearDisplayMessage Accepted, then Unknown (O05.FR.01/02)."""
    station, frames = await make_station(csms.url(""), "ST-O", DisplaySupportedFormats="UTF8")

    def message(msg_id: int, content: str, fmt: str = "UTF8", **extra) -> dict:
        return {"message": {"id": msg_id, "priority": "NormalCycle",
                            "message": {"format": fmt, "content": content}, **extra}}

    await station.wait_booted(5)
    assert await execute(csms, "ST-O", "SetDisplayMessage", message(1, "Welcome")) == {
        "status": "Accepted"}
    assert await execute(csms, "ST-O", "SetDisplayMessage", message(1, "Hello")) == {
        "status": "Accepted"}
    assert station.display_showing() == ["Hello"]
    assert await execute(csms, "ST-O", "SetDisplayMessage", message(2, "<b>x</b>", "HTML")) == {
        "status": "NotSupportedMessageFormat"}
    assert await execute(csms, "ST-O", "SetDisplayMessage",
                         message(3, "tx", transactionId="nope")) == {
        "status": "UnknownTransaction"}
    assert await execute(csms, "ST-O", "GetDisplayMessages", {"requestId": 5, "id": [1]}) == {
        "status": "Accepted"}
    notify = await until(lambda: next((p for a, p in frames.calls()
                                       if a == "NotifyDisplayMessages"), None))
    assert notify["requestId"] == 5
    assert [m["message"]["content"] for m in notify["messageInfo"]] == ["Hello"]
    assert await execute(csms, "ST-O", "GetDisplayMessages", {"requestId": 6, "id": [9]}) == {
        "status": "Unknown"}
    assert await execute(csms, "ST-O", "ClearDisplayMessage", {"id": 1}) == {"status": "Accepted"}
    assert await execute(csms, "ST-O", "ClearDisplayMessage", {"id": 1}) == {"status": "Unknown"}


async def test_p_i_m_data_transfer_cost_and_certificates(csms, make_station, pki):
    """P01.FR.05: DataTransfer of any vendor: UnknownVendorId. I02: CostUpdated answered
    (I02.FR.02) and shown (I02.FR.03); the Ended event's response carries the total cost,
    shown as final (I03.FR.03). M05/M03/M04: a V2GRootCertificate installed, listed by
    GetInstalledCertificateIds with its hash data, deleted, then NotFound. M01/M06: the
    station's Get15118EVCertificate and GetCertificateStatus answered Failed by a CSMS
    without a contract back end or OCSP responder."""
    station, _frames = await charging(csms, make_station, "ST-PIM")
    assert await execute(csms, "ST-PIM", "DataTransfer", {"vendorId": "com.example"}) == {
        "status": "UnknownVendorId"}
    tx_id = station.evse(1).tx.transaction_id
    assert await execute(csms, "ST-PIM", "CostUpdated",
                         {"totalCost": 1.25, "transactionId": tx_id}) == {}
    assert station.cost_shown(tx_id)["totalCost"] == 1.25
    await station.clock.sleep(60)
    assert await station.present_id_tag("TAG-OK")  # the driver stops
    await until(lambda: (station.cost_shown(tx_id) or {}).get("final"))
    assert await execute(csms, "ST-PIM", "InstallCertificate", {
        "certificateType": "V2GRootCertificate", "certificate": pki.ca_cert.read_text()}) == {
        "status": "Accepted"}
    listed = await execute(csms, "ST-PIM", "GetInstalledCertificateIds",
                           {"certificateType": ["V2GRootCertificate"]})
    assert listed["status"] == "Accepted"
    [entry] = listed["certificateHashDataChain"]
    assert entry["certificateType"] == "V2GRootCertificate"
    hash_data = entry["certificateHashData"]
    assert await execute(csms, "ST-PIM", "DeleteCertificate",
                         {"certificateHashData": hash_data}) == {"status": "Accepted"}
    assert (await execute(csms, "ST-PIM", "GetInstalledCertificateIds", {}))["status"] == (
        "NotFound")
    # M01/M06: the station's own requests; this CSMS has no contract back end nor OCSP
    assert (await station.get_15118_ev_certificate("AAEC"))["status"] == "Failed"
    status = await station.get_certificate_status({
        "hashAlgorithm": "SHA256", "issuerNameHash": "00", "issuerKeyHash": "00",
        "serialNumber": "01", "responderURL": "http://127.0.0.1:9/ocsp"})
    assert status["status"] == "Failed"  # M06.FR.04


async def test_n02_to_n07_monitoring(csms, make_station):
    """N04: SetVariableMonitoring UpperThreshold 600 on OCPPCommCtrlr.HeartbeatInterval:
    Accepted with the monitor's id (N04.FR.01/02). N07: SetVariables HeartbeatInterval 900 trips
    it: NotifyEvent with trigger Alerting, the actual value and the monitor's id (N07.FR.02).
    N02: GetMonitoringReport: Accepted and NotifyMonitoringReport with the monitor. N05/N03:
    SetMonitoringLevel and SetMonitoringBase Accepted. N06: ClearVariableMonitoring of its id:
    Accepted, of an unknown id: NotFound. A station without a device model: NotSupported."""
    station, frames = await make_station(csms.url(""), "ST-N07",
                                         dm=DeviceModel.load(default_config_dir()))
    await station.wait_booted(5)
    monitored = {"component": {"name": "OCPPCommCtrlr"},
                 "variable": {"name": "HeartbeatInterval"}}
    reply = await execute(csms, "ST-N07", "SetVariableMonitoring", {"setMonitoringData": [
        {"value": 600, "type": "UpperThreshold", "severity": 0, **monitored}]})
    [result] = reply["setMonitoringResult"]
    assert result["status"] == "Accepted"
    monitor_id = result["id"]
    reply = await execute(csms, "ST-N07", "SetVariables", {"setVariableData": [
        {"attributeValue": "900", **monitored}]})
    assert reply["setVariableResult"][0]["attributeStatus"] == "Accepted"
    event = await until(lambda: next((p for a, p in frames.calls() if a == "NotifyEvent"), None))
    [data] = event["eventData"]
    assert (data["trigger"], data["actualValue"], data["variableMonitoringId"]) == (
        "Alerting", "900", monitor_id)
    report = await commands.execute(csms, "ST-N07", "GetMonitoringReport", {"requestId": 1})
    assert report.reply == {"status": "Accepted"}
    parts = await until(lambda: [p for a, p in frames.calls()
                                 if a == "NotifyMonitoringReport"] or None)
    ids = [m["id"] for part in parts for entry in part["monitor"]
           for m in entry["variableMonitoring"]]
    assert monitor_id in ids
    assert (await execute(csms, "ST-N07", "SetMonitoringLevel", {"severity": 5}))[
        "status"] == "Accepted"
    assert (await execute(csms, "ST-N07", "SetMonitoringBase", {"monitoringBase": "All"}))[
        "status"] == "Accepted"
    cleared = await execute(csms, "ST-N07", "ClearVariableMonitoring", {"id": [monitor_id, 999]})
    assert [r["status"] for r in cleared["clearMonitoringResult"]] == ["Accepted", "NotFound"]
    bare, _ = await make_station(csms.url(""), "ST-N07B")
    await bare.wait_booted(5)
    with pytest.raises(CallErrorReply) as refused:
        await execute(csms, "ST-N07B", "SetMonitoringLevel", {"severity": 5})
    assert refused.value.code == "NotSupported"
