"""`chargebench csms --workers N`: N CSMS processes on one OCPP port and one API port.

The parent validates the arguments (the caller did: `csms.cli`), prepares the database once
(migrations, the seed, clearing what stopped workers left online), reserves the two ports, starts
N workers (`chargebench csms ... --cluster-worker I`, the same CLI in a subprocess, the database
URL and admin token passed in the environment, never on a command line `ps` shows), waits until
each listens, prints the endpoints once and supervises:

- SIGINT/SIGTERM are forwarded to every worker; the parent exits 130/143 once they stopped.
- A worker that dies is said in one line on stderr; the parent then stops the others and exits 1.
  It does not restart it: a restart loop hides a crash (a database refusing the worker, a bug),
  and the chargers of the dead worker reconnect to the ones still listening on the same port
  anyway until the parent stops them. Run the CSMS under a supervisor (systemd `Restart=`, a
  container's restart policy) to have it back.

Each worker binds both ports itself with SO_REUSEPORT (Linux spreads new connections over the
listening sockets of one port); the parent's reservation sockets are bound, never listening, so a
port chosen as 0 stays this CSMS's while the workers start and no connection waits on them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

from chargebench.cli import ADMIN_TOKEN_ENV, EXIT_SIGINT, EXIT_SIGTERM, UsageError
from csms.config import CsmsConfig

#: seconds a worker may take to listen after it was started
START_TIMEOUT = 60.0
#: seconds the workers may take to stop after a signal before they are killed
STOP_TIMEOUT = 30.0
#: the first line a worker prints on stdout once it listens
READY = "worker ready:"
DB_ENV = "CHARGEBENCH_DB"


def reserve(host: str, port: int) -> socket.socket:
    """A socket bound to host:port with SO_REUSEPORT (port 0: a free one), not listening."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def check_workers(args: argparse.Namespace, is_sqlite: bool) -> None:
    """`UsageError` for a `--workers` the platform or the store cannot serve."""
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give 1 or more")
    if args.workers == 1:
        return
    if is_sqlite:
        raise UsageError(f"--workers {args.workers}: SQLite is one embedded writer; several "
                         "processes need --db postgresql://USER@HOST:PORT/DB")  # fmt: skip
    if not hasattr(socket, "SO_REUSEPORT"):
        raise UsageError(f"--workers {args.workers}: needs SO_REUSEPORT (Linux)")


def prepare_database(config: CsmsConfig) -> None:
    """Migrations and the seed, once for all workers; a stopped worker's online flags cleared.
    Raises what `csms.store.open_store` and `csms.seed.load_seed` raise."""
    from csms.cluster_store import open_cluster_store

    store = open_cluster_store(str(config.db), clock=config.clock.now)
    try:
        if config.seed is not None:
            from csms.seed import load_seed

            load_seed(store, config.seed)
        store.clear_dead_sessions()
    finally:
        store.close()


def worker_argv(args: argparse.Namespace, config: CsmsConfig, index: int, port: int,
                api_port: int | None) -> list[str]:  # fmt: skip
    """The command line of worker `index` (the database and the token go in the environment)."""
    argv = [sys.executable, "-m", "chargebench", "csms", "--host", config.host,
            "--port", str(port), "--unknown-chargers", config.unknown_chargers.value,
            "--heartbeat-interval", str(config.heartbeat_interval),
            "--cluster-worker", str(index)]  # fmt: skip
    argv += ["--no-charger-logs"] if config.log_dir is None else ["--log-dir", str(config.log_dir)]
    if api_port is not None:
        argv += ["--api-port", str(api_port)]
    for option, value in (("--tls-cert", config.tls_cert), ("--tls-key", config.tls_key),
                          ("--ca", config.tls_ca), ("--ca-key", config.ca_key),
                          ("--cpo-name", args.cpo_name)):  # fmt: skip
        if value is not None:
            argv += [option, str(value)]
    if not config.compression:
        argv.append("--no-compression")
    if args.verbose:
        argv.append("-v")
    return argv


class Supervisor:
    """The parent: starts the workers, forwards signals, notices a worker that died."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: list[subprocess.Popen[str]] = []
        self.received: list[int] = []

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        self.signal_all(signum)

    def signal_all(self, signum: int) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signum)

    def start(self, argvs: list[list[str]], env: dict[str, str]) -> int | None:
        """Start every worker and wait until each listens; None when they all do, else the exit
        code for the parent (a signal came, or a worker ended first: its stderr said why)."""
        for argv in argvs:
            self.procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env))
        deadline = time.monotonic() + START_TIMEOUT
        for index, proc in enumerate(self.procs):
            assert proc.stdout is not None
            line, ready = "", False
            while not self.received and time.monotonic() < deadline:
                ready = bool(select.select([proc.stdout], [], [], 0.2)[0])
                if ready:
                    line = proc.stdout.readline()  # "" when the worker ended
                    break
            if self.received:
                return self.stop_all()
            if not ready:
                print(f"chargebench: csms: worker {index} did not listen within "
                      f"{START_TIMEOUT:.0f} s; stopping", file=sys.stderr)  # fmt: skip
                self.stop_all()
                return 1
            if not line.startswith(READY):
                code = proc.wait()
                print(f"chargebench: csms: worker {index} exited with code {code} before it "
                      "listened; stopping the others", file=sys.stderr)  # fmt: skip
                self.stop_all()
                return 2 if code == 2 else 1
        return None

    def supervise(self) -> int:
        """Until a signal (130/143 once every worker stopped) or a worker's death (1)."""
        while not self.received:
            for index, proc in enumerate(self.procs):
                code = proc.poll()
                if code is not None and not self.received:
                    print(f"chargebench: csms: worker {index} (pid {proc.pid}) exited with code "
                          f"{code}; stopping the others", file=sys.stderr)  # fmt: skip
                    self.stop_all()
                    return 1
            time.sleep(0.2)
        return self.stop_all()

    def stop_all(self) -> int:
        """Stop every worker (the signal received, else SIGTERM); the exit code of that."""
        signum = self.received[0] if self.received else signal.SIGTERM
        self.signal_all(signum)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self.procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for proc in self.procs:
            if proc.stdout is not None:
                proc.stdout.close()
        if not self.received:
            return 1
        return EXIT_SIGTERM if signum == signal.SIGTERM else EXIT_SIGINT


def run_workers(args: argparse.Namespace, config: CsmsConfig) -> int:
    """The parent of `--workers N` (N > 1, PostgreSQL; checked by the caller)."""
    reservations = [reserve(config.host, config.port)]
    if config.api_port is not None:
        reservations.append(reserve(config.api_host or config.host, config.api_port))
    try:
        port = reservations[0].getsockname()[1]
        api_port = reservations[1].getsockname()[1] if len(reservations) > 1 else None
        env = {**os.environ, DB_ENV: str(config.db)}
        if config.admin_token:
            env[ADMIN_TOKEN_ENV] = config.admin_token
        supervisor = Supervisor(args.workers)
        previous = {sig: signal.signal(sig, supervisor.on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
        try:
            argvs = [worker_argv(args, config, index, port, api_port)
                     for index in range(args.workers)]  # fmt: skip
            failed = supervisor.start(argvs, env)
            if failed is not None:
                return failed
            print_endpoints(config, port, api_port, [proc.pid for proc in supervisor.procs])
            return supervisor.supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        for sock in reservations:
            sock.close()


def print_endpoints(config: CsmsConfig, port: int, api_port: int | None,
                    pids: list[int]) -> None:  # fmt: skip
    scheme = "wss" if config.tls else "ws"
    print(f"OCPP endpoint: {scheme}://{config.host}:{port}/ocpp/{{chargePointId}}", flush=True)
    if api_port is not None:
        host = config.api_host or config.host
        print(f"HTTP API: http://{host}:{api_port}/api/chargers", flush=True)
        print(f"dashboard: http://{host}:{api_port}/dashboard (password: the admin token)",
              flush=True)  # fmt: skip
        print(f"operator UI: http://{host}:{api_port}/ui (log in with the admin token)",
              flush=True)  # fmt: skip
    print(f"workers: {len(pids)} processes on these ports (SO_REUSEPORT), one database; pids "
          f"{' '.join(str(pid) for pid in pids)}", flush=True)  # fmt: skip


__all__ = ["check_workers", "prepare_database", "run_workers"]
