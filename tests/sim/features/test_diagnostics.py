"""GetDiagnostics and GetLog: the asked window of the charge point's own log, uploaded over
real HTTP and FTP, with the status notifications (1.6 §5.9, whitepaper N01)."""

from __future__ import annotations

import json

import pytest

from chargebench.clock import iso
from sim.v16.diagnostics import Diagnostics, DiagnosticsFaults, collect_log
from tests.sim.features.helpers import T0, make_config, valid_reply

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyftpdlib's asyncore


@pytest.fixture
def trace(tmp_path):
    """A trace file (JSON Lines) with records at 00:00, 01:00 and 02:00."""
    path = tmp_path / "trace.jsonl"
    lines = [json.dumps({"ts": f"2026-01-01T0{h}:00:00.000Z", "action": f"A{h}"}) for h in range(3)]
    path.write_text("\n".join(lines) + "\n")
    return path


def diagnostics(clock, notify, trace, **kwargs):
    config = make_config(FirmwareManagement={"SupportedFileTransferProtocols": "FTP,HTTP"})
    return Diagnostics(config, clock=clock, notify=notify, log_path=trace, **kwargs)


def test_collect_window(trace, tmp_path):
    """Only records within [startTime, stopTime] are kept; untimed lines follow their record."""
    data = collect_log(trace, T0.replace(hour=1), T0.replace(hour=1, minute=30))
    assert [json.loads(line)["action"] for line in data.decode().splitlines()] == ["A1"]
    text = tmp_path / "plain.log"
    text.write_text("2026-01-01T00:00:00Z boot\n  detail\n2026-01-01T05:00:00Z late\n")
    assert collect_log(text, stop=T0.replace(hour=1)) == b"2026-01-01T00:00:00Z boot\n  detail\n"


async def test_get_diagnostics_http_put(clock, notify, trace, http_server):
    """GetDiagnostics names the file, uploads it with PUT, Uploading then Uploaded."""
    diag = diagnostics(clock, notify, trace)
    reply = valid_reply("GetDiagnostics", diag.on_get_diagnostics({
        "location": http_server.url + "/diag/", "startTime": iso(T0.replace(hour=1))}))
    await diag.wait()
    name = reply["fileName"]
    body = http_server.received[f"/diag/{name}"].decode()
    assert "A1" in body and "A2" in body and "A0" not in body
    assert notify.statuses("DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]


async def test_get_diagnostics_http_post(clock, notify, trace, http_server):
    """With http_method POST the file goes as a multipart upload to the location."""
    diag = diagnostics(clock, notify, trace, http_method="POST")
    reply = diag.on_get_diagnostics({"location": http_server.url + "/upload"})
    await diag.wait()
    assert reply["fileName"].encode() in http_server.received["/upload"]
    assert notify.statuses() == ["Uploading", "Uploaded"]


async def test_get_diagnostics_ftp(clock, notify, trace, ftp_server):
    """Upload over FTP into the location directory."""
    diag = diagnostics(clock, notify, trace)
    reply = diag.on_get_diagnostics({"location": ftp_server.url + "/"})
    await diag.wait()
    assert (ftp_server.root / reply["fileName"]).read_bytes() == trace.read_bytes()
    assert notify.statuses() == ["Uploading", "Uploaded"]


async def test_get_diagnostics_retries_then_failed(clock, notify, trace, http_server):
    """A failing server: 1 + retries attempts retryInterval apart, then UploadFailed."""
    diag = diagnostics(clock, notify, trace)
    diag.on_get_diagnostics({"location": http_server.url + "/broken/", "retries": 2,
                             "retryInterval": 30})
    await diag.wait()
    assert len([r for r in http_server.requests if r[0] == "PUT"]) == 3
    assert notify.statuses() == ["Uploading", "UploadFailed"]


async def test_get_diagnostics_injected_failure(clock, notify, trace, http_server):
    """DiagnosticsFaults.upload_failed fails every attempt without network traffic."""
    diag = diagnostics(clock, notify, trace, faults=DiagnosticsFaults(upload_failed=True))
    diag.on_get_diagnostics({"location": http_server.url + "/d/", "retries": 0})
    await diag.wait()
    assert notify.statuses() == ["Uploading", "UploadFailed"] and http_server.requests == []


async def test_get_diagnostics_without_log_uploads_report(clock, notify, tmp_path, http_server):
    """Issue 15.9: a charge point with no log file yet is not Rejected: it names a file and
    uploads its own report."""
    diag = diagnostics(clock, notify, tmp_path / "absent.log", report=lambda: b"report\n")
    reply = valid_reply("GetDiagnostics", diag.on_get_diagnostics(
        {"location": http_server.url + "/diag/"}))
    await diag.wait()
    assert http_server.received[f"/diag/{reply['fileName']}"] == b"report\n"
    assert notify.statuses() == ["Uploading", "Uploaded"]


async def test_get_log_without_log_accepted(clock, notify, http_server):
    """Issue 15.9: GetLog DiagnosticsLog on a fresh charge point (no log path at all) is
    Accepted and uploads the report."""
    diag = diagnostics(clock, notify, None, report=lambda: b"fresh\n")
    reply = valid_reply("GetLog", diag.on_get_log({
        "logType": "DiagnosticsLog", "requestId": 4,
        "log": {"remoteLocation": http_server.url + "/logs/"}}))
    await diag.wait()
    assert reply["status"] == "Accepted"
    assert http_server.received[f"/logs/{reply['filename']}"] == b"fresh\n"


async def test_get_log_security_log_ftp(clock, notify, trace, tmp_path, ftp_server):
    """GetLog(SecurityLog) uploads the security log; LogStatusNotification carries requestId."""
    security = tmp_path / "security.log"
    security.write_text("2026-01-01T00:00:00Z StartupOfTheDevice\n")
    diag = diagnostics(clock, notify, trace, security_log_path=security)
    reply = valid_reply("GetLog", diag.on_get_log({
        "logType": "SecurityLog", "requestId": 9, "log": {"remoteLocation": ftp_server.url}}))
    await diag.wait()
    assert reply["status"] == "Accepted"
    assert (ftp_server.root / reply["filename"]).read_text().endswith("StartupOfTheDevice\n")
    assert notify.sent == [("LogStatusNotification", {"status": "Uploading", "requestId": 9}),
                           ("LogStatusNotification", {"status": "Uploaded", "requestId": 9})]


async def test_get_log_permission_denied(clock, notify, trace, http_server):
    """N01.FR.10: a 403 is reported as PermissionDenied."""
    diag = diagnostics(clock, notify, trace)
    diag.on_get_log({"logType": "DiagnosticsLog", "requestId": 1, "retries": 0,
                     "log": {"remoteLocation": http_server.url + "/forbidden/"}})
    await diag.wait()
    assert notify.statuses() == ["Uploading", "PermissionDenied"]


async def test_get_log_unsupported_protocol(clock, notify, trace):
    """An unsupported protocol is NotSupportedOperation (N01.FR.08)."""
    diag = diagnostics(clock, notify, trace)
    diag.on_get_log({"logType": "DiagnosticsLog", "requestId": 2,
                     "log": {"remoteLocation": "https://127.0.0.1:9/"}})
    await diag.wait()
    assert notify.statuses() == ["Uploading", "NotSupportedOperation"]


async def test_get_log_cancels_running_upload(clock, notify, trace, http_server):
    """N01.FR.11: a GetLog during an upload cancels it and answers AcceptedCanceled."""
    diag = diagnostics(clock, notify, trace)
    first = {"logType": "DiagnosticsLog", "requestId": 1, "retries": 5, "retryInterval": 3600,
             "log": {"remoteLocation": http_server.url + "/broken/"}}
    assert diag.on_get_log(first)["status"] == "Accepted"
    second = {"logType": "DiagnosticsLog", "requestId": 2,
              "log": {"remoteLocation": http_server.url + "/ok/"}}
    assert diag.on_get_log(second)["status"] == "AcceptedCanceled"
    await diag.wait()
    assert ("LogStatusNotification", {"status": "Uploaded", "requestId": 2}) in notify.sent
    assert diag.triggered_log_status() == {"status": "Idle"}
