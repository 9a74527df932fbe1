"""Plug&Charge over 1.6 DataTransfer (vendorId org.openchargealliance.iso15118pnc), charge point
side, with the 2.0.1 payloads checked against the `ocpp` package's v201 schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chargebench.clock import FrozenClock
from chargebench.security import DEFAULT_CPO_NAME, init_pki, sign_csr
from sim.features.certificates import V2G_ROOT, CertificateStore
from sim.v16.pnc import PNC_VENDOR_ID, PlugAndCharge, cert_signing_delays, check_v201
from tests.sim.features.helpers import make_config, valid_reply, valid_request

SERIAL = "CB-0002"


@pytest.fixture(scope="module")
def v2g_pki(tmp_path_factory):
    """Stands in for the V2G root hierarchy: a CA that signs SECC leaf CSRs."""
    return init_pki(tmp_path_factory.mktemp("v2g"), charge_points=[])


class Csms:
    """A `notify` playing the CSMS: answers wrapped PnC requests with `answers[messageId]`."""

    def __init__(self, answers=None, *, offline: bool = False) -> None:
        self.answers = answers or {}
        self.offline = offline
        self.sent: list[tuple[str, dict]] = []

    def wrapped(self, message_id: str) -> list[dict]:
        return [json.loads(p["data"]) for _, p in self.sent if p.get("messageId") == message_id]

    async def __call__(self, action: str, payload: dict) -> dict:
        valid_request(action, payload)
        self.sent.append((action, payload))
        check_v201(payload["messageId"], json.loads(payload["data"]), False)
        if self.offline:
            raise ConnectionError("offline")
        answer = self.answers.get(payload["messageId"])
        if answer is None:
            return {"status": "UnknownMessageId"}
        if callable(answer):
            answer = answer(json.loads(payload["data"]))
        return {"status": "Accepted", "data": json.dumps(answer)}


def setup(csms=None, *, profiles="Core,PnC", **pnc):
    clock = FrozenClock(datetime.now(UTC))
    config = make_config(
        Internal={"ChargeBoxSerialNumber": SERIAL},
        Core={"SupportedFeatureProfiles": profiles},
        Security={"SecurityProfile": 0, "CpoName": DEFAULT_CPO_NAME},
        PnC={"ISO15118PnCEnabled": True, "ContractValidationOffline": False, **pnc},
    )
    certs = CertificateStore(config, clock=clock)
    other = lambda payload: {"status": "Accepted", "data": "core"}  # noqa: E731
    return PlugAndCharge(config, certs, clock=clock, notify=csms or Csms(), other=other)


def transfer(pnc: PlugAndCharge, message_id: str, request: dict) -> dict:
    """Send a wrapped CSMS request to the charge point; the unwrapped 2.0.1 response."""
    reply = valid_reply("DataTransfer", pnc.on_data_transfer(
        {"vendorId": PNC_VENDOR_ID, "messageId": message_id, "data": json.dumps(request)}))
    assert reply["status"] == "Accepted", reply
    response = json.loads(reply["data"])
    check_v201(message_id, response, True)
    return response


class TestRouting:
    def test_other_vendor_and_unknown_messages(self):
        """Other vendors reach the core handler; unknown messageId, bad data and a charge
        point without the PnC profile get the 1.6 DataTransfer statuses."""
        pnc = setup()
        assert pnc.on_data_transfer({"vendorId": "acme"}) == {"status": "Accepted",
                                                              "data": "core"}
        assert pnc.on_data_transfer({"vendorId": PNC_VENDOR_ID, "messageId": "Nope"}) == {
            "status": "UnknownMessageId"}
        assert pnc.on_data_transfer({"vendorId": PNC_VENDOR_ID, "messageId": "InstallCertificate",
                                     "data": "{broken"}) == {"status": "Rejected"}
        off = setup(profiles="Core")
        assert off.on_data_transfer({"vendorId": PNC_VENDOR_ID,
                                     "messageId": "TriggerMessage"}) == {
            "status": "UnknownVendorId"}


class TestCertificateManagement:
    async def test_trigger_sign_and_certificate_signed(self, v2g_pki):
        """TriggerMessage(SignV2GCertificate) -> wrapped SignCertificate (CSR) -> wrapped
        CertificateSigned installs the SECC leaf, listed as V2GCertificateChain."""
        csms = Csms({"SignCertificate": {"status": "Accepted"}})
        pnc = setup(csms)
        root = v2g_pki.ca_cert.read_text()
        assert transfer(pnc, "InstallCertificate", {"certificateType": "V2GRootCertificate",
                                                    "certificate": root}) == {
            "status": "Accepted"}
        assert transfer(pnc, "TriggerMessage", {"requestedMessage": "SignV2GCertificate"}) == {
            "status": "Accepted"}
        await pnc.wait()
        [request] = csms.wrapped("SignCertificate")
        assert request["certificateType"] == "V2GCertificate"
        chain = sign_csr(request["csr"], root, v2g_pki.ca_key.read_text())
        assert transfer(pnc, "CertificateSigned", {"certificateChain": chain,
                                                   "certificateType": "V2GCertificate"}) == {
            "status": "Accepted"}
        ids = transfer(pnc, "GetInstalledCertificateIds", {})
        assert [c["certificateType"] for c in ids["certificateHashDataChain"]] == [
            "V2GRootCertificate", "V2GCertificateChain"]

    def test_certificate_signed_for_charge_point_rejected(self):
        """Over PnC only the V2GCertificate is installed (libocpp)."""
        pnc = setup()
        assert transfer(pnc, "CertificateSigned", {
            "certificateChain": "x", "certificateType": "ChargingStationCertificate"}) == {
            "status": "Rejected"}

    def test_install_list_delete(self, v2g_pki):
        """InstallCertificate (CSMSRootCertificate is 1.6's CentralSystemRootCertificate),
        GetInstalledCertificateIds by type, DeleteCertificate by its hash data."""
        pnc = setup()
        root = v2g_pki.ca_cert.read_text()
        assert transfer(pnc, "GetInstalledCertificateIds", {
            "certificateType": ["MORootCertificate"]}) == {"status": "NotFound"}
        transfer(pnc, "InstallCertificate", {"certificateType": "CSMSRootCertificate",
                                             "certificate": root})
        assert pnc.certificates.roots("CentralSystemRootCertificate")
        ids = transfer(pnc, "GetInstalledCertificateIds",
                       {"certificateType": ["CSMSRootCertificate"]})
        hash_data = ids["certificateHashDataChain"][0]["certificateHashData"]
        assert transfer(pnc, "DeleteCertificate", {"certificateHashData": hash_data}) == {
            "status": "Accepted"}
        assert transfer(pnc, "DeleteCertificate", {"certificateHashData": hash_data}) == {
            "status": "NotFound"}

    async def test_sign_retries(self):
        """CertSigningWaitMinimum doubled CertSigningRepeatTimes times while no certificate
        comes back (2.0.1 A02.FR.17-19)."""
        csms = Csms({"SignCertificate": {"status": "Accepted"}})
        pnc = setup(csms, CertSigningWaitMinimum=10, CertSigningRepeatTimes=2)
        assert cert_signing_delays(pnc.config) == [10, 20, 40]
        start = pnc.clock.monotonic()
        assert await pnc.request_v2g_certificate() is False
        assert len(csms.wrapped("SignCertificate")) == 3
        assert pnc.clock.monotonic() - start == 70


class TestAuthorize:
    async def test_online(self):
        """Authorize carries eMAID and iso15118CertificateHashData; the certificate only with
        CentralContractValidationAllowed (C07.FR.06); the 2.0.1 response comes back."""
        ocsp = [{"hashAlgorithm": "SHA256", "issuerNameHash": "aa", "issuerKeyHash": "bb",
                 "serialNumber": "1", "responderURL": "http://ocsp.example"}]
        answer = {"idTokenInfo": {"status": "Accepted"}, "certificateStatus": "Accepted"}
        for allowed in (False, True):
            csms = Csms({"Authorize": answer})
            pnc = setup(csms, CentralContractValidationAllowed=allowed)
            assert await pnc.authorize("DE8AAA000001", "PEM", ocsp) == answer
            [request] = csms.wrapped("Authorize")
            assert request["idToken"] == {"idToken": "DE8AAA000001", "type": "eMAID"}
            assert request["iso15118CertificateHashData"] == ocsp
            assert ("certificate" in request) is allowed

    async def test_offline_and_disabled(self, v2g_pki):
        """Offline: local contract validation only with ContractValidationOffline (C07.FR.07/08);
        PnC disabled: Invalid without asking the CSMS."""
        contract = v2g_pki.invalid_client_cert.read_text()  # not from an installed root
        pnc = setup(Csms(offline=True), ContractValidationOffline=True)
        assert (await pnc.authorize("E1", contract))["idTokenInfo"]["status"] == "Invalid"
        pnc.certificates.install_root(V2G_ROOT, v2g_pki.ca_cert.read_text())
        leaf = v2g_pki.csms_cert.read_text()  # issued by the installed root
        assert (await pnc.authorize("E1", leaf))["idTokenInfo"]["status"] == "Accepted"
        strict = setup(Csms(offline=True), ContractValidationOffline=False)
        assert (await strict.authorize("E1", leaf))["idTokenInfo"]["status"] == "Invalid"
        csms = Csms()
        disabled = setup(csms, ISO15118PnCEnabled=False)
        assert (await disabled.authorize("E1"))["idTokenInfo"]["status"] == "Invalid"
        assert csms.sent == []

    async def test_ev_certificate_and_ocsp(self):
        """Get15118EVCertificate and GetCertificateStatus go out as valid 2.0.1 requests."""
        csms = Csms({"Get15118EVCertificate": {"status": "Accepted", "exiResponse": "AAEC"},
                     "GetCertificateStatus": {"status": "Accepted", "ocspResult": "MIIB"}})
        pnc = setup(csms)
        assert (await pnc.get_15118_ev_certificate("urn:iso:15118:2:2013:MsgDef", "Install",
                                                   "AAEC"))["exiResponse"] == "AAEC"
        ocsp = {"hashAlgorithm": "SHA256", "issuerNameHash": "aa", "issuerKeyHash": "bb",
                "serialNumber": "1", "responderURL": "http://ocsp.example"}
        assert (await pnc.get_certificate_status(ocsp))["ocspResult"] == "MIIB"
