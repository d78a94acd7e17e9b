"""The figures of the daily job's control-room page (:mod:`vpp.report.job_html`), as SVG.

- :func:`site_svg`: one site's plan on one local time axis, the revised rest of today
  then the target day: power balance on top (demand, PV used, battery, grid), state of
  charge and price below, the day's price bands shaded behind both;
- :func:`park_svg`: the park's net import stacked by site against the shared feeder
  limit (a line), with the demand-response windows and their offers marked.

The figures are small SVG documents drawn on :class:`vpp.report.job_svg.Canvas`, not
with matplotlib (too slow for a page the job writes on every run); the page embeds them
as ``data:image/svg+xml`` images.
Colours are those of the run report (:data:`vpp.report.figures.COLORS`).

Columns are found by their suffix (``_soc_kwh``, ``_pv_kw``, ``_charge_kw`` ...), never by
an asset's name, so any site of any park draws. Price bands come from the schedule's
``tou_period`` column when it has one, else from the distinct price levels
(:func:`price_bands`); the legend says which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vpp.report.html_parts import escape
from vpp.report.job_svg import HATCH_COLOR, LEFT_PX, Canvas, Panel, nice_ticks

#: Colours of the run report (:data:`vpp.report.figures.COLORS`, which imports matplotlib).
COLORS = {
    "pv": "#f2b701",
    "battery": "#3a86ff",
    "grid": "#5c677d",
    "load": "#222222",
    "limit": "#d62828",
    "dr": HATCH_COLOR,
}
#: Price levels closer than this are one level [CNY/kWh].
PRICE_LEVEL_TOL_CNY_PER_KWH = 1e-6
#: More distinct price levels than this (a price series) are split into tertiles.
MAX_PRICE_LEVELS = 5
#: Background colour of each price band, by band name (TOU period or derived rank).
BAND_COLORS: dict[str, str] = {
    "deep_valley": "#b7e4c7",
    "valley": "#d8f3dc",
    "low": "#d8f3dc",
    "flat": "#eef0f3",
    "mid": "#eef0f3",
    "peak": "#ffe3c2",
    "high": "#ffe3c2",
    "critical_peak": "#ffc4c4",
    "critical": "#ffc4c4",
}
#: Order of the bands in legends, cheapest first.
BAND_ORDER = ("deep_valley", "valley", "low", "flat", "mid", "peak", "high", "critical_peak")
#: A step within this of the shared limit is drawn as at it [kW].
LIMIT_TOL_KW = 1e-3
#: Colours of the sites' shares in the park figure, in site order.
SITE_COLORS = ("#8d99ae", "#f4a261", "#2a9d8f", "#a8dadc", "#e9c46a", "#b5838d", "#6d597a")


@dataclass(frozen=True)
class Bands:
    """The price band of each step and where the bands come from.

    Attributes
    ----------
    labels : numpy.ndarray
        Object array, one band name per step.
    source : str
        ``"tou_period"`` (the tariff's time-of-use periods) or ``"price levels"``.
    """

    labels: np.ndarray
    source: str

    def title(self) -> str:
        """The legend title naming where the bands come from."""
        if self.source == "tou_period":
            return "time-of-use period (tariff)"
        return "price band (from the price levels)"


def _rank_labels(n: int) -> list[str]:
    """Names of ``n`` price levels by rank, cheapest first: low, mid..., high."""
    if n == 1:
        return ["flat"]
    if n == 2:
        return ["low", "high"]
    mids = ["mid"] if n == 3 else [f"mid {i}" for i in range(1, n - 1)]
    return ["low", *mids, "high"]


def price_bands(frame: pd.DataFrame) -> Bands:
    """The price band of each step of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A schedule: its ``tou_period`` column when present, else its
        ``price_cny_per_kwh`` [CNY/kWh].

    Returns
    -------
    Bands
        With ``tou_period``: its names. Else each distinct price level by rank (``low``,
        ``mid``, ``high``; up to :data:`MAX_PRICE_LEVELS` levels), or the price's tertiles
        (``low``/``mid``/``high``) for a price series with more levels. Steps without a
        price are ``""`` (not shaded).
    """
    n = len(frame)
    if "tou_period" in frame and frame["tou_period"].notna().any():
        labels = frame["tou_period"].astype(object).where(frame["tou_period"].notna(), "")
        return Bands(labels.astype(str).to_numpy(dtype=object), "tou_period")
    labels = np.full(n, "", dtype=object)
    if "price_cny_per_kwh" not in frame:
        return Bands(labels, "price levels")
    price = pd.to_numeric(frame["price_cny_per_kwh"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(price)
    if not ok.any():
        return Bands(labels, "price levels")
    rounded = np.round(price[ok] / PRICE_LEVEL_TOL_CNY_PER_KWH) * PRICE_LEVEL_TOL_CNY_PER_KWH
    levels = np.unique(rounded)
    if len(levels) <= MAX_PRICE_LEVELS:
        names = _rank_labels(len(levels))
        labels[ok] = [names[i] for i in np.searchsorted(levels, rounded)]
    else:
        low, high = np.quantile(price[ok], [1 / 3, 2 / 3])
        labels[ok] = np.where(price[ok] <= low, "low", np.where(price[ok] >= high, "high", "mid"))
    return Bands(labels, "price levels")


def batteries(frame: pd.DataFrame) -> list[str]:
    """Prefixes of the batteries in a schedule: ``p`` with ``p_soc_kwh``, ``p_charge_kw``
    and ``p_discharge_kw`` (a green-storage share ``green_<battery>_*`` is not one)."""
    found = [
        c.removesuffix("_soc_kwh")
        for c in frame.columns
        if c.endswith("_soc_kwh")
        and f"{c.removesuffix('_soc_kwh')}_charge_kw" in frame
        and f"{c.removesuffix('_soc_kwh')}_discharge_kw" in frame
    ]
    return [p for p in found if not (p.startswith("green_") and p.removeprefix("green_") in found)]


def _column_sum(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The sum of ``columns`` [kW], NaN read as 0; zeros when there are none."""
    out = np.zeros(len(frame))
    for c in columns:
        out += pd.to_numeric(frame[c], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return out


def flexible_kw(frame: pd.DataFrame) -> np.ndarray:
    """Power drawn by flexible loads [kW]: EV fleets and shiftable loads (a prefix with
    ``_default_kw``: its ``_charge_kw`` or ``_power_kw``, less ``_discharge_kw``) and
    curtailable loads (``_power_kw`` less ``_shed_kw``)."""
    out = np.zeros(len(frame))
    for c in frame.columns:
        if c.endswith("_default_kw"):
            p = c.removesuffix("_default_kw")
            out += _column_sum(
                frame, [x for x in (f"{p}_charge_kw", f"{p}_power_kw") if x in frame]
            )
            out -= _column_sum(frame, [f"{p}_discharge_kw"] if f"{p}_discharge_kw" in frame else [])
        elif c.endswith("_shed_kw") and f"{c.removesuffix('_shed_kw')}_power_kw" in frame:
            p = c.removesuffix("_shed_kw")
            out += _column_sum(frame, [f"{p}_power_kw"]) - _column_sum(frame, [c])
    return out


def pv_used_kw(frame: pd.DataFrame) -> np.ndarray:
    """PV power taken, all arrays (``_pv_kw`` columns) [kW]."""
    return _column_sum(frame, [c for c in frame.columns if c.endswith("_pv_kw")])


def joined(today: pd.DataFrame | None, day: pd.DataFrame | None) -> pd.DataFrame:
    """The rest of today then the target day, one frame (steps of ``day`` win on overlap)."""
    parts = [f for f in (today, day) if f is not None and len(f)]
    if not parts:
        return pd.DataFrame()
    frame = pd.concat(parts, sort=False) if len(parts) > 1 else parts[0]
    frame = frame[~frame.index.duplicated(keep="last")]
    return frame.sort_index()


def local_times(index: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, str]:
    """Naive local wall-clock times of the steps and the time axis label with the offset."""
    if index.tz is None:
        return index, "local time"
    offset = index[0].utcoffset() or pd.Timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours = f"{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return index.tz_localize(None), f"local time (UTC{sign}{hours})"


def _runs(labels: np.ndarray) -> list[tuple[int, int, str]]:
    """Runs of equal labels: (first step, end step exclusive, label)."""
    out: list[tuple[int, int, str]] = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            out.append((start, i, str(labels[start])))
            start = i
    return out


def _band_key(label: str) -> str:
    return label.split(" ")[0]


def shade_bands(canvas: Canvas, panels: Sequence[Panel], bands: Bands) -> list[tuple]:
    """Shade each price band's runs behind ``panels``; legend entries of the bands shown."""
    shown: dict[str, str] = {}
    for first, end, label in _runs(bands.labels):
        color = BAND_COLORS.get(_band_key(label)) if label else None
        if color is None:
            continue
        shown[label] = color
        for p in panels:
            canvas.vspan(p, canvas.hours[first], canvas.hours[end], color)
    order = {k: i for i, k in enumerate(BAND_ORDER)}
    keys = sorted(shown, key=lambda k: (order.get(_band_key(k), 99), k))
    return [("box", shown[k], k.replace("_", " ")) for k in keys]


def event_windows(events: Sequence[dict[str, Any]], tz: Any) -> list[tuple[Any, Any, str]]:
    """Demand-response windows of the summary as naive local times, with a label."""
    out = []
    for e in events or []:
        try:
            start, end = _naive(e["start"], tz), _naive(e["end"], tz)
        except (KeyError, TypeError, ValueError):
            continue
        offered = e.get("offered_kw")
        label = str(e.get("name", "event"))
        if isinstance(offered, (int, float)) and math.isfinite(offered):
            label += f": offer {offered:,.0f} kW"
        out.append((start, end, label))
    return out


def _mark_events(canvas: Canvas, p: Panel, windows: list[tuple[Any, Any, str]]) -> None:
    """Hatch the demand-response windows over ``p`` and write their offers above."""
    for start, end, label in windows:
        if end <= canvas.times[0] or start >= canvas.end:
            continue
        canvas.vspan(p, start, end, "url(#hatch)")
        x = float(canvas.x(max(start, canvas.times[0])))
        canvas.add(
            f'<text x="{x:.1f}" y="{p.top - 4:.1f}" fill="{COLORS["dr"]}" class="s">'
            f"{escape(label)}</text>"
        )
    if any(end > canvas.times[0] and start < canvas.end for start, end, _ in windows):
        p.legend.append(("hatch", COLORS["dr"], "demand-response window"))


def _mark_day(canvas: Canvas, panels: Sequence[Panel], day_start: Any) -> None:
    """A dashed line at the target day's first step, when the rest of today comes first."""
    if day_start is None or not canvas.times[0] < day_start < canvas.end:
        return
    x = float(canvas.x(day_start))
    for p in panels:
        canvas.add(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{p.top:.1f}" y2="{p.top + p.height:.1f}" '
            'stroke="#222" stroke-width="1.2" stroke-dasharray="6 3"/>'
        )
    top = panels[0].top + 13
    canvas.add(
        f'<text x="{x - 5:.1f}" y="{top:.1f}" text-anchor="end" class="s">'
        f"◀ rest of today (revised from {canvas.times[0]:%H:%M})</text>"
        f'<text x="{x + 5:.1f}" y="{top:.1f}" class="s">target day {day_start:%Y-%m-%d} ▶</text>'
    )


def _range(*series: np.ndarray, floor: float | None = 0.0) -> tuple[float, float]:
    """Round axis limits holding every finite value of ``series`` (and ``floor``)."""
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in series] or [[0.0]])
    values = values[np.isfinite(values)]
    lo = float(values.min()) if values.size else 0.0
    hi = float(values.max()) if values.size else 1.0
    if floor is not None:
        lo, hi = min(lo, floor), max(hi, floor)
    ticks = nice_ticks(lo, hi)
    return float(ticks[0]), float(ticks[-1])


def _series(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def site_svg(
    name: str,
    frame: pd.DataFrame,
    *,
    day_start: pd.Timestamp | None = None,
    events: Sequence[dict[str, Any]] = (),
    title: str = "",
    currency: str = "CNY",
) -> str:
    """One site's plan as an SVG document: power balance, state of charge and price.

    Parameters
    ----------
    name : str
        The site (for the default title).
    frame : pandas.DataFrame
        The rest of today and the target day (:func:`joined`): ``load_kw``,
        ``price_cny_per_kwh`` [CNY/kWh], ``grid_import_kw``, ``grid_export_kw`` [kW] and
        the assets' columns, on a local-time index (label = start of step).
    day_start : pandas.Timestamp or None
        The target day's first step (tz-aware or naive local): a dashed line marks it
        when the frame starts earlier.
    events : sequence of dict
        Demand-response events of the summary (``name``, ``start``, ``end``,
        ``offered_kw``): their windows are hatched.
    title : str
        The figure's title; by default it names the site.
    currency : str
        The currency of the price axis (the park's).

    Returns
    -------
    str
        The SVG document.
    """
    t, xlabel = local_times(frame.index)
    day = _naive(day_start, frame.index.tz)
    stores = batteries(frame)
    load = _column_sum(frame, ["load_kw"])
    flex = flexible_kw(frame)
    pv = pv_used_kw(frame)
    grid = _column_sum(frame, ["grid_import_kw"]) - _column_sum(frame, ["grid_export_kw"])
    battery = _column_sum(frame, [f"{p}_discharge_kw" for p in stores]) - _column_sum(
        frame, [f"{p}_charge_kw" for p in stores]
    )
    c = Canvas(t, 470, title or f"{name}: the plan")
    top = Panel(44, 250, *_range(load + flex, pv, grid, battery))
    low = Panel(312, 104, 0.0, 1.0)
    socs = {p: _series(frame, f"{p}_soc_kwh") for p in stores}
    if socs:
        low.lo, low.hi = _range(*socs.values())
    price = _series(frame, "price_cny_per_kwh") if "price_cny_per_kwh" in frame else None
    price_panel = Panel(low.top, low.height, *_range(price if price is not None else np.zeros(1)))
    band_entries = shade_bands(c, (top, low), price_bands(frame))
    c.y_axis(top, "power [kW]")
    if socs:
        c.y_axis(low, "state of charge [kWh]")
    if price is not None:
        c.y_axis(price_panel, f"price [{currency}/kWh]", right=bool(socs))
    if pv.any():
        c.step_fill(top, np.zeros(len(pv)), pv, COLORS["pv"], "PV used", opacity=0.6)
    c.hline(top, 0.0, "#444", 0.8)
    c.step_line(top, grid, COLORS["grid"], "grid import − export", width=2.2)
    c.step_line(
        top,
        load + flex,
        COLORS["load"],
        "site demand (fixed + flexible)" if flex.any() else "site load",
    )
    if flex.any():
        c.step_line(top, load, COLORS["load"], "fixed load", width=1.0, dash="2 2")
    if stores:
        c.step_line(top, battery, COLORS["battery"], "battery discharge − charge", width=1.4)
    for i, (p, soc) in enumerate(socs.items()):
        color = COLORS["battery"] if i == 0 else ("#023e8a", "#48cae4", "#7209b7")[(i - 1) % 3]
        c.step_line(low, soc, color, f"{p} state of charge", width=2.0)
    if not socs:
        c.add(
            f'<text x="{LEFT_PX + 8}" y="{low.top + 16}" class="s">no battery at this site</text>'
        )
    if price is not None:
        c.step_line(price_panel, price, COLORS["dr"], "energy price", width=1.2, dash="5 3")
        low.legend.extend(price_panel.legend)
    _mark_events(c, top, event_windows(events, frame.index.tz))
    _mark_day(c, (top, low), day)
    c.frame(top)
    c.frame(low)
    c.x_axis(low, xlabel)
    c.legend(top.top, top.legend)
    below = c.legend(low.top - 8, low.legend)
    c.legend(max(below + 6, low.top + 40), band_entries, price_bands(frame).title())
    return c.svg()


def _naive(moment: Any, tz: Any) -> pd.Timestamp | None:
    """``moment`` as a naive local time (in ``tz`` when it has a zone); None stays None."""
    if moment is None:
        return None
    stamp = pd.Timestamp(moment)
    if stamp.tz is not None:
        stamp = (stamp.tz_convert(tz) if tz is not None else stamp).tz_localize(None)
    return stamp


def park_svg(
    plan: pd.DataFrame,
    *,
    sites: Sequence[str],
    limit_kw: float | None,
    day_start: pd.Timestamp | None = None,
    events: Sequence[dict[str, Any]] = (),
    bands: Bands | None = None,
    title: str = "",
) -> str:
    """The park's net import by site against the shared feeder limit, as SVG.

    Parameters
    ----------
    plan : pandas.DataFrame
        The rest of today and the target day (:func:`joined`): ``<site>_net_import_kw``
        and ``park_net_import_kw`` [kW] on a local-time index.
    sites : sequence of str
        The sites, in the order their net imports are stacked.
    limit_kw : float or None
        The shared limit on the park's absolute net import [kW]; None or NaN: none.
    day_start : pandas.Timestamp or None
        The target day's first step.
    events : sequence of dict
        Demand-response events of the summary: windows hatched, offers written above.
    bands : Bands or None
        Price bands to shade (when every site has the same ones), or None.
    title : str
        The figure's title.

    Returns
    -------
    str
        The SVG document.
    """
    t, xlabel = local_times(plan.index)
    net = _column_sum(plan, ["park_net_import_kw"])
    has_limit = limit_kw is not None and math.isfinite(limit_kw)
    shares = {
        s: _column_sum(plan, [f"{s}_net_import_kw"]) for s in sites if f"{s}_net_import_kw" in plan
    }
    ups = np.sum([np.clip(v, 0, None) for v in shares.values()], axis=0) if shares else net
    downs = np.sum([np.clip(v, None, 0) for v in shares.values()], axis=0) if shares else net
    bound = [limit_kw * 1.08] if has_limit else []
    if has_limit and (net < 0).any():
        bound.append(-limit_kw * 1.08)
    c = Canvas(t, 400, title or "Park net import by site against the shared feeder limit")
    p = Panel(44, 290, *_range(ups, downs, net, np.asarray(bound)))
    band_entries = shade_bands(c, (p,), bands) if bands is not None else []
    c.y_axis(p, "net import [kW]")
    up = np.zeros(len(plan))
    down = np.zeros(len(plan))
    for i, (site, v) in enumerate(shares.items()):
        color = SITE_COLORS[i % len(SITE_COLORS)]
        pos, neg = np.clip(v, 0, None), np.clip(v, None, 0)
        c.step_fill(p, up, up + pos, color, site)
        if neg.any():
            c.step_fill(p, down, down + neg, color)
        up, down = up + pos, down + neg
    c.hline(p, 0.0, "#444", 0.8)
    c.step_line(p, net, COLORS["load"], "park net import", width=2.0)
    if has_limit:
        c.hline(p, limit_kw, COLORS["limit"], 2.0, "8 4", f"shared feeder limit {limit_kw:,.0f} kW")
        if (net < 0).any():
            c.hline(p, -limit_kw, COLORS["limit"], 1.2, "8 4")
        over = np.flatnonzero(np.abs(net) > limit_kw + LIMIT_TOL_KW)
        at = np.flatnonzero(np.abs(np.abs(net) - limit_kw) <= LIMIT_TOL_KW)
        if at.size:
            c.markers(p, at, net, COLORS["limit"], f"at the limit ({at.size} steps)")
        if over.size:
            c.markers(p, over, net, "#7f0000", f"above the limit ({over.size} steps)")
    else:
        c.add(f'<text x="{LEFT_PX + 8}" y="{p.top + 16}" class="s">no shared limit</text>')
    _mark_events(c, p, event_windows(events, plan.index.tz))
    _mark_day(c, (p,), _naive(day_start, plan.index.tz))
    c.frame(p)
    c.x_axis(p, xlabel)
    below = c.legend(p.top, p.legend)
    if bands is not None:
        c.legend(below + 10, band_entries, bands.title())
    return c.svg()


#: A page of more sites is compact (:func:`compact_sites_html`): no figure per site, and
#: the park's figure not stacked by site (a 200-site park's figures made a 9 MB page)
#: [sites].
PAGE_FIGURE_MAX_SITES = 20
#: The park figure's caption on a compact page (its start).
COMPACT_PARK = "The park's total net import [kW] (on a compact page, not stacked by site)"
#: The park figure's caption (its start) otherwise.
STACKED_PARK = "Net import of each site stacked (import less export) and the park's total [kW]"


def compact_sites_html(schedules: Mapping[str, Any]) -> str:
    """A compact page's site part: a note and a link to each site's schedule file (its
    plan: power, state of charge, price), in place of a figure per site."""
    links = ", ".join(
        f"<a href='sites/{escape(n)}/schedule.csv'>{escape(n)}</a>" for n in schedules
    )
    return (
        f"<p class='note'>Compact page: {len(schedules)} sites, more than "
        f"{PAGE_FIGURE_MAX_SITES}; no figure per site. Each site's plan is in its schedule "
        f"file; its target day's figures are in the table above.</p><p>{links}</p>"
    )
