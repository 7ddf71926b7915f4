"""Geometry of the server-drawn SVG charts (the templates draw it; a table says the same)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Bar:
    """One day's bar, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    day: date
    value: int


@dataclass(frozen=True)
class BarChart:
    """Bars over a baseline, with the scale's top value for the axis label."""

    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    top: int
    total: int


def bar_chart(points: Sequence[tuple[date, int]], width: int = 600, height: int = 140) -> BarChart:
    """Bars for per-day counts; the tallest reaches the top, an empty day stays flat."""
    top = max((value for _, value in points), default=0) or 1
    plot_top, baseline = 12.0, float(height - 16)
    slot = width / max(len(points), 1)
    bars = tuple(
        Bar(
            x=round(i * slot + slot * 0.1, 2),
            y=round(baseline - (baseline - plot_top) * value / top, 2),
            width=round(slot * 0.8, 2),
            height=round((baseline - plot_top) * value / top, 2),
            day=day,
            value=value,
        )
        for i, (day, value) in enumerate(points)
    )
    return BarChart(width, height, baseline, bars, top, sum(v for _, v in points))


def sparkline(values: Sequence[float], width: int = 120, height: int = 24) -> str:
    """SVG polyline points for a small trend line ('' with fewer than two values)."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) * (height - 4) / span:.1f}"
        for i, v in enumerate(values)
    )
