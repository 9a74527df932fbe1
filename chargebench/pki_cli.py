"""``chargebench pki init DIR``: write a test PKI for security profiles 2 and 3.

The root CLI registers it with ``pki_cli.add_parser(subparsers)`` and calls ``args.func(args)``,
which returns the exit code: 0 written, 2 usage error (non-empty DIR without ``--force``, bad
serial).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chargebench.cli import deprecated_alias
from chargebench.security import DEFAULT_CPO_NAME, PkiFiles, init_pki

__all__ = ["add_parser", "run_init"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``pki init DIR [--cpo-name NAME] [--cp SERIAL ...] [--force]`` on
    ``subparsers``."""
    pki = subparsers.add_parser("pki", help="manage the test PKI (security profiles 2 and 3)")
    commands = pki.add_subparsers(dest="pki_command", metavar="COMMAND", required=True)
    init = commands.add_parser(
        "init",
        help="write a CA, a CSMS certificate and charge point certificates into DIR",
        description="Write ca.pem/.key, csms.pem/.key (127.0.0.1, ::1, localhost), "
        "cp-SERIAL.pem/.key per --cp, and invalid-client.pem/.key (untrusted issuer).",
    )
    init.add_argument("directory", metavar="DIR", type=Path, help="output directory")
    init.add_argument(
        "--cpo-name",
        default=DEFAULT_CPO_NAME,
        metavar="NAME",
        help=f"CPO name, the O of every certificate (default: {DEFAULT_CPO_NAME}); "
        "`csms --cpo-name` must match",
    )
    deprecated_alias(init, "--cpo", new="--cpo-name", dest="cpo_name")
    init.add_argument(
        "--cp",
        dest="charge_points",
        action="extend",
        nargs="+",
        default=[],
        metavar="SERIAL",
        help="charge point serial number (CN); repeatable",
    )
    init.add_argument("--days", type=int, default=365, help="validity in days (default: 365)")
    init.add_argument(
        "--key-type", choices=["ec", "rsa"], default="ec", help="ECDSA P-256 (default) or RSA 2048"
    )
    init.add_argument("--force", action="store_true", help="overwrite files in a non-empty DIR")
    init.set_defaults(func=run_init)
    return pki


def _describe(files: PkiFiles) -> list[tuple[Path, str]]:
    """One (path, what it is) per file, in writing order."""
    described = [
        (files.ca_cert, "root CA certificate"),
        (files.ca_key, "root CA private key"),
        (files.csms_cert, "CSMS server certificate (localhost, 127.0.0.1, ::1)"),
        (files.csms_key, "CSMS server private key"),
    ]
    for serial, (cert, key) in files.charge_points.items():
        described += [
            (cert, f"charge point {serial} client certificate"),
            (key, f"charge point {serial} private key"),
        ]
    described += [
        (files.invalid_client_cert, "client certificate from an untrusted CA (must be refused)"),
        (files.invalid_client_key, "private key of the untrusted client certificate"),
    ]
    return described


def run_init(args: argparse.Namespace) -> int:
    """Write the PKI and print one line per file; return the exit code."""
    try:
        files = init_pki(
            args.directory,
            cpo_name=args.cpo_name,
            charge_points=args.charge_points,
            days=args.days,
            key_type=args.key_type,
            overwrite=args.force,
        )
    except FileExistsError:
        print(
            f"chargebench pki init: error: {args.directory} is not empty (use --force to "
            "overwrite)",
            file=sys.stderr,
        )
        return 2
    except (ValueError, OSError) as exc:
        print(f"chargebench pki init: error: {exc}", file=sys.stderr)
        return 2
    for path, description in _describe(files):
        print(f"{path}  {description}")
    return 0
