"""`chargebench report`: exit codes, skipped lines, verdict files, and a real run end to end."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from chargebench.cli import main
from chargebench.trace import read_trace
from reports.html import render
from reports.stats import compute
from scenarios.loader import LIBRARY, load_scenario
from scenarios.results import PASSED
from scenarios.runner import RunOptions, run_scenario
from tests.reports.test_html import svgs


def test_writes_report_and_exits_0(trace_file, tmp_path, capsys):
    """A directory of traces gives a text summary, the HTML file and exit code 0."""
    out = tmp_path / "r" / "report.html"
    assert main(["report", str(trace_file.parent), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "48 messages from 1 file(s), 2 charge point(s)" in printed
    assert "Heartbeat" in printed and f"report: {out}" in printed
    assert "<td>Heartbeat</td>" in out.read_text(encoding="utf-8")


def test_missing_trace_file_exits_2_with_one_line(tmp_path, capsys):
    """A trace path that does not exist is a usage error: one line on stderr, exit 2."""
    assert main(["report", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such trace file or directory" in err
    assert not (tmp_path / "r.html").exists()


def test_unknown_cp_and_bad_junit_exit_2(trace_file, tmp_path, capsys):
    """--cp naming no charge point of the trace, or an unreadable --junit, exits 2."""
    out = str(tmp_path / "r.html")
    assert main(["report", str(trace_file), "-o", out, "--cp", "CP-9"]) == 2
    bad = tmp_path / "junit.xml"
    bad.write_text("<testsuite", encoding="utf-8")
    assert main(["report", str(trace_file), "-o", out, "--junit", str(bad)]) == 2
    assert "not a readable JUnit XML file" in capsys.readouterr().err


def test_unreadable_line_is_reported_and_skipped(trace_file, tmp_path, capsys):
    """A broken line is named by file:line on the terminal and in the page; the rest counts."""
    with trace_file.open("a", encoding="utf-8") as f:
        f.write("{oops\n")
    out = tmp_path / "r.html"
    assert main(["report", str(trace_file), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{trace_file}:49: not JSON" in printed
    assert "48 messages" in printed
    assert "Unreadable trace lines (1, skipped)" in out.read_text(encoding="utf-8")


def test_verdicts_from_junit_and_conformance_summary(trace_file, tmp_path):
    """JUnit and conformance summary counts head the page, failures named."""
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuite><testcase classname="s" name="ok"/><testcase name="bad">'
                     '<failure message="step boot at x.yaml:3"/></testcase>'
                     '<testcase name="later"><skipped/></testcase></testsuite>',
                     encoding="utf-8")
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"role": "CSMS", "profiles": {}, "cases": [
        {"case": "TC_001_CS", "title": "Cold boot", "outcome": "passed"},
        {"case": "TC_003_CS", "title": "Remote start", "outcome": "failed", "reason": "timeout"},
        {"case": "TC_060_CS", "title": "Firmware", "outcome": "not_applicable"},
    ]}), encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", str(trace_file), "-o", str(out), "--junit", str(junit),
                 "--conformance", str(summary)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Verdicts — JUnit: junit.xml" in page and "step boot at x.yaml:3" in page
    assert "Verdicts — conformance (CSMS): summary.json" in page
    assert "<td>TC_003_CS Remote start</td><td>timeout</td>" in page


async def test_real_scenario_trace_end_to_end(tmp_path):
    """A library scenario's own trace renders: its actions, latencies and a parseable diagram."""
    result = await run_scenario(load_scenario(LIBRARY / "cold_boot_accepted.yaml"),
                                RunOptions(speed=1200, workdir=tmp_path,
                                           trace_dir=tmp_path / "traces"))
    assert result.status == PASSED
    records = list(read_trace(result.trace))
    stats = compute(records)
    assert stats.anomalies == [] and stats.actions["BootNotification"].p50 is not None
    page = render(stats, records, sources=[result.trace])
    assert "<td>BootNotification</td>" in page and "<td>StatusNotification</td>" in page
    diagram = svgs(page)[-1]
    labels = "".join(diagram.itertext())
    assert "BootNotification CALL" in labels and "BootNotification CALLRESULT" in labels
    assert isinstance(diagram, ET.Element)


def test_demo_writes_and_names_the_html_report(tmp_path, capsys):
    """`chargebench demo` ends with OUT/report.html, headed by its JUnit verdicts, and says so."""
    assert main(["demo", "--out", str(tmp_path), "--only", "cold_boot_accepted"]) == 0
    printed = capsys.readouterr().out
    flat = "".join(ch for ch in printed if not ch.isspace() and ch != "│")  # rich wraps paths
    assert "HTMLreport:" in flat and f"{tmp_path}/report.html".replace(" ", "") in flat
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Verdicts — JUnit: junit.xml" in page and "<td>BootNotification</td>" in page


def test_result_files_beside_the_traces_are_found(trace_file, tmp_path, capsys):
    """Without --junit/--conformance, a summary.json (else junit.xml) in or beside a trace
    directory gives the verdicts, and says so; an unreadable one is noted, not fatal."""
    (tmp_path / "junit.xml").write_text(
        '<testsuite><testcase name="synthetic"><system-out>trace: elsewhere/synthetic.jsonl'
        "</system-out></testcase></testsuite>", encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", str(trace_file.parent), "-o", str(out)]) == 0
    assert f"verdicts: {tmp_path / 'junit.xml'} (found beside the traces" in (
        capsys.readouterr().out)
    page = out.read_text(encoding="utf-8")
    assert '<a href="#case-1">synthetic</a>' in page and 'verdict passed' in page
    (tmp_path / "summary.json").write_text("{not json", encoding="utf-8")
    assert main(["report", str(trace_file.parent), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"skipped {tmp_path / 'summary.json'}: not a conformance summary" in printed


def test_call_timeout_sets_when_a_reply_is_late(trace_file, tmp_path, capsys):
    """--call-timeout 0.0105: the ten Heartbeats answered in 11..20 ms are late (the other
    replies took at most 10 ms); a timeout that is not positive exits 2."""
    out = str(tmp_path / "r.html")
    assert main(["report", str(trace_file), "-o", out, "--call-timeout", "0.0105"]) == 0
    assert "10 late reply" in capsys.readouterr().out
    assert main(["report", str(trace_file), "-o", out, "--call-timeout", "0"]) == 2
    assert "--call-timeout must be positive" in capsys.readouterr().err
