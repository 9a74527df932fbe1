"""`chargebench csms`: run the reference CSMS until interrupted.

Prints where it listens (OCPP endpoint, HTTP API) on stdout, one line each, then serves until
SIGINT or SIGTERM. A seed with problems prints one `FILE:LINE:COL: field: reason` line per
problem on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from chargebench.cli import UsageError
from csms.config import CsmsConfig, UnknownChargerPolicy

__all__ = ["add_parser", "config_from_args", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "csms", help="run the reference Central System (OCPP 1.6J server + HTTP API)",
        description="Run the reference CSMS. Chargers connect to ws[s]://HOST:PORT/ocpp/{id}.",
    )  # fmt: skip
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    add("--port", type=int, default=9000, help="OCPP port (default: 9000; 0: any free port)")
    add("--api-port", type=int, default=None, help="HTTP API port (default: none)")
    add("--db", type=Path, default=Path("chargebench-csms.db"), help="SQLite store file")
    add("--seed", type=Path, help="YAML seed loaded into the store at start")
    add("--unknown-chargers", choices=[p.value for p in UnknownChargerPolicy], default="accept",
        help="what to do with charge point ids not in the store (default: accept)")
    add("--admin-token", default=os.environ.get("CHARGEBENCH_ADMIN_TOKEN"),
        help="Bearer token of the HTTP API (default: $CHARGEBENCH_ADMIN_TOKEN)")
    add("--heartbeat-interval", type=int, default=300, help="seconds (default: 300)")
    add("--tls-cert", type=Path, help="CSMS certificate (PEM): serve wss:// (profiles 2, 3)")
    add("--tls-key", type=Path, help="key of --tls-cert")
    add("--tls-ca", type=Path, help="CA of charge point certificates (profile 3)")
    add("--ca-key", type=Path, help="key of --tls-ca: sign SignCertificate CSRs")
    add("--cpo-name", help="O of charge point certificates")
    add("--log-dir", type=Path, default=Path("logs"), help="where charger.<ID>.log files go")
    add("-v", "--verbose", action="store_true", help="log connections and refusals")
    parser.set_defaults(func=main)
    return parser


def config_from_args(args: argparse.Namespace) -> CsmsConfig:
    """Build the configuration; raise `UsageError` for a bad combination or missing file."""
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.ca_key is not None and args.tls_ca is None:
        raise UsageError("--ca-key needs --tls-ca")
    for name in ("seed", "tls_cert", "tls_key", "tls_ca", "ca_key"):
        path = getattr(args, name)
        if path is not None and not path.is_file():
            raise UsageError(f"--{name.replace('_', '-')}: {path}: no such file")
    if args.api_port is not None and not args.admin_token:
        raise UsageError("the HTTP API needs --admin-token (or CHARGEBENCH_ADMIN_TOKEN)")
    extra = {} if args.cpo_name is None else {"cpo_name": args.cpo_name}
    return CsmsConfig(
        host=args.host, port=args.port, api_port=args.api_port, db=args.db, seed=args.seed,
        unknown_chargers=UnknownChargerPolicy(args.unknown_chargers),
        admin_token=args.admin_token, heartbeat_interval=args.heartbeat_interval,
        tls_cert=args.tls_cert, tls_key=args.tls_key, tls_ca=args.tls_ca, ca_key=args.ca_key,
        log_dir=args.log_dir, **extra,
    )  # fmt: skip


async def run(config: CsmsConfig, *, ready: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM (or cancellation), printing the endpoints once listening."""
    from csms.central import CentralSystem

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with CentralSystem(config) as csms:
        print(f"OCPP endpoint: {csms.url()}{{chargePointId}}", flush=True)
        if csms.api_port is not None:
            host = config.api_host or config.host
            print(f"HTTP API: http://{host}:{csms.api_port}/api/chargers", flush=True)
            print(f"dashboard: http://{host}:{csms.api_port}/dashboard (password: the admin "
                  "token)", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()


def main(args: argparse.Namespace) -> int:
    from csms.seed import SeedError

    config = config_from_args(args)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(run(config))
    except SeedError as error:
        for line in error.errors:
            print(line, file=sys.stderr)
        return 2
    except OSError as error:  # port in use, unreadable certificate...
        print(f"chargebench csms: {error}", file=sys.stderr)
        return 1
    return 0
