"""The page: per-action rows, SVG that parses, escaping of hostile payloads, truncated diagrams."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from chargebench.trace import read_trace
from reports.html import render
from reports.sequence import select, sequence_svg
from reports.stats import compute, parse_ts
from tests.reports.helpers import write_trace

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
NS = "{http://www.w3.org/2000/svg}"


def page_of(path, **options) -> str:
    records = list(read_trace(path))
    return render(compute(records), records, sources=[path], **options)


def svgs(page: str) -> list[ET.Element]:
    """Every inline SVG of `page`, parsed as XML (raises if one is malformed)."""
    return [ET.fromstring(part) for part in SVG.findall(page)]


def test_page_has_a_row_per_action_and_the_error_codes(trace_file):
    """Each action gets a latency row with its percentiles; each CALLERROR code is listed."""
    page = page_of(trace_file)
    assert page.startswith("<!DOCTYPE html>")
    for action in ("Authorize", "BootNotification", "Heartbeat", "RemoteStartTransaction"):
        assert f"<td>{action}</td>" in page
    assert ('<td>Heartbeat</td><td>CP</td><td class="n">20</td><td class="n">20</td>'
            '<td class="n">0</td><td class="n">0</td><td class="n">10</td><td class="n">19</td>'
            '<td class="n">20</td><td class="n">20</td>') in page
    assert "<td>FormationViolation</td>" in page and "<td>NotImplemented</td>" in page
    assert "reply without CALL" in page and "RAW frame" in page


def titled(parts: list[ET.Element], start: str) -> list[ET.Element]:
    """The SVGs whose accessible title starts with `start`."""
    return [p for p in parts if p.find(f"{NS}title").text.startswith(start)]


def test_svg_parts_are_valid_xml(trace_file):
    """Latency plot, rate plot, the sequence diagrams of each charge point, of its case and
    around each finding all parse as SVG."""
    parts = svgs(page_of(trace_file))
    # 4 findings (2 CALLERRORs, a RAW frame, a reply without CALL), latency, rate, CP-1 and
    # CP-2 in "Sequence diagrams", CP-1 and CP-2 again in the trace file's own part
    assert len(parts) == 10
    assert all(part.tag == f"{NS}svg" for part in parts)
    assert len(titled(parts, "latency per action")) == 1
    cp1 = titled(parts, "sequence diagram: CP-1 and CSMS, 44 frames")[0]
    arrows = cp1.findall(f"{NS}g")
    assert len(arrows) == 44
    assert {g.get("class") for g in arrows} == {"call", "callresult", "callerror"}


def test_hostile_payload_is_escaped(tmp_path):
    """A payload, action and charge point id carrying <script> appear as text, never as markup."""
    evil = "</title><script>alert(1)</script>"
    path = write_trace(tmp_path / "evil.jsonl", [
        (f"CP-{evil}", "s", "cp->cs", "CALL", "1", f"Data{evil}", {"data": evil}, None),
        (f"CP-{evil}", "s", "cs->cp", "CALLRESULT", "1", f"Data{evil}", {}, 1.0),
        (f"CP-{evil}", "s", "cs->cp", "RAW", None, None, f"\x00{evil}", None),
    ])
    page = page_of(path)
    assert "<script>" not in page and "</title><script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert svgs(page)  # still well-formed, NUL included


def test_long_session_is_cut_with_a_note(trace_file):
    """A diagram stops at `limit` frames and says how many were left out."""
    records = select(read_trace(trace_file), "CP-1")
    root = ET.fromstring(sequence_svg(records, limit=5))
    assert len(root.findall(f"{NS}g")) == 5
    assert "39 more frames not shown (first 5 of 44)" in "".join(root.itertext())


def test_time_window_and_named_charge_points(trace_file):
    """--cp picks the diagrams; a window keeps only the frames inside it."""
    since, until = parse_ts("2026-01-01T00:00:01"), parse_ts("2026-01-01T00:00:02")
    assert len(select(read_trace(trace_file), "CP-1", since=since, until=until)) == 3
    parts = svgs(page_of(trace_file, cps=["CP-2"]))
    section = page_of(trace_file, cps=["CP-2"]).split("<h2>Sequence diagrams</h2>")[1]
    chosen = svgs(section.split("</section>")[0])
    assert len(chosen) == 1 and "CP-2" in "".join(chosen[0].itertext())
    assert len(parts) == 9  # one fewer than with the default (CP-1 and CP-2)
