"""A small SVG canvas for the job page's figures (:mod:`vpp.report.job_figures`).

Panels stacked on one local time axis, values held over each step (step lines and
fills), spans, horizontal lines, markers, axes with round ticks and legends at the right.
It draws the few things the control-room figures need and nothing else: the job renders
its page on every run, and the four-site demo park must stay far under a second
(matplotlib takes about 0.3 s a figure here and 0.4 s to import). Every text is escaped;
the document has no script and no external reference (``xmlns`` names the SVG
namespace, nothing is fetched).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vpp.report.html_parts import escape

#: Figure width, plot area's left and right edge, legend's left edge [px].
WIDTH_PX, LEFT_PX, RIGHT_PX, LEGEND_PX = 1100, 74, 846, 900
#: Font of the figures (the page's).
FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"
#: Colour of the demand-response hatching.
HATCH_COLOR = "#6a4c93"


def svg_uri(svg: str) -> str:
    """An SVG document as a ``data:image/svg+xml;base64,...`` URI (an ``<img src>``)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """About ``n`` round tick values (1, 2, 2.5 or 5 times a power of ten) covering
    ``[lo, hi]``; the first is at or below ``lo``, the last at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5 * max(abs(lo), 1.0), hi + 0.5 * max(abs(hi), 1.0)
    raw = (hi - lo) / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return np.arange(first, last + 1) * step


def tick_label(value: float, step: float) -> str:
    """A tick label: thousands separators, decimals as fine as the tick step."""
    digits = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 3)
    return f"{value:,.{digits}f}".replace("-", "−")


@dataclass
class Panel:
    """A plot area of a :class:`Canvas`: its top and height [px] and its value range."""

    top: float
    height: float
    lo: float
    hi: float
    legend: list[tuple[str, str, str]] = field(default_factory=list)

    def y(self, value: Any) -> Any:
        """Pixel row of ``value`` (array or scalar)."""
        return self.top + self.height * (1.0 - (np.asarray(value) - self.lo) / (self.hi - self.lo))


class Canvas:
    """An SVG figure of panels stacked on one time axis, legends at the right.

    Parameters
    ----------
    times : pandas.DatetimeIndex
        Naive local start of each step; the last step's end is one step after it.
    height : int
        Figure height [px].
    title : str
        Plain text; escaped here.
    """

    def __init__(self, times: pd.DatetimeIndex, height: int, title: str) -> None:
        step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(minutes=15)
        self.times = times
        self.end = times[-1] + step
        self.hours = np.append((times - times[0]) / pd.Timedelta(hours=1), 0.0)
        self.hours[-1] = (self.end - times[0]) / pd.Timedelta(hours=1)
        self.height = height
        self.out = [f'<text x="{LEFT_PX}" y="20" class="t">{escape(title)}</text>']

    def x(self, when: Any) -> Any:
        """Pixel column of a time (naive local) or of hours since the first step."""
        if isinstance(when, pd.Timestamp):
            when = (when - self.times[0]) / pd.Timedelta(hours=1)
        return LEFT_PX + (RIGHT_PX - LEFT_PX) * np.asarray(when) / self.hours[-1]

    def add(self, element: str) -> None:
        """Append an SVG element (already escaped) to what is drawn."""
        self.out.append(element)

    def _path(self, p: Panel, values: np.ndarray) -> str:
        xs, ys = self.x(self.hours), p.y(values)
        parts, drawing = [], False
        for i, v in enumerate(values):
            if not math.isfinite(v):
                drawing = False
                continue
            parts.append(f"{'L' if drawing else 'M'}{xs[i]:.1f} {ys[i]:.1f}H{xs[i + 1]:.1f}")
            drawing = True
        return "".join(parts)

    def step_line(
        self,
        p: Panel,
        values: np.ndarray,
        color: str,
        label: str = "",
        width: float = 1.6,
        dash: str = "",
    ) -> None:
        """Values held over each step, as a line; ``label`` goes to the panel's legend."""
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(
            f'<path d="{self._path(p, values)}" fill="none" stroke="{color}" '
            f'stroke-width="{width}"{style}/>'
        )
        if label:
            p.legend.append(("dash" if dash else "line", color, label))

    def step_fill(
        self,
        p: Panel,
        lower: np.ndarray,
        upper: np.ndarray,
        color: str,
        label: str = "",
        opacity: float = 0.85,
    ) -> None:
        """The area between two step series (NaN as 0)."""
        xs = self.x(self.hours)
        lo, up = p.y(np.nan_to_num(lower)), p.y(np.nan_to_num(upper))
        fwd = "".join(
            f"L{xs[i]:.1f} {up[i]:.1f}L{xs[i + 1]:.1f} {up[i]:.1f}" for i in range(len(up))
        )
        back = "".join(
            f"L{xs[i + 1]:.1f} {lo[i]:.1f}L{xs[i]:.1f} {lo[i]:.1f}"
            for i in reversed(range(len(lo)))
        )
        self.add(f'<path d="M{fwd[1:]}{back}Z" fill="{color}" fill-opacity="{opacity}"/>')
        if label:
            p.legend.append(("box", color, label))

    def vspan(self, p: Panel, first: Any, end: Any, fill: str) -> None:
        """A full-height span of the panel from ``first`` to ``end`` (times or hours)."""
        x0, x1 = float(self.x(first)), float(self.x(end))
        x0, x1 = max(x0, LEFT_PX), min(x1, RIGHT_PX)
        if x1 > x0:
            self.add(
                f'<rect x="{x0:.1f}" y="{p.top:.1f}" width="{x1 - x0:.1f}" '
                f'height="{p.height:.1f}" fill="{fill}"/>'
            )

    def hline(
        self,
        p: Panel,
        value: float,
        color: str,
        width: float = 1.0,
        dash: str = "",
        label: str = "",
    ) -> None:
        """A horizontal line across the panel at ``value``."""
        y = float(p.y(value))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(
            f'<line x1="{LEFT_PX}" x2="{RIGHT_PX}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{color}" stroke-width="{width}"{style}/>'
        )
        if label:
            p.legend.append(("dash" if dash else "line", color, label))

    def markers(
        self, p: Panel, steps: np.ndarray, values: np.ndarray, color: str, label: str
    ) -> None:
        """A dot at the middle of each step in ``steps`` (indices) at its value."""
        xs = self.x((self.hours[steps] + self.hours[steps + 1]) / 2)
        ys = p.y(values[steps])
        self.add(
            "".join(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{color}"/>'
                for x, y in zip(xs, ys)
            )
        )
        p.legend.append(("dot", color, label))

    def y_axis(self, p: Panel, label: str, right: bool = False) -> None:
        """Grid lines (left axis only), tick labels and the axis label."""
        ticks = nice_ticks(p.lo, p.hi)
        step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
        x = RIGHT_PX + 6 if right else LEFT_PX - 6
        anchor = "start" if right else "end"
        for v in ticks:
            if not p.lo - 1e-9 <= v <= p.hi + 1e-9:
                continue
            y = float(p.y(v))
            if not right:
                self.add(
                    f'<line x1="{LEFT_PX}" x2="{RIGHT_PX}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>'
                )
            self.add(
                f'<text x="{x}" y="{y + 4:.1f}" text-anchor="{anchor}">{tick_label(v, step)}</text>'
            )
        cx = RIGHT_PX + 50 if right else 16
        cy = p.top + p.height / 2
        self.add(
            f'<text transform="translate({cx},{cy:.1f}) rotate(-90)" text-anchor="middle" '
            f'class="a">{escape(label)}</text>'
        )

    def frame(self, p: Panel) -> None:
        """The panel's left and bottom axis lines."""
        bottom = p.top + p.height
        self.add(f'<path d="M{LEFT_PX} {p.top:.1f}V{bottom:.1f}H{RIGHT_PX}" class="f"/>')

    def x_axis(self, p: Panel, label: str) -> None:
        """Hour ticks every 3 h (6 h past 30 h) in local time, dates under midnights."""
        every = 3 if self.hours[-1] <= 30 else 6
        tick = self.times[0].ceil("h")
        tick += pd.Timedelta(hours=(-tick.hour) % every)
        bottom = p.top + p.height
        first = True
        while tick <= self.end:
            x = float(self.x(tick))
            self.add(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{p.top:.1f}" y2="{bottom:.1f}" class="g"/>'
                f'<text x="{x:.1f}" y="{bottom + 15:.1f}" text-anchor="middle">{tick:%H:%M}</text>'
            )
            if first or tick.hour == 0:
                self.add(
                    f'<text x="{x:.1f}" y="{bottom + 28:.1f}" text-anchor="middle" '
                    f'class="s">{tick:%m-%d}</text>'
                )
            first = False
            tick += pd.Timedelta(hours=every)
        self.add(
            f'<text x="{(LEFT_PX + RIGHT_PX) / 2}" y="{bottom + 42:.1f}" text-anchor="middle" '
            f'class="a">{escape(label)}</text>'
        )

    def legend(self, top: float, entries: Sequence[tuple[str, str, str]], title: str = "") -> float:
        """Legend entries (kind ``line``/``dash``/``box``/``hatch``/``dot``, colour, label)
        from ``top`` down at the right of the plot; the y below the last entry [px]."""
        y = top
        if title:
            self.add(f'<text x="{LEGEND_PX}" y="{y + 10:.1f}" class="s">{escape(title)}</text>')
            y += 16
        for kind, color, label in entries:
            mid = y + 6
            if kind in ("line", "dash"):
                dash = ' stroke-dasharray="5 3"' if kind == "dash" else ""
                mark = (
                    f'<line x1="{LEGEND_PX}" x2="{LEGEND_PX + 22}" y1="{mid:.1f}" y2="{mid:.1f}" '
                    f'stroke="{color}" stroke-width="2"{dash}/>'
                )
            elif kind == "dot":
                mark = f'<circle cx="{LEGEND_PX + 11}" cy="{mid:.1f}" r="3" fill="{color}"/>'
            else:
                fill = "url(#hatch)" if kind == "hatch" else color
                mark = (
                    f'<rect x="{LEGEND_PX}" y="{y:.1f}" width="22" height="12" fill="{fill}" '
                    f'stroke="{color if kind == "hatch" else "none"}"/>'
                )
            self.add(mark + f'<text x="{LEGEND_PX + 28}" y="{mid + 4:.1f}">{escape(label)}</text>')
            y += 17
        return y

    def svg(self) -> str:
        """The figure as an SVG document."""
        style = (
            f"text{{font-family:{FONT};font-size:11px;fill:#222}}.t{{font-size:14px;"
            "font-weight:bold}.a{font-size:11.5px}.s{font-size:10px;fill:#555}"
            ".g{stroke:#000;stroke-opacity:.09}.f{fill:none;stroke:#444;stroke-width:1}"
        )
        hatch = (
            '<pattern id="hatch" patternUnits="userSpaceOnUse" width="7" height="7" '
            f'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="7" '
            f'stroke="{HATCH_COLOR}" stroke-width="1.4"/></pattern>'
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{self.height}" '
            f'viewBox="0 0 {WIDTH_PX} {self.height}"><style>{style}</style><defs>{hatch}</defs>'
            f'<rect width="100%" height="100%" fill="#fff"/>{"".join(self.out)}</svg>'
        )
