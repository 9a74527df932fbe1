"""`chargebench csms` argument handling (the serving path is covered by the durability test)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from chargebench.cli import main
from csms.cli import add_parser, config_from_args


def test_bad_seed_is_one_line_per_problem_and_exit_2(tmp_path):
    """A seed with a wrong field prints `FILE:LINE:COL: field: reason` and exits 2."""
    seed = tmp_path / "seed.yaml"
    seed.write_text("chargers:\n  - id: CP1\n    security_profile: 7\n")
    result = subprocess.run(
        [sys.executable, "-m", "chargebench", "csms", "--port", "0", "--db",
         str(tmp_path / "c.db"), "--seed-file", str(seed), "--log-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith(f"{seed}:3:") for line in lines), result.stderr
    assert "security_profile" in lines[0]


@pytest.mark.parametrize("argv", [
    ["--tls-cert", "x.pem"],
    ["--api-port", "0", "--admin-token", ""],
    ["--seed-file", "missing.yaml"],
    ["--seed", "missing.yaml"],  # the deprecated spelling still works
])  # fmt: skip
def test_bad_arguments_exit_2(tmp_path, argv, capsys, monkeypatch):
    """Incomplete TLS, an API without a token, or a missing file: usage error, exit 2."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHARGEBENCH_ADMIN_TOKEN", raising=False)
    assert main(["csms", *argv]) == 2
    assert "error" in capsys.readouterr().err


def test_no_compression_reaches_the_server_settings(tmp_path):
    """`--no-compression` turns RFC 7692 off; the default offers it (OCPP-J 2.0.1 §3.3; the
    server behaviour: tests/csms/test_v201_server.py)."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    db = str(tmp_path / "csms.db")
    assert config_from_args(parser.parse_args(["csms", "--db", db])).compression is True
    off = parser.parse_args(["csms", "--db", db, "--no-compression"])
    assert config_from_args(off).compression is False


def test_no_charger_logs(tmp_path):
    """`--no-charger-logs` keeps no per-charger files (log_dir None: no open file per charger,
    as `bench_fleet --workers` runs it); with `--log-dir` it is a contradiction, refused."""
    from chargebench.cli import UsageError

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    db = str(tmp_path / "csms.db")
    assert config_from_args(parser.parse_args(["csms", "--db", db])).log_dir is not None
    assert config_from_args(parser.parse_args(["csms", "--db", db, "--no-charger-logs"])
                            ).log_dir is None
    both = parser.parse_args(["csms", "--db", db, "--no-charger-logs", "--log-dir", "x"])
    with pytest.raises(UsageError, match="--no-charger-logs"):
        config_from_args(both)
