"""File transfer for firmware downloads and log uploads: HTTP(S) with httpx, FTP(S) with ftplib.

1.6 §8 (Firmware and Diagnostics File Transfer), SupportedFileTransferProtocols (errata 3.90),
security whitepaper N01 remarks: FTP URLs are `ftp://user:password@host:port/path` and FTP is
passive. One attempt per call; the retry policy (retries, retryInterval) belongs to the caller,
which knows the OCPP status to report between attempts.

Errors are `TransferError` with the closest UploadLogStatus-like `reason` (PermissionDenied,
NotSupportedOperation, BadMessage, UploadFailure), so GetLog can report the cause (N01.FR.10).
"""

from __future__ import annotations

import asyncio
import ftplib
import io
import posixpath
from urllib.parse import unquote, urlsplit

import httpx

__all__ = [
    "SCHEMES",
    "TransferError",
    "download",
    "scheme_supported",
    "upload",
]

#: URL scheme -> SupportedFileTransferProtocols item.
SCHEMES = {"http": "HTTP", "https": "HTTPS", "ftp": "FTP", "ftps": "FTPS"}


class TransferError(Exception):
    """A download or upload failed; `reason` names the cause in UploadLogStatus terms."""

    def __init__(self, message: str, reason: str = "UploadFailure") -> None:
        super().__init__(message)
        self.reason = reason


def scheme_supported(url: str, protocols: list[str] | None) -> bool:
    """Is the URL's protocol one this charge point offers? No list: every known scheme."""
    protocol = SCHEMES.get(urlsplit(url).scheme.lower())
    if protocol is None:
        return False
    return protocols is None or protocol in {p.upper() for p in protocols}


# Download -----------------------------------------------------------------------------------


async def download(url: str, *, timeout: float = 30.0, verify: bool | str = True) -> bytes:
    """The file at `url` (http, https, ftp, ftps); raises TransferError."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=verify) as client:
                response = await client.get(url, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise TransferError(f"GET {url}: {exc}") from exc
        if response.status_code != 200:
            raise TransferError(f"GET {url}: HTTP {response.status_code}",
                                _http_reason(response.status_code))
        return response.content
    if scheme in ("ftp", "ftps"):
        return await asyncio.to_thread(_ftp_retrieve, url, timeout)
    raise TransferError(f"unsupported scheme in {url!r}", "NotSupportedOperation")


# Upload -------------------------------------------------------------------------------------


async def upload(
    location: str,
    filename: str,
    data: bytes,
    *,
    http_method: str = "PUT",
    timeout: float = 30.0,
    verify: bool | str = True,
) -> str:
    """Upload `data` as `filename` into the directory `location` (1.6 §6.25); returns the URL
    written. HTTP: PUT to `location/filename`, or POST `location` as multipart field "file".
    """
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        method = http_method.upper()
        target = _join(location, filename) if method == "PUT" else location
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=verify) as client:
                if method == "PUT":
                    response = await client.put(target, content=data)
                elif method == "POST":
                    files = {"file": (filename, data, "application/octet-stream")}
                    response = await client.post(target, files=files)
                else:
                    raise TransferError(f"HTTP method {method}", "NotSupportedOperation")
        except httpx.HTTPError as exc:
            raise TransferError(f"{method} {target}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise TransferError(f"{method} {target}: HTTP {response.status_code}",
                                _http_reason(response.status_code))
        return target
    if scheme in ("ftp", "ftps"):
        await asyncio.to_thread(_ftp_store, location, filename, data, timeout)
        return _join(location, filename)
    raise TransferError(f"unsupported scheme in {location!r}", "NotSupportedOperation")


def _join(location: str, filename: str) -> str:
    return location.rstrip("/") + "/" + filename


def _http_reason(status: int) -> str:
    if status in (401, 403):
        return "PermissionDenied"
    if status in (405, 501):
        return "NotSupportedOperation"
    if status == 400:
        return "BadMessage"
    return "UploadFailure"


# FTP (blocking; run in a thread) ------------------------------------------------------------


def _ftp_connect(url: str, timeout: float) -> tuple[ftplib.FTP, str]:
    parts = urlsplit(url)
    ftp: ftplib.FTP = ftplib.FTP_TLS(timeout=timeout) if parts.scheme == "ftps" else ftplib.FTP(
        timeout=timeout
    )
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or ""))
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        ftp.set_pasv(True)  # whitepaper L01/N01 remarks: passive FTP
    except ftplib.error_perm as exc:
        ftp.close()
        raise TransferError(f"FTP login to {parts.hostname}: {exc}", "PermissionDenied") from exc
    except OSError as exc:
        ftp.close()
        raise TransferError(f"FTP connect to {parts.hostname}: {exc}") from exc
    return ftp, unquote(parts.path) or "/"


def _ftp_retrieve(url: str, timeout: float) -> bytes:
    ftp, path = _ftp_connect(url, timeout)
    buffer = io.BytesIO()
    try:
        ftp.retrbinary(f"RETR {path}", buffer.write)
    except ftplib.error_perm as exc:
        raise TransferError(f"RETR {path}: {exc}", _ftp_reason(exc)) from exc
    except (ftplib.Error, OSError) as exc:
        raise TransferError(f"RETR {path}: {exc}") from exc
    finally:
        ftp.close()
    return buffer.getvalue()


def _ftp_store(location: str, filename: str, data: bytes, timeout: float) -> None:
    ftp, directory = _ftp_connect(location, timeout)
    path = posixpath.join(directory, filename)
    try:
        ftp.storbinary(f"STOR {path}", io.BytesIO(data))
    except ftplib.error_perm as exc:
        raise TransferError(f"STOR {path}: {exc}", _ftp_reason(exc)) from exc
    except (ftplib.Error, OSError) as exc:
        raise TransferError(f"STOR {path}: {exc}") from exc
    finally:
        ftp.close()


def _ftp_reason(exc: ftplib.error_perm) -> str:
    code = str(exc)[:3]
    if code in ("530", "532", "550", "553"):
        return "PermissionDenied"
    if code in ("500", "501", "502", "504"):
        return "NotSupportedOperation"
    return "UploadFailure"
