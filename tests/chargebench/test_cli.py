"""The `chargebench` command line: version, help, usage errors, subcommand wiring."""

from __future__ import annotations

import subprocess
import sys

from chargebench import __version__


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chargebench", *args], capture_output=True,
                          text=True, timeout=60)


def test_version():
    """--version prints the package version and exits 0."""
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"chargebench {__version__}"


def test_help_lists_subcommands():
    """--help names the registered subcommands."""
    done = run("--help")
    assert done.returncode == 0
    assert "pki" in done.stdout


def test_unknown_subcommand_is_one_line_exit_2():
    """An unknown subcommand gives exactly one line on stderr and exit code 2."""
    done = run("fly")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "fly" in done.stderr


def test_bad_option_is_one_line_exit_2():
    """A bad option of a subcommand gives one line and exit code 2."""
    done = run("pki", "init", "--no-such-option")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1


def test_pki_init_writes_files(tmp_path):
    """`chargebench pki init DIR` writes the CA, server and client certificates."""
    done = run("pki", "init", str(tmp_path / "pki"), "--cp", "SN1")
    assert done.returncode == 0, done.stderr
    names = {p.name for p in (tmp_path / "pki").iterdir()}
    assert {"ca.pem", "csms.pem", "cp-SN1.pem", "invalid-client.pem"} <= names
