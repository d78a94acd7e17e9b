"""The dashboard's figures as inline SVG, made on the server (no script, no image files).

:func:`line_chart` draws step series (today's plan against actuals) with hour ticks,
a grid and a legend; every point carries a ``<title>`` so the browser shows its value
on hover. :func:`bar_chart` draws labelled horizontal bars (bill parts, emissions by
carrier). Text is escaped; numbers that are None are gaps in a line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "Series", "bar_chart", "line_chart"]

#: Colours of the series, in order (colour-blind safe: Okabe-Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


@dataclass(frozen=True)
class Series:
    """A line: its label, values (None: no value), colour and whether dashed."""

    label: str
    values: Sequence[float | None]
    color: str
    dashed: bool = False


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str,
    title: str,
    width: int = 860,
    height: int = 300,
    now_index: int | None = None,
) -> str:
    """An SVG line chart of ``series`` over ``labels`` (ISO 8601 step labels).

    Parameters
    ----------
    labels : sequence of str
        Step labels; ticks at each label whose time is a multiple of 3 hours.
    series : sequence of Series
        The lines.
    unit : str
        The y axis' unit, e.g. ``kW``.
    title : str
        The figure's accessible title.
    now_index : int, optional
        Steps before it are elapsed: a line marks the present.
    """
    left, right, top, bottom = 64, 16, 34, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    high = max(values) if values else 1.0
    low = min(0.0, min(values)) if values else 0.0
    step = _nice_step((high - low) or 1.0)
    top_value = math.ceil(high / step) * step if high > 0 else step
    low_value = math.floor(low / step) * step
    n = max(len(labels), 1)

    def x(i: float) -> float:
        return left + plot_w * i / max(n - 1, 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low_value) / ((top_value - low_value) or 1.0))

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    tick = low_value
    while tick <= top_value + step / 2:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'class="grid"/>'
            f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" class="tick" text-anchor="end">'
            f"{_fmt(tick)}</text>"
        )
        tick += step
    parts.append(
        f'<text x="{left - 8}" y="{top - 12}" class="unit" text-anchor="end">{escape(unit)}</text>'
    )
    for i, label in enumerate(labels):
        hhmm = label[11:16]
        if hhmm.endswith(":00") and int(hhmm[:2]) % 3 == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 18}" class="tick" '
                f'text-anchor="middle">{hhmm}</text>'
            )
    if now_index is not None and 0 < now_index < n:
        parts.append(
            f'<line x1="{x(now_index):.1f}" x2="{x(now_index):.1f}" y1="{top}" '
            f'y2="{top + plot_h}" class="now"/>'
            f'<text x="{x(now_index) + 4:.1f}" y="{top + 12}" class="tick">now</text>'
        )
    for s in series:
        runs: list[list[str]] = [[]]
        dots = []
        for i, v in enumerate(s.values):
            if v is None or not math.isfinite(v):
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
            dots.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" class="dot">'
                f"<title>{escape(s.label)} {labels[i][11:16]}: {v:,.1f} {escape(unit)}</title>"
                "</circle>"
            )
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.color}" '
                    f'stroke-width="2"{dash}/>'
                )
        parts.append(f'<g fill="{s.color}">{"".join(dots)}</g>')
    x_legend = left
    for s in series:
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<line x1="{x_legend}" x2="{x_legend + 22}" y1="14" y2="14" stroke="{s.color}" '
            f'stroke-width="3"{dash}/>'
            f'<text x="{x_legend + 28}" y="18" class="legend">{escape(s.label)}</text>'
        )
        x_legend += 36 + 8 * len(s.label)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    unit: str,
    title: str,
    width: int = 560,
    bar_h: int = 26,
) -> str:
    """Horizontal bars, one per ``(label, value)``, with the value written at its end."""
    left, right = 190, 130
    height = 16 + bar_h * len(items) + 8
    high = max((abs(v) for _, v in items), default=1.0) or 1.0
    plot_w = width - left - right
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for k, (label, value) in enumerate(items):
        y0 = 12 + k * bar_h
        w = plot_w * abs(value) / high
        color = PALETTE[k % len(PALETTE)]
        parts.append(
            f'<text x="{left - 10}" y="{y0 + bar_h * 0.62:.1f}" class="legend" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y0 + 3}" width="{w:.1f}" height="{bar_h - 8}" rx="3" '
            f'fill="{color}"><title>{escape(label)}: {value:,.1f} {escape(unit)}</title></rect>'
            f'<text x="{left + w + 6:.1f}" y="{y0 + bar_h * 0.62:.1f}" class="tick">'
            f"{value:,.1f} {escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
