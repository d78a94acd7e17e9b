"""The HTML report's figures, each rendered once to PNG bytes.

Monthly peak import before and after, load-duration curves, the monthly bill
breakdown, emissions by carrier and a reduction waterfall. The week's dispatch is
:func:`vpp.report.figures.dispatch_figure`. Colours follow
:data:`vpp.report.figures.COLORS`: red is the baseline, grey-blue the optimized
grid import, black the load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from vpp.report.figure_style import figure_style, png_bytes, thousands_ticks
from vpp.report.figures import COLORS
from vpp.report.html_parts import currency, percent
from vpp.report.rolling_figures import ROLLING_FIGURE, rolling_week_figure
from vpp.runs.bill import extra_bill_rows
from vpp.sim.run import RunResult

#: Share of the hours shown in the zoomed load-duration panel [-].
ZOOM_FRACTION = 0.05

#: Bill parts in stacking order: (summary key, label, colour, sign in the bill).
BILL_PARTS: tuple[tuple[str, str, str, float], ...] = (
    ("energy_cost_cny", "energy (TOU)", COLORS["grid"], 1.0),
    ("demand_charge_cny", "basic charge", "#6a4c93", 1.0),
    ("green_contracts_cny", "green contracts (net)", COLORS["export"], 1.0),
    ("certificates_cny", "green certificates", "#90be6d", 1.0),
    ("carbon_cny", "carbon price", "#495057", 1.0),
    ("battery_cost_cny", "battery wear", COLORS["battery"], 1.0),
    ("curtailment_cost_cny", "load shedding", COLORS["flex"], 1.0),
    ("export_revenue_cny", "export credit", "#a8dadc", -1.0),
)

#: Carriers in stacking order: (by_carrier_t suffix, label, colour).
CARRIERS: tuple[tuple[str, str, str], ...] = (
    ("electricity", "electricity", COLORS["grid"]),
    ("natural_gas", "natural gas", COLORS["flex"]),
    ("diesel", "diesel", "#6d597a"),
    ("heat", "purchased heat", COLORS["pv"]),
)


def peak_import_figure(summary: dict[str, Any]) -> bytes:
    """Monthly peak grid import [kW], baseline against optimized, with the shaving."""
    optimized = summary["peak_import_kw"]
    baseline = summary["baseline"]["peak_import_kw"]
    months = sorted(optimized)
    x = np.arange(len(months))
    before = np.array([baseline.get(m, np.nan) for m in months], dtype=float)
    after = np.array([optimized[m] for m in months], dtype=float)
    with figure_style():
        fig, ax = plt.subplots(figsize=(max(7.5, 0.8 * len(months) + 3.0), 4.2))
        width = 0.38
        ax.bar(
            x - width / 2,
            before,
            width,
            color=COLORS["baseline"],
            alpha=0.8,
            label="baseline (no battery, no flexibility)",
        )
        ax.bar(x + width / 2, after, width, color=COLORS["grid"], label="optimized")
        top = np.nanmax(np.concatenate([before, after])) if months else 1.0
        for xi, b, a in zip(x, before, after):
            if np.isfinite(b):
                ax.annotate(
                    f"-{b - a:,.0f}",
                    (xi, max(a, b) + 0.01 * top),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color="#333333",
                )
        ax.set_xticks(x, [m[2:] if len(months) > 6 else m for m in months])
        ax.set_ylim(0, 1.12 * max(top, 1e-9))  # a site without import: a flat axis, not an error
        pad = 0.5 * max(0, 3 - len(months))
        ax.set_xlim(-0.5 - pad, len(months) - 0.5 + pad)
        ax.set_ylabel("peak grid import [kW]")
        ax.set_title("Monthly peak grid import (labels: shaving [kW])")
        thousands_ticks(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(axis="x", visible=False)
        fig.tight_layout()
        return png_bytes(fig)


def load_duration_figure(result: RunResult) -> bytes:
    """Load-duration curves of the load, the baseline's and the optimized grid import.

    Left: the whole horizon; right: the top :data:`ZOOM_FRACTION` of the hours, where
    peak shaving shows.
    """
    step_h = result.horizon.step_h
    curves = (
        (result.schedule["load_kw"], "site load (fixed)", COLORS["load"], 1.0, "-"),
        (result.baseline["grid_import_kw"], "grid import, baseline", COLORS["baseline"], 1.2, "-"),
        (result.schedule["grid_import_kw"], "grid import, optimized", COLORS["grid"], 2.0, "-"),
    )
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [2, 1]})
        n = len(result.schedule)
        hours = np.arange(1, n + 1) * step_h
        zoom = max(2, int(np.ceil(ZOOM_FRACTION * n)))
        for values, label, color, lw, ls in curves:
            ordered = np.sort(values.to_numpy(dtype=float))[::-1]
            axes[0].plot(hours, ordered, color=color, lw=lw, ls=ls, label=label)
            axes[1].plot(
                hours[:zoom],
                ordered[:zoom],
                color=color,
                lw=lw,
                ls=ls,
                marker="." if zoom <= 40 else None,
            )
        axes[0].set_title("Load-duration curves: hours at or above each power")
        axes[0].set_xlabel("hours [h]")
        axes[0].set_ylabel("power [kW]")
        axes[0].set_xlim(0, hours[-1])
        axes[0].legend(loc="upper right")
        axes[1].set_title(f"the highest {zoom * step_h:g} h")
        axes[1].set_xlabel("hours [h]")
        for ax in axes:
            thousands_ticks(ax)
        fig.tight_layout()
        return png_bytes(fig)


def _stack(
    ax: Any,
    x: np.ndarray,
    rows: list[dict[str, Any]],
    width: float,
    alpha: float,
    parts: Sequence[tuple[str, str, str, float]],
) -> np.ndarray:
    """Stack the bill parts of ``rows`` at ``x``: costs up from zero, credits down.

    All segments go to one ``bar`` call (one call per part is several times slower).
    """
    up = np.zeros(len(rows))
    down = np.zeros(len(rows))
    xs: list[np.ndarray] = []
    heights: list[np.ndarray] = []
    bottoms: list[np.ndarray] = []
    colors: list[str] = []
    for key, _label, color, sign in parts:
        values = sign * np.array([float(r.get(key, 0.0) or 0.0) for r in rows])
        pos, neg = np.clip(values, 0, None), np.clip(values, None, 0)
        for part, base in ((pos, up), (neg, down)):
            keep = part != 0
            xs.append(x[keep])
            heights.append(part[keep])
            bottoms.append(base[keep])
            colors += [color] * int(keep.sum())
        up = up + pos
        down = down + neg
    if colors:
        ax.bar(
            np.concatenate(xs),
            np.concatenate(heights),
            width,
            bottom=np.concatenate(bottoms),
            color=colors,
            alpha=alpha,
            linewidth=0,
        )
    totals = np.array([float(r.get("total_cost_cny", np.nan)) for r in rows])
    ax.scatter(x, totals, marker="_", s=260, color="black", zorder=3, linewidths=2)
    return totals


#: Colours of the bill parts beyond :data:`BILL_PARTS` (demand charges, fuel, ...), in turn.
EXTRA_PART_COLORS = ("#b5838d", "#e5989b", "#6d6875", "#ffb4a2", "#9d8189")


def _bill_parts(result: RunResult) -> tuple[tuple[str, str, str, float], ...]:
    """:data:`BILL_PARTS` and every other money column the site's units bill
    (:func:`vpp.runs.bill.extra_bill_rows`), each with a colour, so the bars add up to
    the total."""
    shown = [key for key, *_ in BILL_PARTS]
    extra = extra_bill_rows(result.scenario.site, shown, result.summary)
    colored = [
        (key, label, EXTRA_PART_COLORS[i % len(EXTRA_PART_COLORS)], sign)
        for i, (label, key, sign) in enumerate(extra)
    ]
    return (*BILL_PARTS[:-1], *colored, BILL_PARTS[-1])


def bill_figure(
    summary: dict[str, Any], parts: Sequence[tuple[str, str, str, float]] = BILL_PARTS
) -> bytes:
    """Monthly bill [the run's currency] by part, baseline (pale) beside optimized; a black
    bar is the total. ``parts``: (summary key, label, colour, sign in the bill) in
    stacking order."""
    optimized = {r["month"]: r for r in summary.get("bill_monthly") or []}
    baseline = {r["month"]: r for r in summary["baseline"].get("bill_monthly") or []}
    months = sorted(optimized)
    x = np.arange(len(months))
    width = 0.38
    with figure_style():
        fig, ax = plt.subplots(figsize=(max(7.0, 0.9 * len(months) + 4.0), 4.6))
        _stack(ax, x - width / 2, [baseline.get(m, {}) for m in months], width, 0.45, parts)
        _stack(ax, x + width / 2, [optimized[m] for m in months], width, 1.0, parts)
        present = [
            Patch(color=color, label=label)
            for key, label, color, _sign in parts
            if any(
                abs(float(r.get(key, 0.0) or 0.0)) > 0
                for r in (*optimized.values(), *baseline.values())
            )
        ]
        present += [
            Patch(facecolor=COLORS["grid"], alpha=0.45, label="left, pale: baseline"),
            Patch(facecolor=COLORS["grid"], label="right, solid: optimized"),
            plt.Line2D([], [], color="black", lw=2, label="total"),
        ]
        ax.axhline(0, color="#333333", lw=0.8)
        pad = 0.5 * max(0, 3 - len(months))
        ax.set_xlim(-0.5 - pad, len(months) - 0.5 + pad)
        ax.set_xticks(x, [m[2:] if len(months) > 6 else m for m in months])
        ax.set_ylabel(f"bill [{currency(summary)} per month]")
        ax.set_title("Monthly bill by part: baseline (pale, left) and optimized (solid, right)")
        thousands_ticks(ax)
        ax.grid(axis="x", visible=False)
        ax.legend(handles=present, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        return png_bytes(fig)


def _carrier_values(account: dict[str, Any], accounting: str) -> list[float]:
    by = account["by_carrier_t"]
    return [
        float(by.get(f"electricity_{accounting}" if key == "electricity" else key, 0.0))
        for key, _label, _color in CARRIERS
    ]


def emissions_by_carrier_figure(carbon: dict[str, Any]) -> bytes:
    """Emissions [t CO2] by carrier: baseline and optimized, location- and market-based."""
    bars = [
        ("baseline\nlocation-based", carbon["baseline"], "location_based"),
        ("optimized\nlocation-based", carbon, "location_based"),
        ("baseline\nmarket-based", carbon["baseline"], "market_based"),
        ("optimized\nmarket-based", carbon, "market_based"),
    ]
    x = np.array([0.0, 1.0, 2.6, 3.6])
    values = np.array([_carrier_values(acc, basis) for _l, acc, basis in bars])
    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 4.4))
        bottom = np.zeros(len(bars))
        for j, (_key, label, color) in enumerate(CARRIERS):
            ax.bar(
                x,
                values[:, j],
                0.7,
                bottom=bottom,
                color=color,
                label=label,
                edgecolor="white",
                linewidth=0.5,
            )
            bottom = bottom + values[:, j]
        _label_tonnes(ax, zip(x, bottom))
        ax.set_xticks(x, [label for label, _a, _b in bars])
        ax.set_ylim(0, 1.12 * max(float(bottom.max()), 1e-9))
        ax.set_ylabel("emissions [t CO$_2$]")
        ax.set_title("Emissions by carrier")
        thousands_ticks(ax)
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        return png_bytes(fig)


def waterfall_steps(carbon: dict[str, Any]) -> list[tuple[str, float]]:
    """The market-based reduction from baseline to optimized, step by step [t CO2].

    Green-contract energy and certificates are valued at the baseline's average
    market-based factor of grey import; the electricity step left over is the change
    from importing a different amount, at other hours. Fuel carriers appear where they
    changed. The steps sum to the optimized total minus the baseline total.
    """
    base, opt = carbon["baseline"], carbon
    base_kwh = (
        float(base["activity"]["grid_import_kwh"])
        - float(base["activity"].get("green_contract_kwh", 0.0))
        - float(base["activity"].get("certificates_counted_kwh", 0.0))
    )
    base_elec = float(base["by_carrier_t"].get("electricity_market_based", 0.0))
    factor_t_per_kwh = base_elec / base_kwh if base_kwh > 0 else 0.0
    green = -factor_t_per_kwh * float(opt["activity"].get("green_contract_kwh", 0.0))
    certificates = -factor_t_per_kwh * float(opt["activity"].get("certificates_counted_kwh", 0.0))
    elec = float(opt["by_carrier_t"].get("electricity_market_based", 0.0)) - base_elec
    steps = [("grid import\nchange", elec - green - certificates)]
    if green:
        steps.append(("green\ncontracts", green))
    if certificates:
        steps.append(("green\ncertificates", certificates))
    for key, label, _color in CARRIERS[1:]:
        change = float(opt["by_carrier_t"].get(key, 0.0)) - float(
            base["by_carrier_t"].get(key, 0.0)
        )
        if abs(change) > 1e-9:
            steps.append((label.replace(" ", "\n", 1), change))
    return steps


def emissions_waterfall_figure(carbon: dict[str, Any]) -> bytes:
    """Waterfall of the market-based emissions [t CO2] from the baseline to the optimum."""
    start = float(carbon["baseline"]["market_based_t"])
    end = float(carbon["market_based_t"])
    steps = waterfall_steps(carbon)
    labels = ["baseline", *(s[0] for s in steps), "optimized"]
    x = np.arange(len(labels))
    with figure_style():
        fig, ax = plt.subplots(figsize=(7.5, 4.4))
        ax.bar(x[0], start, 0.6, color=COLORS["baseline"], alpha=0.85)
        level = start
        for i, (_label, change) in enumerate(steps, start=1):
            color = COLORS["export"] if change <= 0 else COLORS["flex"]
            ax.bar(x[i], change, 0.6, bottom=level, color=color)
            ax.annotate(
                f"{change:+,.0f} t" if abs(change) >= 0.5 else "0 t",
                (x[i], max(level, level + change)),
                ha="center",
                va="bottom",
                fontsize=9,
                xytext=(0, 2),
                textcoords="offset points",
            )
            ax.plot([x[i - 1] - 0.3, x[i] + 0.3], [level, level], color="#555555", lw=0.7, ls=":")
            level += change
        ax.plot([x[-2] - 0.3, x[-1] + 0.3], [level, level], color="#555555", lw=0.7, ls=":")
        ax.bar(x[-1], end, 0.6, color=COLORS["grid"])
        _label_tonnes(ax, ((x[0], start), (x[-1], end)))
        cut = carbon["reduction_vs_baseline"]
        ax.set_title(
            f"Market-based reduction: {cut['market_based_t']:,.0f} t "
            f"({percent(cut['market_based_fraction'])})"
        )
        ax.set_xticks(x, labels)
        ax.set_ylim(0, 1.12 * max(start, end, 1e-9))
        ax.set_ylabel("emissions [t CO$_2$]")
        thousands_ticks(ax)
        ax.grid(axis="x", visible=False)
        fig.tight_layout()
        return png_bytes(fig)


def report_figures(result: RunResult) -> dict[str, bytes]:
    """All report figures but the dispatch week, by file name (``figures/<name>.png``).

    A rolling run (``summary["mode"] == "rolling"``) adds
    :data:`vpp.report.rolling_figures.ROLLING_FIGURE`, forecasts against actuals.
    """
    summary = result.summary
    figures = {
        "peak_import.png": peak_import_figure(summary),
        "load_duration.png": load_duration_figure(result),
        "bill_monthly.png": bill_figure(summary, _bill_parts(result)),
    }
    carbon = summary.get("carbon")
    if carbon and "by_carrier_t" in carbon and "baseline" in carbon:
        figures["emissions_by_carrier.png"] = emissions_by_carrier_figure(carbon)
        figures["emissions_waterfall.png"] = emissions_waterfall_figure(carbon)
    if summary.get("mode", "perfect") == "rolling":
        figures[ROLLING_FIGURE] = rolling_week_figure(result)
    return figures


def _label_tonnes(ax: plt.Axes, points: Iterable[tuple[float, float]]) -> None:
    """Write ``<value> t`` just above each ``(x, value)`` bar top."""
    for xi, total in points:
        ax.annotate(
            f"{total:,.0f} t",
            (xi, total),
            ha="center",
            va="bottom",
            fontsize=9,
            xytext=(0, 2),
            textcoords="offset points",
        )
