"""sim.transfer against real servers on 127.0.0.1: HTTP GET/PUT/POST and FTP RETR/STOR."""

from __future__ import annotations

import pytest

from sim.transfer import TransferError, download, scheme_supported, upload


async def test_http_download(http_server):
    """GET returns the file's bytes."""
    http_server.files["/fw/1.2.bin"] = b"image"
    assert await download(http_server.url + "/fw/1.2.bin") == b"image"


async def test_http_download_missing_fails(http_server):
    """A 404 is a TransferError."""
    with pytest.raises(TransferError):
        await download(http_server.url + "/nope.bin")


async def test_http_put_and_post(http_server):
    """PUT writes location/filename; POST sends a multipart body to the location."""
    target = await upload(http_server.url + "/logs/", "a.log", b"hello", http_method="PUT")
    assert target.endswith("/logs/a.log") and http_server.received["/logs/a.log"] == b"hello"
    await upload(http_server.url + "/in", "b.log", b"world", http_method="POST")
    body = http_server.received["/in"]
    assert b'filename="b.log"' in body and b"world" in body


async def test_http_forbidden_reason(http_server):
    """A 403 maps to PermissionDenied (whitepaper N01.FR.10 reasons)."""
    with pytest.raises(TransferError) as err:
        await upload(http_server.url + "/forbidden", "a.log", b"x")
    assert err.value.reason == "PermissionDenied"


async def test_ftp_round_trip(ftp_server):
    """STOR then RETR over passive FTP with user and password from the URL."""
    await upload(ftp_server.url + "/", "up.log", b"ftp data")
    assert (ftp_server.root / "up.log").read_bytes() == b"ftp data"
    assert await download(ftp_server.url + "/up.log") == b"ftp data"


async def test_ftp_errors(ftp_server):
    """Bad password and a read-only user fail with PermissionDenied."""
    bad = ftp_server.url.replace("secret", "wrong")
    with pytest.raises(TransferError) as err:
        await download(bad + "/x")
    assert err.value.reason == "PermissionDenied"
    reader = ftp_server.url.replace("cp:", "reader:")
    with pytest.raises(TransferError) as err:
        await upload(reader + "/", "x.log", b"x")
    assert err.value.reason == "PermissionDenied"


def test_scheme_supported():
    """SupportedFileTransferProtocols decides which URLs the charge point may use."""
    assert scheme_supported("ftp://h/x", ["FTP"])
    assert not scheme_supported("http://h/x", ["FTP"])
    assert scheme_supported("https://h/x", None)
    assert not scheme_supported("gopher://h/x", None)
