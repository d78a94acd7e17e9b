"""The dispatch figure: one representative week of supply, demand, price and storage."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vpp.assets.columns import role_columns
from vpp.report.html_parts import currency
from vpp.sim.run import RunResult

COLORS = {
    "pv": "#f2b701",
    "battery": "#3a86ff",
    "generator": "#8c5e3c",
    "grid": "#8d99ae",
    "load": "#222222",
    "flex": "#e76f51",
    "charge": "#90caf9",
    "export": "#2a9d8f",
    "baseline": "#d62828",
}


def representative_week(result: RunResult) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Seven days around the baseline's largest import, kept inside the horizon."""
    index = result.baseline.index
    horizon_end = index[-1] + pd.Timedelta(hours=result.horizon.step_h)
    peak_time = pd.Timestamp(result.baseline["grid_import_kw"].idxmax())
    start = max(peak_time.normalize() - pd.Timedelta(days=3), index[0])
    end = min(start + pd.Timedelta(days=7), horizon_end)
    return max(index[0], end - pd.Timedelta(days=7)), end


def dispatch_figure(result: RunResult, path: str | Path) -> Path:
    """Draw one representative week and save it as PNG.

    Top: supply stacked (PV used on site, battery discharge, on-site generators,
    grid import) against
    the site's demand (fixed load, flexible loads, battery charging) and the
    baseline import. Middle: energy price. Bottom: state of charge of each battery.
    """
    site = result.scenario.site
    start, end = representative_week(result)
    s = result.schedule.loc[(result.schedule.index >= start) & (result.schedule.index < end)]
    base = result.baseline.loc[s.index]
    t = s.index.tz_localize(None)
    edges = t.append(pd.DatetimeIndex([t[-1] + pd.Timedelta(hours=result.horizon.step_h)]))

    zero = pd.Series(0.0, index=s.index)
    pv = sum((s[c] for _, _, c in role_columns(site, "pv_output")), zero)
    pv_local = pv - s["grid_export_kw"]
    stores = role_columns(site, "storage_soc")
    dis = sum((s[c] for _, _, c in role_columns(site, "storage_discharge")), zero)
    chg = sum((s[c] for _, _, c in role_columns(site, "storage_charge")), zero)
    gen = sum((s[c] for _, _, c in role_columns(site, "generation")), zero)
    flex = zero
    for unit, entry, column in role_columns(site, "flexible_demand"):
        flex = flex + s[column]
        shed = unit.role_column(entry, "shed")
        if shed is not None:
            flex = flex - s[shed]

    n_rows = 4 if stores else 3
    heights = [3.0, 1.6, 0.9, 1.1][:n_rows]
    fig, axes = plt.subplots(
        n_rows, 1, figsize=(12, 9), sharex=True, gridspec_kw={"height_ratios": heights}
    )
    ax = axes[0]
    layers = [
        (pv_local.clip(lower=0).to_numpy(), "PV used on site", COLORS["pv"]),
        (dis.to_numpy(), "battery discharge", COLORS["battery"]),
        (gen.to_numpy(), "on-site generators", COLORS["generator"]),
        (s["grid_import_kw"].to_numpy(), "grid import", COLORS["grid"]),
    ]
    bottom = np.zeros(len(s))
    for values, label, color in layers:
        if not np.any(values > 0):
            continue
        ax.fill_between(
            edges[:-1],
            bottom,
            bottom + values,
            step="post",
            color=color,
            alpha=0.85,
            label=label,
            linewidth=0,
        )
        bottom = bottom + values
    demand = s["load_kw"] + flex
    ax.step(
        t, demand, where="post", color=COLORS["load"], lw=1.4, label="site load (fixed + flexible)"
    )
    if stores:
        ax.step(
            t,
            demand + chg,
            where="post",
            color=COLORS["load"],
            lw=0.8,
            ls="--",
            label="site load + battery charging",
        )
    if s["grid_export_kw"].gt(0).any():
        ax.fill_between(
            edges[:-1],
            0,
            -s["grid_export_kw"],
            step="post",
            color=COLORS["export"],
            alpha=0.7,
            label="export",
            linewidth=0,
        )
    ax.set_ylabel("power [kW]")
    ax.set_title(
        f"{result.scenario.name}: the week of the baseline's largest import "
        f"({start:%Y-%m-%d} to {end - pd.Timedelta(seconds=1):%Y-%m-%d})",
        loc="left",
        fontsize=11,
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)

    ax = axes[1]
    ax.step(
        t,
        base["grid_import_kw"],
        where="post",
        color=COLORS["baseline"],
        lw=1.0,
        alpha=0.8,
        label="without battery and flexibility",
    )
    ax.step(t, s["grid_import_kw"], where="post", color=COLORS["grid"], lw=1.5, label="optimized")
    month = pd.Timestamp(base["grid_import_kw"].idxmax()).strftime("%Y-%m")
    base_peak = result.summary["baseline"]["peak_import_kw"].get(month)
    opt_peak = result.summary["peak_import_kw"].get(month)
    if base_peak is not None and opt_peak is not None:
        ax.axhline(base_peak, color=COLORS["baseline"], lw=0.8, ls=":")
        ax.axhline(opt_peak, color=COLORS["grid"], lw=0.8, ls=":")
        ax.annotate(
            f"monthly peak {base_peak:,.0f} -> {opt_peak:,.0f} kW "
            f"(-{base_peak - opt_peak:,.0f} kW)",
            xy=(1.0, 1.02),
            xycoords="axes fraction",
            ha="right",
            fontsize=9,
        )
    ax.set_ylabel("grid import\n[kW]")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)

    ax = axes[2]
    ax.step(t, s["price_cny_per_kwh"], where="post", color="#6a4c93", lw=1.3, label="import")
    ax.step(
        t,
        s["export_price_cny_per_kwh"],
        where="post",
        color=COLORS["export"],
        lw=1.0,
        ls="--",
        label="export",
    )
    ax.set_ylabel(f"price\n[{currency(result.summary)}/kWh]")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)

    if stores:
        ax = axes[3]
        for _, b, column in stores:
            ax.step(t, 100.0 * s[column] / b.energy_kwh, where="post", lw=1.3, label=b.name)
        ax.set_ylim(0, 100)
        ax.set_ylabel("state of\ncharge [%]")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    axes[-1].xaxis.set_major_locator(mdates.DayLocator())
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%a %m-%d"))
    for a in axes:
        a.grid(alpha=0.3)
        for side in ("top", "right"):
            a.spines[side].set_visible(False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
