"""`chargebench` command line: one argparse root, each subcommand registered by its own module.

A subcommand module exposes `add_parser(subparsers)`, which adds its parser and sets
`func=handler` with `handler(args) -> int` (the exit code). Exit codes: 0 ok, 1 a verdict failed,
2 a usage or environment error (argparse's own, or `UsageError` raised by a handler: one line
that says what to do), 130 on SIGINT and 143 on SIGTERM.

One name per concept across the subcommands (the table is in README.md): `--csms URL`,
`--ca FILE`, `--admin-token` ($CHARGEBENCH_ADMIN_TOKEN), `--trace DIR`, `--seed-file FILE`
(a CSMS seed YAML) and `--random-seed N` (Faker). Older spellings stay as hidden aliases made
with `deprecated_alias`, which print one deprecation line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

from chargebench import __version__

__all__ = ["ADMIN_TOKEN_ENV", "Terminated", "UsageError", "admin_token_from_env",
           "build_parser", "check_csms_url", "deprecated_alias", "main", "port_number",
           "writable_dir", "writable_file"]

#: Modules that register subcommands, in help order. Each lands with its issue.
SUBCOMMAND_MODULES = ("chargebench.pki_cli", "csms.cli", "sim.cli", "loadtest.cli",
                      "scenarios.cli", "scenarios.demo", "conformance.cli",
                      "reports.cli", "chargebench.paths_cli")

#: The one environment variable of the CSMS HTTP API's Bearer token, for every subcommand.
ADMIN_TOKEN_ENV = "CHARGEBENCH_ADMIN_TOKEN"
#: Exit code of a run ended by SIGTERM (128 + 15), as a shell reports a killed process.
EXIT_SIGTERM = 128 + signal.SIGTERM
EXIT_SIGINT = 128 + signal.SIGINT


class UsageError(Exception):
    """A bad argument found after parsing (missing file, bad combination), or an environment
    that does not allow the run (port in use, unwritable output): exit code 2."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI cancel, `kill`): handled wherever Ctrl-C is, so what finished is written,
    then exit 143 instead of 130."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def deprecated_alias(parser: Any, *old: str, new: str, dest: str, nargs: Any = None,
                     const: Any = None, type: Any = None) -> None:
    """Accept `old` option strings as a hidden alias of `new` (stored in `dest`), printing one
    line on stderr when used, so scripts written for the old name keep working."""

    class _Deprecated(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                     values: Any, option_string: str | None = None) -> None:
            print(f"chargebench: warning: {option_string} is deprecated, use {new}",
                  file=sys.stderr)
            setattr(namespace, self.dest, const if nargs == 0 else values)

    extra: dict[str, Any] = {"nargs": nargs} if nargs is not None else {}
    if type is not None:
        extra["type"] = type
    parser.add_argument(*old, dest=dest, action=_Deprecated, help=argparse.SUPPRESS,
                        default=argparse.SUPPRESS, **extra)


def admin_token_from_env() -> str | None:
    """$CHARGEBENCH_ADMIN_TOKEN; the old $CHARGEBENCH_CSMS_TOKEN still works, with a warning."""
    token = os.environ.get(ADMIN_TOKEN_ENV)
    if token is None and os.environ.get("CHARGEBENCH_CSMS_TOKEN") is not None:
        print(f"chargebench: warning: $CHARGEBENCH_CSMS_TOKEN is deprecated, use "
              f"${ADMIN_TOKEN_ENV}", file=sys.stderr)
        token = os.environ["CHARGEBENCH_CSMS_TOKEN"]
    return token


def port_number(text: str) -> int:
    """argparse type of a TCP port: 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535; 0: any free)")
    return port


def check_csms_url(url: str, option: str = "--csms") -> None:
    """Raise `UsageError` unless `url` is a ws:// or wss:// URL with a host and a valid port:
    the one check of every subcommand that connects to a CSMS (sim, run, load, conform), made
    before anything starts so a typo is one line and exit 2, not a failed run (exit 1)."""
    from urllib.parse import urlsplit

    if not url.startswith(("ws://", "wss://")):
        raise UsageError(f"{option} must be a ws:// or wss:// URL, not {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as error:
        raise UsageError(f"{option} {url!r}: {error}") from None
    if not parts.hostname:
        raise UsageError(f"{option} {url!r} names no host")


def writable_file(path: Any, option: str) -> None:
    """Raise `UsageError` unless `path` (a file written at the end of a run) can be written:
    checked before the run by creating it (and its folders), so a long run never ends in a
    traceback about its output. A file that did not exist is removed again."""
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file name")
    existed = target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a"):
            pass
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot write ({error.strerror or error}); "
                         "give a writable path") from None
    if not existed:
        target.unlink(missing_ok=True)


def writable_dir(path: Any, option: str) -> None:
    """Raise `UsageError` unless folder `path` exists or can be made, and takes files."""
    import tempfile
    from pathlib import Path

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot write there ({error.strerror or error}); "
                         "give a writable folder") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chargebench",
        description="OCPP 1.6J toolkit: reference CSMS, virtual charge points, scenarios, "
        "conformance suite and load tests.",
    )
    parser.add_argument("--version", action="version", version=f"chargebench {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """SIGTERM raises `Terminated` for the duration (in the main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (a test calling main() from a thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _sigterm_as_exception():
            return int(args.func(args) or 0)
    except UsageError as error:
        print(f"chargebench: error: {error}", file=sys.stderr)
        return 2
    except Terminated:
        print("chargebench: terminated", file=sys.stderr)
        return EXIT_SIGTERM
    except KeyboardInterrupt:
        print("chargebench: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except BrokenPipeError:  # `chargebench paths | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
