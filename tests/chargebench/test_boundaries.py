"""Package boundaries that keep OCPP 2.0.1 one more module set (issue 16 points 2 and 5).

- `import chargebench.ocppj` loads no websockets and no asyncio adapter (the gevent layer and
  sans-I/O users import the core alone), checked in a fresh interpreter;
- the name `OCPP16` appears only in versions.py and version-named modules (`v16` in the path):
  everything else takes the version agreed in the handshake (`VERSIONS[subprotocol]`).
"""

from __future__ import annotations

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
