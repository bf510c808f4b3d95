"""Charts for the manager's dashboard, drawn on the server as inline SVG.

No JavaScript charting library: the console has no build step, a manager's tablet may be old,
and an inline SVG prints, scales and works with a screen reader. Each chart carries a
``<title>`` and a ``<desc>`` that says the numbers in words, so a chart is never the only way
to read them. Every label is escaped here because labels come from data people typed
(staff names, channel names, location names).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

Number = int | float

WIDTH = 560
HEIGHT = 280
LEFT = 48
RIGHT = 28
TOP = 20
BOTTOM = 56
PALETTE = ("#1f5fa8", "#d9822b", "#2e8540", "#b52b27", "#6f42c1", "#5a5a5a")


@dataclass(frozen=True)
class Series:
    """One named row of numbers, aligned with the chart's labels."""

    name: str
    values: Sequence[Number | None]


def nice_ticks(low: Number, high: Number, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round axis steps (1, 2, 5 × 10ⁿ) covering ``low``..``high``, so gridlines read easily.

    ``whole``: the data are counts, so no step is smaller than 1 (no "0.5 calls").
    """
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    if whole:
        raw = max(raw, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    value = start
    while value < high + step / 2:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def bar_chart(title: str, labels: Sequence[str], values: Sequence[Number]) -> Markup:
    """One bar per label (touches by channel, members enrolled vs active)."""
    _check_lengths(labels, [Series(title, values)])
    return _bars(title, labels, [Series(title, values)], stacked=False)


def stacked_bar_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """Bars made of coloured parts (each staff member's tasks: done, skipped, still open)."""
    _check_lengths(labels, series)
    return _bars(title, labels, series, stacked=True)


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """One line per series over the labels (NPS and emotion trend by week); gaps allowed."""
    _check_lengths(labels, series)
    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(min([0, *values]), max([0, *values]) if values else 1, whole=_whole(values))
    y = _scale(ticks)
    plot_w = WIDTH - LEFT - RIGHT
    step = plot_w / max(len(labels) - 1, 1)
    parts = [_grid(ticks, y)]
    for index, label in enumerate(labels):
        parts.append(_x_label(LEFT + index * step, label, step))
    for number, one in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = [(LEFT + i * step, y(v), v) for i, v in enumerate(one.values) if v is not None]
        for run in _runs(one.values):
            path = " ".join(f"{LEFT + i * step:.1f},{y(v):.1f}" for i, v in run)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="3" points="{path}"/>'
            )
        for px, py, v in points:
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(one.name)}: {_fmt(v)}</title></circle>"
            )
    return _frame(title, labels, series, "".join(parts))


# -- drawing ---------------------------------------------------------------------------------


def _runs(values: Sequence[Number | None]) -> list[list[tuple[int, Number]]]:
    """Stretches of two or more neighbouring values: a line is drawn only within one.

    A missing value (a week without answers) breaks the line, so the chart never draws a
    trend through weeks it knows nothing about; a lone value stays a dot.
    """
    runs: list[list[tuple[int, Number]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((index, value))
    return [run for run in runs if len(run) > 1]


def _bars(title: str, labels: Sequence[str], series: Sequence[Series], *, stacked: bool) -> Markup:
    if stacked:
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
        ticks = nice_ticks(0, max(totals, default=0) or 1, whole=_whole(totals))
    else:
        values = [v for s in series for v in s.values if v is not None]
        ticks = nice_ticks(min([0, *values]), max([0, *values]) or 1, whole=_whole(values))
    y = _scale(ticks)
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(labels), 1)
    bar_w = min(slot * 0.7, 80)
    parts = [_grid(ticks, y)]
    for index, label in enumerate(labels):
        x = LEFT + index * slot + (slot - bar_w) / 2
        base = 0.0
        for number, one in enumerate(series):
            value = one.values[index] or 0
            colour = PALETTE[number % len(PALETTE)]
            low, high = (base, base + value) if stacked else (min(0, value), max(0, value))
            top, bottom = y(high), y(low)
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
                f'height="{max(bottom - top, 0):.1f}" fill="{colour}">'
                f"<title>{escape(label)} — {escape(one.name)}: {_fmt(value)}</title></rect>"
            )
            if stacked:
                base += value
        total = base if stacked else series[0].values[index] or 0
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y(max(total, 0)) - 4:.1f}" '
            f'text-anchor="middle" font-size="14">{_fmt(total)}</text>'
        )
        parts.append(_x_label(LEFT + index * slot + slot / 2, label, slot))
    return _frame(title, labels, series, "".join(parts))


def _scale(ticks: Sequence[float]) -> _Scale:
    return _Scale(ticks[0], ticks[-1])


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float

    def __call__(self, value: Number) -> float:
        span = (self.high - self.low) or 1
        plot_h = HEIGHT - TOP - BOTTOM
        return TOP + plot_h * (1 - (value - self.low) / span)


def _grid(ticks: Sequence[float], y: _Scale) -> str:
    lines = []
    for tick in ticks:
        ty = y(tick)
        stroke = "#555" if tick == 0 else "#ccc"
        lines.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{stroke}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="14">'
            f"{_fmt(tick)}</text>"
        )
    return "".join(lines)


#: Roughly how wide one character of a 14 px label is, to fit labels to their slot.
CHAR_WIDTH = 8.5


def _x_label(x: float, label: str, room: float) -> str:
    """A label cut to the width its bar or point has (``room``), so that neighbours never
    overlap however many there are; the whole label shows on hover and in the chart's
    description."""
    fits = max(3, int(room // CHAR_WIDTH))
    short = label if len(label) <= fits else label[: fits - 1] + "…"
    return (
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="14">'
        f"<title>{escape(label)}</title>{escape(short)}</text>"
    )


def _legend(series: Sequence[Series]) -> str:
    items = []
    x = LEFT
    for number, one in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        items.append(
            f'<rect x="{x}" y="{HEIGHT - 20}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{x + 18}" y="{HEIGHT - 8}" font-size="14">{escape(one.name)}</text>'
        )
        x += 28 + 9 * min(len(one.name), 24)
    return "".join(items)


def _frame(title: str, labels: Sequence[str], series: Sequence[Series], body: str) -> Markup:
    digest = hashlib.sha1("\x1f".join([title, *labels]).encode(), usedforsecurity=False)
    ident = f"chart-{digest.hexdigest()[:10]}"
    desc = _describe(labels, series)
    legend = _legend(series) if len(series) > 1 else ""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(desc)}</desc>'
        f'<g font-family="system-ui, sans-serif" fill="#111">{body}{legend}</g></svg>'
    )
    return Markup(svg)  # noqa: S704 - every piece of text above went through html.escape


def _describe(labels: Sequence[str], series: Sequence[Series]) -> str:
    if not labels:
        return "No data yet."
    rows = []
    for one in series:
        pairs = ", ".join(
            f"{label} {_fmt(v)}"
            for label, v in zip(labels, one.values, strict=True)
            if v is not None
        )
        pairs = pairs or "no data"
        rows.append(f"{one.name}: {pairs}." if len(series) > 1 else f"{pairs}.")
    return " ".join(rows)


def _check_lengths(labels: Sequence[str], series: Sequence[Series]) -> None:
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(
                f"series {one.name!r} has {len(one.values)} values for {len(labels)} labels"
            )


def _whole(values: Sequence[Number]) -> bool:
    return all(isinstance(v, int) for v in values)


def _fmt(value: Number | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{int(value):,}"
