"""The scenario's file servers (`files:`): HTTP and FTP on 127.0.0.1 for firmware and uploads.

Charge points download firmware and upload diagnostics and logs over HTTP(S) and FTP(S) (1.6 §8);
a scenario that exercises those needs servers it controls. `FileServers` writes the files the
scenario names into one directory, serves that directory over HTTP (GET; PUT and multipart POST
store uploads) and FTP (pyftpdlib, passive mode, one user allowed to write), and records every
upload so `assert: {upload: ...}` can check it arrived.

    servers = FileServers(workdir / "files", {"fw-2.0.bin": {"firmware": "2.0.0"}})
    await servers.start()
    servers.variables()   # {"files.http": "http://127.0.0.1:41234", "files.ftp": "ftp://...", ...}
    servers.uploads()     # [{"name": ..., "path": ..., "size": ..., "protocol": ..., "text": ...}]
    await servers.close()

Both servers run in threads of their own: the charge points' FTP client is blocking (ftplib in a
thread) and the event loop must stay free for the CSMS and the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import http.server
import logging
import posixpath
import select
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from chargebench.clock import VirtualTimeLoop

__all__ = ["FTP_PASSWORD", "FTP_USER", "UPLOADS", "FileServers", "build_file"]

log = logging.getLogger(__name__)

FTP_USER = "chargebench"
FTP_PASSWORD = "chargebench"
#: The directory made for uploads: `${files.http}/uploads/`, `${files.ftp}/uploads/`.
UPLOADS = "uploads"
#: How much of an upload `assert: {upload: {text: ...}}` sees.
_TEXT_LIMIT = 256 * 1024


def build_file(spec: Mapping[str, Any]) -> bytes:
    """The bytes of one `files:` entry: `{firmware: VERSION}` (an image that installs VERSION,
    `sim.v16.firmware.make_image`) or `{text: ...}`."""
    from sim.v16.firmware import make_image

    if "firmware" in spec:
        return make_image(str(spec["firmware"]), str(spec.get("text", "")).encode())
    return str(spec.get("text", "")).encode("utf-8")


class FileServers:
    """HTTP and FTP servers over one directory; see the module docstring."""

    def __init__(self, root: Path, files: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.root = root.resolve()
        self.files = dict(files or {})
        self._uploads: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._http: _HttpServer | None = None
        self._ftp: Any = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    async def start(self) -> None:
        (self.root / UPLOADS).mkdir(parents=True, exist_ok=True)
        for name, spec in self.files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(build_file(spec))
        await asyncio.to_thread(self._start_servers)
        loop = asyncio.get_running_loop()
        if isinstance(loop, VirtualTimeLoop):
            loop.add_busy_check(self._http_busy)

    def _http_busy(self) -> bool:
        """A request is waiting to be accepted or being served (in the server's threads): a
        virtual-time loop must not jump time over it (the FTP client runs in an executor
        thread, which the loop waits for anyway)."""
        server = self._http
        if server is None:
            return False
        return server.active > 0 or bool(select.select([server.socket], [], [], 0)[0])

    def _start_servers(self) -> None:
        self._http = _HttpServer(("127.0.0.1", 0), _http_handler(self))
        self._spawn(self._http.serve_forever, "files-http")
        self._ftp = _ftp_server(self)
        self._spawn(self._run_ftp, "files-ftp")

    def _run_ftp(self) -> None:
        # pyftpdlib's loop is not thread-safe: poll it here and close it from this thread too
        while not self._stop.is_set():
            self._ftp.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        self._ftp.close_all()

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(loop, VirtualTimeLoop):
            loop.remove_busy_check(self._http_busy)
        await asyncio.to_thread(self._stop_servers)

    def _stop_servers(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)

    def variables(self) -> dict[str, str]:
        """`${files.http}`, `${files.ftp}` (with its user and password) and `${files.dir}`."""
        assert self._http is not None and self._ftp is not None
        ftp_port = self._ftp.socket.getsockname()[1]
        return {
            "files.http": f"http://127.0.0.1:{self._http.server_address[1]}",
            "files.ftp": f"ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{ftp_port}",
            "files.dir": str(self.root),
        }

    def uploads(self) -> list[dict[str, Any]]:
        """What was uploaded so far, oldest first."""
        with self._lock:
            return [dict(item) for item in self._uploads]

    def received(self, path: Path, protocol: str) -> None:
        """Record an upload that landed at `path` (called from the server threads)."""
        data = path.read_bytes()
        item = {
            "name": path.name,
            "path": path.relative_to(self.root).as_posix(),
            "size": len(data),
            "protocol": protocol,
            "text": data[:_TEXT_LIMIT].decode("utf-8", "replace"),
            "received": time.time(),
        }
        with self._lock:
            self._uploads.append(item)
        log.info("upload %s over %s (%d bytes)", item["path"], protocol, item["size"])

    def local_path(self, url_path: str) -> Path | None:
        """The file under `root` a URL path names; None when it would leave `root`."""
        clean = posixpath.normpath("/" + unquote(url_path)).lstrip("/")
        if clean in ("", ".") or clean.startswith(".."):
            return None
        return self.root / clean


# HTTP ---------------------------------------------------------------------------------------


class _HttpServer(http.server.ThreadingHTTPServer):
    """One thread per request, counting the requests being served (`FileServers._http_busy`)."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.active = 0
        self._count_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            self.active += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._count_lock:
                self.active = max(0, self.active - 1)


def _http_handler(servers: FileServers) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(servers.root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: " + format, *args)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _stored(self, path: Path, data: bytes) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            servers.received(path, "http")
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_PUT(self) -> None:
            """1.6 §8 / N01: the file is PUT to `location/fileName`."""
            path = servers.local_path(urlsplit(self.path).path)
            if path is None:
                self.send_error(403)
                return
            self._stored(path, self._body())

        def do_POST(self) -> None:
            """A multipart form with a `file` field, stored in the posted directory."""
            directory = servers.local_path(urlsplit(self.path).path) or servers.root / UPLOADS
            raw = b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n"
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                raw + self._body())
            for part in message.iter_parts() if message.is_multipart() else ():
                filename = part.get_filename()
                if filename:
                    self._stored(directory / posixpath.basename(filename),
                                 part.get_payload(decode=True) or b"")
                    return
            self.send_error(400, "expected a multipart form with a file")

    return Handler


# FTP ----------------------------------------------------------------------------------------


def _ftp_server(servers: FileServers) -> Any:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(servers.root), perm="elradfmwMT")
    authorizer.add_anonymous(str(servers.root))  # read only: firmware without credentials

    class Handler(FTPHandler):
        def on_file_received(self, file: str) -> None:
            with contextlib.suppress(OSError, ValueError):
                servers.received(Path(file).resolve(), "ftp")

    Handler.authorizer = authorizer
    Handler.banner = "ChargeBench scenario FTP"
    quiet = logging.getLogger("pyftpdlib")  # it configures logging itself when it has none
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    quiet.setLevel(logging.WARNING)
    return FTPServer(("127.0.0.1", 0), Handler)
