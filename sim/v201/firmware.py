"""L. Firmware management on a 2.0.1 station: UpdateFirmware (L01, L02) and the
FirmwareStatusNotification sequence.

2.0.1's UpdateFirmware is the security whitepaper's SignedUpdateFirmware (requestId, a firmware
with location, retrieveDateTime, installDateTime and optionally signingCertificate and
signature), so the work is the version-neutral `sim.v16.firmware.FirmwareUpdater` (a real
HTTP/FTP download through `sim.transfer`, retries, the signing certificate checked against the
installed ManufacturerRootCertificates, the signature over the file), built by
`sim.v201.features` to report in FirmwareStatusNotification and to take an unsigned request
(L02): Downloading, Downloaded, [SignatureVerified], Installing, InstallRebooting, the reboot
into the new version (BootNotification reason FirmwareUpdate), then Installed and the security
event FirmwareUpdated sent by the new firmware (L01.FR.32 option (a), L01.FR.31). A failed download
is DownloadFailed after the retries, a bad signature InvalidSignature and the security event
InvalidFirmwareSignature (L01.FR.03), a signing certificate that does not chain to a
manufacturer root InvalidCertificate and InvalidFirmwareSigningCertificate (L01.FR.02).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["triggered_status", "update_firmware"]


def update_firmware(st: ChargingStation, p: dict) -> dict:
    """L01/L02 UpdateFirmware: Accepted and the update runs after the response;
    AcceptedCanceled when it replaces one in progress (L01.FR.24); InvalidCertificate when the
    signing certificate does not chain to a ManufacturerRootCertificate (L01.FR.02)."""
    return st.features.firmware.on_signed_update_firmware(p)


def triggered_status(st: ChargingStation) -> dict:
    """F06.FR.15 (TriggerMessage FirmwareStatusNotification): Idle when no update runs, else
    the last status with its requestId (L01.FR.20/21)."""
    # F06.FR.16: Idle when the station is not performing firmware update tasks, also after
    # an update that ended in a failure (DownloadFailed, InvalidSignature, ...)
    if not st.features_built("firmware") or not st.features.firmware.busy:
        return {"status": "Idle"}
    return st.features.firmware.triggered_status()
