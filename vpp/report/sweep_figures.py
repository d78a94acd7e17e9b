"""The output folder of ``vpp sweep``: results table, definition and heat maps.

For the first two parameters with more than one value, each metric gets a heat map
(first parameter across, second down, every cell annotated); further varying
parameters become side-by-side panels on one colour scale. When only one parameter
varies, each metric gets a line chart (numbers) or a bar chart (names) instead.
Failed runs are grey cells marked "failed". A linked axis (key paths stepping
together) is drawn along its first key path, the others listed under the title.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vpp.report.atomic import write_folder_atomically
from vpp.report.jsonfile import write_json

__all__ = [
    "lead_distinct",
    "metric_columns",
    "metric_label",
    "plot_axes",
    "plot_sweep",
    "write_sweep",
]

#: Columns of the results table that are not metrics.
BOOKKEEPING = ("run", "solver_status", "status", "error", "seconds")
#: Name suffix -> (unit shown, factor applied), longest suffix first; ``CNY`` in a unit
#: stands for the sweep's currency (:data:`MONEY`).
UNITS = (
    ("_cny_per_kwh", "CNY/kWh", 1.0),
    ("_cny_per_mwh", "CNY/MWh", 1.0),
    ("_cny", "CNY", 1.0),
    ("_mwh", "MWh", 1.0),
    ("_kwh", "kWh", 1.0),
    ("_kw", "kW", 1.0),
    ("_kva", "kVA", 1.0),
    ("_fraction", "%", 100.0),
    ("_t", "t", 1.0),
    ("_kg", "kg", 1.0),
    ("_h", "h", 1.0),
    ("_s", "s", 1.0),
    ("_deg", "°", 1.0),
    ("_cycles", "cycles", 1.0),
)
#: At most this many panels per figure (combinations of the third and later parameters).
MAX_PANELS = 6
FAILED_COLOR = "#d9d9d9"
#: The word of :data:`UNITS` replaced by the sweep's currency (``_cny`` amounts are in the
#: scenario's ``currency:``; nothing is converted).
MONEY = "CNY"


def _unit(name: str, cur: str = MONEY) -> tuple[str, str, float]:
    """(words, unit, factor) from a dotted metric or parameter name; money in ``cur``."""
    parts = [p for p in re.split(r"\.", name) if p]
    for i in range(len(parts) - 1, -1, -1):
        for suffix, unit, factor in UNITS:
            if parts[i].endswith(suffix) and len(parts[i]) > len(suffix):
                words = parts[i][: -len(suffix)]
                if suffix == "_cycles":
                    words = parts[i]
                rest = [_words(p) for p in parts[i + 1 :]]
                text = " ".join([_words(words), *rest])
                return text, unit.replace(MONEY, cur), factor
    return " ".join(_words(p) for p in parts[-2:] if p not in ("kpis", "site")), "", 1.0


def _words(part: str) -> str:
    return part.replace("_", " ").replace("-", " ").strip()


def metric_label(metric: str, currency: str = MONEY) -> tuple[str, float]:
    """A readable label with its unit, and the factor to apply to the values.

    Money (``_cny`` names) is labelled in ``currency``, the sweep's scenario's
    ``currency:`` (nothing is converted).

    Examples
    --------
    ``kpis.self_sufficiency_fraction`` -> ("self sufficiency [%]", 100.0);
    ``total_cost_cny`` with ``currency="EUR"`` -> ("total cost [EUR]", 1.0)
    """
    words, unit, factor = _unit(metric, currency)
    if metric.startswith("carbon.") and unit == "t":
        words, unit = f"CO₂ {words}", "t"
    return (f"{words} [{unit}]" if unit else words), factor


def _parameter_label(key: str, cur: str = MONEY) -> str:
    """``site.batteries[0].energy_kwh`` -> ``batteries[0] energy [kWh]``.

    A key of several paths (``a.charge_power_kw, a.discharge_power_kw``) is labelled
    ``a charge power = discharge power [kW]``.
    """
    paths = [p.strip() for p in key.split(",")]
    label = _one_label(paths[0], cur)
    for other in paths[1:]:
        words, unit, _ = _unit(other.split(".")[-1], cur)
        head, bracket, tail = label.rpartition(" [")
        label = f"{head} = {words} [{tail}" if bracket else f"{label} = {words}"
    return label


def _one_label(path: str, cur: str = MONEY) -> str:
    parts = path.split(".")
    leaf = parts[-1]
    words, unit, _ = _unit(leaf, cur)
    parent = parts[-2] if len(parts) > 1 else ""
    parent = "" if parent in ("site",) else _words(parent)
    text = f"{parent} {words}".strip()
    return f"{text} [{unit}]" if unit else text


def metric_columns(table: pd.DataFrame, parameters: dict[str, list[Any]]) -> list[str]:
    """The numeric metric columns of a results table, in table order."""
    out = []
    for column in table.columns:
        if column in parameters or column in BOOKKEEPING:
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        if values.notna().any():
            out.append(column)
    return out


def _format(value: float) -> str:
    if not np.isfinite(value):
        return ""
    size = abs(value)
    if size >= 1e5:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _value_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def _scaled(metric: str, values: np.ndarray, cur: str = MONEY) -> tuple[np.ndarray, str]:
    """The values as drawn and their label: large money figures in 10³ of ``cur``."""
    label, factor = metric_label(metric, cur)
    values = values * factor
    finite = values[np.isfinite(values)]
    if label.endswith(f"[{cur}]") and finite.size and np.abs(finite).max() >= 1e4:
        return values / 1e3, label.replace(f"[{cur}]", f"[10³ {cur}]")
    return values, label


def plot_sweep(
    table: pd.DataFrame,
    parameters: dict[str, list[Any]],
    out_dir: Path,
    *,
    title: str = "",
    linked: dict[str, list[str]] | None = None,
    currency: str = MONEY,
) -> list[str]:
    """One PNG per metric: heat maps over the first two varying parameters, else charts.

    Parameters
    ----------
    table : pandas.DataFrame
        The results table (:class:`vpp.planning.sweep.SweepResult`).
    parameters : dict of str to list
        Key path -> the values swept, in order.
    out_dir : pathlib.Path
        Folder to write into.
    title : str
        Shown above every figure (the sweep's name).
    linked : dict of str to list of str, optional
        Linked axes: name -> key paths stepping together; each is drawn along its first
        key path, and the others are listed under the title.
    currency : str
        The currency of the money metrics and parameters (the scenario's ``currency:``).

    Returns
    -------
    list of str
        The file names written (none when no parameter varies).
    """
    linked = lead_distinct(parameters, linked)
    riders = {k: keys[0] for keys in (linked or {}).values() for k in keys[1:]}
    axes = plot_axes(parameters, linked)
    varying = [k for k, v in axes.items() if len(v) > 1]
    if not varying:
        return []
    fixed = "; ".join(
        f"{_parameter_label(k, currency)} = {_value_text(v[0])}"
        for k, v in axes.items()
        if len(v) == 1
    )
    fixed = "; ".join(t for t in (fixed, _linked_text(parameters, riders, currency)) if t)
    fixed = "\n".join(textwrap.wrap(fixed, 110))
    written = []
    for metric in metric_columns(table, parameters):
        name = "heatmap_" if len(varying) >= 2 else "chart_"
        name += re.sub(r"[^A-Za-z0-9_-]+", "_", metric).strip("_") + ".png"
        if len(varying) >= 2:
            fig = _heatmaps(table, axes, varying, metric, currency)
        else:
            fig = _chart(table, axes, varying[0], metric, currency)
        values = pd.to_numeric(table[metric], errors="coerce").to_numpy()
        label = _scaled(metric, values, currency)[1]
        heading = " — ".join(t for t in (label, title) if t)
        heading += f"\n{fixed}" if fixed else ""
        if heading:
            fig.suptitle(heading, fontsize=11)
        fig.savefig(out_dir / name, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(name)
    return written


def plot_axes(
    parameters: dict[str, list[Any]], linked: dict[str, list[str]] | None = None
) -> dict[str, list[Any]]:
    """The parameters the figures are drawn over: each linked axis by its first key path.

    Parameters
    ----------
    parameters : dict of str to list
        Key path -> the values swept, every key path of a linked axis included.
    linked : dict of str to list of str, optional
        Linked axis name -> its key paths.

    Returns
    -------
    dict of str to list
        ``parameters`` without the second and later key paths of each linked axis.
    """
    riders = {k for keys in (lead_distinct(parameters, linked) or {}).values() for k in keys[1:]}
    return {k: v for k, v in parameters.items() if k not in riders}


def lead_distinct(
    parameters: dict[str, list[Any]], linked: dict[str, list[str]] | None
) -> dict[str, list[str]] | None:
    """Each linked axis with, first, the first key path whose values are all different:
    a figure finds a combination's cell by that path's value, so a path that repeats a
    value (energies 4000, 4000, 4000 against powers 500, 1000, 4000) cannot lead. An axis
    none of whose paths is distinct keeps its order."""
    if not linked:
        return linked
    out = {}
    for name, keys in linked.items():
        distinct = [k for k in keys if len({_cell(v) for v in parameters[k]}) == len(parameters[k])]
        lead = distinct[0] if distinct else keys[0]
        out[name] = [lead, *(k for k in keys if k != lead)]
    return out


def _linked_text(parameters: dict[str, list[Any]], riders: dict[str, str], cur: str = MONEY) -> str:
    """``charge power = discharge power [kW] 500, 1000 with energy [kWh]`` per linked key."""
    return "; ".join(
        f"{_parameter_label(k, cur)} {', '.join(_value_text(v) for v in parameters[k])} "
        f"with {_parameter_label(lead, cur)}"
        for k, lead in riders.items()
    )


def _cell_values(rows: pd.DataFrame, metric: str) -> tuple[float, bool]:
    """The cell's value and whether its run failed."""
    if rows.empty:
        return math.nan, False
    row = rows.iloc[0]
    failed = row.get("status") != "ok"
    return float(pd.to_numeric(row[metric], errors="coerce")), bool(failed)


def _heatmaps(
    table: pd.DataFrame,
    parameters: dict[str, list[Any]],
    varying: list[str],
    metric: str,
    cur: str = MONEY,
) -> plt.Figure:
    x_key, y_key = varying[0], varying[1]
    xs, ys = parameters[x_key], parameters[y_key]
    rest = varying[2:]
    panels = list(itertools.product(*(parameters[k] for k in rest))) or [()]
    shown = panels[:MAX_PANELS]
    grids, failures = [], []
    for panel in shown:
        grid = np.full((len(ys), len(xs)), np.nan)
        failed = np.zeros_like(grid, dtype=bool)
        for (j, y), (i, x) in itertools.product(enumerate(ys), enumerate(xs)):
            mask = (table[x_key] == _cell(x)) & (table[y_key] == _cell(y))
            for key, value in zip(rest, panel):
                mask &= table[key] == _cell(value)
            grid[j, i], failed[j, i] = _cell_values(table[mask], metric)
        grids.append(grid)
        failures.append(failed)
    scaled = [_scaled(metric, g, cur) for g in grids]
    label = scaled[0][1]
    every = np.concatenate([s[0].ravel() for s in scaled])
    finite = every[np.isfinite(every)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad=FAILED_COLOR)
    n = len(shown)
    width = min(4.2 + 0.9 * len(xs), 9.0)
    height = 1.6 + 0.55 * len(ys)
    fig, axes = plt.subplots(
        1, n, figsize=(width * n + 1.2, height + 1.0), squeeze=False, layout="constrained"
    )
    image = None
    for ax, panel, (grid, _), failed in zip(axes[0], shown, scaled, failures):
        image = ax.imshow(
            np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto"
        )
        for (j, i), value in np.ndenumerate(grid):
            if failed[j, i]:
                ax.text(i, j, "failed", ha="center", va="center", fontsize=8, color="#b00020")
            elif np.isfinite(value):
                r, g, b, _ = cmap((value - vmin) / (vmax - vmin))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                ax.text(
                    i,
                    j,
                    _format(value),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if dark else "black",
                )
        ax.set_xticks(range(len(xs)), [_value_text(x) for x in xs], fontsize=8)
        ax.set_yticks(range(len(ys)), [_value_text(y) for y in ys], fontsize=8)
        if len(xs) > 4 and max(len(_value_text(x)) for x in xs) > 6:
            plt.setp(ax.get_xticklabels(), rotation=25, ha="right")
        ax.set_xlabel(_parameter_label(x_key, cur), fontsize=9)
        if ax is axes[0][0]:
            ax.set_ylabel(_parameter_label(y_key, cur), fontsize=9)
        ax.set_xticks(np.arange(-0.5, len(xs)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(ys)), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        if rest:
            head = ", ".join(f"{k.split('.')[-1]} = {_value_text(v)}" for k, v in zip(rest, panel))
            ax.set_title(head, fontsize=10)
    bar = fig.colorbar(image, ax=list(axes[0]), fraction=0.04 if n > 1 else 0.06, pad=0.02)
    bar.set_label(label, fontsize=9)
    if len(panels) > len(shown):
        fig.text(
            0.01,
            -0.02,
            f"showing {len(shown)} of {len(panels)} combinations of "
            f"{', '.join(rest)}; all are in results.csv",
            fontsize=8,
        )
    return fig


def _chart(
    table: pd.DataFrame, parameters: dict[str, list[Any]], key: str, metric: str, cur: str = MONEY
) -> plt.Figure:
    xs = parameters[key]
    values, failed = [], []
    for x in xs:
        value, bad = _cell_values(table[table[key] == _cell(x)], metric)
        values.append(value)
        failed.append(bad)
    scaled, label = _scaled(metric, np.asarray(values, dtype=float), cur)
    fig, ax = plt.subplots(figsize=(min(5.5 + 0.6 * len(xs), 10.0), 4.2), layout="constrained")
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    positions = np.asarray(xs, dtype=float) if numeric else np.arange(len(xs))
    if numeric:
        finite = np.isfinite(scaled)
        ax.plot(positions[finite], scaled[finite], marker="o", color="#3a86ff")
        ax.set_xticks(positions, [_value_text(x) for x in xs], fontsize=8)
        span = float(np.ptp(positions)) or 1.0
        ax.set_xlim(positions.min() - 0.08 * span, positions.max() + 0.08 * span)
    else:
        ax.bar(positions, np.nan_to_num(scaled), color="#3a86ff", width=0.6)
        ax.set_xticks(positions, [_value_text(x) for x in xs], fontsize=8)
        if max(len(_value_text(x)) for x in xs) > 10:
            plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    for x, y, bad in zip(positions, scaled, failed):
        if bad:
            mark = ax.text(
                x,
                0.03,
                "failed",
                transform=ax.get_xaxis_transform(),
                ha="center",
                fontsize=8,
                color="#b00020",
            )
            mark.set_in_layout(False)
        elif np.isfinite(y):
            ax.annotate(
                _format(y),
                (x, y),
                textcoords="offset points",
                xytext=(0, 5),
                ha="center",
                fontsize=8,
            )
    ax.set_xlabel(_parameter_label(key, cur), fontsize=9)
    ax.set_ylabel(label, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.15)
    return fig


def _cell(value: Any) -> Any:
    """A swept value as it appears in the table (non-scalars as JSON text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def _for_parquet(table: pd.DataFrame) -> pd.DataFrame:
    """Columns that mix Python types (e.g. numbers and names) written as text."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column] if v is not None and v == v}
            if len(kinds) > 1:
                out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


def write_sweep(table: pd.DataFrame, definition: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write a sweep's folder atomically: results.parquet/.csv, sweep.json and the figures.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per combination (:class:`vpp.planning.sweep.SweepResult`).
    definition : dict
        The sweep and its counts (``SweepResult.definition()``); ``parameters`` maps key
        paths to the values swept, ``linked`` (when present) a linked axis's name to its
        key paths, ``currency`` the currency every money label is drawn in (CNY when
        absent).
    out_dir : str or pathlib.Path
        The folder; an earlier one is replaced as a whole.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    parameters = definition["parameters"]
    linked = definition.get("linked")
    cur = str(definition.get("currency") or MONEY)  # a sweep.json written before it had one
    title = f"sweep {Path(definition.get('sweep_file', '')).stem}".strip()
    names = ["results.parquet", "results.csv", "sweep.json"]
    figures: list[str] = []

    def fill(tmp: Path) -> None:
        _for_parquet(table).to_parquet(tmp / "results.parquet", index=False)
        table.to_csv(tmp / "results.csv", index=False)
        figures.extend(plot_sweep(table, parameters, tmp, title=title, linked=linked, currency=cur))
        write_json(tmp / "sweep.json", {**definition, "figures": figures})

    written = write_folder_atomically(out_dir, names, fill, kind="sweep")
    return written + [Path(out_dir) / f for f in figures]
