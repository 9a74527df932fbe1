"""A throw-away PostgreSQL server for benchmarks and tests (issue 17), or the environment's.

It lives in the package (not in tests/) because `python -m loadtest.bench_fleet` starts one
when no --db is given, also from an installed wheel; the pytest fixtures are tests/pgserver.py.

    with PgServer.start() as server:          # initdb + pg_ctl in a temporary directory
        url = server.create_database("t1")    # postgresql://postgres:PW@127.0.0.1:PORT/t1

`$CHARGEBENCH_TEST_PG_URL` (a URL of a server where the user may CREATE DATABASE) is used instead
when it is set; nothing is started then. Otherwise the distribution's binaries
(/usr/lib/postgresql/*/bin) run the server on 127.0.0.1 on a free port with its unix socket in the
same temporary directory, as user `postgres` (`runuser -u postgres --`) when we are root, since
initdb refuses root. No system service is touched. Missing binaries FAIL (a test that quietly
skips its database proves nothing): the message names the package to install.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit, urlunsplit

ENV_URL = "CHARGEBENCH_TEST_PG_URL"
MISSING = (
    "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb): install the "
    "distribution package `postgresql` (apt-get install -y postgresql), or set "
    f"{ENV_URL}=postgresql://USER@HOST:PORT/DB of a server where USER may create databases"
)


class PgUnavailable(RuntimeError):
    """No PostgreSQL to test against; the message says what to install or set."""


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/N/bin holding initdb and pg_ctl."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(v) if (v := Path(p).parent.parent.name).isdigit() else 0,
    )
    if not candidates:
        raise PgUnavailable(MISSING)
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def with_database(url: str, name: str) -> str:
    """`url` with its path (the database) replaced by `name`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@dataclass
class PgServer:
    """A server to create test databases on; `stop()` ends it if we started it."""

    url: str  # an admin URL (database `postgres`)
    datadir: Path | None = None
    bindir: Path | None = None
    created: list[str] = field(default_factory=list)
    options: str = ""

    OPTIONS = (
        "-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
    )

    @classmethod
    def start(cls, *, timeout: float = 60.0) -> Self:
        """The server of `$CHARGEBENCH_TEST_PG_URL`, else a new throw-away one."""
        env_url = os.environ.get(ENV_URL)
        if env_url:
            return cls(url=env_url)
        bindir = find_bindir()
        tmp = Path(tempfile.mkdtemp(prefix="chargebench-pg-"))
        data, sock = tmp / "data", tmp / "sock"
        sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(tmp, "postgres")
            shutil.chown(sock, "postgres")
        port = free_port()
        run = _as_postgres()
        # TCP logins need the password (scram), as on a real server: a wrong one is testable
        password = secrets.token_hex(12)
        pwfile = tmp / "pw"
        pwfile.write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres")
        try:
            subprocess.run(
                [*run, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                 "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                 "-E", "UTF8", "--no-sync", "--locale=C"],
                check=True, capture_output=True, timeout=timeout,
            )
            options = cls.OPTIONS.format(port=port, sock=sock)
            subprocess.run(
                [*run, str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                 "-l", str(tmp / "server.log"), "-w", "-t", str(int(timeout)), "start"],
                check=True, capture_output=True, timeout=timeout + 10,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log = (tmp / "server.log").read_text() if (tmp / "server.log").exists() else ""
            stderr = getattr(exc, "stderr", b"") or b""
            shutil.rmtree(tmp, ignore_errors=True)
            raise PgUnavailable(
                f"could not start PostgreSQL from {bindir}: {stderr.decode(errors='replace')}{log}"
            ) from exc
        pwfile.unlink()
        return cls(url=f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", datadir=data,
                   bindir=bindir, options=options)

    def pause(self) -> None:
        """Stop the server we started, keeping its data (the database "going away")."""
        assert self.datadir is not None and self.bindir is not None, "not our server"
        subprocess.run([*_as_postgres(), str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                        "-m", "fast", "-w", "stop"], check=True, capture_output=True, timeout=60)

    def resume(self) -> None:
        """Start it again on the same port with the same data."""
        assert self.datadir is not None and self.bindir is not None, "not our server"
        subprocess.run([*_as_postgres(), str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                        "-o", self.options, "-l", str(self.datadir.parent / "server.log"), "-w",
                        "start"], check=True, capture_output=True, timeout=60)

    def create_database(self, name: str) -> str:
        """A new empty database `name` (dropped first if a crashed run left it); its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return with_database(self.url, name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def stop(self) -> None:
        """Drop what we created on a foreign server; stop and delete a server we started."""
        if self.datadir is None:
            for name in list(self.created):
                self.drop_database(name)
            return
        assert self.bindir is not None
        subprocess.run(
            [*_as_postgres(), str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m",
             "immediate", "-w", "stop"],
            capture_output=True, timeout=60, check=False,
        )
        shutil.rmtree(self.datadir.parent, ignore_errors=True)
        self.datadir = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_ready(url: str, timeout: float = 10.0) -> None:
    """Wait until `url` accepts a connection (a restarted server)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
