"""The one verdict (`reports.outcome`) and its writers: JUnit and Allure, from a real run.

`chargebench run` runs real scenarios (the built-in CSMS, simulated charge points, websockets on
127.0.0.1) and writes both files; the Allure files are read as the Allure command line reads
them (JSON per result, attachments by file name), the JUnit file by `reports.verdicts`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from chargebench.trace import Direction, MessageType, TraceRecord, read_trace
from reports.allure import write_allure
from reports.junit import write_junit
from reports.outcome import Outcome, Verdict, gravest
from reports.verdicts import Verdicts, read_junit
from scenarios.loader import LIBRARY

FAILING = """\
name: boot answered with a status it cannot have
speed: 60
csms:
  builtin: {seed: %s, heartbeat_interval: 120}
steps:
  - boot:
  - expect:
      action: BootNotification
      type: CALLRESULT
      payload: {status: Rejected}
      within: 5s
"""


def _run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chargebench", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_run_writes_allure_and_junit_of_the_same_verdicts(tmp_path):
    """One passing and one failing scenario: Allure has a result per scenario with its steps
    and its trace attached, and the failure says what was expected; the JUnit file agrees."""
    failing = tmp_path / "failing.yaml"
    failing.write_text(FAILING % (LIBRARY.parent / "lab_seed.yaml"), encoding="utf-8")
    allure, junit, traces = tmp_path / "allure", tmp_path / "junit.xml", tmp_path / "traces"
    done = _run("run", str(LIBRARY / "cold_boot_accepted.yaml"), str(failing),
                "--allure", str(allure), "--junit", str(junit), "--trace", str(traces))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    results = {r["name"]: r for r in map(json.loads, map(Path.read_text,
                                                         allure.glob("*-result.json")))}
    assert set(results) == {"cold boot - accepted",
                            "boot answered with a status it cannot have"}
    passed, failed = results["cold boot - accepted"], \
        results["boot answered with a status it cannot have"]
    assert passed["status"] == "passed" and "statusDetails" not in passed
    assert [s["status"] for s in passed["steps"]] == ["passed"] * 7
    [attachment] = passed["attachments"]
    records = list(read_trace(allure / attachment["source"]))
    assert records and records[0].action == "BootNotification"
    assert records[0].dir is Direction.CP_TO_CS and records[0].type is MessageType.CALL
    assert failed["status"] == "failed"
    assert failed["statusDetails"]["message"].startswith("step 'expect")
    assert "Rejected" in failed["statusDetails"]["trace"]
    assert [s["status"] for s in failed["steps"]] == ["passed", "failed"]
    # what came instead, as trace records (not text): the Accepted reply to the boot
    [came] = [a for a in failed["attachments"] if a["name"] == "received"]
    replies = [r for r in read_trace(allure / came["source"])
               if r.type is MessageType.CALLRESULT]
    assert [(r.dir, r.action, r.payload["status"]) for r in replies] == [
        (Direction.CS_TO_CP, "BootNotification", "Accepted")]
    text = ET.parse(junit).getroot().find("testcase[@name='boot answered with a status it "
                                          "cannot have']/failure").text
    assert "came instead" in text and "received:" not in text  # named once, with the reason
    counted = read_junit(junit)
    assert (counted.passed, counted.failed) == (1, 1)
    assert counted.failures[0][1] == failed["statusDetails"]["message"]


def _record(direction: str, kind: str, payload: object) -> TraceRecord:
    return TraceRecord("2026-01-01T00:00:00.000000+00:00", "CP1", direction, kind, "7",
                       "BootNotification", payload, None, "s1")


def test_a_failure_shows_the_frames_received(tmp_path):
    """A verdict's received records reach the JUnit failure text and the Allure trace, one
    line per frame; reading the JUnit file back gives the same outcomes."""
    received = [_record("cs->cp", "CALLRESULT", {"status": "Accepted"})]
    verdicts = [
        Verdict("boots", Outcome.FAILED, "step 'expect' at f.yaml:3",
                expected="expected BootNotification CALLRESULT {status: Rejected}",
                received=received, group="scenarios.f"),
        Verdict("n/a", Outcome.NOT_APPLICABLE, "not applicable: no reservation"),
        Verdict("cut", Outcome.ERROR, "interrupted by SIGINT", error_type="interrupted"),
        Verdict("ok", Outcome.PASSED),
    ]
    write_junit("suite", verdicts, tmp_path / "j.xml")
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors"),
            root.get("skipped")) == ("4", "1", "1", "1")
    failure = root.find("testcase/failure")
    assert failure is not None and failure.get("message") == "step 'expect' at f.yaml:3"
    assert failure.text.splitlines() == [
        "expected BootNotification CALLRESULT {status: Rejected}", "received:",
        '  2026-01-01T00:00:00.000000+00:00 cs->cp CALLRESULT 7 BootNotification '
        '{"status":"Accepted"}']
    assert root.find("testcase/error").get("type") == "interrupted"
    back = read_junit(tmp_path / "j.xml")
    assert [c.outcome for c in back.cases] == ["failed", "skipped", "failed", "passed"]
    write_allure(verdicts, tmp_path / "allure", environment={"target": "ws://h:1/x"})
    statuses = sorted(json.loads(p.read_text())["status"]
                      for p in (tmp_path / "allure").glob("*-result.json"))
    assert statuses == ["broken", "failed", "passed", "skipped"]
    assert (tmp_path / "allure" / "environment.properties").read_text() == \
        "target=ws\\://h\\:1/x\n"


def test_outcomes_and_records_keep_their_json_spelling():
    """The enums are the strings users and files read: summary.json, JUnit, trace lines."""
    assert [o.value for o in Outcome] == ["passed", "failed", "error", "skipped",
                                          "not_applicable"]
    assert gravest([Outcome.PASSED, Outcome.SKIPPED, Outcome.FAILED]) is Outcome.FAILED
    record = _record("cp->cs", "CALL", {"a": 1})
    line = record.to_json()
    assert '"dir":"cp->cs","type":"CALL"' in line
    assert TraceRecord.from_json(line) == record
    assert Verdicts.of("x", [Verdict("a", "error")]).failed == 1


def test_conformance_summary_keeps_its_keys_and_carries_received_frames(tmp_path):
    """summary.json keeps its keys and values (users and `reports` read them), written from the
    one verdict type the run keeps; the frames a Mismatch received reach the verdict as trace
    records, not as text to parse; an error outside any case is listed apart and read back."""
    from dataclasses import replace

    from conformance.catalog import Case
    from conformance.expect import expectation, failure
    from conformance.summary import Summary, case_verdict, error_verdict
    from conformance.wire import parse
    from reports.verdicts import read_conformance

    frame = parse("cp->cs", '[2,"9","Heartbeat",{}]')
    mismatch = failure(expectation("BootNotification"), [frame], 5)
    assert mismatch.expected == "expected BootNotification within 5 s"
    received = [replace(f, cp_id="CP1") for f in mismatch.received]
    case = Case("TC_001", "csms", "Cold boot", "core", "§4.2")
    summary = Summary()
    summary.record("n::a", case_verdict(case, Outcome.PASSED), case)
    summary.record("n::a", case_verdict(case, Outcome.FAILED, str(mismatch),
                                        expected=mismatch.expected, received=received), case)
    summary.record("n::a", case_verdict(case, Outcome.SKIPPED), case)  # teardown: less grave
    summary.record("bad.py", error_verdict("bad.py", "ImportError: x", "collection"))
    summary.write(tmp_path / "summary.json", "csms")
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["profiles"] == {"core": {"passed": 0, "failed": 1, "error": 0, "skipped": 0,
                                         "not_applicable": 0}}
    assert data["cases"] == [{"case": "TC_001_CS", "profile": "core", "title": "Cold boot",
                              "outcome": "failed", "nodeid": "n::a", "reason": str(mismatch)}]
    assert data["errors"] == [{"nodeid": "bad.py", "outcome": "error", "type": "collection",
                               "reason": "ImportError: x"}]
    judged = summary.verdicts["n::a"]
    assert isinstance(judged, Verdict) and judged.outcome is Outcome.FAILED
    assert (judged.name, judged.group, judged.labels["case"]) == (
        "TC_001_CS Cold boot", "core", "TC_001_CS")
    assert [(r.dir, r.type, r.action) for r in judged.received] == [
        (Direction.CP_TO_CS, MessageType.CALL, "Heartbeat")]
    back = read_conformance(tmp_path / "summary.json")
    assert [(c.name, c.outcome) for c in back.cases] == [
        ("TC_001_CS Cold boot", Outcome.FAILED), ("bad.py", Outcome.ERROR)]
    assert back.failed == 2
