"""A. Security of the 2.0.1 station against the built-in CSMS (`csms.central.CentralSystem`),
over real websockets and real TLS on 127.0.0.1: profile 1 (Basic auth with
SecurityCtrlr.BasicAuthPassword), profile 2 (TLS to the CSMS CA), the A05 upgrade the CSMS runs
through its HTTP API (SetNetworkProfile, NetworkConfigurationPriority, Reset) and its fallback
when the new profile cannot connect (B10), certificate signing (A02: TriggerMessage, a CSR of
`cryptography`, CertificateSigned) and the upgrade to profile 3 with that certificate."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from chargebench.security import init_pki
from csms import commands
from csms.central import CentralSystem
from sim.features.connection import TlsFiles
from sim.v201.device_model import DeviceModel
from tests.sim.v201.conftest import LIBOCPP_201, until

TOKEN = "sim201-security"
PASSWORD = "Station-Password-201"
NEW_PASSWORD = "Rotated-Password-2.0.1"


def libocpp_dm(tmp_path, profile: int, url: str = "ws://localhost:9000") -> DeviceModel:
    """libocpp's device model with slot 1 (its only network profile) at `profile`."""
    dm = DeviceModel.load(LIBOCPP_201 / "component_config", tmp_path / "dm.json")
    slot = [{"configurationSlot": 1, "connectionData": {
        "messageTimeout": 30, "ocppCsmsUrl": url, "ocppInterface": "Wired0",
        "ocppTransport": "JSON", "ocppVersion": "OCPP20", "securityProfile": profile}}]
    dm.set_local("InternalCtrlr", "NetworkConnectionProfiles", json.dumps(slot))
    if profile > 0:  # libocpp's minLimit is 1: a station at 0 says so with an override
        dm.set_local("SecurityCtrlr", "SecurityProfile", profile)
    dm.set_local("SecurityCtrlr", "BasicAuthPassword", PASSWORD)
    return dm


def central(tmp_path, **tls: Any) -> CentralSystem:
    """The built-in CSMS with its HTTP API, admitting only the stations it knows; `tls`:
    its certificate, key, CA and CA key (wss:// only)."""
    return CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                         log_dir=None, call_timeout=3, unknown_chargers="refuse", **tls)


@pytest.fixture
async def csms(tmp_path):
    async with central(tmp_path) as plain:
        yield plain


def client(central: CentralSystem) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{central.api_port}", timeout=10,
                             headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
async def api(csms):
    async with client(csms) as api:
        yield api


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return init_pki(tmp_path_factory.mktemp("pki"), charge_points=["SN-201-P2"])


@pytest.fixture
async def tls_csms(tmp_path, pki):
    async with central(tmp_path, tls_cert=pki.csms_cert, tls_key=pki.csms_key,
                       tls_ca=pki.ca_cert, ca_key=pki.ca_key) as secure:
        yield secure


async def test_profile_1_basic_auth_and_a_wrong_password(csms, make_station):
    """A00.FR.201-206: profile 1 sends HTTP Basic with the station id and
    SecurityCtrlr.BasicAuthPassword; the CSMS admits it and records profile 1. A wrong password
    is refused (HTTP 401): the station does not boot and says why."""
    csms.store.upsert_charger("ST-P1", security_profile=1, registration_status="Accepted")
    csms.store.set_charger_password("ST-P1", PASSWORD, n=2)
    csms.store.upsert_charger("ST-BAD", security_profile=1, registration_status="Accepted")
    csms.store.set_charger_password("ST-BAD", PASSWORD, n=2)
    station, _ = await make_station(csms.url(""), "ST-P1", SecurityProfile=1,
                                    BasicAuthPassword=PASSWORD)
    await station.wait_booted(5)
    assert csms.connections.get("ST-P1").profile == 1
    assert station.security_profile == 1
    wrong, _ = await make_station(csms.url(""), "ST-BAD", SecurityProfile=1,
                                  BasicAuthPassword=PASSWORD + "x")
    await until(lambda: wrong.link.failure == "HTTP 401")
    assert not wrong.link.booted.is_set()


async def test_a_csms_certificate_of_another_ca_is_refused_and_logged(tls_csms, make_station,
                                                                      tmp_path):
    """A00.FR.308-310: a CSMS certificate that does not chain to the station's CA: the TLS
    handshake fails ("TLS: certificate verify failed"), the station does not boot, and the
    security log has InvalidCsmsCertificate (the 2.0.1 name, A00.FR.315)."""
    other = init_pki(tmp_path / "other")
    tls_csms.store.upsert_charger("ST-CA", security_profile=2, registration_status="Accepted")
    station, _ = await make_station(tls_csms.url(""), "ST-CA", SecurityProfile=2,
                                    BasicAuthPassword=PASSWORD)
    station.tls = TlsFiles(str(other.ca_cert))
    await until(lambda: station.link.failure == "TLS: certificate verify failed")
    assert not station.link.booted.is_set()
    await until(lambda: station.features_built("events"))
    assert {e["type"] for e in station.features.events.log_lines()} == {
        "InvalidCsmsCertificate"}


async def test_profile_2_over_tls_then_a_certificate_and_profile_3(tls_csms, make_station, pki,
                                                                   tmp_path):
    """Profile 2 (A00.FR.301-324): wss:// to the CSMS, its certificate verified against the CA
    file, and Basic auth. M05: InstallCertificate CSMSRootCertificate Accepted. A02:
    TriggerMessage SignChargingStationCertificate Accepted (F06), then SignCertificate with a
    CSR (CN the serial number, O the organization; A02.FR.02/03/13) Accepted by the CSMS, which
    signs it and sends CertificateSigned: Accepted (A02.FR.06). A05 through the CSMS's
    security-profile endpoint: SetNetworkProfile slot 2 Accepted (B09.FR.01), the priority
    "2,1" Accepted (B10.FR.01, A05.FR.04: the prerequisites hold), Reset; the station reboots,
    dials slot 2 first (A05.FR.05) with its new certificate (profile 3, A00.FR.402), the CSMS
    records profile 3, and the station drops the lower profile (A05.FR.06)."""
    store = tls_csms.store
    store.upsert_charger("ST-P2", security_profile=2, serial="SN-201-P2",
                         registration_status="Accepted")  # fmt: skip
    store.set_charger_password("ST-P2", PASSWORD, n=2)
    dm = libocpp_dm(tmp_path, 2)
    station, frames = await make_station(
        tls_csms.url(""), "ST-P2", dm=dm, state_dir=tmp_path / "st",
        SerialNumber="SN-201-P2", OrganizationName=tls_csms.config.cpo_name)
    station.tls = TlsFiles(str(pki.ca_cert))
    await station.wait_booted(5)
    assert tls_csms.connections.get("ST-P2").profile == 2
    root = await commands.execute(tls_csms, "ST-P2", "InstallCertificate", {
        "certificateType": "CSMSRootCertificate", "certificate": pki.ca_cert.read_text()})
    assert root.reply == {"status": "Accepted"}
    trigger = await commands.execute(tls_csms, "ST-P2", "TriggerMessage",
                                     {"requestedMessage": "SignChargingStationCertificate"})
    assert trigger.reply == {"status": "Accepted"}
    signed = await until(lambda: next((r.payload for r in frames if r.action ==
                                       "CertificateSigned" and r.dir.value == "cp->cs"
                                       and r.type.value == "CALLRESULT"), None))
    assert signed == {"status": "Accepted"}
    [(_, csr)] = [(a, p) for a, p in frames.calls() if a == "SignCertificate"]
    assert csr["certificateType"] == "ChargingStationCertificate"
    assert csr["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    station.tls = None  # from now on the installed root and certificate
    async with client(tls_csms) as api:
        reply = await api.post("/api/chargers/ST-P2/security-profile", json={
            "securityProfile": 3, "ocppCsmsUrl": tls_csms.url("").rstrip("/"),
            "configurationSlot": 2})
    assert reply.status_code == 200, reply.text
    steps = reply.json()["steps"]
    assert [(s["action"], s["reply"].get("status")) for s in steps[1:]] == [
        ("SetNetworkProfile", "Accepted"), ("SetVariables", None), ("Reset", "Accepted")]
    # B10.FR.01: Accepted or RebootRequired (this device model: the latter, B10.FR.04)
    assert steps[2]["reply"]["setVariableResult"][0]["attributeStatus"] == "RebootRequired"
    await until(lambda: store.get_charger("ST-P2")["security_profile"] == 3, timeout=10)
    await station.wait_booted(5)
    await until(lambda: "ST-P2" in tls_csms.connections)
    assert tls_csms.connections.get("ST-P2").profile == 3
    assert station.security_profile == 3
    assert dm.get("SecurityCtrlr", "SecurityProfile") == "3"
    assert dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "2"
    boots = [p for a, p in frames.calls() if a == "BootNotification"]
    assert [b["reason"] for b in boots] == ["PowerUp", "RemoteReset"]


async def test_a05_upgrade_to_1_then_a_failing_profile_falls_back(csms, api, make_station,
                                                                  tmp_path):
    """A01: the password the CSMS sets (SetVariables BasicAuthPassword) is taken and the change
    logged without it (A01.FR.11/12). A05 0 -> 1:
    the new profile in slot 2 first; after the reset the station connects with Basic auth and
    the CSMS records profile 1 (A05.FR.06). Then an upgrade whose URL does not answer: after
    NetworkProfileConnectionAttempts failures with it (B10.FR.03) the station dials the next
    entry, its working profile 1 again (B10.FR.07), and the CSMS still has profile 1."""
    csms.store.upsert_charger("ST-A05", registration_status="Accepted")
    dm = libocpp_dm(tmp_path, 0)
    station, frames = await make_station(csms.url(""), "ST-A05", dm=dm, SecurityProfile=0)
    await station.wait_booted(5)
    reply = await api.put("/api/chargers/ST-A05/password",
                          json={"authorization_key": NEW_PASSWORD})
    assert reply.json()["stored"] is True, reply.text
    assert dm.get("SecurityCtrlr", "BasicAuthPassword") == NEW_PASSWORD
    # A01.FR.11/12: the change is in the security log, the password is not
    logged = [e["type"] for e in station.features.events.log_lines()]
    assert logged.count("ReconfigurationOfSecurityParameters") == 1
    assert NEW_PASSWORD not in str(station.features.events.log_lines())
    base = csms.url("").rstrip("/")
    reply = await api.post("/api/chargers/ST-A05/security-profile",
                           json={"securityProfile": 1, "ocppCsmsUrl": base,
                                 "configurationSlot": 2})  # fmt: skip
    assert reply.status_code == 200, reply.text
    assert reply.json()["outcome"] == "Pending"
    await until(lambda: csms.store.get_charger("ST-A05")["security_profile"] == 1, timeout=10)
    await station.wait_booted(5)  # admitted first, registered by its boot
    await until(lambda: "ST-A05" in csms.connections)
    assert station.security_profile == 1
    assert dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "2"
    # a profile whose CSMS does not answer: slot 1 at profile 2, a port nobody listens on
    dead = {"configurationSlot": 1, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "ws://127.0.0.1:9/x",
        "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0"}}
    assert (await commands.execute(csms, "ST-A05", "SetNetworkProfile", dead)).reply == {
        "status": "Accepted"}
    priority = {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                     "variable": {"name": "NetworkConfigurationPriority"},
                                     "attributeValue": "1,2"}]}  # fmt: skip
    result = await commands.execute(csms, "ST-A05", "SetVariables", priority)
    # A05.FR.02: profile 2 needs a CSMSRootCertificate this station does not have
    assert result.reply["setVariableResult"][0]["attributeStatus"] == "Rejected"
    dead["connectionData"]["securityProfile"] = 1
    assert (await commands.execute(csms, "ST-A05", "SetNetworkProfile", dead)).reply == {
        "status": "Accepted"}
    result = await commands.execute(csms, "ST-A05", "SetVariables", priority)
    assert result.reply["setVariableResult"][0]["attributeStatus"] == "RebootRequired"
    connects = station.link.connects
    assert (await commands.execute(csms, "ST-A05", "Reset", {"type": "Immediate"})).reply == {
        "status": "Accepted"}
    await until(lambda: station.link.connects > connects and station.link.booted.is_set(),
                timeout=10)
    # slot 1 first (A05.FR.05), given up after its attempts, slot 2 connected (B10.FR.03)
    assert station.network.order == (1, 2) and station.network.index == 1
    assert station.network.last_good == 2 and station.security_profile == 1
    assert csms.connections.get("ST-A05").profile == 1
    boots = [p["reason"] for a, p in frames.calls() if a == "BootNotification"]
    assert boots == ["PowerUp", "RemoteReset", "RemoteReset"]
