"""OCPP 2.0.1 part 6 §3.13, L Firmware Management, with a CSMS under test: the CSMS sends
UpdateFirmware as asked (a signed firmware: L01) and takes every status the station reports,
the reboot in between included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.chargepoint import Command, at, params, sample_certificate
from conformance.v201.station import Station

#: <Configured signature> (base64 of the firmware's signature; the CSMS only passes it on)
SIGNATURE = "Q2hhcmdlQmVuY2ggZmlybXdhcmUgc2lnbmF0dXJl"
LOCATION = "https://firmware.example.com/chargebench-2.0.bin"


def _update(**firmware: Any) -> dict:
    return {"requestId": 1, "firmware": {
        "location": LOCATION, "retrieveDateTime": at(), "signingCertificate": sample_certificate(),
        "signature": SIGNATURE, **firmware}}


def _expect(request: dict) -> dict:
    """The tool validations: the firmware as configured (signingCertificate, signature, the
    dates asked for); the requestId is the CSMS's own choice (L01.FR.?: any integer)."""
    return {"firmware": request["firmware"]}


async def _statuses(cs: Station, command: dict, *statuses: str) -> None:
    """FirmwareStatusNotification per status, with the request's requestId (L01.FR.20)."""
    for status in statuses:
        await cs.ask("FirmwareStatusNotification",
                     {"status": status, "requestId": command["requestId"]})


async def _reboot(cs: Station, command: dict, *, installed: str = "Installed") -> None:
    """InstallRebooting, the reboot (reason FirmwareUpdate, Accepted), then `installed`."""
    await _statuses(cs, command, "InstallRebooting")
    await cs.reconnect()
    await cs.boot("FirmwareUpdate")
    await _statuses(cs, command, installed)


DOWNLOADED = ("Downloading", "Downloaded", "SignatureVerified")

#: case -> (UpdateFirmware fields, the station's answer, what it reports after the answer)
Flow = Callable[[Station, dict], Any]


async def _installed(cs: Station, command: dict) -> None:
    await _statuses(cs, command, *DOWNLOADED, "Installing")
    await _reboot(cs, command)


async def _install_scheduled(cs: Station, command: dict) -> None:
    await _statuses(cs, command, *DOWNLOADED, "InstallScheduled", "Installing")
    await _reboot(cs, command)


async def _download_scheduled(cs: Station, command: dict) -> None:
    await _statuses(cs, command, "DownloadScheduled", *DOWNLOADED, "Installing")
    await _reboot(cs, command)


async def _invalid_certificate(cs: Station, command: dict) -> None:
    await cs.ask("SecurityEventNotification", {"type": "InvalidFirmwareSigningCertificate",
                                               "timestamp": at()})  # fmt: skip


async def _invalid_signature(cs: Station, command: dict) -> None:
    await _statuses(cs, command, "Downloading", "Downloaded", "InvalidSignature")
    await cs.ask("SecurityEventNotification", {"type": "InvalidFirmwareSignature",
                                               "timestamp": at()})  # fmt: skip


async def _download_failed(cs: Station, command: dict) -> None:
    await _statuses(cs, command, "Downloading", "DownloadFailed")


async def _verification_failed(cs: Station, command: dict) -> None:
    await _statuses(cs, command, *DOWNLOADED, "Installing", "InstallVerificationFailed")


async def _installation_failed(cs: Station, command: dict) -> None:
    await _statuses(cs, command, *DOWNLOADED, "Installing")
    await _reboot(cs, command, installed="InstallationFailed")


async def _nothing(cs: Station, command: dict) -> None:
    return None


FLOWS: dict[str, tuple[dict, str, Flow]] = {
    "TC_L_01_CSMS": ({}, "Accepted", _installed),
    "TC_L_02_CSMS": ({"installDateTime": at(60)}, "Accepted", _install_scheduled),
    "TC_L_03_CSMS": ({"retrieveDateTime": at(60)}, "Accepted", _download_scheduled),
    "TC_L_04_CSMS": ({}, "RevokedCertificate", _nothing),
    "TC_L_05_CSMS": ({}, "InvalidCertificate", _invalid_certificate),
    "TC_L_06_CSMS": ({}, "Accepted", _invalid_signature),
    "TC_L_07_CSMS": ({}, "Accepted", _download_failed),
    "TC_L_08_CSMS": ({}, "Accepted", _verification_failed),
    "TC_L_09_CSMS": ({}, "Accepted", _installation_failed),
}


@pytest.mark.parametrize("case", [
    pytest.param("TC_L_01_CSMS", id="TC_L_01_CSMS", marks=pytest.mark.octt("TC_L_01_CSMS")),
    pytest.param("TC_L_02_CSMS", id="TC_L_02_CSMS", marks=pytest.mark.octt("TC_L_02_CSMS")),
    pytest.param("TC_L_03_CSMS", id="TC_L_03_CSMS", marks=pytest.mark.octt("TC_L_03_CSMS")),
    pytest.param("TC_L_04_CSMS", id="TC_L_04_CSMS", marks=pytest.mark.octt("TC_L_04_CSMS")),
    pytest.param("TC_L_05_CSMS", id="TC_L_05_CSMS", marks=pytest.mark.octt("TC_L_05_CSMS")),
    pytest.param("TC_L_06_CSMS", id="TC_L_06_CSMS", marks=pytest.mark.octt("TC_L_06_CSMS")),
    pytest.param("TC_L_07_CSMS", id="TC_L_07_CSMS", marks=pytest.mark.octt("TC_L_07_CSMS")),
    pytest.param("TC_L_08_CSMS", id="TC_L_08_CSMS", marks=pytest.mark.octt("TC_L_08_CSMS")),
    pytest.param("TC_L_09_CSMS", id="TC_L_09_CSMS", marks=pytest.mark.octt("TC_L_09_CSMS")),
])
async def test_update_firmware(cs: Station, case: str):
    """TC_L_01-09_CSMS: the CSMS sends UpdateFirmware with the configured signed firmware
    (and the install/retrieve time asked for); the station answers and reports its progress,
    each FirmwareStatusNotification (and SecurityEventNotification) answered, a reboot's
    BootNotification Accepted."""
    fields, answer, flow = FLOWS[case]
    await cs.boot()
    request = _update(**fields)
    command = await cs.command("UpdateFirmware", request, {"status": answer}, _expect(request))
    await flow(cs, command)


@pytest.mark.parametrize("second", [
    pytest.param("AcceptedCanceled", id="TC_L_10_CSMS", marks=pytest.mark.octt("TC_L_10_CSMS")),
    pytest.param("Rejected", id="TC_L_11_CSMS", marks=pytest.mark.octt("TC_L_11_CSMS")),
])
async def test_update_firmware_twice(cs: Station, second: str):
    """TC_L_10/11_CSMS: while a download runs the CSMS sends a second UpdateFirmware; the
    station cancels the first (AcceptedCanceled) or refuses the second (Rejected); the update
    it goes on with is installed, with a reboot."""
    await cs.boot()
    request = _update()
    first = await cs.command("UpdateFirmware", request, {"status": "Accepted"},
                             _expect(request))
    await _statuses(cs, first, "Downloading")
    request = _update()
    again = await cs.command("UpdateFirmware", request, {"status": second}, _expect(request))
    running = again if second == "AcceptedCanceled" else first
    if second == "AcceptedCanceled":
        await _statuses(cs, running, "Downloading")
    await _statuses(cs, running, "Downloaded", "SignatureVerified", "Installing")
    await _reboot(cs, running)


@pytest.mark.octt("TC_L_13_CSMS")
async def test_update_firmware_while_charging(cs: Station):
    """TC_L_13_CSMS: UpdateFirmware while charging: DownloadScheduled, the idle connectors
    Unavailable; the session ends first, then the update is installed with a reboot."""
    await cs.boot()
    await cs.energy_transfer_started()
    request = _update()
    command = await cs.command("UpdateFirmware", request, {"status": "Accepted"},
                               {"firmware": {"signingCertificate": sample_certificate()}})
    await _statuses(cs, command, "DownloadScheduled")
    await cs.stop_authorized()
    await cs.ev_connected_post_session()
    await cs.ev_disconnected()
    await _statuses(cs, command, *DOWNLOADED, "Installing")
    await _reboot(cs, command)


# L03/L04 Publish and unpublish firmware on a Local Controller (Tables 621-627)

CHECKSUM = "0" * 32  # MD5 of the firmware, hex (L03.FR.01)


def _publish_statuses(*statuses: str):
    """`after` step: PublishFirmwareStatusNotification per status with the request's
    requestId; Published carries the location(s) the firmware is served at (L03.FR.04)."""

    async def report(cs: Station, command: dict) -> None:
        for status in statuses:
            payload: dict[str, Any] = {"status": status, "requestId": command["requestId"]}
            if status == "Published":
                payload["location"] = [LOCATION]
            await cs.ask("PublishFirmwareStatusNotification", payload)

    return report


PUBLISH = {"location": LOCATION, "checksum": CHECKSUM, "requestId": 1}
PUBLISH_EXPECT = {"location": LOCATION}
PUBLISHED = ("Downloading", "Downloaded", "ChecksumVerified")
PUBLISH_COMMANDS = [
    Command("TC_L_17_CSMS", "PublishFirmware", PUBLISH, {"status": "Accepted"}, PUBLISH_EXPECT,
            after=_publish_statuses(*PUBLISHED, "Published")),
    Command("TC_L_24_CSMS", "PublishFirmware", PUBLISH, {"status": "Accepted"}, PUBLISH_EXPECT,
            after=_publish_statuses("Downloading", "DownloadFailed")),
    Command("TC_L_19_CSMS", "PublishFirmware", PUBLISH, {"status": "Accepted"}, PUBLISH_EXPECT,
            after=_publish_statuses("Downloading", "Downloaded", "InvalidChecksum")),
    Command("TC_L_20_CSMS", "PublishFirmware", PUBLISH, {"status": "Accepted"}, PUBLISH_EXPECT,
            after=_publish_statuses(*PUBLISHED, "PublishFailed")),
    Command("TC_L_21_CSMS", "UnpublishFirmware", {"checksum": CHECKSUM},
            {"status": "Unpublished"}),
    Command("TC_L_22_CSMS", "UnpublishFirmware", {"checksum": CHECKSUM}, {"status": "NoFirmware"}),
    Command("TC_L_23_CSMS", "UnpublishFirmware", {"checksum": CHECKSUM},
            {"status": "DownloadOngoing"}),
]


@pytest.mark.parametrize("command", params(PUBLISH_COMMANDS))
async def test_publish_firmware(cs: Station, command: Command):
    """TC_L_17/19-24_CSMS: PublishFirmware of the configured location (and checksum) and the
    status notifications that follow, each answered; UnpublishFirmware taking every answer."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol
