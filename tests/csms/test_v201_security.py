"""OCPP 2.0.1 security in the reference CSMS (issue 18 point 5), over real websockets on
127.0.0.1 against the independent 2.0.1 station (`tests.csms.peer201`, the `ocpp` package's
ChargePoint): A01 password rotation through PUT /api/chargers/{id}/password, security profiles
1-3 on the listener 1.6 chargers use (TLS with a `cryptography`-generated PKI), the A05 upgrade
through POST /api/chargers/{id}/security-profile with no downgrade, and A02/A03 certificate
types.

Whether a password admits is asked with a probe: an upgrade request offering no subprotocol
the CSMS speaks. Admission runs before the upgrade (csms.admission); the CSMS then completes the
handshake and closes at once without registering, so the station's own connection stays.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chargebench.security import init_pki
from csms.central import CentralSystem
from tests.csms.peer201 import (
    IllegalSecurityStation,
    SecurityStation,
    Station,
    basic_auth,
    now,
    station,
)

TOKEN = "v201-security-admin"
OLD = "Old-Password-2016"  # a 2.0.1 passwordString of 17 characters (A00.FR.205)
NEW = "new.Password:2.0.1|rotated"  # case and the symbols * - _ = : + | @ . kept as given
PASSWORD_VARIABLE = {"component": {"name": "SecurityCtrlr"},
                     "variable": {"name": "BasicAuthPassword"}}  # fmt: skip


async def admits(url: str, cp_id: str, password: str | None, *,
                 tls: ssl.SSLContext | None = None) -> int:  # fmt: skip
    """The HTTP status the CSMS answers an upgrade request for `cp_id` with: 101 admitted,
    else its refusal (401, 403)."""
    headers = basic_auth(cp_id, password) if password is not None else None
    try:
        ws = await connect(url, subprotocols=["probe.example"],  # type: ignore[list-item]
                           additional_headers=headers, ssl=tls, compression=None, proxy=None,
                           open_timeout=5)  # fmt: skip
    except InvalidStatus as refused:
        return refused.response.status_code
    await ws.close()
    return 101


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=3,
                             unknown_chargers="refuse") as central:  # fmt: skip
        store = central.store
        store.upsert_charger("CS1", security_profile=1, registration_status="Accepted")
        store.set_charger_password("CS1", OLD, n=2)
        store.upsert_charger("CS0", registration_status="Accepted")  # profile 0
        store.upsert_charger("CS2", security_profile=2, registration_status="Accepted")
        store.set_charger_password("CS2", OLD, n=2)
        yield central


@pytest.fixture
async def api(csms):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}", timeout=10,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def password_requests(peer: Station) -> list[str]:
    return [item["attribute_value"] for action, payload in peer.commands
            if action == "SetVariables" for item in payload["set_variable_data"]
            if item["variable"]["name"] == "BasicAuthPassword"]  # fmt: skip


# A01 Update Charging Station Password -----------------------------------------------------------


async def test_a01_accepted_password_replaces_the_old_one(csms, api):
    """A01.FR.02: SetVariables SecurityCtrlr.BasicAuthPassword first; A01.FR.03: after its
    Accepted only the new password admits; A01.FR.07: left out, the CSMS generates one (40
    characters, answered once); A01.FR.08/09: it never joins the reported configuration."""
    url = csms.url("CS1")
    async with station(url, "CS1", cls=SecurityStation, password=OLD) as peer:
        assert (await peer.boot()).status == "Accepted"
        reply = await api.put("/api/chargers/CS1/password")
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        key = answer.pop("authorization_key")
        assert answer == {"charger_id": "CS1", "outcome": "Accepted", "stored": True,
                          "sent": True, "reply": {"setVariableResult": [
                              {"attributeStatus": "Accepted", **PASSWORD_VARIABLE}]}}
        assert password_requests(peer) == [key] and len(key) == 40
        assert reply.headers["Cache-Control"] == "no-store"
    assert await admits(url, "CS1", OLD) == 401
    assert await admits(url, "CS1", key) == 101
    reported = csms.store.get_reported_config("CS1")
    assert not any("BasicAuthPassword" in name for name in reported)
    # A00.FR.205: the password travels as its UTF-8 text, case and symbols as given
    async with station(url, "CS1", cls=SecurityStation, password=key) as peer:
        reply = await api.put("/api/chargers/CS1/password", json={"authorization_key": NEW})
        assert (reply.status_code, reply.json()["outcome"]) == (200, "Accepted"), reply.text
        assert "authorization_key" not in reply.json()  # the caller's own key is not echoed
        assert password_requests(peer) == [NEW]
    assert (await admits(url, "CS1", NEW), await admits(url, "CS1", NEW.lower())) == (101, 401)


@pytest.mark.parametrize("status", ["Rejected", "RebootRequired", "UnknownVariable"])
async def test_a01_any_other_status_keeps_the_old_password(csms, api, status):
    """A01.FR.04: a status other than Accepted (RebootRequired too: A01.FR.03 names Accepted
    only) keeps the old password admitted and the new one refused; no key is handed out."""
    url = csms.url("CS1")
    cls = type("Answering", (SecurityStation,), {"password_status": status})
    async with station(url, "CS1", cls=cls, password=OLD) as peer:
        await peer.boot()
        reply = await api.put("/api/chargers/CS1/password", json={"authorization_key": NEW})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert (body["outcome"], body["stored"], body["sent"]) == (status, False, True)
        assert "authorization_key" not in body
    assert (await admits(url, "CS1", OLD), await admits(url, "CS1", NEW)) == (101, 401)


@pytest.mark.parametrize("accepted", [True, False])
async def test_a01_offered_password_admits_while_unanswered(csms, api, accepted):
    """While the SetVariables is unanswered both passwords admit (a station that takes the new
    one, answers and reconnects may dial in before the CSMS has read the answer); once
    answered, A01.FR.03 (Accepted: only the new) or A01.FR.04 (Rejected: only the old)."""
    url = csms.url("CS1")
    seen: list[tuple[int, int]] = []

    async def probe(_: dict) -> None:
        seen.append((await admits(url, "CS1", OLD), await admits(url, "CS1", NEW)))

    cls = type("Probing", (SecurityStation,), {
        "password_status": "Accepted" if accepted else "Rejected",
        "before_answer": staticmethod(probe)})  # fmt: skip
    async with station(url, "CS1", cls=cls, password=OLD) as peer:
        await peer.boot()
        reply = await api.put("/api/chargers/CS1/password", json={"authorization_key": NEW})
        assert reply.json()["stored"] is accepted, reply.text
    assert seen == [(101, 101)]
    after = (await admits(url, "CS1", OLD), await admits(url, "CS1", NEW))
    assert after == ((401, 101) if accepted else (101, 401))
    assert "CS1" not in csms.offered


@pytest.mark.parametrize("illegal", ["status", "elsewhere"])
async def test_a01_illegal_answer_keeps_the_old_password(csms, api, illegal):
    """An attributeStatus outside SetVariableStatusEnumType (schema break: the CSMS's session
    core refuses the reply) or a result that does not name BasicAuthPassword: 502, the old
    password stays, the new one is not admitted."""
    url = csms.url("CS1")
    cls = type("Illegal", (IllegalSecurityStation,), {"illegal": illegal})
    async with station(url, "CS1", cls=cls, password=OLD) as peer:
        await peer.boot()
        reply = await api.put("/api/chargers/CS1/password", json={"authorization_key": NEW})
        assert reply.status_code == 502, reply.text
        assert "old key stays stored" in reply.json()["error"]
    assert (await admits(url, "CS1", OLD), await admits(url, "CS1", NEW)) == (101, 401)


async def test_a01_key_rule_of_the_station_version(csms, api):
    """A00.FR.205: a 2.0.1 password is a passwordString of 16-40 characters; a key only 1.6
    allows (16 characters with ! and #) is refused for a connected 2.0.1 station before anything is
    sent. Not connected: 409, or stored with if_offline=store (kept as given: case counts)."""
    url = csms.url("CS1")
    async with station(url, "CS1", cls=SecurityStation, password=OLD) as peer:
        await peer.boot()
        reply = await api.put("/api/chargers/CS1/password",
                              json={"authorization_key": "sixteen!chars#ok"})  # fmt: skip
        assert (reply.status_code, reply.json()["field"]) == (422, "authorization_key")
        assert "A00.FR.205" in reply.json()["error"]
        assert password_requests(peer) == []
    offline = "Stored-Offline-Mixed-Case-32chars"
    reply = await api.put("/api/chargers/CS1/password", json={"authorization_key": offline})
    assert reply.status_code == 409
    reply = await api.put("/api/chargers/CS1/password",
                          json={"authorization_key": offline, "if_offline": "store"})
    assert reply.json()["outcome"] == "Stored"
    assert (await admits(url, "CS1", offline), await admits(url, "CS1", OLD)) == (101, 401)


# Security profiles 1-3 (A00) --------------------------------------------------------------------


async def test_a00_profile_1_basic_auth_and_no_downgrade(csms):
    """Profile 1 (A00.FR.202-207): the station identity as user and its password; none or a
    wrong one is refused 401 before OCPP. A station registered at profile 2 on a listener
    without TLS gets 403 (A00.FR.002, A05.FR.07: never admitted below its profile)."""
    url = csms.url("CS1")
    async with station(url, "CS1", password=OLD) as peer:
        assert (await peer.boot()).status == "Accepted"
        assert csms.connections.get("CS1").profile == 1
    assert await admits(url, "CS1", None) == 401
    assert await admits(url, "CS1", OLD + "x") == 401
    assert await admits(url, "CS1", OLD.lower()) == 401  # passwordString is case-sensitive
    assert await admits(csms.url("CS2"), "CS2", OLD) == 403


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return init_pki(tmp_path_factory.mktemp("pki"),
                    charge_points=["SN-201-2", "SN-201-3", "SN-OTHER"])  # fmt: skip


@pytest.fixture
async def tls_csms(tmp_path, pki):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=3, unknown_chargers="refuse",
                             tls_cert=pki.csms_cert, tls_key=pki.csms_key,
                             tls_ca=pki.ca_cert, ca_key=pki.ca_key) as central:  # fmt: skip
        store = central.store
        store.upsert_charger("CS2", security_profile=2, serial="SN-201-2",
                             registration_status="Accepted")  # fmt: skip
        store.set_charger_password("CS2", OLD, n=2)
        store.upsert_charger("CS3", security_profile=3, serial="SN-201-3",
                             registration_status="Accepted")  # fmt: skip
        yield central


async def test_a00_profiles_2_and_3_over_tls(tls_csms, pki):
    """Profile 2 (A00.FR.301-324): TLS and Basic auth; profile 3 (A00.FR.401-405): a client
    certificate of the CSMS's CA whose CN is the station's serial and O the CPO's name; the
    same listener as 1.6 chargers. Another station's certificate: 403; profile 3 without a
    certificate: refused (A00.FR.002)."""
    async with station(tls_csms.url("CS2"), "CS2", password=OLD, ssl=pki.client_context()) as peer:
        assert (await peer.boot()).status == "Accepted"
        assert tls_csms.connections.get("CS2").profile == 2
    assert await admits(tls_csms.url("CS2"), "CS2", None, tls=pki.client_context()) == 401
    async with station(tls_csms.url("CS3"), "CS3", ssl=pki.client_context("SN-201-3")) as peer:
        assert (await peer.boot(serial="SN-201-3")).status == "Accepted"
        assert tls_csms.connections.get("CS3").profile == 3
    assert tls_csms.store.get_charger("CS3")["max_profile_seen"] == 3
    assert await admits(tls_csms.url("CS3"), "CS3", None, tls=pki.client_context("SN-OTHER")) == 403
    # A00.FR.408: the CSMS logs the certificate it refused
    [event] = tls_csms.store.list_security_events(charger_id="CS3")
    assert event["type"] == "InvalidChargingStationCertificate"
    assert await admits(tls_csms.url("CS3"), "CS3", None, tls=pki.client_context()) in (401, 403)


# A05 Upgrade Charging Station Security Profile --------------------------------------------------


async def test_a05_upgrade_from_0_to_1_is_recorded_on_reconnect(csms, api):
    """A05 prerequisites: profile 1 needs a password (409 without); then GetVariables
    NetworkConfigurationPriority, SetNetworkProfile into the next slot (B09), SetVariables
    NetworkConfigurationPriority with it first (B10.FR.01), Reset OnIdle. Until the station
    reconnects with the new profile the old one still admits (B10.FR.07 fallback); once it
    has, the profile is recorded (A05.FR.06) and nothing lower admits (A05.FR.07)."""
    url = csms.url("CS0")
    body = {"securityProfile": 1, "ocppCsmsUrl": url.removesuffix("/CS0")}
    async with station(url, "CS0", cls=SecurityStation) as peer:
        await peer.boot()
        reply = await api.post("/api/chargers/CS0/security-profile", json=body)
        assert (reply.status_code, reply.json()["field"]) == (409, "securityProfile")
        assert "password" in reply.json()["error"] and peer.commands == []
        reply = await api.put("/api/chargers/CS0/password", json={"authorization_key": NEW})
        assert reply.json()["stored"] is True, reply.text
        reply = await api.post("/api/chargers/CS0/security-profile", json=body)
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert (answer["outcome"], answer["configurationSlot"]) == ("Pending", 1)
        assert [step["action"] for step in answer["steps"]] == [
            "GetVariables", "SetNetworkProfile", "SetVariables", "Reset"]
        network = answer["steps"][1]["request"]
        assert network["configurationSlot"] == 1
        assert network["connectionData"]["securityProfile"] == 1
        assert network["connectionData"]["ocppCsmsUrl"] == body["ocppCsmsUrl"]
        priority = answer["steps"][2]["request"]["setVariableData"][0]
        assert priority["attributeValue"] == "1,0"
        assert answer["steps"][3]["request"] == {"type": "OnIdle"}
        assert [action for action, _ in peer.commands][-3:] == [
            "SetNetworkProfile", "SetVariables", "Reset"]
    assert csms.store.get_charger("CS0")["security_profile"] == 0
    assert await admits(url, "CS0", None) == 101  # not reconnected with it yet
    async with station(url, "CS0", cls=SecurityStation, password=NEW) as peer:
        await peer.boot()  # A05 step 4: reconnected through the new profile
        assert csms.connections.get("CS0").profile == 1
    assert csms.store.get_charger("CS0")["security_profile"] == 1
    assert await admits(url, "CS0", None) == 401


async def test_a05_downgrade_is_refused_and_never_admitted(csms, api):
    """A00.FR.005, A05.FR.10: the upgrade endpoint refuses a lower profile with 409 naming the
    requirement, and the profile a station has already. The plain actions API sends a lower
    SetNetworkProfile as given (the station's B09.FR.04 to judge: a test tool checks it), yet
    the CSMS admits nothing lower (A05.FR.07)."""
    reply = await api.post("/api/chargers/CS2/security-profile",
                           json={"securityProfile": 1, "ocppCsmsUrl": "ws://x"})  # fmt: skip
    assert (reply.status_code, reply.json()["field"]) == (409, "securityProfile")
    assert "A05.FR.10" in reply.json()["error"]
    url = csms.url("CS1")
    async with station(url, "CS1", cls=SecurityStation, password=OLD) as peer:
        await peer.boot()
        reply = await api.post("/api/chargers/CS1/security-profile",
                               json={"securityProfile": 1, "ocppCsmsUrl": "ws://x"})
        assert reply.status_code == 409 and "already" in reply.json()["error"]
        assert peer.commands == []
        lower = {"configurationSlot": 1, "connectionData": {
            "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url[:-4],
            "messageTimeout": 30, "securityProfile": 0, "ocppInterface": "Wired0"}}  # fmt: skip
        reply = await api.post("/api/chargers/CS1/actions/SetNetworkProfile", json=lower)
        assert reply.status_code == 200, reply.text
        priority = {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                         "variable": {"name": "NetworkConfigurationPriority"},
                                         "attributeValue": "1,0"}]}  # fmt: skip
        reply = await api.post("/api/chargers/CS1/actions/SetVariables", json=priority)
        assert reply.status_code == 200, reply.text
        assert [action for action, _ in peer.commands] == ["SetNetworkProfile", "SetVariables"]
    assert await admits(url, "CS1", None) == 401
    assert csms.store.get_charger("CS1")["security_profile"] == 1


async def test_a05_upgrade_from_2_to_3_over_tls(tls_csms, pki):
    """Profile 2 -> 3 on one TLS listener: after the flow the station reconnects with its
    client certificate (A05.FR.05/06); TLS with Basic auth alone is refused from then on
    (A05.FR.07)."""
    url = tls_csms.url("CS2")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{tls_csms.api_port}", timeout=10,
                          headers=headers) as api,
        station(url, "CS2", cls=SecurityStation, password=OLD, ssl=pki.client_context()) as peer,
    ):  # fmt: skip
        await peer.boot(serial="SN-201-2")  # the serial its certificate names (A00.FR.511)
        reply = await api.post("/api/chargers/CS2/security-profile", json={
            "securityProfile": 3, "ocppCsmsUrl": url.removesuffix("/CS2")})
        assert reply.json()["outcome"] == "Pending", reply.text
    assert await admits(url, "CS2", OLD, tls=pki.client_context()) == 101  # fallback still possible
    async with station(url, "CS2", cls=SecurityStation, ssl=pki.client_context("SN-201-2")) as peer:
        await peer.boot(serial="SN-201-2")
    assert tls_csms.store.get_charger("CS2")["security_profile"] == 3
    assert await admits(url, "CS2", OLD, tls=pki.client_context()) == 403


class Charger16(ChargePoint16):
    """The `ocpp` package's 1.6 charge point, accepting every ChangeConfiguration."""

    changes: list[tuple[str, str]]

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> object:
        self.changes.append((key, value))
        return result16.ChangeConfiguration(status="Accepted")


async def charger16_boots(url: str, cp_id: str, *, tls: ssl.SSLContext,
                          password: str | None = None) -> Charger16:  # fmt: skip
    """A 1.6 charger connected (its reader running) and booted."""
    headers = basic_auth(cp_id, password) if password is not None else None
    ws = await connect(url, subprotocols=["ocpp1.6"], additional_headers=headers,  # type: ignore[list-item]
                       ssl=tls, compression=None, proxy=None, open_timeout=5)  # fmt: skip
    charger = Charger16(cp_id, ws, response_timeout=5)
    charger.changes = []
    charger.reader = asyncio.get_running_loop().create_task(charger.start())  # type: ignore[attr-defined]
    await charger.call(call16.BootNotification(charge_point_model="M", charge_point_vendor="V",
                                               charge_point_serial_number="SN-201-3"))
    return charger


async def closed(charger: Charger16) -> None:
    await charger._connection.close()
    charger.reader.cancel()  # type: ignore[attr-defined]
    await asyncio.gather(charger.reader, return_exceptions=True)  # type: ignore[attr-defined]


async def test_a05_the_same_rule_for_a_1_6_charger(tls_csms, pki):
    """One rule for both versions: a 1.6 charger (the `ocpp` package's) raised 2 -> 3 through
    the same endpoint gets ChangeConfiguration SecurityProfile (whitepaper A05.FR.05); the old
    profile admits until it reconnects with the new one (A05.FR.08 fallback), then the new
    profile is recorded and TLS with Basic auth refused (A05.FR.09)."""
    tls_csms.store.upsert_charger("CP16", security_profile=2, serial="SN-201-3",
                                  registration_status="Accepted")  # fmt: skip
    tls_csms.store.set_charger_password("CP16", OLD, n=2)
    url = tls_csms.url("CP16")
    charger = await charger16_boots(url, "CP16", tls=pki.client_context(), password=OLD)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{tls_csms.api_port}",
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            reply = await api.post("/api/chargers/CP16/security-profile",
                                   json={"securityProfile": 3})  # fmt: skip
        assert reply.json()["outcome"] == "Pending", reply.text
        assert charger.changes == [("SecurityProfile", "3")]
    finally:
        await closed(charger)
    assert tls_csms.store.get_charger("CP16")["security_profile"] == 2
    assert await admits(url, "CP16", OLD, tls=pki.client_context()) == 101
    await closed(await charger16_boots(url, "CP16", tls=pki.client_context("SN-201-3")))
    assert tls_csms.store.get_charger("CP16")["security_profile"] == 3
    assert await admits(url, "CP16", OLD, tls=pki.client_context()) == 403


async def test_a05_a_refused_step_ends_the_flow(csms, api):
    """A station that rejects the NetworkConfigurationPriority (A05.FR.02/03: prerequisites
    missing) is not reset; the answer names the step; nothing is recorded."""

    refusing = type("Refusing", (SecurityStation,), {"other_status": "Rejected"})
    async with station(csms.url("CS1"), "CS1", cls=refusing, password=OLD) as peer:
        await peer.boot()
        reply = await api.post("/api/chargers/CS1/security-profile",
                               json={"securityProfile": 2, "ocppCsmsUrl": "wss://x/ocpp"})
        answer = reply.json()
        assert (answer["outcome"], answer["refusedBy"]) == ("Refused", "SetVariables")
        assert "Reset" not in [action for action, _ in peer.commands]
    assert csms.store.get_charger("CS1")["security_profile"] == 1


# A02/A03 certificates ---------------------------------------------------------------------------


def station_csr(serial: str, organization: str) -> str:
    """A station's CSR as A02.FR.02/A00.FR.511 describe it (CN = serial, O = the CPO), built
    with `cryptography` here, not by ChargeBench."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, serial),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])  # fmt: skip
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")



async def test_a02_only_station_certificates_are_signed(tls_csms, pki, tmp_path):
    """SignCertificate: ChargingStationCertificate (and the type left out, A02.FR.15) is
    signed by the CSMS's CA and sent with CertificateSigned; a V2GCertificate is Rejected with
    a reason (no V2G CA here), never a CALLERROR."""
    csr = station_csr("SN-201-3", tls_csms.config.cpo_name)
    async with station(tls_csms.url("CS3"), "CS3", ssl=pki.client_context("SN-201-3")) as peer:
        await peer.boot(serial="SN-201-3")
        reply = await peer.call(call201.SignCertificate(csr=csr,
                                                        certificate_type="V2GCertificate"),
                                suppress=False)  # fmt: skip
        assert reply.status == "Rejected"
        assert reply.status_info["reason_code"] == "UnsupportedRequest"
        reply = await peer.call(call201.SignCertificate(
            csr=csr, certificate_type="ChargingStationCertificate"), suppress=False)
        assert reply.status == "Accepted"
        action, signed = await asyncio.wait_for(peer.received.get(), 5)
        assert action == "CertificateSigned"
        assert signed["certificate_type"] == "ChargingStationCertificate"
        assert "BEGIN CERTIFICATE" in signed["certificate_chain"]


async def test_m_certificate_management_passes_through_and_is_recorded(csms, api, pki):
    """M05 InstallCertificate and M04 DeleteCertificate go through the actions API as sent; an
    Accepted install is recorded with its CertificateHashData (SHA256 of the issuer's name and
    key, as OCSP's CertID: computed here by `cryptography`'s OCSP builder), and an Accepted
    delete naming those hashes (any case) marks it removed, one naming another issuer's key
    does not; M03 GetInstalledCertificateIds is answered as the station gave it."""
    pem = pki.ca_cert.read_text()
    root = x509.load_pem_x509_certificate(pem.encode())
    cert_id = ocsp.OCSPRequestBuilder().add_certificate(root, root, hashes.SHA256()).build()
    hash_data = {"hashAlgorithm": "SHA256", "issuerNameHash": cert_id.issuer_name_hash.hex(),
                 "issuerKeyHash": cert_id.issuer_key_hash.hex().upper(),
                 "serialNumber": format(cert_id.serial_number, "X")}  # fmt: skip
    async with station(csms.url("CS1"), "CS1", password=OLD) as peer:
        await peer.boot()
        install = {"certificateType": "CSMSRootCertificate", "certificate": pem}
        reply = await api.post("/api/chargers/CS1/actions/InstallCertificate", json=install)
        assert reply.json() == {"status": "Accepted"}, reply.text
        [cert] = csms.store.list_certificates("CS1")
        assert cert["certificate_type"] == "CSMSRootCertificate"
        assert cert["issuer_key_hash"] == cert_id.issuer_key_hash.hex()
        assert cert["issuer_name_hash"] == cert_id.issuer_name_hash.hex()
        reply = await api.post("/api/chargers/CS1/actions/GetInstalledCertificateIds", json={})
        assert reply.json() == {"status": "NotFound"}
        for key_hash in ("b" * 64, hash_data["issuerKeyHash"]):
            reply = await api.post("/api/chargers/CS1/actions/DeleteCertificate", json={
                "certificateHashData": {**hash_data, "issuerKeyHash": key_hash}})
            assert reply.json() == {"status": "Accepted"}
            removed = csms.store.list_certificates("CS1") == []
            assert removed is (key_hash != "b" * 64)
        assert [action for action, _ in peer.commands] == [
            "InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate",
            "DeleteCertificate"]


async def test_a_reported_password_is_never_kept(csms):
    """A01.FR.08/09: BasicAuthPassword is WriteOnly; a station that reports its value anyway (in
    a NotifyReport or a NotifyEvent) does not get it kept in its device model or its reported
    configuration; the variable's other facts are kept."""
    password = dt.ReportDataType(
        component=dt.ComponentType(name="SecurityCtrlr"),
        variable=dt.VariableType(name="BasicAuthPassword"),
        variable_attribute=[dt.VariableAttributeType(value=OLD, mutability="WriteOnly")],
    )  # fmt: skip
    async with station(csms.url("CS0"), "CS0") as peer:
        await peer.boot()
        await peer.call(call201.NotifyReport(request_id=1, generated_at=now(), seq_no=0,
                                             report_data=[password]), suppress=False)  # fmt: skip
        await peer.call(call201.NotifyEvent(generated_at=now(), seq_no=0, event_data=[
            dt.EventDataType(event_id=1, timestamp=now(), trigger="Delta",
                             actual_value=OLD, event_notification_type="CustomMonitor",
                             component=dt.ComponentType(name="SecurityCtrlr"),
                             variable=dt.VariableType(name="BasicAuthPassword"))]),
                        suppress=False)  # fmt: skip
    [row] = csms.store.list_station_variables("CS0")
    assert (row["variable"], row["mutability"], row["value"]) == (
        "BasicAuthPassword", "WriteOnly", None)
    assert OLD not in str(csms.store.get_reported_config("CS0"))
