"""The store's boundary holds (issue 16 point 1): only the SQLite backend imports `sqlite3`, and
only `open_store` builds a backend. So a second backend (PostgreSQL) is one more module, and no
caller catches a driver's exception instead of the `csms.store.errors` tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: the SQLite backend itself
BACKEND = {"csms/store/sqlite.py"} | {
    p.relative_to(ROOT).as_posix() for p in (ROOT / "csms" / "store").glob("_sqlite_*.py")
}
#: may read the file with a plain sqlite3 connection: the backend's own tests
SQLITE3_ALSO = {"tests/csms/store_contract/test_sqlite_backend.py"}
#: may name the backend module: the backend, and the one function that picks a backend
#: and the PostgreSQL backend, which runs the same aggregate mixins' SQL on its own connection
BACKEND_IMPORTERS = BACKEND | {"csms/store/opening.py", "csms/store/postgres.py"}
SKIP_DIRS = {".venv", "venv", "build", "dist", "node_modules", "__pycache__"}


def python_files() -> list[Path]:
    return [
        path for path in ROOT.rglob("*.py")
        if not any(part in SKIP_DIRS or part.startswith(".")
                   for part in path.relative_to(ROOT).parts[:-1])
    ]  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` in the file names (any depth)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def test_the_scan_sees_the_tree() -> None:
    """The scan reaches the backend and its callers (a wrong ROOT would pass vacuously)."""
    names = {p.relative_to(ROOT).as_posix() for p in python_files()}
    assert names >= BACKEND and "csms/api/business.py" in names and "csms/central.py" in names
    assert "sqlite3" in imported_modules(ROOT / "csms/store/_sqlite_base.py")


def test_only_the_sqlite_backend_imports_sqlite3() -> None:
    offenders = sorted(
        rel for path in python_files()
        if (rel := path.relative_to(ROOT).as_posix()) not in BACKEND | SQLITE3_ALSO
        and any(m == "sqlite3" or m.startswith("sqlite3.") for m in imported_modules(path))
    )  # fmt: skip
    assert offenders == [], f"import sqlite3 outside the SQLite backend: {offenders}"


def test_only_open_store_names_the_backend() -> None:
    """`SqliteStore` is built by `open_store` only: nobody else imports the backend modules."""
    offenders = sorted(
        rel for path in python_files()
        if (rel := path.relative_to(ROOT).as_posix()) not in BACKEND_IMPORTERS
        and any(m.startswith(("csms.store.sqlite", "csms.store._sqlite_"))
                or m == "csms.store.SqliteStore" for m in imported_modules(path))
    )  # fmt: skip
    assert offenders == [], f"the SQLite backend imported outside open_store: {offenders}"


def test_the_store_is_mypy_clean(tmp_path: Path) -> None:
    """Issue 16 point 10, the store's half: `mypy csms/store csms/states.py` with the project's
    [tool.mypy] settings reports no error (the rest of the tree is not there yet)."""
    pytest.importorskip("mypy", reason="mypy comes with the test extra")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
         "csms/store", "csms/states.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
