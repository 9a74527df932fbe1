"""`chargebench` command line: one argparse root, each subcommand registered by its own module.

A subcommand module exposes `add_parser(subparsers)`, which adds its parser and sets
`func=handler` with `handler(args) -> int` (the exit code). Exit codes: 0 ok, 1 a verdict failed,
2 a usage error (argparse's own, or `UsageError` raised by a handler).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from chargebench import __version__

#: Modules that register subcommands, in help order. Each lands with its issue.
SUBCOMMAND_MODULES = ("chargebench.pki_cli", "csms.cli", "sim.cli", "loadtest.cli",
                      "scenarios.cli", "scenarios.demo", "conformance.cli",
                      "reports.cli")


class UsageError(Exception):
    """A bad argument found after parsing (missing file, bad combination): exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as error:
        print(f"chargebench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chargebench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
