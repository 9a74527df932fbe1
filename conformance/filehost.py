"""Real file servers on 127.0.0.1 for the firmware and diagnostics cases (OCPP 1.6 §4.4, §4.5,
§5.9, §5.19; whitepaper L01, N01): the charger under test downloads firmware from, and uploads
logs to, a server the harness runs, and the case checks that the file really arrived.

`FileHost` serves one directory over HTTP (GET to download, PUT/POST to upload) and FTP
(anonymous read, user "cb" / password "cb" to upload), each on a free port, in threads.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FTP_USER = FTP_PASSWORD = "cb"
#: the longest a held download waits (the thread must end even if a case forgets to release)
HOLD_LIMIT = 60.0


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:  # quiet: the trace is the record
        pass

    def do_GET(self) -> None:
        # a held file: its first download waits for `release()` (or HOLD_LIMIT seconds)
        held = getattr(self.server, "held", {}).pop(Path(self.path.split("?", 1)[0]).name, None)
        if held is not None:
            held.wait(HOLD_LIMIT)
        super().do_GET()

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        name = Path(self.path.split("?", 1)[0]).name or "upload.bin"
        (Path(self.directory) / "uploads" / name).write_bytes(self.rfile.read(length))
        self.send_response(201)
        self.end_headers()

    do_POST = do_PUT


class FileHost:
    """`start()`, then `http_url(name)`, `ftp_url(name)`, `upload_http`, `upload_ftp`;
    `uploads()` lists what the charger uploaded."""

    def __init__(self, root: Path | None = None) -> None:
        self._owned = root is None  # a folder we made is ours to remove on close()
        self.root = Path(root or tempfile.mkdtemp(prefix="cb-files-"))
        (self.root / "uploads").mkdir(parents=True, exist_ok=True)
        self._http: ThreadingHTTPServer | None = None
        self._ftp: Any = None

    def start(self) -> FileHost:
        root = str(self.root)
        handler = lambda *a: _Handler(*a, directory=root)  # noqa: E731
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._http.held = {}  # type: ignore[attr-defined]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self._ftp = _ftp_server(self.root)
        threading.Thread(target=self._ftp.serve_forever, daemon=True).start()
        return self

    @property
    def http_port(self) -> int:
        return self._http.server_address[1]

    @property
    def ftp_port(self) -> int:
        return self._ftp.address[1]

    def put(self, name: str, data: bytes) -> None:
        """A file the charger may download."""
        (self.root / name).write_bytes(data)

    def hold(self, name: str) -> threading.Event:
        """The next HTTP download of `name` is kept busy until the returned event is set:
        a charger "busy downloading" (TC_L_10_CS cancels such an update). Later ones are
        served at once."""
        event = threading.Event()
        assert self._http is not None, "start() first"
        self._http.held[name] = event  # type: ignore[attr-defined]
        return event

    def http_url(self, name: str = "") -> str:
        return f"http://127.0.0.1:{self.http_port}/{name}"

    def ftp_url(self, name: str = "") -> str:
        return f"ftp://127.0.0.1:{self.ftp_port}/{name}"

    @property
    def upload_http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/uploads/"

    @property
    def upload_ftp(self) -> str:
        return f"ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{self.ftp_port}/uploads/"

    def uploads(self) -> list[str]:
        return sorted(p.name for p in (self.root / "uploads").iterdir())

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._ftp is not None:
            with contextlib.suppress(Exception):
                self._ftp.close_all()
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)


def _ftp_server(root: Path) -> Any:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elradfmw")
    authorizer.add_anonymous(str(root))
    handler = type("CbFtpHandler", (FTPHandler,), {"authorizer": authorizer,
                                                   "passive_ports": None})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    return server
