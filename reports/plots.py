"""The report's two charts as inline SVG: latency per action, and messages over time.

Hand-made rather than a plotting library: two bar charts do not justify a dependency, and the
output must be a self-contained page that opens offline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from reports.stats import ActionStats, TraceStats
from reports.svg import document, el, fmt_duration, fmt_ms, text, tooltip

__all__ = ["latency_plot", "rate_bucket", "rate_plot"]

WIDTH = 720
P50, P95 = "#1f77b4", "#ff7f0e"
AXIS = "#888"
#: Bucket widths (s) the rate plot may use: a fleet day is shown per 15 min, a short run per s
_BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
MAX_BARS = 120


def latency_plot(actions: Sequence[ActionStats]) -> str:
    """p50 and p95 bars per action (horizontal, so long action names stay readable).

    The axis turns logarithmic when latencies span more than two decades: a slow
    firmware download should not squash every Heartbeat bar to nothing.
    """
    measured = [a for a in actions if a.latencies]
    if not measured:
        return ""
    left, right, top, row = 200, 60, 34, 26
    values = [v for a in measured for v in (a.p50, a.p95) if v is not None]
    scale, ticks = _scale(min(values), max(values), WIDTH - left - right)
    height = top + row * len(measured) + 10
    parts = [_legend(left, 12)]
    for tick in ticks:
        x = left + scale(tick)
        parts.append(el("line", x1=x, y1=top - 6, x2=x, y2=height - 6, stroke="#eee"))
        parts.append(text(x, top - 9, fmt_ms(tick), text_anchor="middle", fill=AXIS))
    for i, action in enumerate(measured):
        y = top + i * row
        parts.append(text(left - 6, y + 14, action.action[:28], text_anchor="end"))
        for j, (value, colour) in enumerate(((action.p50, P50), (action.p95, P95))):
            width = max(1.0, scale(value or 0))
            bar_y = y + 3 + j * 10
            parts.append(el("rect", tooltip(f"{action.action} p{50 if j == 0 else 95}: "
                                            f"{fmt_ms(value)} ms"),
                            x=left, y=bar_y, width=f"{width:.1f}", height=9, fill=colour))
            parts.append(text(left + width + 3, bar_y + 8, fmt_ms(value), fill="#444",
                              font_size="9px"))
    parts.append(el("line", x1=left, y1=top - 4, x2=left, y2=height - 6, stroke=AXIS))
    return document(WIDTH, height, "".join(parts), "latency per action, p50 and p95, ms")


def rate_bucket(span_seconds: float) -> int:
    """The narrowest bucket (s) that shows `span_seconds` in at most MAX_BARS bars."""
    return next((b for b in _BUCKETS if span_seconds / b < MAX_BARS), _BUCKETS[-1])


def rate_plot(stats: TraceStats) -> str:
    """Frames per bucket over the trace's time span, as bars."""
    bucket = rate_bucket(stats.span_seconds)
    series = stats.rate(bucket)
    if not series:
        return ""
    left, right, top, bottom, height = 50, 10, 24, 30, 220
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max(count for _, count in series) or 1
    ticks = _nice_ticks(peak, min_step=1)  # frame counts: no half frames on the axis
    y_max = max(ticks[-1], peak)
    bar_w = plot_w / len(series)
    parts = [text(left, 14, f"frames per {fmt_duration(bucket)}", fill="#444")]
    for tick in ticks:
        y = top + plot_h * (1 - tick / y_max)
        parts.append(el("line", x1=left, y1=y, x2=WIDTH - right, y2=y, stroke="#eee"))
        parts.append(text(left - 4, y + 4, f"{tick:g}", text_anchor="end", fill=AXIS))
    for i, (offset, count) in enumerate(series):
        if not count:
            continue
        h = plot_h * count / y_max
        parts.append(el("rect", tooltip(f"+{fmt_duration(offset)}: {count} frames"),
                        x=f"{left + i * bar_w + 0.5:.1f}", y=f"{top + plot_h - h:.1f}",
                        width=f"{max(bar_w - 1, 0.8):.1f}", height=f"{h:.1f}", fill=P50))
    label_every = max(1, math.ceil(len(series) / 8))
    for i in range(0, len(series), label_every):
        x = left + i * bar_w
        parts.append(text(x, height - bottom + 14, "+" + fmt_duration(series[i][0]),
                          fill=AXIS))
    parts.append(el("line", x1=left, y1=top + plot_h, x2=WIDTH - right, y2=top + plot_h,
                    stroke=AXIS))
    return document(WIDTH, height, "".join(parts), f"frames per {fmt_duration(bucket)}")


def _legend(x: float, y: float) -> str:
    return "".join(
        el("rect", x=x + dx, y=y - 8, width=10, height=9, fill=colour)
        + text(x + dx + 14, y, label)
        for dx, colour, label in ((0, P50, "p50 ms"), (80, P95, "p95 ms")))


def _scale(low: float, high: float, width: float
           ) -> tuple[Callable[[float], float], list[float]]:
    """Value → px along the axis, and the tick values to draw."""
    high = max(high, 1e-3)
    if low > 0 and high / low > 100:
        lo_exp, hi_exp = math.floor(math.log10(low)), math.ceil(math.log10(high))
        span = hi_exp - lo_exp + 1  # one decade of room left of the smallest tick

        def log_scale(value: float) -> float:
            if value <= 0:
                return 0.0
            return width * (math.log10(value) - lo_exp + 1) / span

        return log_scale, [10.0 ** e for e in range(lo_exp, hi_exp + 1)]
    ticks = _nice_ticks(high)
    top = max(ticks[-1], high)
    return (lambda value: width * value / top), ticks


def _nice_ticks(maximum: float, count: int = 5, min_step: float = 0) -> list[float]:
    """0 and round steps (1, 2 or 5 × 10ⁿ, at least `min_step`) up to at least `maximum`."""
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = max(min_step, next(m * power for m in (1, 2, 5, 10) if m * power >= raw))
    return [round(i * step, 10) for i in range(math.ceil(maximum / step) + 1)]
