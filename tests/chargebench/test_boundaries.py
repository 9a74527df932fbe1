"""Package boundaries that keep OCPP 2.0.1 one more module set (issue 16 points 2 and 5).

- `import chargebench.ocppj` loads no websockets and no asyncio adapter (the gevent layer and
  sans-I/O users import the core alone), checked in a fresh interpreter;
- the name `OCPP16` appears only in versions.py and version-named modules (`v16` in the path):
  everything else takes the version agreed in the handshake (`VERSIONS[subprotocol]`);
- no module of chargebench/, csms/ or sim/ outside a version-named one (a `v16`/`v201` path
  component, or chargebench/ocppj/versions.py) imports `ocpp.v16` or `ocpp.v201`:
  version-neutral code speaks its own StrEnums and the version module translates.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chargebench", "csms", "sim", "conformance", "scenarios", "loadtest", "reports")
_OCPP16 = re.compile(r"\bOCPP16\b")


def test_importing_the_core_loads_no_websockets_and_no_adapter():
    probe = (
        "import sys, chargebench.ocppj\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('websockets', 'gevent')\n"
        "             or m == 'chargebench.ocppj.adapter')\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "", f"import chargebench.ocppj loaded: {done.stdout.strip()}"


def _version_module(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return path.name == "versions.py" or any(re.fullmatch(r"v\d+", p) for p in parts[:-1]) \
        or re.fullmatch(r"v\d+(_\w+)?\.py", path.name) is not None


def test_ocpp16_is_named_only_in_version_modules():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if _version_module(path):
                continue
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if _OCPP16.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "OCPP16 named outside the version modules:\n" + "\n".join(offenders)


def test_handler_tables_live_in_version_modules():
    """The CSMS's and the simulator's action -> handler tables sit in version-named modules
    (`csms/v16/handlers.py`, `sim/v16/handlers.py`), chosen by the version agreed in the
    handshake: 2.0.1 is one more module, not a branch inside 1.6 code."""
    table = re.compile(r"^[A-Z_]*HANDLERS\b\s*(:[^=]*)?=", re.MULTILINE)
    found, offenders = [], []
    for package in ("csms", "sim"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if table.search(path.read_text("utf-8")):
                (found if _version_module(path) else offenders).append(
                    str(path.relative_to(ROOT)))
    assert not offenders, f"handler tables outside the version modules: {offenders}"
    assert {"csms/v16/handlers.py", "sim/v16/handlers.py"} <= set(found)


def test_the_registration_gate_is_written_once():
    """The "CALL before an accepted BootNotification" rule lives in the core (`BootGate`); its
    CALLERROR code comes from the version's fault table, so no user spells it."""
    users = [ROOT / "conformance" / "selfpeers.py", *sorted((ROOT / "csms").rglob("*.py")),
             *sorted((ROOT / "sim").rglob("*.py"))]  # fmt: skip
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in users
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if '"SecurityError"' in line
    ]
    assert not offenders, f"SecurityError spelled outside the core: {offenders}"


def test_io_layers_read_no_private_attribute_of_the_core():
    pattern = re.compile(r"\bcore\._[a-z]")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "core.py" or path.parent.name != "ocppj"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, "\n".join(offenders)


#: The packages whose version-neutral modules must not import a version of the `ocpp` package.
_NEUTRAL_PACKAGES = ("chargebench", "csms", "sim")
#: `ocpp.v16`, `ocpp.v201` and their submodules (enums, call, call_result, schemas...)
_OCPP_VERSION = re.compile(r"ocpp\.v(16|201)(\.\w+)*")
#: Modules that may, with the reason. Empty today: keep it that way where you can.
_ALLOWED: dict[str, str] = {}


def _version_named(path: Path) -> bool:
    """A version module: a `v16`/`v201` folder on its path, or the core's version table."""
    parts = path.relative_to(ROOT).parts
    return parts == ("chargebench", "ocppj", "versions.py") or any(
        part in ("v16", "v201") for part in parts[:-1])


def ocpp_version_imports(source: str) -> list[tuple[int, str]]:
    """(line, what) for each import of `ocpp.v16`/`ocpp.v201` in `source`: `import ocpp.v16`,
    `from ocpp.v16.enums import X`, `from ocpp import v201`, and a package named by its dotted
    string (`importlib.resources.files("ocpp.v201.schemas")`, `import_module(...)`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names
                      if _OCPP_VERSION.fullmatch(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            if _OCPP_VERSION.fullmatch(node.module):
                found.append((node.lineno, node.module))
            elif node.module == "ocpp":
                found += [(node.lineno, f"ocpp.{alias.name}") for alias in node.names
                          if alias.name in ("v16", "v201")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and _OCPP_VERSION.fullmatch(node.value):
            found.append((node.lineno, node.value))
    return found


def test_the_import_scan_sees_every_spelling():
    """The scan below cannot pass by missing a form of import."""
    source = (
        "import ocpp.v16\nfrom ocpp.v201.enums import X\nfrom ocpp import v16, messages\n"
        "def f():\n    from ocpp.v16 import call\n"
        "files('ocpp.v201.schemas')\nimport ocpp.messages\nx = 'see ocpp.v16 docs'\n"
    )
    assert sorted(ocpp_version_imports(source)) == [
        (1, "ocpp.v16"), (2, "ocpp.v201.enums"), (3, "ocpp.v16"), (5, "ocpp.v16"),
        (6, "ocpp.v201.schemas"),
    ]


def test_ocpp_versions_are_imported_only_by_version_modules():
    """Version-neutral code (connection lifecycle, connectors, EV, control surface, UI, the
    CSMS's services) speaks its own StrEnums (`sim.connector.ConnectorStatus`,
    `csms.states`...); what exists in one version only lives in that version's modules
    (`sim/v16/`, `csms/v16/`, `chargebench/ocppj/v16/`)."""
    offenders, version_modules_seen = [], 0
    for package in _NEUTRAL_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if _version_named(path):
                version_modules_seen += 1
                continue
            if name in _ALLOWED:
                continue
            offenders += [f"{name}:{line}: {what}"
                          for line, what in ocpp_version_imports(path.read_text("utf-8"))]
    assert not offenders, "ocpp.v16/ocpp.v201 imported outside the version modules:\n" \
        + "\n".join(offenders)
    assert version_modules_seen >= 3  # the scan ran over the real tree
    stale = [name for name in _ALLOWED if not (ROOT / name).exists()]
    assert not stale, f"exceptions for modules that no longer exist: {stale}"
