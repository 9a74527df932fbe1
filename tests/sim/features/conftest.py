"""Fixtures of the feature tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chargebench.clock import FrozenClock
from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.validation import check_payload
from tests.sim.features.helpers import T0


@pytest.fixture
def clock() -> FrozenClock:
    """Simulated time frozen at 2026-01-01T00:00Z; tests move it with `advance`."""
    return FrozenClock(T0)


# Real file servers on 127.0.0.1 -----------------------------------------------------------


class FileHttpServer:
    """`http.server` in a thread: GET serves `files`, PUT and POST store into `received`.

    Paths under /forbidden/ answer 403, paths under /broken/ answer 500 (to test failures).
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.received: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _status(self) -> int | None:
                if self.path.startswith("/forbidden/"):
                    return 403
                if self.path.startswith("/broken/"):
                    return 500
                return None

            def _reply(self, code: int, body: bytes = b"") -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                server.requests.append(("GET", self.path))
                code = self._status()
                if code is None and self.path in server.files:
                    self._reply(200, server.files[self.path])
                else:
                    self._reply(code or 404)

            def _store(self, method: str) -> None:
                server.requests.append((method, self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                code = self._status()
                if code is None:
                    server.received[self.path] = body
                self._reply(code or 201)

            def do_PUT(self) -> None:
                self._store("PUT")

            def do_POST(self) -> None:
                self._store("POST")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[FileHttpServer]:
    """A real HTTP server on 127.0.0.1 (ephemeral port)."""
    server = FileHttpServer()
    yield server
    server.close()


class FtpTestServer:
    """pyftpdlib on 127.0.0.1 serving `root`; user "cp" / password "secret" may read and
    write, "reader" / "secret" may only read."""

    def __init__(self, root: Path) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer

        self.root = root
        authorizer = DummyAuthorizer()
        authorizer.add_user("cp", "secret", str(root), perm="elradfmw")
        authorizer.add_user("reader", "secret", str(root), perm="elr")
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer,
                                                   "auth_failed_timeout": 0})
        self.server = ThreadedFTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.address[1]
        self.url = f"ftp://cp:secret@127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"timeout": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.close_all()


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[FtpTestServer]:
    """A real FTP server on 127.0.0.1 rooted in a temporary directory."""
    root = tmp_path / "ftp"
    root.mkdir()
    server = FtpTestServer(root)
    yield server
    server.close()


class Recorder:
    """A `notify(action, payload)` that records what the charge point would send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def __call__(self, action: str, payload: dict) -> dict:
        check_payload(OCPP16, action, payload, False)
        self.sent.append((action, payload))
        return {}

    def statuses(self, action: str | None = None) -> list[str]:
        return [p["status"] for a, p in self.sent if action is None or a == action]


@pytest.fixture
def notify() -> Recorder:
    return Recorder()
