"""Pass/fail counts to head the report, from a JUnit XML file or a conformance summary JSON.

Both reduce to one `Verdicts`, so the page and the text summary show scenarios (JUnit from
`chargebench run`/`demo`, or any pytest run) and certification profiles the same way.
Unreadable input raises ValueError with a one-line reason; the CLI turns it into exit 2.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reports.outcome import Outcome, Verdict

__all__ = ["Case", "Verdicts", "read_conformance", "read_junit", "trace_name"]

#: `trace: PATH` in a JUnit case's system-out (scenarios/report.py write_junit)
_TRACE_LINE = re.compile(r"^trace: (.+)$", re.M)
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


def trace_name(nodeid: str) -> str:
    """The name of a conformance case's trace file in RESULTS/traces (without `.jsonl`), after
    its pytest node id: the cases' fixture writes it (conformance/cases/conftest.py case_trace),
    the plugin and `read_conformance` find it by it."""
    return _NOT_IN_NAME.sub("_", nodeid)


def Case(name: str, outcome: Outcome | str, reason: str = "",
         trace: Path | None = None) -> Verdict:
    """One verdict read back from a file: a scenario of a JUnit file or a case of a conformance
    summary, with the trace file its run wrote as the result file names it."""
    return Verdict(name, Outcome(outcome), reason, trace=trace)


@dataclass(slots=True)
class Verdicts:
    source: str  # what the counts are of: "JUnit: junit.xml", "conformance (CSMS): ..."
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    not_applicable: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (case, message)
    cases: list[Verdict] = field(default_factory=list)  # every verdict, in file order

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.not_applicable

    def add(self, verdict: Verdict) -> None:
        """Count one verdict (an ERROR counts as failed: it is no pass)."""
        outcome = Outcome.FAILED if verdict.outcome is Outcome.ERROR else verdict.outcome
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        if outcome is Outcome.FAILED:
            self.failures.append((verdict.name, verdict.reason))
        self.cases.append(verdict)

    @classmethod
    def of(cls, source: str, verdicts: Iterable[Verdict]) -> Verdicts:
        """The counts of verdicts a run produced itself (no file read back)."""
        counted = cls(source)
        for verdict in verdicts:
            counted.add(verdict)
        return counted


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
        skipped = case.find("skipped")
        reason = ""
        if bad is not None:
            outcome, reason = Outcome.FAILED, bad.get("message") or (bad.text or "").strip()
        elif skipped is not None:
            outcome, reason = Outcome.SKIPPED, skipped.get("message") or ""
        else:
            outcome = Outcome.PASSED
        out = case.findtext("system-out") or ""
        trace = _TRACE_LINE.search(out)
        verdicts.add(Verdict(case.get("name") or name, outcome, reason,
                             trace=Path(trace[1].strip()) if trace else None))
        if bad is not None:  # the failures list names the case in full
            verdicts.failures[-1] = (name, reason)
    return verdicts


def read_conformance(path: Path) -> Verdicts:
    """Counts of a `conformance/summary.py` JSON (`role`, `profiles`, `cases`, `errors`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cases = data["cases"]
        role = data.get("role", "?")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path}: not a conformance summary ({error})") from None
    if not isinstance(cases, list):
        raise ValueError(f"{path}: not a conformance summary (cases is not a list)")
    verdicts = Verdicts(f"conformance ({role}): {path.name}")
    for case in cases:
        outcome = case.get("outcome") if isinstance(case, dict) else None
        # "error" (the case was not judged: its setup broke) counts as no pass, as in JUnit
        if not isinstance(outcome, str) or outcome not in _OUTCOMES:
            continue
        name = f"{case.get('case')} {case.get('title', '')}".strip()
        reason = str(case.get("reason") or "")
        nodeid, named = case.get("nodeid"), case.get("trace")
        trace = None
        if isinstance(named, str) and named:  # a summary that names the file: relative to it
            trace = path.parent / named
        elif isinstance(nodeid, str) and nodeid:
            trace = path.parent / "traces" / (trace_name(nodeid) + ".jsonl")
        verdicts.add(Verdict(name, Outcome(outcome), reason, trace=trace,
                             labels={"profile": str(case.get("profile", ""))}))
    errors = data.get("errors") if isinstance(data, dict) else None
    for entry in errors if isinstance(errors, list) else ():
        if isinstance(entry, dict):  # a module that did not import, a case not catalogued
            verdicts.add(Verdict(str(entry.get("nodeid") or "collection"), Outcome.ERROR,
                                 str(entry.get("reason") or ""),
                                 error_type=str(entry.get("type") or "")))
    return verdicts
