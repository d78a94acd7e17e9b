"""Figures of a sizing study: the investment's cash flows and the cost-carbon frontier."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vpp.report.figure_style import figure_style, png_bytes, thousands_ticks
from vpp.report.html_parts import currency

_NET = "#2b6cb0"
_NEG = "#c05621"
_CUM = "#1a202c"


def cash_flow_figure(cash: pd.DataFrame, summary: dict[str, Any]) -> bytes:
    """Net cash flow per year [the study's currency] as bars, cumulative discounted net as
    a line."""
    fin = summary["finance"]
    cur = currency(summary)
    with figure_style():
        fig, ax = plt.subplots(figsize=(9, 4.2), constrained_layout=True)
        years = cash["year"].to_numpy()
        net = cash["net_cny"].to_numpy() / 1e6
        ax.bar(years, net, color=np.where(net >= 0, _NET, _NEG), width=0.7, label="net cash flow")
        ax.plot(
            years,
            cash["cumulative_discounted_net_cny"].to_numpy() / 1e6,
            color=_CUM,
            marker="o",
            ms=3,
            lw=1.6,
            label="cumulative, discounted",
        )
        ax.axhline(0.0, color="#718096", lw=0.8)
        ax.set_xlabel("year")
        ax.set_ylabel(f"million {cur}")
        irr = fin.get("irr_fraction")
        pay = fin.get("discounted_payback_years")
        ax.set_title(
            f"Investment cash flows: NPV {fin['npv_cny'] / 1e6:,.2f} M {cur}, IRR "
            + (f"{100 * irr:.1f} %" if irr is not None else "none")
            + ", discounted payback "
            + (f"{pay:.1f} years" if pay is not None else "not reached")
        )
        ax.legend(loc="upper left")
        thousands_ticks(ax)
        return png_bytes(fig)


def frontier_figure(frontier: pd.DataFrame, cur: str = "CNY") -> bytes:
    """Annual cost [``cur``, the study's currency] against location-based electricity
    emissions [t], with sizes."""
    # the points solved (optimal, or a MIP's best point at its limit) have emissions
    solved = frontier.get("emissions_t_per_year", pd.Series(float("nan"), frontier.index))
    ok = frontier[solved.notna()].sort_values("emissions_t_per_year")
    with figure_style():
        fig, ax = plt.subplots(figsize=(8, 4.6), constrained_layout=True)
        x = ok["emissions_t_per_year"].to_numpy()
        y = ok["cost_cny_per_year"].to_numpy() / 1e6
        ax.plot(x, y, color=_NET, marker="o", lw=1.8)
        size_cols = [c for c in ok.columns if c.endswith(("_capacity_kw", "_energy_kwh"))]
        for _, row in ok.iterrows():
            label = "\n".join(
                f"{c.rsplit('_', 2)[0]} {row[c]:,.0f} {'kWp' if c.endswith('_kw') else 'kWh'}"
                for c in size_cols
            )
            ax.annotate(
                label,
                (row["emissions_t_per_year"], row["cost_cny_per_year"] / 1e6),
                textcoords="offset points",
                xytext=(6, 6),
                fontsize=7,
                color="#4a5568",
            )
        ax.set_xlabel("location-based electricity emissions [t CO2 per year]")
        ax.set_ylabel(f"annualized cost [million {cur} per year]")
        ax.set_title("Cost-carbon frontier: least cost under each emission cap")
        ax.invert_xaxis()
        return png_bytes(fig)


def battery_fade_figure(summary: dict[str, Any]) -> bytes | None:
    """Capacity of each ageing battery by year [% of nameplate], with its end-of-life line
    and its replacements; None when no battery ages (``finance.battery_fade``)."""
    fade = summary["finance"].get("battery_fade")
    if not fade:
        return None
    colours = [_NET, _NEG, "#2f855a", "#6b46c1"]
    with figure_style():
        fig, ax = plt.subplots(figsize=(9, 3.8), constrained_layout=True)
        for k, (name, f) in enumerate(fade.items()):
            colour = colours[k % len(colours)]
            x, y = [0.0], [1.0]  # year 0: nameplate
            for year, end in enumerate(f["capacity_fraction_end_of_year"], start=1):
                x.append(float(year))
                y.append(end)
                if year in f["renewed_years"]:  # new cells from the end of this year
                    x.append(float(year))
                    y.append(1.0)
            ax.plot(x, 100 * np.array(y), color=colour, lw=1.8, label=f"{name} capacity")
            ax.axhline(
                100 * f["end_of_life_fraction"],
                color=colour,
                ls="--",
                lw=1.0,
                label=f"{name} end of life",
            )
            for year in f["replacement_years"]:
                ax.axvline(year, color=colour, ls=":", lw=1.0)
        ax.set_xlabel("years since the investment")
        ax.set_ylabel("capacity [% of nameplate]")
        ax.set_title("Battery capacity by year (dotted: cells replaced)")
        ax.legend(loc="lower left")
        return png_bytes(fig)
