"""The JUnit XML writer: one `<testsuite>`, one `<testcase>` per `Verdict`.

The shape CI servers (and `reports.verdicts.read_junit`) read: a failure is `<failure
message=REASON>DETAILS</failure>` with what was expected and the frames received in its text, an
error `<error type=... message=...>`, a skip `<skipped message=...>`, and the run's trace file as
`trace: PATH` in `<system-out>`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from reports.outcome import Outcome, Verdict

__all__ = ["junit_tree", "write_junit"]


def junit_tree(suite: str, verdicts: Sequence[Verdict]) -> ET.ElementTree:
    """The document; SKIPPED and NOT_APPLICABLE are both JUnit skips."""
    skips = (Outcome.SKIPPED, Outcome.NOT_APPLICABLE)
    root = ET.Element(
        "testsuite", name=suite, tests=str(len(verdicts)),
        failures=str(sum(1 for v in verdicts if v.outcome is Outcome.FAILED)),
        errors=str(sum(1 for v in verdicts if v.outcome is Outcome.ERROR)),
        skipped=str(sum(1 for v in verdicts if v.outcome in skips)),
        time=f"{sum(v.seconds for v in verdicts):.3f}",
    )
    for verdict in verdicts:
        attributes = {"classname": verdict.group, "name": verdict.name}
        if verdict.source is not None:
            attributes["file"] = str(verdict.source)
        attributes["time"] = f"{verdict.seconds:.3f}"
        case = ET.SubElement(root, "testcase", attributes)
        if verdict.outcome in skips:
            ET.SubElement(case, "skipped", message=verdict.reason)
        elif verdict.outcome is Outcome.ERROR:
            node = ET.SubElement(case, "error", type=verdict.error_type or "error",
                                 message=verdict.reason)
            node.text = verdict.details() or None
        elif verdict.outcome is Outcome.FAILED:
            node = ET.SubElement(case, "failure", message=verdict.reason)
            node.text = verdict.details() or None
        if verdict.trace is not None:
            ET.SubElement(case, "system-out").text = f"trace: {verdict.trace}"
    return ET.ElementTree(root)


def write_junit(suite: str, verdicts: Sequence[Verdict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(suite, verdicts).write(path, encoding="utf-8", xml_declaration=True)
