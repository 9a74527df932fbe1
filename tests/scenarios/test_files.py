"""The scenario's file servers: firmware served over HTTP and FTP, uploads recorded."""

from __future__ import annotations

from scenarios.files import FileServers
from sim import transfer
from sim.v16.firmware import parse_image_version


async def test_firmware_served_and_uploads_recorded_over_http_and_ftp(tmp_path):
    """An image named in files: downloads over both protocols; PUT, POST and STOR are recorded."""
    servers = FileServers(tmp_path / "files", {"fw/cb-2.0.bin": {"firmware": "2.0"}})
    await servers.start()
    try:
        urls = servers.variables()
        for base in (urls["files.http"], urls["files.ftp"]):
            data = await transfer.download(f"{base}/fw/cb-2.0.bin")
            assert parse_image_version(data, "x") == "2.0"
        await transfer.upload(f"{urls['files.ftp']}/uploads/", "a.log", b"one")
        await transfer.upload(f"{urls['files.http']}/uploads/", "b.log", b"two")
        await transfer.upload(f"{urls['files.http']}/uploads/", "c.log", b"3", http_method="POST")
        uploads = servers.uploads()
        assert [(u["path"], u["protocol"], u["text"]) for u in uploads] == [
            ("uploads/a.log", "ftp", "one"), ("uploads/b.log", "http", "two"),
            ("uploads/c.log", "http", "3"),
        ]
    finally:
        await servers.close()


async def test_missing_file_is_a_404(tmp_path):
    """A file the scenario did not name is not there: the download fails (DownloadFailed)."""
    servers = FileServers(tmp_path / "files")
    await servers.start()
    try:
        try:
            await transfer.download(servers.variables()["files.http"] + "/nothing.bin")
        except transfer.TransferError as error:
            assert "404" in str(error)
        else:
            raise AssertionError("downloaded a file that does not exist")
    finally:
        await servers.close()
