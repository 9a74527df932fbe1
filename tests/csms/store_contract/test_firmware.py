"""Contract: firmware deployments and diagnostics requests (every backend)."""

from __future__ import annotations

import pytest

from csms.store import NotFound, Store
from tests.csms.store_contract.backends import T0, T1


class TestFirmware:
    """Deployments, their history, diagnostics uploads."""

    def test_firmware_deployment_history(self, store: Store) -> None:
        """Notifications move the newest open deployment and build its history; Idle does not."""
        dep = store.create_firmware_deployment("CP1", "https://fw/1.bin", T0, retries=3,
                                               retry_interval=60)  # fmt: skip
        for status in ("Downloading", "Downloaded", "Installing"):
            assert store.record_firmware_status("CP1", status, timestamp=T1) == dep
        assert store.record_firmware_status("CP1", "Idle") is None
        assert store.record_firmware_status("CP1", "Installed") == dep
        assert store.record_firmware_status("CP1", "Downloading") is None  # nothing open
        got = store.get_firmware_deployment(dep)
        assert got["status"] == "Installed" and got["retries"] == 3
        assert [h["status"] for h in got["history"]] == [
            "Pending", "Downloading", "Downloaded", "Installing", "Installed"
        ]  # fmt: skip
        assert [d["id"] for d in store.list_firmware_deployments(charger_id="CP1")] == [dep]

    def test_firmware_request_id_and_manual_status(self, store: Store) -> None:
        """A signed notification names its deployment; the CSMS can set its own statuses."""
        a = store.create_firmware_deployment("CP1", "u", T0)
        b = store.create_firmware_deployment("CP1", "u", T0)
        assert store.record_firmware_status("CP1", "Downloading", request_id=a) == a
        assert store.get_firmware_deployment(b)["status"] == "Pending"
        store.set_firmware_deployment_status(b, "SendFailed")
        assert [d["id"] for d in store.list_firmware_deployments(status="SendFailed")] == [b]
        with pytest.raises(NotFound):
            store.set_firmware_deployment_status(999, "Cancelled")

    def test_diagnostics_requests(self, store: Store) -> None:
        """GetDiagnostics and GetLog requests track file name and status notifications."""
        diag = store.create_diagnostics_request("CP1", "ftp://up", start_time=T0, stop_time=T1)
        log = store.create_diagnostics_request("CP1", "ftp://up", log_type="SecurityLog")
        store.set_diagnostics_file_name(diag, "diag.zip")
        assert store.record_diagnostics_status("CP1", "Uploading") == diag
        assert store.record_diagnostics_status("CP1", "Idle") is None
        assert store.record_diagnostics_status("CP1", "Uploaded", request_id=log) == log
        store.set_diagnostics_status(diag, "UploadFailed")
        got = store.get_diagnostics_request(diag)
        assert (got["file_name"], got["status"], got["start_time"]) == (
            "diag.zip", "UploadFailed", "2025-01-17T10:00:00.000000Z"
        )  # fmt: skip
        assert store.get_diagnostics_request(log)["status"] == "Uploaded"
        assert len(store.list_diagnostics_requests(charger_id="CP1")) == 2
