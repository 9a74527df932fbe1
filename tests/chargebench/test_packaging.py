"""What a plain `pip install chargebench` gets: every runtime import in `dependencies`, every
data file the code reads inside the wheel, the shipped files findable with `chargebench paths`.

(.ci/run also installs the built wheel without extras into a fresh venv and runs the commands
from a temporary folder; these tests catch the cause early and name it.)
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from chargebench.paths_cli import SHIPPED, library_scenarios, resolve_library, shipped

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = ("chargebench", "sim", "csms", "scenarios", "conformance", "loadtest", "reports")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_normal(re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0]) for req in requirements}


def _runtime_imports() -> dict[str, list[str]]:
    """Top-level modules imported anywhere in the shipped packages -> the files importing them
    (stdlib and our own packages left out)."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in PACKAGES:
                        found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_runtime_import_is_a_declared_dependency():
    """A module the package imports at run time comes from a distribution in `dependencies`,
    not from the `test` extra (httpx and pyftpdlib once were): a plain install runs."""
    declared = _requirement_names(PYPROJECT["project"]["dependencies"])
    distributions = packages_distributions()
    missing = {}
    for module, files in _runtime_imports().items():
        providers = {_normal(d) for d in distributions.get(module, [])}
        if not providers & declared:
            missing[module] = (sorted(providers), files[:3])
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_the_scanner_sees_the_imports_that_once_were_missing():
    """The scan above is not vacuous: it finds the third-party imports it must judge."""
    imports = _runtime_imports()
    assert {"httpx", "pyftpdlib", "websockets", "locust", "yaml"} <= set(imports)


def test_every_shipped_path_exists():
    for name in SHIPPED:
        assert shipped(name).exists(), name
    assert {"cold_boot_accepted", "fleet_day_small"} <= set(library_scenarios())
    assert [p.name for p in resolve_library(["smart_charging.yaml", "local_list"])] == [
        "smart_charging.yaml", "local_list.yaml"]
    assert resolve_library([]) == resolve_library(["all"]) == list(library_scenarios().values())


@pytest.mark.slow
def test_the_wheel_holds_every_data_file_of_the_packages(tmp_path):
    """Every non-Python file of the shipped packages (scenario library, seeds, schemas, mix,
    templates, catalog) is in the wheel, where `chargebench paths` and the code find it."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "tests", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
         "-q", "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("chargebench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {str(path.relative_to(source)) for package in PACKAGES
            for path in (source / package).rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc")}
    assert data, "no data files found: the test looks in the wrong place"
    assert not data - names, f"not in the wheel: {sorted(data - names)}"
    # PEP 561: the type-checked packages tell a user's mypy that their hints are meant
    assert {"chargebench/py.typed", "csms/py.typed", "sim/py.typed"} <= names
    assert {str(shipped(name).relative_to(ROOT)) for name in SHIPPED} - {"scenarios/library"} \
        <= names


def test_paths_prints_one_path_for_the_shell_and_refuses_unknown_names(tmp_path):
    def paths(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "chargebench", "paths", *args],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    one = paths("locustfile")
    assert one.returncode == 0 and Path(one.stdout.strip()).is_file()
    assert one.stdout.strip().endswith("loadtest/locustfile.py")
    listing = paths()
    assert listing.returncode == 0
    assert {line.split()[0] for line in listing.stdout.splitlines()} >= set(SHIPPED)
    assert "cold_boot_accepted" in listing.stdout
    unknown = paths("nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        f"chargebench: error: no shipped file 'nope'; one of: {', '.join(SHIPPED)}"]
