"""The figure of ``vpp compare``: a few KPIs of several runs as grouped bars."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

#: The baselines, in the order of the bars.
BASELINES = ("no-assets", "pv-only", "rule-based")
COLORS = {"no-assets": "#8d99ae", "pv-only": "#f2b701", "rule-based": "#3a86ff"}


def _bars(ax: plt.Axes, table: pd.DataFrame, columns: dict[str, str], scale: float) -> None:
    """Grouped bars: one group per run, one bar per entry of ``columns`` (label -> column)."""
    present = {label: c for label, c in columns.items() if c in table}
    x = np.arange(len(table))
    width = 0.8 / max(1, len(present))
    for i, (label, column) in enumerate(present.items()):
        values = table[column].to_numpy(dtype=float) * scale
        ax.bar(
            x + (i - (len(present) - 1) / 2) * width,
            np.nan_to_num(values),
            width,
            label=label,
            color=COLORS.get(label),
        )
    ax.set_xticks(x, [str(i) for i in table.index], rotation=20, ha="right", fontsize=8)
    ax.axhline(0.0, color="black", linewidth=0.6)
    if len(present) > 1:
        ax.legend(fontsize=7)


def plot_compare(table: pd.DataFrame, path: Path) -> None:
    """Four panels: savings [10^3 CNY], peak shaving [kW], emission cuts [t], energy shares [%].

    When a run is rolling (``mode``), two more: the cost of imperfect forecasts
    [10^3 CNY] and the limit violations after settlement [steps]; perfect runs show none.
    A table with ``_per_day`` columns (runs over different horizons) shows money and CO2
    per day of each run's horizon.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`vpp.report.compare.compare_table`.
    path : pathlib.Path
        The PNG file to write.
    """
    rolling = "mode" in table and bool((table["mode"] == "rolling").any())
    # runs over different horizons come with per-day columns: show those, not totals
    per_day = any(str(c).endswith("_per_day") for c in table.columns)
    total = "_per_day" if per_day else ""
    unit = " per day" if per_day else ""
    cur = str(table["currency"].iloc[0]) if "currency" in table and len(table) else "CNY"
    fig, axes = plt.subplots(2, 3 if rolling else 2, figsize=(16 if rolling else 11, 7.5))
    ax = axes[0, 0]
    _bars(ax, table, {b: f"savings_vs_{b}_cny{total}" for b in BASELINES}, 1e-3)
    ax.set_title(f"savings vs baseline [10³ {cur}{unit}]", fontsize=10)
    ax = axes[0, 1]
    _bars(ax, table, {b: f"peak_shaving_max_vs_{b}_kw" for b in BASELINES}, 1.0)
    ax.set_title("largest monthly peak shaving vs baseline [kW]", fontsize=10)
    ax = axes[1, 0]
    cut = {b: f"emission_reduction_vs_{b}_location_based_t{total}" for b in BASELINES}
    _bars(ax, table, cut, 1.0)
    ax.set_title(f"CO₂ reduction vs baseline, location-based [t{unit}]", fontsize=10)
    ax = axes[1, 1]
    shares = {
        "self-consumption": "self_consumption_fraction",
        "self-sufficiency": "self_sufficiency_fraction",
        "renewable share": "renewable_share_fraction",
        "PV curtailed": "pv_curtailed_fraction",
    }
    _bars(ax, table, shares, 100.0)
    ax.set_title("energy shares [%]", fontsize=10)
    if rolling:
        ax = axes[0, 2]
        _bars(ax, table, {"rolling": f"cost_of_imperfect_forecasts_cny{total}"}, 1e-3)
        ax.set_title(f"cost of imperfect forecasts [10³ {cur}{unit}]", fontsize=10)
        ax = axes[1, 2]
        _bars(ax, table, {"rolling": "limit_violations_steps"}, 1.0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("limit violations after settlement [steps]", fontsize=10)
    fig.suptitle("runs compared", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
