"""`chargebench csms`: run the reference CSMS until interrupted.

Prints where it listens (OCPP endpoint, HTTP API) on stdout, one line each, then serves until
SIGINT (exit 130) or SIGTERM (exit 143). A seed with problems prints one
`FILE:LINE:COL: field: reason` line per problem on stderr and exits 2; a port in use, a bad port
or an unreadable file one line saying what to change, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import tempfile
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from chargebench.cli import (
    ADMIN_TOKEN_ENV,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    UsageError,
    deprecated_alias,
    port_number,
    writable_file,
)
from csms.cluster_process import READY
from csms.config import CsmsConfig, UnknownChargerPolicy
from csms.store import StoreError
from csms.store.opening import store_file

if TYPE_CHECKING:
    from csms.cluster import Cluster

__all__ = ["add_parser", "config_from_args", "default_log_dir", "run"]

#: `--seed-file example`: the example seed that ships in the package.
SEED_EXAMPLE = Path(str(resources.files("csms").joinpath("seed_example.yaml")))


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "csms", help="run the reference Central System (OCPP 1.6J and 2.0.1 server + HTTP API)",
        description="Run the reference CSMS. Chargers connect to ws[s]://HOST:PORT/ocpp/{id}.",
    )  # fmt: skip
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    add("--port", type=port_number, default=9000,
        help="OCPP port (default: 9000; 0: any free port)")
    add("--api-port", type=port_number, default=None, help="HTTP API port (default: none)")
    add("--db", default=os.environ.get("CHARGEBENCH_DB", "chargebench-csms.db"),
        help="the store: a SQLite file, sqlite:///FILE or postgresql://USER@HOST:PORT/DB "
        "(default: $CHARGEBENCH_DB or chargebench-csms.db)")
    add("--seed-file", type=Path, metavar="FILE",
        help="YAML seed loaded into the store at start; `example` is the shipped example "
        "(`chargebench paths seed-example`)")
    deprecated_alias(parser, "--seed", new="--seed-file", dest="seed_file", type=Path)
    add("--unknown-chargers", choices=[p.value for p in UnknownChargerPolicy], default="accept",
        help="what to do with charge point ids not in the store (default: accept)")
    add("--admin-token", default=os.environ.get(ADMIN_TOKEN_ENV),
        help=f"Bearer token of the HTTP API (default: ${ADMIN_TOKEN_ENV})")
    add("--heartbeat-interval", type=int, default=300, help="seconds (default: 300)")
    add("--tls-cert", type=Path, help="CSMS certificate (PEM): serve wss:// (profiles 2, 3)")
    add("--tls-key", type=Path, help="key of --tls-cert")
    add("--ca", type=Path, metavar="FILE",
        help="CA that signs the charge points' client certificates (profile 3)")
    deprecated_alias(parser, "--tls-ca", new="--ca", dest="ca", type=Path)
    add("--ca-key", type=Path, help="key of --ca: sign SignCertificate CSRs")
    add("--cpo-name", help="O of charge point certificates")
    add("--log-dir", type=Path, metavar="DIR",
        help="where charger.<ID>.log files go (default: DB-logs beside the --db file)")
    add("--no-charger-logs", dest="charger_logs", action="store_false",
        help="keep no charger.<ID>.log files (the message log in --db has every frame): one "
        "open file less per connected charger, for fleets of tens of thousands")
    add("--no-compression", dest="compression", action="store_false",
        help="refuse WebSocket compression (RFC 7692; default: used when a charger offers it, "
        "as OCPP-J 2.0.1 §3.3 requires of a CSMS)")
    add("--workers", type=int, default=1, metavar="N",
        help="processes serving the same ports (SO_REUSEPORT, Linux) and one PostgreSQL "
        "--db (default: 1; docs/deployment.md)")
    add("--cluster-worker", type=int, default=None, help=argparse.SUPPRESS)  # csms.cluster_process
    add("-v", "--verbose", action="store_true", help="log connections and refusals")
    parser.set_defaults(func=main)
    return parser


def default_log_dir(db: Path) -> Path:
    """`chargebench-csms.db` -> `chargebench-csms-logs/` in the same folder: the logs stay with
    the data they belong to, not in whatever folder the CSMS was started from."""
    return db.with_name(f"{db.stem}-logs")


def config_from_args(args: argparse.Namespace) -> CsmsConfig:
    """Build the configuration; raise `UsageError` for a bad combination or missing file."""
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.ca_key is not None and args.ca is None:
        raise UsageError("--ca-key needs --ca")
    if args.seed_file is not None and str(args.seed_file) == "example":
        args.seed_file = SEED_EXAMPLE
    for name in ("seed_file", "tls_cert", "tls_key", "ca", "ca_key"):
        path = getattr(args, name)
        if path is not None and not path.is_file():
            raise UsageError(f"--{name.replace('_', '-')}: {path}: no such file")
        if path is not None and not os.access(path, os.R_OK):
            raise UsageError(f"--{name.replace('_', '-')}: {path}: cannot read it")
    if args.api_port is not None and not args.admin_token:
        raise UsageError(f"the HTTP API needs --admin-token (or ${ADMIN_TOKEN_ENV})")
    try:
        db_file = store_file(args.db)
    except StoreError as error:  # its message never repeats the URL: it may hold a password
        raise UsageError(f"--db: {error}") from None
    db_path = Path(db_file or "chargebench-csms.db")
    if db_file not in (None, ":memory:") and not db_path.parent.is_dir():
        raise UsageError(f"--db {db_file}: no folder {db_path.parent}; create it or pick another")
    if db_file not in (None, ":memory:"):  # a folder, /proc: one line, not a sqlite traceback
        writable_file(db_path, "--db")
    log_dir: Path | None = None
    if args.charger_logs:
        log_dir = args.log_dir if args.log_dir is not None else default_log_dir(db_path)
        check_log_dir(log_dir, "--log-dir" if args.log_dir is not None else "--db")
    elif args.log_dir is not None:
        raise UsageError("--log-dir and --no-charger-logs: give one")
    extra = {} if args.cpo_name is None else {"cpo_name": args.cpo_name}
    return CsmsConfig(
        host=args.host, port=args.port, api_port=args.api_port, db=args.db, seed=args.seed_file,
        unknown_chargers=UnknownChargerPolicy(args.unknown_chargers),
        admin_token=args.admin_token, heartbeat_interval=args.heartbeat_interval,
        tls_cert=args.tls_cert, tls_key=args.tls_key, tls_ca=args.ca, ca_key=args.ca_key,
        log_dir=log_dir, compression=args.compression, **extra,
    )  # fmt: skip


def check_log_dir(log_dir: Path, option: str) -> None:
    """`UsageError` unless charger logs can be written in `log_dir`, checked at start (otherwise
    every charger connection would fail later). The folder is made only when the first log is
    written, so the probe writes a temporary file in it, or in the nearest folder that exists."""
    if log_dir.exists() and not log_dir.is_dir():
        raise UsageError(f"{option}: log folder {log_dir} is a file; give a folder (--log-dir DIR)")
    probe = log_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as error:
        raise UsageError(f"{option}: cannot write charger logs in {log_dir} "
                         f"({error.strerror or error}); give a writable --log-dir DIR") from None


def check_ports_free(config: CsmsConfig) -> None:
    """`UsageError` naming the option to change when a port to listen on is taken, checked by
    binding it as the servers do (SO_REUSEADDR), before anything starts: otherwise uvicorn
    would end the process with its own message and exit code 3."""
    ports = [("--port", config.host, config.port)]
    if config.api_port:
        ports.append(("--api-port", config.api_host or config.host, config.api_port))
    for option, host, port in ports:
        if not port:
            continue
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise UsageError(f"--host {host}: cannot resolve it ({error.strerror})") from None
        family, kind, proto, _name, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                advice = (f"stop what uses it or pick another {option} (0: any free port)"
                          if error.errno == errno.EADDRINUSE else
                          "pick a --host of this machine" if error.errno == errno.EADDRNOTAVAIL
                          else f"pick another {option} (0: any free port)")
                raise UsageError(f"{option} {port}: cannot listen on {host}:{port} "
                                 f"({error.strerror}); {advice}") from None


async def run(config: CsmsConfig, *, ready: asyncio.Event | None = None,
              cluster: Cluster | None = None) -> int:  # fmt: skip
    """Serve until SIGINT/SIGTERM (or cancellation), printing the endpoints once listening
    (a worker of `--workers N` prints one ready line for its parent instead); returns the exit
    code of the signal that stopped it (130, 143)."""
    from csms.central import CentralSystem

    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)
    async with CentralSystem(config, cluster=cluster) as csms:
        if cluster is not None:
            print(f"{READY} {cluster.worker_id} pid {os.getpid()}", flush=True)
        else:
            print(f"OCPP endpoint: {csms.url()}{{chargePointId}}", flush=True)
        if csms.api_port is not None and cluster is None:
            host = config.api_host or config.host
            print(f"HTTP API: http://{host}:{csms.api_port}/api/chargers", flush=True)
            print(f"dashboard: http://{host}:{csms.api_port}/dashboard (password: the admin "
                  "token)", flush=True)
            print(f"operator UI: http://{host}:{csms.api_port}/ui (log in with the admin "
                  "token)", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()
    if received and received[0] == signal.SIGTERM:
        return EXIT_SIGTERM
    return EXIT_SIGINT if received else 0


def main(args: argparse.Namespace) -> int:
    from csms.cluster_process import check_workers, prepare_database, run_workers
    from csms.seed import SeedError

    config = config_from_args(args)
    check_workers(args, is_sqlite=store_file(args.db) is not None)
    cluster = None
    if args.cluster_worker is not None:  # the parent checked the ports and applied the seed
        from csms.cluster import Cluster

        cluster = Cluster(str(args.db), args.cluster_worker)
        config = replace(config, seed=None)
    else:
        check_ports_free(config)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.workers > 1 and cluster is None:
            prepare_database(config)
            return run_workers(args, config)
        return asyncio.run(run(config, cluster=cluster))
    except SeedError as error:
        for line in error.errors:
            print(line, file=sys.stderr)
        return 2
    except StoreError as error:  # cannot be opened, or newer than this code
        raise UsageError(f"csms: --db: {error}") from None
    except OSError as error:  # a port taken meanwhile, an unusable certificate, the database
        raise UsageError(f"csms: {error.strerror or error}"
                         + (f": {error.filename}" if error.filename else "")) from None
    except SystemExit as exit_:  # uvicorn's own exit when its port was taken meanwhile
        raise UsageError("csms: the HTTP API could not start; pick another --api-port "
                         "(0: any free port)") from exit_
