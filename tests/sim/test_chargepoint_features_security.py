"""Firmware, diagnostics and security on a live charge point, over real HTTP and real TLS
(1.6 §4.4, §4.5, §5.9, §5.19; security whitepaper A01, A02, A05, L01)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chargebench.dualport import DualPort
from chargebench.ocppj import serve
from chargebench.security import basic_auth_header, init_pki, server_ssl_context, sign_csr
from sim.v16.firmware import make_image
from tests.sim.conftest import WAIT, until
from tests.sim.features.conftest import FileHttpServer

KEY_1 = "0123456789abcdef0123456789abcdef"
KEY_2 = "fedcba9876543210fedcba9876543210"
HTTP = {"FirmwareManagement": {"SupportedFileTransferProtocols": "HTTP"}}


@pytest.fixture
def http_server() -> Iterator[FileHttpServer]:
    """A real HTTP server on 127.0.0.1 (firmware downloads, diagnostics uploads)."""
    server = FileHttpServer()
    yield server
    server.close()


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _statuses(csms, action: str) -> list[str]:
    return [p["status"] for p in csms.sent(action)]


class TestFirmware:
    async def test_update_reboots_into_new_version(self, csms, make_cp, http_server):
        """UpdateFirmware: Downloading, Downloaded, Installing, Installed, then a reboot whose
        BootNotification carries the new firmwareVersion (§4.5, §5.19)."""
        http_server.files["/fw/cb.bin"] = make_image("2.0.0")
        cp = await make_cp(**HTTP)
        await cp.wait_booted(WAIT)
        reply = await csms.call("CP1", "UpdateFirmware", {
            "location": f"{http_server.url}/fw/cb.bin", "retrieveDate": _now()})
        assert reply == {}
        boots = await csms.wait_sent("BootNotification", 2)
        assert boots[0]["firmwareVersion"] == "0.1" and boots[1]["firmwareVersion"] == "2.0.0"
        assert _statuses(csms, "FirmwareStatusNotification") == [
            "Downloading", "Downloaded", "Installing", "Installed"]
        assert cp.config.firmware_version == "2.0.0"

    async def test_download_failed(self, csms, make_cp, http_server):
        """A missing file: Downloading, then DownloadFailed after the retries; no reboot."""
        cp = await make_cp(**HTTP)
        await cp.wait_booted(WAIT)
        await csms.call("CP1", "UpdateFirmware", {
            "location": f"{http_server.url}/fw/none.bin", "retrieveDate": _now(),
            "retries": 1, "retryInterval": 5})
        await csms.wait_for(
            lambda c: "DownloadFailed" in _statuses(c, "FirmwareStatusNotification"))
        assert csms.actions("CP1").count("BootNotification") == 1


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a CSMS certificate for 127.0.0.1 and its key (also the firmware signer)."""
    return init_pki(tmp_path_factory.mktemp("pki"), cpo_name="ChargeBench")


def _signed_request(url: str, pki, data: bytes, *, good: bool = True) -> dict:
    key = serialization.load_pem_private_key(pki.csms_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(data if good else data + b"tampered", ec.ECDSA(hashes.SHA256()))
    return {"requestId": 4, "firmware": {
        "location": url, "retrieveDateTime": _now(),
        "signingCertificate": pki.csms_cert.read_text(),
        "signature": base64.b64encode(signature).decode()}}


class TestSignedFirmware:
    @pytest.mark.parametrize("good", [True, False])
    async def test_signature(self, csms, make_cp, http_server, pki, good):
        """SignedUpdateFirmware (L01): a good signature is SignatureVerified and installed; a
        bad one ends in InvalidSignature without installing."""
        image = make_image("3.1.0")
        http_server.files["/fw/signed.bin"] = image
        cp = await make_cp(**HTTP)
        await cp.wait_booted(WAIT)
        root = {"certificateType": "ManufacturerRootCertificate",
                "certificate": pki.ca_cert.read_text()}
        assert await csms.call("CP1", "InstallCertificate", root) == {"status": "Accepted"}
        request = _signed_request(f"{http_server.url}/fw/signed.bin", pki, image, good=good)
        assert await csms.call("CP1", "SignedUpdateFirmware", request) == {"status": "Accepted"}
        final = "Installed" if good else "InvalidSignature"
        await csms.wait_for(lambda c: final in _statuses(c, "SignedFirmwareStatusNotification"))
        statuses = _statuses(csms, "SignedFirmwareStatusNotification")
        assert ("SignatureVerified" in statuses) is good
        if good:
            boots = await csms.wait_sent("BootNotification", 2)
            assert boots[-1]["firmwareVersion"] == "3.1.0"
        else:
            assert cp.config.firmware_version == "0.1"
            await until(lambda: "InvalidFirmwareSignature" in
                        [e["type"] for e in cp.features.events.log_lines()])


class TestDiagnostics:
    async def test_upload_over_http(self, csms, make_cp, http_server):
        """GetDiagnostics: the file name, Uploading, Uploaded, and the charge point's own
        message log arrives on the HTTP server (§4.4, §5.9)."""
        await (await make_cp(**HTTP)).wait_booted(WAIT)
        reply = await csms.call("CP1", "GetDiagnostics", {"location": f"{http_server.url}/up/"})
        assert reply["fileName"].endswith(".log")
        await csms.wait_for(lambda c: "Uploaded" in _statuses(c, "DiagnosticsStatusNotification"))
        assert _statuses(csms, "DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]
        body = http_server.received[f"/up/{reply['fileName']}"]
        assert b"BootNotification" in body

    async def test_upload_failed(self, csms, make_cp, http_server):
        """A server refusing the upload: UploadFailed after the retries."""
        await (await make_cp(**HTTP)).wait_booted(WAIT)
        await csms.call("CP1", "GetDiagnostics", {
            "location": f"{http_server.url}/forbidden/", "retries": 0})
        await csms.wait_for(
            lambda c: "UploadFailed" in _statuses(c, "DiagnosticsStatusNotification"))


# Security profiles over real TLS ------------------------------------------------------------


@pytest.fixture
async def secure_csms(csms, pki):
    """The scripted CSMS also listening with TLS (client certificates verified when
    presented), both behind one address; yields (csms, base URL)."""
    context = server_ssl_context(pki.csms_cert, pki.csms_key, ca=pki.ca_cert)
    tls = await serve(csms._handler, "127.0.0.1", 0, ssl=context)
    plain_port = int(csms.url.rsplit(":", 1)[1].split("/")[0])
    front = await DualPort("127.0.0.1", 0, plain_port, tls.sockets[0].getsockname()[1]).start()
    yield csms, f"ws://127.0.0.1:{front.port}/ocpp"
    await front.close()
    tls.close()


@pytest.fixture
async def secure_cp(secure_csms, clock, tmp_path):
    """A charge point at profile 1 behind `secure_csms`, with a CpoName for its CSRs."""
    from sim.chargepoint import ChargePoint
    from tests.sim.conftest import make_config

    _, url = secure_csms
    config = make_config("CP1", Security={"SecurityProfile": 1, "AuthorizationKey": KEY_1,
                                          "CpoName": "ChargeBench"})
    cp = ChargePoint(config, csms_url=url, clock=clock, state_dir=tmp_path / "CP1")
    await cp.start()
    await cp.wait_booted(WAIT)
    yield cp
    await cp.stop()


async def _set(csms, key: str, value: str) -> str:
    reply = await csms.call("CP1", "ChangeConfiguration", {"key": key, "value": value})
    return reply["status"]


async def _reconnected(csms, cp, count: int, profile: int) -> None:
    await csms.wait_for(lambda c: c.connections("CP1") >= count and "CP1" in c.sessions)
    await until(lambda: cp.features.profile_state.connected_profile == profile and cp.online)


class TestSecurityProfiles:
    async def test_upgrade_1_2_3_and_refused_downgrade(self, secure_csms, secure_cp, pki):
        """1 -> 2 (TLS + Basic) -> 3 (client certificate from a CSR the CSMS signed), each a
        reconnect without reboot (A05.FR.05); going down is Rejected (A05.FR.01)."""
        csms, _ = secure_csms
        cp = secure_cp
        assert csms.headers["CP1"]["authorization"] == basic_auth_header("CP1", KEY_1)
        assert await _set(csms, "SecurityProfile", "2") == "Rejected"  # no CSMS root (A05.FR.03)
        root = {"certificateType": "CentralSystemRootCertificate",
                "certificate": pki.ca_cert.read_text()}
        assert await csms.call("CP1", "InstallCertificate", root) == {"status": "Accepted"}
        assert await _set(csms, "SecurityProfile", "2") == "Accepted"
        await _reconnected(csms, cp, 2, 2)
        session = csms.sessions["CP1"]
        assert session.ws.transport.get_extra_info("ssl_object") is not None
        assert await _set(csms, "SecurityProfile", "3") == "Rejected"  # no certificate yet
        csms.script("SignCertificate", {"status": "Accepted"})
        reply = await csms.call("CP1", "ExtendedTriggerMessage",
                                {"requestedMessage": "SignChargePointCertificate"})
        assert reply == {"status": "Accepted"}
        csr = (await csms.wait_sent("SignCertificate"))[0]["csr"]
        chain = sign_csr(csr, pki.ca_cert.read_bytes(), pki.ca_key.read_bytes())
        assert await csms.call("CP1", "CertificateSigned", {"certificateChain": chain}) == \
            {"status": "Accepted"}
        assert await _set(csms, "SecurityProfile", "3") == "Accepted"
        await _reconnected(csms, cp, 3, 3)
        peer = csms.sessions["CP1"].ws.transport.get_extra_info("peercert")
        assert ("commonName", "cp001") in [rdn[0] for rdn in peer["subject"]]
        assert await _set(csms, "SecurityProfile", "2") == "Rejected"
        assert csms.actions("CP1").count("BootNotification") == 1

    async def test_failed_upgrade_falls_back(self, secure_csms, secure_cp, tmp_path):
        """A raised profile that cannot connect (the CSMS certificate does not verify) falls
        back to the previous one after a few attempts (A05.FR.08)."""
        csms, _ = secure_csms
        cp = secure_cp
        other = init_pki(tmp_path / "other", cpo_name="Other")
        root = {"certificateType": "CentralSystemRootCertificate",
                "certificate": other.ca_cert.read_text()}
        assert await csms.call("CP1", "InstallCertificate", root) == {"status": "Accepted"}
        assert await _set(csms, "SecurityProfile", "2") == "Accepted"
        await until(lambda: cp.config.security_profile == 1, timeout=WAIT * 2)
        await _reconnected(csms, cp, 2, 1)
        events = [e["type"] for e in cp.features.events.log_lines()]
        assert "InvalidCentralSystemCertificate" in events


class TestAuthorizationKey:
    async def test_rotation_reconnects_with_new_key(self, secure_csms, secure_cp):
        """An accepted AuthorizationKey is used at once: the charge point reconnects with it
        (whitepaper A01, OCPP-J §6.2.2), without a new BootNotification."""
        csms, _ = secure_csms
        cp = secure_cp
        assert await _set(csms, "AuthorizationKey", KEY_2) == "Accepted"
        await _reconnected(csms, cp, 2, 1)
        assert csms.headers["CP1"]["authorization"] == basic_auth_header("CP1", KEY_2)
        assert csms.actions("CP1").count("BootNotification") == 1
