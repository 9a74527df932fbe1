"""A report of a real run, read the way a tester reads it: in chromium, following a verdict to
its sequence diagram and its trace, and an anomaly no verdict caught to the diagram around it.

The run: `chargebench run` of two scenarios on the built-in CSMS, one the library's cold boot,
one where the charge point ignores the CSMS's TriggerMessage (a fault plan) while its
connection carries on: a CALL without reply (OCPP-J 1.6 §4.1.1). The test also writes
docs/screenshots/report.png, the picture the README shows.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from chargebench.cli import main
from reports.findings import UNANSWERED
from reports.load import expand, load_traces
from reports.stats import compute
from scenarios.loader import DEFAULT_SEED
from tests.browser import async_browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "report.png"

IGNORED = f"""\
name: charger ignores a command
speed: 60
csms:
  builtin: {{seed: {DEFAULT_SEED}, heartbeat_interval: 3600}}
steps:
  - boot:
  - fault_plan: {{rules: [{{action: TriggerMessage, effect: ignore, direction: in, times: 1}}]}}
  - parallel:
      - command: {{action: TriggerMessage, payload: {{requestedMessage: Heartbeat}},
                  reply: {{status: Accepted}}}}
      - sequence:
          - wait: 1m
          - send: {{action: Heartbeat, payload: {{}}}}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run both scenarios with traces and JUnit, then `chargebench report` on the traces."""
    out = tmp_path_factory.mktemp("run")
    scenario = out / "ignored.yaml"
    scenario.write_text(IGNORED, encoding="utf-8")
    traces, junit, report = out / "traces", out / "junit.xml", out / "report.html"
    code = main(["run", str(scenario), "--library", "cold_boot_accepted", "--trace",
                 str(traces), "--junit", str(junit), "--workdir", str(out / "work")])
    assert code == 1  # the ignored command fails its scenario
    assert main(["report", str(traces), "--junit", str(junit), "-o", str(report)]) == 0
    return {"traces": traces, "junit": junit, "report": report}


def test_real_run_counts_the_call_nobody_answered(run, capsys):
    """The ignored TriggerMessage is an anomaly of its scenario, the cold boot has none, and
    the page's breakdown says so next to each verdict."""
    loaded = load_traces(expand([run["traces"]]))
    stats = compute(loaded.records, starts=loaded.starts())
    anomalies = [(f.kind, f.action, f.cp_id) for f in stats.anomalies]
    assert anomalies == [(UNANSWERED, "TriggerMessage", "CP-001")]
    page = run["report"].read_text(encoding="utf-8")
    assert '<a href="#case-1">charger ignores a command</a>' in page
    row = re.search(r'<a href="#case-1">.*?</tr>', page).group(0)
    assert 'verdict failed' in row and '<td class="n">1</td>' in row  # one anomaly
    row = re.search(r'<a href="#case-2">cold boot - accepted</a>.*?</tr>', page).group(0)
    assert "verdict passed" in row and '<td class="n">0</td><td class="n">0</td>' in row


def test_browser_follows_a_verdict_to_its_diagram_and_trace(run, page):
    """In chromium: the breakdown lists both verdicts; a verdict's links land on its sequence
    diagram and its trace table; the anomaly's link lands on the diagram around it, marked."""
    page.goto(run["report"].as_uri())
    rows = page.locator("#breakdown tbody tr")
    assert rows.count() == 2
    failed = rows.filter(has_text="charger ignores a command")
    assert failed.locator(".verdict").inner_text() == "failed"

    failed.get_by_role("link", name="diagram").click()
    assert page.url.endswith("#case-1-diagram")
    diagram = page.locator("#case-1-diagram")
    assert diagram.is_visible() and "TriggerMessage CALL" in diagram.locator("svg").text_content()

    page.locator("#breakdown").scroll_into_view_if_needed()
    failed.get_by_role("link", name="trace").click()
    trace = page.locator("#case-1-trace")  # inside a closed <details>: the link opens it
    assert trace.is_visible()
    unanswered = trace.locator("tr.anomaly")
    assert unanswered.count() == 1 and "TriggerMessage" in unanswered.inner_text()

    finding = page.locator("#findings tbody tr", has_text="TriggerMessage")
    assert UNANSWERED in finding.inner_text() and "CP-001" in finding.inner_text()
    finding.get_by_role("link", name="diagram").click()
    around = page.locator("#finding-1")
    assert around.is_visible() and around.locator("rect.highlight").count() == 1

    href = page.locator("#case-1 a[href$='.jsonl']").get_attribute("href")
    assert (run["report"].parent / unquote(href)).is_file()  # the trace file, beside it

    page.goto(run["report"].as_uri())
    height = page.evaluate("document.querySelector('#findings table').getBoundingClientRect()"
                           ".bottom + window.scrollY")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1200, "height": min(height + 16, 2400)})
    assert SCREENSHOT.stat().st_size > 10_000


async def test_async_browser_reads_the_same_report(run):
    """The async helper (for UI tests inside a running asyncio loop) drives the same chromium:
    the failed scenario's verdict row is there."""
    async with async_browser() as browser:
        page = await browser.new_page()
        await page.goto(run["report"].as_uri())
        row = page.locator("#breakdown tbody tr", has_text="charger ignores a command")
        assert await row.locator(".verdict").inner_text() == "failed"
