"""The few SVG pieces the plots and sequence diagrams share, escaped once here.

Inline SVG (no JavaScript, no external assets) keeps the report one self-contained file that
opens offline; every text and attribute goes through `html.escape`, since trace payloads are
whatever a peer sent, `<script>` included.
"""

from __future__ import annotations

import re
from html import escape

__all__ = ["document", "el", "esc", "fmt_duration", "fmt_ms", "text", "tooltip"]

FONT = "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px"
# Characters XML 1.0 forbids even escaped (a RAW frame may carry any of them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(value: object, quote: bool = True) -> str:
    """`value` as text safe in HTML and XML content or attributes."""
    return _NOT_XML.sub("\ufffd", escape(str(value), quote=quote))


def el(tag: str, content: str | None = None, /, **attrs: object) -> str:
    """An element; `content` is markup already built (escape text with `text()`).

    Attribute names use `_` for `-` (`stroke_width`); `cls` is `class`; None values are left out.
    """
    parts = [tag]
    for name, value in attrs.items():
        if value is None:
            continue
        name = "class" if name == "cls" else name.replace("_", "-")
        parts.append(f'{name}="{esc(value)}"')
    opening = " ".join(parts)
    if content is None:
        return f"<{opening}/>"
    return f"<{opening}>{content}</{tag}>"


def text(x: float, y: float, value: str, /, **attrs: object) -> str:
    """A `<text>` whose content is escaped."""
    return el("text", esc(value, quote=False), x=f"{x:g}", y=f"{y:g}", **attrs)


def tooltip(value: str) -> str:
    """A `<title>` child: the browser shows it on hover, no script needed."""
    return el("title", esc(value, quote=False))


def document(width: float, height: float, body: str, label: str) -> str:
    """A standalone `<svg>` (parseable as XML on its own) with an accessible label."""
    return el("svg", f"{el('title', esc(label, quote=False))}{body}",
              xmlns="http://www.w3.org/2000/svg", width=f"{width:g}", height=f"{height:g}",
              viewBox=f"0 0 {width:g} {height:g}", role="img", style=FONT)


def fmt_ms(value: float | None) -> str:
    """A latency for a table cell or label: 3 significant figures, '–' when there is none."""
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def fmt_duration(seconds: float) -> str:
    """An elapsed time short enough for an axis label: 45s, 12m05s, 3h20m."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.3g}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
