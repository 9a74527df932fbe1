"""Pass/fail counts to head the report, from a JUnit XML file or a conformance summary JSON.

Both reduce to one `Verdicts`, so the page and the text summary show scenarios (JUnit from
`chargebench run`/`demo`, or any pytest run) and certification profiles the same way.
Unreadable input raises ValueError with a one-line reason; the CLI turns it into exit 2.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Verdicts", "read_conformance", "read_junit"]


@dataclass(slots=True)
class Verdicts:
    source: str  # what the counts are of: "JUnit: junit.xml", "conformance (CSMS): ..."
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    not_applicable: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (case, message)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.not_applicable


def read_junit(path: Path) -> Verdicts:
    """Counts over every `<testcase>` (a `<failure>` or `<error>` child fails it)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as error:
        raise ValueError(f"{path}: not a readable JUnit XML file ({error})") from None
    verdicts = Verdicts(f"JUnit: {path.name}")
    for case in root.iter("testcase"):
        name = ".".join(filter(None, (case.get("classname"), case.get("name"))))
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            verdicts.failed += 1
            verdicts.failures.append((name, bad.get("message") or (bad.text or "").strip()))
        elif case.find("skipped") is not None:
            verdicts.skipped += 1
        else:
            verdicts.passed += 1
    return verdicts


def read_conformance(path: Path) -> Verdicts:
    """Counts of a `conformance/summary.py` JSON (`role`, `profiles`, `cases`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cases = data["cases"]
        role = data.get("role", "?")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path}: not a conformance summary ({error})") from None
    verdicts = Verdicts(f"conformance ({role}): {path.name}")
    for case in cases:
        outcome = case.get("outcome") if isinstance(case, dict) else None
        if outcome in ("passed", "failed", "skipped", "not_applicable"):
            setattr(verdicts, outcome, getattr(verdicts, outcome) + 1)
        if outcome == "failed":
            verdicts.failures.append((f"{case.get('case')} {case.get('title', '')}".strip(),
                                      str(case.get("reason", ""))))
    return verdicts
