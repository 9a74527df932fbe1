"""The Allure results writer: one `*-result.json` per `Verdict`, its trace attached.

Allure's own file logger (`allure_commons`, a runtime dependency) writes the files, so the
format is the one the Allure command line reads; the conformance run's pytest plugin
(allure-pytest) writes into the same kind of folder, and `write_environment` gives both their
`environment.properties`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    ATTACHMENT_PATTERN,
    Attachment,
    Label,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)

from reports.outcome import Outcome, Verdict

__all__ = ["write_allure", "write_environment"]

#: Allure has no "not applicable": a case that does not apply is skipped, its reason says why
_STATUS = {
    Outcome.PASSED: Status.PASSED, Outcome.FAILED: Status.FAILED, Outcome.ERROR: Status.BROKEN,
    Outcome.SKIPPED: Status.SKIPPED, Outcome.NOT_APPLICABLE: Status.SKIPPED,
}


def write_allure(verdicts: Sequence[Verdict], directory: Path, *, suite: str = "",
                 environment: Mapping[str, str] | None = None, clean: bool = False) -> None:
    """One result file per verdict in `directory` (created; emptied first with `clean`, as
    pytest's --clean-alluredir asks); each verdict's trace file, when it exists, is attached
    as JSON Lines."""
    logger = AllureFileLogger(str(directory), clean)
    stop = int(time.time() * 1000)
    for verdict in verdicts:
        start = stop - int(verdict.seconds * 1000)
        result = TestResult(
            uuid=str(uuid.uuid4()), name=verdict.name,
            fullName=".".join(filter(None, (verdict.group, verdict.name))),
            historyId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{verdict.group}/{verdict.name}")),
            status=_STATUS[verdict.outcome], statusDetails=_details(verdict),
            stage="finished", start=start, stop=stop,
            labels=[Label("suite", suite or verdict.group or "chargebench"),
                    *(Label(name, value) for name, value in verdict.labels.items())],
            steps=[_step(step, start) for step in verdict.steps],
        )
        if verdict.received:  # the frames that came instead, as trace lines
            name = ATTACHMENT_PATTERN.format(prefix=uuid.uuid4(), ext="jsonl")
            body = "".join(record.to_json() + "\n" for record in verdict.received)
            logger.report_attached_data(body, name)
            result.attachments.append(Attachment(name="received", source=name,
                                                 type="application/x-ndjson"))
        if verdict.trace is not None and verdict.trace.is_file():
            name = ATTACHMENT_PATTERN.format(prefix=uuid.uuid4(), ext="jsonl")
            logger.report_attached_file(str(verdict.trace), name)
            result.attachments.append(Attachment(name="trace", source=name,
                                                 type="application/x-ndjson"))
        logger.report_result(result)
    if environment is not None:
        write_environment(directory, environment)


def _details(verdict: Verdict) -> StatusDetails | None:
    if verdict.outcome is Outcome.PASSED:
        return None
    return StatusDetails(message=verdict.reason or None, trace=verdict.details() or None)


def _step(verdict: Verdict, start: int) -> TestStepResult:
    return TestStepResult(
        name=verdict.name, status=_STATUS[verdict.outcome], statusDetails=_details(verdict),
        stage="finished", start=start, stop=start + int(verdict.seconds * 1000),
        steps=[_step(step, start) for step in verdict.steps],
    )


def write_environment(directory: Path, environment: Mapping[str, str]) -> None:
    """`environment.properties` in an Allure results directory (key=value lines)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={_escape(value)}" for key, value in environment.items()]
    (directory / "environment.properties").write_text("\n".join(lines) + "\n", "utf-8")


def _escape(value: str) -> str:
    # java.util.Properties: backslash escapes, and ':' '=' are separators
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")
