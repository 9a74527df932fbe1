"""The pieces of ChargeBench's HTML pages (the trace report, the CSMS dashboard): one inline
style sheet, number cards, tables and sections whose every text is escaped, since what they
show came from charge points."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reports.svg import esc

__all__ = ["CSS", "Markup", "cards", "document", "link", "section", "table"]

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;
 padding:0 16px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
.bad b{color:#c62828}.ok b{color:#2e7d32}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.err{color:#c62828}code{font-size:12px;word-break:break-all}
.note{color:#777;font-style:italic}svg{display:block;margin:8px 0;max-width:100%;height:auto}
a{color:#1f4e8c}.verdict{font-weight:bold;padding:0 6px;border-radius:3px}
.passed{color:#2e7d32}.failed{color:#c62828}.skipped,.not_applicable,.none{color:#777}
tr.anomaly td{background:#fff4f4}tr.excused td{color:#777}
.case{border-top:1px solid #ddd;margin-top:18px}h3{font-size:15px;margin:14px 0 6px}
details>summary{cursor:pointer;color:#1f4e8c}
"""


class Markup(str):
    """Markup already built (a link): a table cell holding one is not escaped again."""

    __slots__ = ()


def link(href: str, label: object, *, cls: str = "") -> Markup:
    """`<a>` to `href` (escaped) with the escaped `label`."""
    klass = f' class="{esc(cls)}"' if cls else ""
    return Markup(f'<a href="{esc(href)}"{klass}>{esc(label)}</a>')


def document(title: str, parts: Iterable[str], *, head: str = "") -> str:
    """A whole page: `parts` (markup, empty ones skipped) under the escaped `title`; `head` is
    markup for <head> (e.g. a refresh)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"{head}<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(part for part in parts if part) + "\n</body></html>\n")


def cards(items: Iterable[tuple[str, object, str]]) -> str:
    """Big numbers with a caption; the third item is a CSS class ('ok', 'bad' or '')."""
    inner = "".join(f'<div class="card {cls}"><b>{esc(value)}</b><span>{esc(caption)}</span>'
                    "</div>" for caption, value, cls in items)
    return f'<div class="cards">{inner}</div>'


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *,
          numeric: Iterable[int] = (), total: int | None = None,
          row_classes: Sequence[str] = ()) -> str:
    """A table of escaped cells (`Markup` cells as they are); `numeric` columns are
    right-aligned; `row_classes[i]` is row i's CSS class. When `total` exceeds the rows given,
    a note says how many were left out."""
    right = set(numeric)

    def cell(tag: str, i: int, value: object) -> str:
        cls = ' class="n"' if i in right else ""
        inner = value if isinstance(value, Markup) else esc(value)
        return f"<{tag}{cls}>{inner}</{tag}>"

    def opening(i: int) -> str:
        cls = row_classes[i] if i < len(row_classes) else ""
        return f'<tr class="{esc(cls)}">' if cls else "<tr>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    lines = [opening(n) + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
             for n, row in enumerate(rows)]
    note = ""
    if total is not None and total > len(lines):
        note = f'<p class="note">… {total - len(lines)} more not shown</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>{note}"


def section(title: str, *parts: str, anchor: str = "") -> str:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f"<section{ident}><h2>{esc(title)}</h2>{''.join(parts)}</section>"
