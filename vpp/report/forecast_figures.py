"""PV forecast outputs: the forecast's files and figure, the evaluation's table and figure.

Both writers fill a temporary folder beside the output folder and move it into place
only when every file is complete (as :mod:`vpp.report.files` does for runs): a failure
leaves the output folder as it was.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vpp.report.atomic import write_csv, write_folder_atomically
from vpp.solar.forecast import SITE_COLUMN, WeatherForecast
from vpp.solar.forecast_evaluation import Evaluation

__all__ = [
    "evaluation_figure",
    "pv_forecast_figure",
    "write_evaluation",
    "write_pv_forecast",
]

COLORS = {
    "measured": "#222222",
    "forecast": "#e76f51",
    "persistence": "#8d99ae",
    "csi_persistence": "#3a86ff",
    "site": "#222222",
}
ARRAY_COLORS = ("#f2b701", "#f4845f", "#90be6d", "#577590", "#9d4edd", "#43aa8b")
_MAX_DAYS_SHOWN = 7


def write_pv_forecast(
    frame: pd.DataFrame, forecast: WeatherForecast, out_dir: str | Path, *, title: str
) -> list[Path]:
    """Write ``pv_forecast.parquet``, ``pv_forecast.csv`` and ``pv_forecast.png``.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`vpp.solar.forecast.pv_forecast_kw` [kW, h].
    forecast : WeatherForecast
        The forecast it came from (issue time and file for the figure).
    out_dir : str or pathlib.Path
        The output folder; replaced as a whole.
    title : str
        The figure's title (the scenario's name).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    names = ("pv_forecast.parquet", "pv_forecast.csv", "pv_forecast.png")

    def fill(tmp: Path) -> None:
        frame.to_parquet(tmp / names[0])
        write_csv(frame, tmp / names[1])
        pv_forecast_figure(frame, forecast, tmp / names[2], title=title)

    return write_folder_atomically(Path(out_dir), names, fill, kind="pv-forecast")


def write_evaluation(evaluation: Evaluation, out_dir: str | Path, *, title: str) -> list[Path]:
    """Write ``evaluation.csv`` (the metrics table) and ``evaluation.png``.

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`vpp.solar.forecast_evaluation.evaluate_forecasts`.
    out_dir : str or pathlib.Path
        The output folder; replaced as a whole.
    title : str
        The figure's title (the scenario's name).
    """
    names = ("evaluation.csv", "evaluation.png")

    def fill(tmp: Path) -> None:
        evaluation.table.to_csv(tmp / names[0], index=False)
        evaluation_figure(evaluation, tmp / names[1], title=title)

    return write_folder_atomically(Path(out_dir), names, fill, kind="forecast-evaluation")


def _style(ax: plt.Axes) -> None:
    ax.grid(alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def pv_forecast_figure(
    frame: pd.DataFrame, forecast: WeatherForecast, path: str | Path, *, title: str
) -> Path:
    """The forecast: each array's AC power stacked, the site's total, daily energy.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`vpp.solar.forecast.pv_forecast_kw` [kW].
    forecast : WeatherForecast
        Its source, for the title.
    path : str or pathlib.Path
        The PNG file to write.
    title : str
        The scenario's name.
    """
    t = frame.index.tz_localize(None)
    step = t[1] - t[0] if len(t) > 1 else pd.Timedelta(hours=1)
    edges = t.append(pd.DatetimeIndex([t[-1] + step]))
    arrays = [c for c in frame.columns if c.endswith("_pv_kw") and c != SITE_COLUMN]
    fig, ax = plt.subplots(figsize=(11, 4.2))
    bottom = np.zeros(len(frame))
    step_h = step / pd.Timedelta(hours=1)
    for i, c in enumerate(arrays):
        values = frame[c].to_numpy()
        energy = values.sum() * step_h
        ax.fill_between(
            edges[:-1],
            bottom,
            bottom + values,
            step="post",
            linewidth=0,
            alpha=0.85,
            color=ARRAY_COLORS[i % len(ARRAY_COLORS)],
            label=f"{c.removesuffix('_pv_kw')} ({energy:,.0f} kWh)",
        )
        bottom = bottom + values
    site = frame[SITE_COLUMN].to_numpy()
    ax.step(
        t,
        site,
        where="post",
        color=COLORS["site"],
        lw=1.2,
        label=f"site ({site.sum() * step_h:,.0f} kWh)",
    )
    days = pd.date_range(t[0].normalize(), edges[-1], freq="D")
    for d in days[1:]:
        if d < edges[-1]:
            ax.axvline(d, color="#999999", lw=0.8, ls=":")
    for d in days:
        inside = (t >= d) & (t < d + pd.Timedelta(days=1))
        if inside.any():
            e = site[inside].sum() * step_h
            ax.annotate(
                f"{d:%a %m-%d}\n{e:,.0f} kWh",
                xy=(d + pd.Timedelta(hours=12), 1.0),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=8,
                color="#555555",
            )
    ax.set_ylim(0, max(1.0, float(site.max())) * 1.25)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel("AC power [kW]")
    ax.set_title(
        f"{title}: PV forecast from {forecast.path.name}, issued "
        f"{forecast.issued_at:%Y-%m-%d %H:%M %z}, step {_step_text(step)}",
        loc="left",
        fontsize=10,
    )
    ax.xaxis.set_major_locator(mdates.HourLocator(byhour=(0, 6, 12, 18)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    _style(ax)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _step_text(step: pd.Timedelta) -> str:
    minutes = int(step / pd.Timedelta(minutes=1))
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _latest(samples: pd.DataFrame) -> pd.DataFrame:
    """For each step, the sample of the most recent forecast (the smallest lead)."""
    s = samples.sort_values(["timestamp", "lead_h"])
    s = s.drop_duplicates("timestamp", keep="first").set_index("timestamp").sort_index()
    first = s.index[0]
    shown = s[s.index < first.normalize() + pd.Timedelta(days=_MAX_DAYS_SHOWN)]
    return shown


def evaluation_figure(evaluation: Evaluation, path: str | Path, *, title: str) -> Path:
    """Forecast errors by lead hour, and forecast against measured (the site's series).

    Top: measured power and, for each step, the most recent forecast and baselines
    (up to the first seven days). Bottom: RMSE and MAE by lead hour for the forecast
    and both baselines; skill against persistence by lead hour; forecast against
    measured, coloured by lead time.

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`vpp.solar.forecast_evaluation.evaluate_forecasts`.
    path : str or pathlib.Path
        The PNG file to write.
    title : str
        The scenario's name.
    """
    table, samples = evaluation.table, evaluation.samples
    series = SITE_COLUMN if SITE_COLUMN in set(table["series"]) else str(table["series"].iloc[0])
    rows = table[table["series"] == series]
    per_lead = rows[rows["lead_h"].notna()].sort_values("lead_h")
    overall = rows[rows["lead_h"].isna()].iloc[0]
    s = samples[samples["series"] == series]
    cap = evaluation.capacity_kw[series]

    fig = plt.figure(figsize=(14, 8.6))
    grid = fig.add_gridspec(2, 3, height_ratios=(1.0, 1.15), hspace=0.42, wspace=0.5)

    ax = fig.add_subplot(grid[0, :])
    latest = _latest(s)
    t = latest.index.tz_localize(None)
    full = pd.date_range(t[0], t[-1], freq=evaluation.step)
    gaps = latest.set_axis(t).reindex(full)  # NaN breaks the lines between periods
    ax.fill_between(
        full,
        0,
        gaps["measured_kw"],
        step="post",
        color="#f2b701",
        alpha=0.35,
        linewidth=0,
        label="measured",
    )
    ax.step(full, gaps["measured_kw"], where="post", color=COLORS["measured"], lw=1.0)
    for method, label, style in (
        ("forecast", "forecast (latest issue)", "-"),
        ("persistence", "persistence", ":"),
        ("csi_persistence", "clear-sky-index persistence", "--"),
    ):
        ax.step(
            full,
            gaps[f"{method}_kw"],
            where="post",
            color=COLORS[method],
            ls=style,
            lw=1.6 if method == "forecast" else 1.1,
            label=label,
        )
    ax.set_ylabel("AC power [kW]")
    ax.set_xlim(full[0], full[-1] + evaluation.step)
    ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %m-%d"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_title(
        f"{title}: {len(evaluation.files)} forecast file(s) against measured PV, "
        f"{series.removesuffix('_pv_kw')} ({cap:,.0f} kWp), step {_step_text(evaluation.step)}"
        + (
            ""
            if len(t) == len(s.drop_duplicates("timestamp"))
            else f" (first {_MAX_DAYS_SHOWN} days shown)"
        ),
        loc="left",
        fontsize=10,
    )
    _style(ax)

    lead = per_lead["lead_h"].astype(float).to_numpy()
    lead_lim = (lead.min() - 0.8, lead.max() + 0.8)
    ax = fig.add_subplot(grid[1, 0])
    ax.set_xlim(*lead_lim)
    ax.plot(
        lead,
        per_lead["rmse_kw"],
        color=COLORS["forecast"],
        marker="o",
        ms=3,
        lw=1.6,
        label="forecast RMSE",
    )
    ax.plot(
        lead, per_lead["mae_kw"], color=COLORS["forecast"], ls="--", lw=1.0, label="forecast MAE"
    )
    ax.plot(
        lead,
        per_lead["persistence_rmse_kw"],
        color=COLORS["persistence"],
        marker="s",
        ms=3,
        lw=1.2,
        label="persistence RMSE",
    )
    ax.plot(
        lead,
        per_lead["csi_persistence_rmse_kw"],
        color=COLORS["csi_persistence"],
        marker="^",
        ms=3,
        lw=1.2,
        label="csi persistence RMSE",
    )
    ax.set_xlabel("lead time [h]")
    ax.set_ylabel("error [kW]")
    right = ax.secondary_yaxis(
        "right", functions=(lambda x: 100 * x / cap, lambda p: p * cap / 100)
    )
    right.set_ylabel("error / DC capacity [%]", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    ax.set_title("error by lead hour", loc="left", fontsize=10)
    _clock_axis(ax, s)
    _style(ax)

    ax = fig.add_subplot(grid[1, 1])
    ax.set_xlim(*lead_lim)
    sk = per_lead["skill_fraction"].to_numpy(dtype=float)
    csk = per_lead["csi_persistence_skill_fraction"].to_numpy(dtype=float)
    defined = np.isfinite(sk)
    shown = np.clip(sk[defined], -1.0, 1.0)
    ax.bar(
        lead[defined],
        shown,
        width=0.8,
        color=np.where(shown >= 0, "#2a9d8f", "#d62828"),
        alpha=0.85,
        label="forecast",
    )
    ax.plot(
        lead[np.isfinite(csk)],
        np.clip(csk[np.isfinite(csk)], -1.0, 1.0),
        ls="none",
        marker="^",
        ms=4,
        color=COLORS["csi_persistence"],
        label="csi persistence",
    )
    ax.axhline(0.0, color="#444444", lw=0.8)
    ax.axhline(
        overall["skill_fraction"],
        color="#2a9d8f",
        lw=1.0,
        ls="--",
        label=f"forecast, all leads: {overall['skill_fraction']:+.2f}",
    )
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("lead time [h]")
    ax.set_ylabel("skill [-]")
    ax.legend(fontsize=7, frameon=False, loc="lower left")
    ax.set_title("skill = 1 - RMSE / RMSE(persistence)", loc="left", fontsize=10)
    _clock_axis(ax, s)
    _style(ax)

    ax = fig.add_subplot(grid[1, 2])
    day = s[(s["measured_kw"] > 0) | (s["forecast_kw"] > 0)]
    top = float(max(day["measured_kw"].max(), day["forecast_kw"].max(), 1.0)) * 1.05
    points = ax.scatter(
        day["measured_kw"],
        day["forecast_kw"],
        c=day["lead_h"],
        s=8,
        cmap="viridis",
        alpha=0.7,
        linewidths=0,
    )
    ax.plot([0, top], [0, top], color="#444444", lw=0.8)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel("measured [kW]")
    ax.set_ylabel("forecast [kW]")
    bar = fig.colorbar(points, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label("lead time [h]", fontsize=8)
    ax.annotate(
        f"RMSE {overall['rmse_kw']:,.0f} kW ({100 * overall['nrmse_fraction']:.1f}% of DC)\n"
        f"MAE {overall['mae_kw']:,.0f} kW, bias {overall['bias_kw']:+,.0f} kW\n"
        f"n = {int(overall['n'])} (night steps included)",
        xy=(0.03, 0.97),
        xycoords="axes fraction",
        va="top",
        fontsize=8,
    )
    ax.set_title("forecast against measured", loc="left", fontsize=10)
    _style(ax)

    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _clock_axis(ax: plt.Axes, samples: pd.DataFrame) -> None:
    """Label lead hours with the local clock on top when every issue has the same clock."""
    issued = pd.DatetimeIndex(samples["issued_at"].drop_duplicates())
    clocks = {(t.hour, t.minute) for t in issued}
    if len(clocks) != 1:
        return
    hour, minute = clocks.pop()
    lo, hi = ax.get_xlim()
    first = (24 - hour) % 24 - minute / 60  # lead of the next local midnight
    ticks = np.arange(first, hi + 1, 12.0)
    ticks = ticks[(ticks >= lo) & (ticks <= hi)]
    top = ax.secondary_xaxis("top")
    top.set_xticks(ticks)
    clock = hour + minute / 60
    top.set_xticklabels(
        [f"D+{int((clock + x) // 24)} {int(round(clock + x)) % 24:02d}:00" for x in ticks],
        fontsize=7,
    )
    top.tick_params(length=2)
