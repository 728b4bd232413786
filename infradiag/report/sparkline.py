"""A metric series as a one-line sparkline with its threshold marked, for the terminal and Markdown views."""

from __future__ import annotations

import math
from dataclasses import dataclass

from infradiag.report.model import ReportSeries

BARS = "▁▂▃▄▅▆▇█"
MAX_WIDTH = 30  # characters: a longer series is summarised by the largest point of each slice


@dataclass(frozen=True)
class Sparkline:
    """The bars (one per point, or per slice of points) and, per bar, whether it is at or above the
    threshold; `caption` says what the bars show in words, so the line reads without colour."""

    bars: str
    over: tuple[bool, ...]
    caption: str


def _slices(points: list[float], width: int) -> list[float]:
    if len(points) <= width:
        return points
    size = len(points) / width
    return [max(points[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]) for i in range(width)]


def _number(value: float) -> str:
    if value.is_integer() and abs(value) >= 1:
        return f"{value:.0f}"  # a count (instances)
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def sparkline(series: ReportSeries) -> Sparkline | None:
    """The series drawn from 0 (or its lowest point, when negative) to its highest point or threshold,
    whichever is larger; None for a series without points. Points that are not finite numbers (NaN, which
    Monitoring can report, or infinity) are left out: they have no height to draw."""
    values = [v for v in series.points if math.isfinite(v)]
    points = _slices(values, MAX_WIDTH)
    if not points:
        return None
    threshold = series.threshold
    low = min(0.0, *points)
    high = max(*points, threshold if threshold is not None else points[0], low + 1e-9)
    top = len(BARS) - 1
    bars = "".join(BARS[min(top, max(0, round((v - low) / (high - low) * top)))] for v in points)
    over = tuple(threshold is not None and v >= threshold for v in points)
    first, last = _number(values[0]), _number(values[-1])
    caption = f"{series.aggregation}: {first} -> {last}"
    if threshold is not None:
        above = sum(1 for v in values if v >= threshold)
        caption += f"; {above}/{len(values)} at or over {_number(threshold)}"
    return Sparkline(bars, over, caption)
