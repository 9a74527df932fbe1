"""One name per concept across the subcommands (README's table), and the old names kept as
hidden aliases that still work and say, in one stderr line, what replaced them."""

from __future__ import annotations

import argparse

import pytest

from chargebench.cli import build_parser, main


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def _options(name: str) -> set[str]:
    return {flag for action in _subparser(name)._actions for flag in action.option_strings}


def _help(name: str) -> str:
    return _subparser(name).format_help()


@pytest.mark.parametrize(("command", "options"), [
    ("run", {"--csms", "--trace", "--admin-token", "--library", "--junit"}),
    ("load", {"--csms", "--locustfile", "--max-failure-ratio"}),
    ("csms", {"--seed-file", "--ca", "--admin-token", "--log-dir"}),
])  # fmt: skip
def test_the_canonical_names(command, options):
    assert options <= _options(command)


@pytest.mark.parametrize(("command", "old"), [
    ("load", "--host"), ("csms", "--seed"), ("csms", "--tls-ca"),
])  # fmt: skip
def test_old_names_are_accepted_but_hidden(command, old):
    assert old in _options(command)
    assert old not in _help(command).replace(f"{old}-", "")


def test_csms_old_names_store_into_the_new_ones(capsys):
    parser = build_parser()
    args = parser.parse_args(["csms", "--seed", "s.yaml", "--tls-ca", "ca.pem"])
    assert (str(args.seed_file), str(args.ca)) == ("s.yaml", "ca.pem")
    assert capsys.readouterr().err.splitlines() == [
        "chargebench: warning: --seed is deprecated, use --seed-file",
        "chargebench: warning: --tls-ca is deprecated, use --ca",
    ]


def test_new_names_print_no_warning(capsys):
    args = build_parser().parse_args(["csms", "--seed-file", "s.yaml", "--ca", "ca.pem"])
    assert (str(args.seed_file), str(args.ca)) == ("s.yaml", "ca.pem")
    assert capsys.readouterr().err == ""


def test_run_takes_the_admin_token_from_the_one_variable(monkeypatch):
    """`run --csms-api` reads $CHARGEBENCH_ADMIN_TOKEN; the old $CHARGEBENCH_CSMS_TOKEN still
    works with a warning."""
    from chargebench.cli import admin_token_from_env

    monkeypatch.setenv("CHARGEBENCH_ADMIN_TOKEN", "new")
    monkeypatch.setenv("CHARGEBENCH_CSMS_TOKEN", "old")
    assert admin_token_from_env() == "new"
    monkeypatch.delenv("CHARGEBENCH_ADMIN_TOKEN")
    assert admin_token_from_env() == "old"


def test_pki_cpo_name_matches_the_csms_option(tmp_path, capsys):
    assert "--cpo-name" in _options("csms")
    assert main(["pki", "init", str(tmp_path / "a"), "--cpo-name", "ACME"]) == 0
    assert main(["pki", "init", str(tmp_path / "b"), "--cpo", "ACME"]) == 0
    assert "--cpo is deprecated, use --cpo-name" in capsys.readouterr().err
