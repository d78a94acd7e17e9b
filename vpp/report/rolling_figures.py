"""The figure of a rolling run: forecasts against actuals in a representative week.

A rolling run re-optimizes each day on forecasts and is then settled against the
actual load and PV. :func:`rolling_week_figure` shows, for the week of
:func:`vpp.report.figures.representative_week`, what the plans saw and what happened:
the load, the PV and the grid import, each planned (dashed) against settled (solid),
with the import limit and the steps where settlement exceeded it.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vpp.assets.columns import role_columns
from vpp.assets.grid.limits import limit_on_index
from vpp.report.figure_style import figure_style, png_bytes, thousands_ticks
from vpp.report.figures import COLORS, representative_week
from vpp.sim.run import RunResult

#: File name of the figure among the report's figures.
ROLLING_FIGURE = "rolling_week.png"
#: Colour of forecasts and plans (dashed lines).
FORECAST_COLOR = "#6a4c93"
#: Colour of the limit line and of violations.
VIOLATION_COLOR = COLORS["baseline"]
#: Violations at or below this count as none [kW].
VIOLATION_TOL_KW = 1e-6


def _sum(s: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The sum of ``columns`` of ``s`` that exist [kW] (zero when none does)."""
    present = [c for c in columns if c in s]
    return s[present].sum(axis=1) if present else pd.Series(0.0, index=s.index)


def _errors_note(actual: pd.Series, forecast: pd.Series) -> str:
    """Mean absolute error and bias of ``forecast`` in the week, as a short label."""
    error = forecast.to_numpy(dtype=float) - actual.to_numpy(dtype=float)
    if error.size == 0:
        return ""
    return f"this week: MAE {np.mean(np.abs(error)):,.0f} kW, bias {np.mean(error):+,.0f} kW"


def _actual_vs_forecast(
    ax: Any,
    t: pd.DatetimeIndex,
    actual: pd.Series,
    forecast: pd.Series,
    *,
    color: str,
    what: str,
    fill: bool,
) -> None:
    """One panel: ``actual`` (solid) and ``forecast`` (dashed), the gap shaded [kW]."""
    if fill:
        ax.fill_between(t, 0, actual, step="post", color=color, alpha=0.35, linewidth=0)
    ax.fill_between(
        t,
        actual,
        forecast,
        step="post",
        color=FORECAST_COLOR,
        alpha=0.15,
        linewidth=0,
        label="forecast error",
    )
    actual_color = color if fill else COLORS["load"]
    ax.step(t, actual, where="post", color=actual_color, lw=1.4, label=f"{what}, actual")
    ax.step(
        t, forecast, where="post", color=FORECAST_COLOR, lw=1.2, ls="--", label=f"{what}, forecast"
    )
    ax.annotate(
        _errors_note(actual, forecast),
        xy=(1.0, 1.02),
        xycoords="axes fraction",
        ha="right",
        fontsize=9,
    )
    ax.set_ylabel(f"{what}\n[kW]")
    thousands_ticks(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))


def rolling_week_figure(result: RunResult) -> bytes:
    """A representative week of a rolling run as PNG bytes.

    Panels, sharing the time axis: the site load, actual against the forecast the
    applied plan used [kW]; the PV available (sum over the arrays), actual against
    forecast [kW] (left out without PV); the grid import the plans expected against the
    settled import [kW], with the import limit and the steps above it marked.

    Parameters
    ----------
    result : RunResult
        A rolling run: its schedule has ``load_forecast_kw``,
        ``<array>_forecast_kw``, ``grid_import_plan_kw`` and
        ``grid_import_violation_kw`` besides the settled columns.

    Returns
    -------
    bytes
        The PNG file.
    """
    site = result.scenario.site
    start, end = representative_week(result)
    s = result.schedule.loc[(result.schedule.index >= start) & (result.schedule.index < end)]
    t = s.index.tz_localize(None)
    available = [c for _, _, c in role_columns(site, "pv_available")]
    forecast = [c for _, _, c in role_columns(site, "pv_forecast")]
    panels = ["demand", *(["solar"] if available else []), "import"]
    heights = {"demand": 1.4, "solar": 1.1, "import": 1.6}
    limit_kw = (
        None
        if site.grid.import_limit_kw is None
        else limit_on_index(site.grid, "import_limit_kw", s.index, result.horizon.step_h)
    )
    with figure_style():
        fig, axes = plt.subplots(
            len(panels),
            1,
            figsize=(12, 2.4 * len(panels) + 0.8),
            sharex=True,
            gridspec_kw={"height_ratios": [heights[p] for p in panels]},
        )
        axes = dict(zip(panels, np.atleast_1d(axes)))
        _actual_vs_forecast(
            axes["demand"],
            t,
            s["load_kw"],
            s["load_forecast_kw"],
            color=COLORS["load"],
            what="site load",
            fill=False,
        )
        axes["demand"].set_title(
            f"{result.scenario.name}: operation on forecasts, the week of the baseline's "
            f"largest import ({start:%Y-%m-%d} to {end - pd.Timedelta(seconds=1):%Y-%m-%d})",
            pad=18,
        )
        if "solar" in axes:
            _actual_vs_forecast(
                axes["solar"],
                t,
                _sum(s, available),
                _sum(s, forecast),
                color=COLORS["pv"],
                what="PV available",
                fill=True,
            )
            axes["solar"].set_ylim(bottom=0)

        ax = axes["import"]
        settled = s["grid_import_kw"]
        ax.fill_between(t, 0, settled, step="post", color=COLORS["grid"], alpha=0.35, linewidth=0)
        ax.step(t, settled, where="post", color=COLORS["grid"], lw=1.6, label="settled (actual)")
        if "grid_import_plan_kw" in s:
            ax.step(
                t,
                s["grid_import_plan_kw"],
                where="post",
                color=FORECAST_COLOR,
                lw=1.2,
                ls="--",
                label="planned",
            )
        if limit_kw is not None and len(limit_kw) and (limit_kw == limit_kw[0]).all():
            ax.axhline(
                limit_kw[0],
                color=VIOLATION_COLOR,
                lw=1.0,
                ls=":",
                label=f"limit {limit_kw[0]:,.0f} kW",
            )
        elif limit_kw is not None:  # a series: the limit of each step
            ax.step(t, limit_kw, where="post", color=VIOLATION_COLOR, lw=1.0, ls=":", label="limit")
        over = s.get("grid_import_violation_kw", pd.Series(0.0, index=s.index)).fillna(0.0)
        hit = over.to_numpy(dtype=float) > VIOLATION_TOL_KW
        if hit.any() and limit_kw is not None:
            ax.fill_between(
                t,
                limit_kw,
                np.maximum(settled.to_numpy(dtype=float), limit_kw),
                where=hit,
                step="post",
                color=VIOLATION_COLOR,
                alpha=0.6,
                linewidth=0,
            )
        if hit.any():
            ax.scatter(
                t[hit],
                settled.to_numpy(dtype=float)[hit],
                marker="v",
                s=36,
                color=VIOLATION_COLOR,
                zorder=4,
                label="above the limit",
            )
        export = s.get("grid_export_violation_kw", pd.Series(0.0, index=s.index)).fillna(0.0)
        n_export = int((export.to_numpy(dtype=float) > VIOLATION_TOL_KW).sum())
        note = (
            f"this week: import limit exceeded in {int(hit.sum())} step(s), "
            f"by up to {over.max():,.0f} kW"
            if hit.any()
            else "this week: no step above the import limit"
        )
        if n_export:
            note += (
                f"; export limit exceeded in {n_export} step(s), by up to {export.max():,.0f} kW"
            )
        ax.annotate(
            note,
            xy=(1.0, 1.02),
            xycoords="axes fraction",
            ha="right",
            fontsize=9,
            color=VIOLATION_COLOR if hit.any() or n_export else "#333333",
        )
        ax.set_ylim(bottom=0)
        ax.set_ylabel("grid import\n[kW]")
        thousands_ticks(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.xaxis.set_major_locator(mdates.DayLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %m-%d"))
        if len(t):
            ax.set_xlim(t[0], t[-1] + pd.Timedelta(hours=result.horizon.step_h))
        fig.tight_layout()
        return png_bytes(fig)
