"""Firmware updates over real HTTP and FTP: status sequences, retries, injected failures,
signed firmware with good and bad signatures (1.6 §5.19, whitepaper L01)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargebench.clock import iso
from chargebench.ocppj.errors import OcppCallError
from sim.v16.firmware import FirmwareFaults, FirmwareUpdater, make_image
from tests.sim.features.helpers import T0, issue, make_ca, make_config, sign, valid_reply

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyftpdlib's asyncore

PROTOCOLS = {"SupportedFileTransferProtocols": "FTP,HTTP"}


def updater(clock, notify, **kwargs):
    rebooted: list[str] = []
    fw = FirmwareUpdater(make_config(FirmwareManagement=PROTOCOLS), clock=clock, notify=notify,
                         reboot=rebooted.append, **kwargs)
    return fw, rebooted


async def run(fw, action: str, request: dict) -> dict:
    reply = fw.handlers[action](request)
    await fw.wait()
    return valid_reply(action, reply)


class TestUpdateFirmware:
    async def test_http_happy_path(self, clock, notify, http_server):
        """Downloading, Downloaded, Installing, Installed, then a reboot into the new version."""
        http_server.files["/fw.bin"] = make_image("2.0.1")
        fw, rebooted = updater(clock, notify)
        await run(fw, "UpdateFirmware", {"location": http_server.url + "/fw.bin",
                                         "retrieveDate": iso(T0)})
        assert notify.statuses() == ["Downloading", "Downloaded", "Installing", "Installed"]
        assert rebooted == ["2.0.1"]

    async def test_ftp_waits_for_retrieve_date(self, clock, notify, ftp_server):
        """FTP download, started no earlier than retrieveDate; version from the file stem."""
        (ftp_server.root / "cp-3.4.bin").write_bytes(b"opaque image")
        fw, rebooted = updater(clock, notify)
        await run(fw, "UpdateFirmware", {"location": ftp_server.url + "/cp-3.4.bin",
                                         "retrieveDate": iso(T0 + timedelta(hours=1))})
        assert clock.now() >= T0 + timedelta(hours=1)
        assert notify.statuses()[-1] == "Installed" and rebooted == ["cp-3.4"]

    async def test_retries_then_download_failed(self, clock, notify, http_server):
        """A missing file: 1 + retries attempts retryInterval apart, then DownloadFailed."""
        fw, rebooted = updater(clock, notify)
        await run(fw, "UpdateFirmware", {"location": http_server.url + "/missing.bin",
                                         "retrieveDate": iso(T0), "retries": 2,
                                         "retryInterval": 60})
        assert [r for r in http_server.requests if r[0] == "GET"] == [("GET", "/missing.bin")] * 3
        assert clock.now() == T0 + timedelta(seconds=120)
        assert notify.statuses() == ["Downloading", "DownloadFailed"] and rebooted == []

    async def test_injected_download_failed(self, clock, notify, http_server):
        """FirmwareFaults.download_failed fails without touching the network."""
        http_server.files["/fw.bin"] = make_image("9")
        fw, _ = updater(clock, notify, faults=FirmwareFaults(download_failed=True))
        await run(fw, "UpdateFirmware", {"location": http_server.url + "/fw.bin",
                                         "retrieveDate": iso(T0), "retries": 0})
        assert notify.statuses() == ["Downloading", "DownloadFailed"]
        assert http_server.requests == []

    async def test_injected_installation_failed(self, clock, notify, http_server):
        """FirmwareFaults.installation_failed ends in InstallationFailed and no reboot."""
        http_server.files["/fw.bin"] = make_image("9")
        fw, rebooted = updater(clock, notify, faults=FirmwareFaults(installation_failed=True))
        await run(fw, "UpdateFirmware", {"location": http_server.url + "/fw.bin",
                                         "retrieveDate": iso(T0)})
        assert notify.statuses() == ["Downloading", "Downloaded", "Installing",
                                     "InstallationFailed"]
        assert rebooted == []

    async def test_unsupported_protocol(self, clock, notify):
        """A URL outside SupportedFileTransferProtocols fails the download."""
        fw, _ = updater(clock, notify)
        await run(fw, "UpdateFirmware", {"location": "https://127.0.0.1:9/fw.bin",
                                         "retrieveDate": iso(T0), "retries": 0})
        assert notify.statuses() == ["Downloading", "DownloadFailed"]

    async def test_waits_for_idle_before_installing(self, clock, notify, http_server):
        """errata 3.49: installation waits until no transaction runs."""
        http_server.files["/fw.bin"] = make_image("2")
        busy_until = T0 + timedelta(minutes=5)
        fw, _ = updater(clock, notify, idle=lambda: clock.now() >= busy_until)
        await run(fw, "UpdateFirmware", {"location": http_server.url + "/fw.bin",
                                         "retrieveDate": iso(T0)})
        assert clock.now() >= busy_until and notify.statuses()[-1] == "Installed"

    async def test_signed_only_refuses_plain_update(self, clock, notify):
        """L01.FR.20: with secure firmware update, UpdateFirmware is CALLERROR NotSupported."""
        fw, _ = updater(clock, notify, signed_only=True)
        with pytest.raises(OcppCallError) as err:
            fw.on_update_firmware({"location": "http://x/fw", "retrieveDate": iso(T0)})
        assert err.value.code == "NotSupported"


class TestSignedUpdateFirmware:
    @pytest.fixture
    def pki(self):
        root_pem, root_key = make_ca("Maker Root")
        signer_pem, signer_key = issue(root_pem, root_key, "Maker Firmware Signing")
        return root_pem, signer_pem, signer_key

    def request(self, url: str, signer_pem: str, signature: str, **firmware) -> dict:
        return {"requestId": 42, "retries": 0, "firmware": {
            "location": url, "retrieveDateTime": iso(T0), "signingCertificate": signer_pem,
            "signature": signature, **firmware}}

    async def test_good_signature(self, clock, notify, http_server, pki):
        """A valid signature: SignatureVerified, Installing, InstallRebooting, Installed."""
        root_pem, signer_pem, key = pki
        image = make_image("5.0")
        http_server.files["/fw.bin"] = image
        events = []
        fw, rebooted = updater(clock, notify, manufacturer_roots=lambda: [root_pem],
                               security_event=lambda kind, info: events.append(kind))
        reply = await run(fw, "SignedUpdateFirmware",
                          self.request(http_server.url + "/fw.bin", signer_pem, sign(image, key)))
        assert reply == {"status": "Accepted"}
        assert notify.statuses("SignedFirmwareStatusNotification") == [
            "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting",
            "Installed"]
        assert {p["requestId"] for _, p in notify.sent} == {42}  # L01.FR.10
        assert rebooted == ["5.0"] and events == ["FirmwareUpdated"]

    @pytest.mark.parametrize("after_reboot", [False, True])
    async def test_when_installed_is_sent(self, clock, notify, http_server, pki, after_reboot):
        """The 1.6 whitepaper's order: InstallRebooting, Installed, FirmwareUpdated, then the
        reboot. 2.0.1 (`installed_after_reboot`, L01.FR.32 (a)): InstallRebooting, the reboot
        (which returns once the new firmware runs), then Installed and FirmwareUpdated
        (L01.FR.31) from the new firmware."""
        root_pem, signer_pem, key = pki
        image = make_image("6.0")
        http_server.files["/fw.bin"] = image
        log: list[str] = []

        async def reboot(version: str) -> None:
            log.append(f"reboot {version}")

        async def record(action: str, payload: dict) -> dict:
            log.append(payload["status"])
            return {}

        fw = FirmwareUpdater(make_config(FirmwareManagement=PROTOCOLS), clock=clock,
                             notify=record, reboot=reboot,
                             manufacturer_roots=lambda: [root_pem],
                             security_event=lambda kind, info: log.append(kind),
                             installed_after_reboot=after_reboot)
        await run(fw, "SignedUpdateFirmware",
                  self.request(http_server.url + "/fw.bin", signer_pem, sign(image, key)))
        tail = (["InstallRebooting", "reboot 6.0", "Installed", "FirmwareUpdated"]
                if after_reboot else
                ["InstallRebooting", "Installed", "FirmwareUpdated", "reboot 6.0"])
        assert log[-4:] == tail

    async def test_bad_signature(self, clock, notify, http_server, pki):
        """A signature over other bytes: InvalidSignature and an InvalidFirmwareSignature event."""
        root_pem, signer_pem, key = pki
        http_server.files["/fw.bin"] = make_image("5.0")
        events = []
        fw, rebooted = updater(clock, notify, manufacturer_roots=lambda: [root_pem],
                               security_event=lambda kind, info: events.append(kind))
        await run(fw, "SignedUpdateFirmware", self.request(
            http_server.url + "/fw.bin", signer_pem, sign(b"something else", key)))
        assert notify.statuses() == ["Downloading", "Downloaded", "InvalidSignature"]
        assert events == ["InvalidFirmwareSignature"] and rebooted == []

    async def test_untrusted_signing_certificate(self, clock, notify, pki):
        """L01.FR.24: a signer not issued by an installed root answers InvalidCertificate."""
        _, signer_pem, key = pki
        other_root, _ = make_ca("Other Root")
        events = []
        fw, _ = updater(clock, notify, manufacturer_roots=lambda: [other_root],
                        security_event=lambda kind, info: events.append(kind))
        reply = fw.on_signed_update_firmware(self.request("http://127.0.0.1:9/fw", signer_pem,
                                                          sign(b"x", key)))
        assert valid_reply("SignedUpdateFirmware", reply) == {"status": "InvalidCertificate"}
        assert events == ["InvalidFirmwareSigningCertificate"] and notify.sent == []

    async def test_scheduled_download_and_install(self, clock, notify, ftp_server, pki):
        """Future dates: DownloadScheduled and InstallScheduled (L01.FR.13, L01.FR.16)."""
        root_pem, signer_pem, key = pki
        image = make_image("6.1")
        (ftp_server.root / "fw.bin").write_bytes(image)
        fw, _ = updater(clock, notify, manufacturer_roots=lambda: [root_pem])
        request = self.request(ftp_server.url + "/fw.bin", signer_pem, sign(image, key),
                               retrieveDateTime=iso(T0 + timedelta(minutes=10)),
                               installDateTime=iso(T0 + timedelta(hours=2)))
        await run(fw, "SignedUpdateFirmware", request)
        assert notify.statuses() == ["DownloadScheduled", "Downloading", "Downloaded",
                                     "SignatureVerified", "InstallScheduled", "Installing",
                                     "InstallRebooting", "Installed"]
        assert clock.now() >= T0 + timedelta(hours=2)
        assert fw.triggered_status() == {"status": "Idle"}  # L01.FR.28

    async def test_new_request_cancels_running_update(self, clock, notify, pki):
        """L01.FR.26: a SignedUpdateFirmware during an update answers AcceptedCanceled."""
        root_pem, signer_pem, key = pki
        fw, _ = updater(clock, notify, manufacturer_roots=lambda: [root_pem])
        later = self.request("http://127.0.0.1:9/fw", signer_pem, sign(b"x", key),
                             retrieveDateTime=iso(T0 + timedelta(days=1)))
        assert fw.on_signed_update_firmware(later) == {"status": "Accepted"}
        assert fw.on_signed_update_firmware(later) == {"status": "AcceptedCanceled"}
        fw.cancel()
        await fw.wait()
