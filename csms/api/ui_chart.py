"""A transaction's energy and power over time as inline SVG (no script), from its meter values.

Energy is the Energy.Active.Import.Register reading (normalised to Wh by the store) minus the
transaction's meterStart; power is the charger's Power.Active.Import reading where it sent
one, otherwise derived from two successive energy readings (W = ΔWh · 3600 / Δs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise
from typing import Any

from reports.svg import document, el, text, tooltip
from reports.timestamps import parse_ts

__all__ = ["energy_power_svg", "series"]

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 70, 80, 16, 34
ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"


def series(meter_values: Iterable[dict[str, Any]], meter_start: int
           ) -> tuple[list[tuple[datetime, float]], list[tuple[datetime, float]]]:  # fmt: skip
    """(energy Wh since start, power W) points, in time order."""
    energy: list[tuple[datetime, float]] = []
    power: list[tuple[datetime, float]] = []
    for row in meter_values:
        moment = parse_ts(row["timestamp"])
        if moment is None or row.get("norm_value") is None or row.get("phase"):
            continue  # per-phase values would count a three-phase charger thrice
        value = float(row["norm_value"])
        if row["measurand"] == ENERGY:
            energy.append((moment, value - meter_start))
        elif row["measurand"] == POWER:
            power.append((moment, value))
    energy.sort(key=lambda p: p[0])
    power.sort(key=lambda p: p[0])
    if not power:
        for (t0, e0), (t1, e1) in pairwise(energy):
            seconds = (t1 - t0).total_seconds()
            if seconds > 0:
                power.append((t1, max(0.0, (e1 - e0) * 3600 / seconds)))
    return energy, power


def _path(points: list[tuple[datetime, float]], t0: datetime, span: float, top: float) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    coords = []
    for moment, value in points:
        x = LEFT + plot_w * ((moment - t0).total_seconds() / span if span else 0)
        y = TOP + plot_h * (1 - (value / top if top else 0))
        coords.append(f"{x:.1f},{y:.1f}")
    return " ".join(coords)


def energy_power_svg(meter_values: Iterable[dict[str, Any]], meter_start: int, *,
                     label: str) -> str:  # fmt: skip
    """The chart, or a note when there is nothing to draw."""
    energy, power = series(meter_values, meter_start)
    if not energy and not power:
        return '<p class="note">no meter values yet</p>'
    moments = [p[0] for p in energy + power]
    t0, t1 = min(moments), max(moments)
    span = (t1 - t0).total_seconds()
    e_top = max([p[1] for p in energy] + [1.0])
    p_top = max([p[1] for p in power] + [1.0])
    body = [el("rect", x=LEFT, y=TOP, width=WIDTH - LEFT - RIGHT, height=HEIGHT - TOP - BOTTOM,
               fill="none", stroke="#ccc")]  # fmt: skip
    if energy:
        body.append(el("polyline", tooltip(f"energy, up to {energy[-1][1] / 1000:.3f} kWh"),
                       points=_path(energy, t0, span, e_top), fill="none", stroke="#1f4e8c",
                       stroke_width=2, cls="energy"))  # fmt: skip
    if power:
        body.append(el("polyline", tooltip(f"power, up to {p_top / 1000:.2f} kW"),
                       points=_path(power, t0, span, p_top), fill="none", stroke="#e07000",
                       stroke_width=2, stroke_dasharray="5 3", cls="power"))  # fmt: skip
    bottom = HEIGHT - BOTTOM
    body += [
        text(LEFT - 6, TOP + 10, f"{e_top / 1000:.2f} kWh", text_anchor="end", fill="#1f4e8c"),
        text(LEFT - 6, bottom, "0", text_anchor="end", fill="#1f4e8c"),
        text(WIDTH - RIGHT + 6, TOP + 10, f"{p_top / 1000:.2f} kW", fill="#e07000"),
        text(WIDTH - RIGHT + 6, bottom, "0", fill="#e07000"),
        text(LEFT, bottom + 16, t0.strftime("%H:%M:%S UTC")),
        text(WIDTH - RIGHT, bottom + 16, t1.strftime("%H:%M:%S UTC"), text_anchor="end"),
        text(WIDTH / 2, bottom + 16, "— energy (kWh)   - - power (kW)", text_anchor="middle"),
    ]
    return document(WIDTH, HEIGHT, "".join(body), label)
