"""``vpp compare``: the KPIs of several run folders side by side (no matplotlib here).

:func:`read_summaries` reads each folder's ``summary.json``; :func:`compare_table`
flattens ``summary["kpis"]`` into one row per run; :func:`write_compare` writes
``compare.csv`` and ``compare.png`` into an output folder, atomically.

**Horizons.** Every row shows its run's horizon (``horizon_start``, ``horizon_end``,
``horizon_days``, ``horizon_step_h``). Totals over different periods are not
comparable (a 334-day run looks cheaper than a 365-day one), so runs whose horizons
differ (another start or end; the step may differ) are refused
(:func:`check_horizons`), unless the caller allows it; then every money, energy and
CO2 column (and the battery cycles) also comes per day of its run's horizon, in a
column named ``<column>_per_day``, and the figure shows those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem, clip, short
from vpp.report.atomic import write_folder_atomically
from vpp.report.html_parts import currency

#: Files that :func:`write_compare` writes.
COMPARE_FILES = ("compare.csv", "compare.png")
#: The run's own KPIs copied into the table, as named in ``summary["kpis"]``.
OWN_KPIS = (
    "total_cost_cny",
    "consumption_kwh",
    "pv_generated_kwh",
    "pv_curtailed_kwh",
    "pv_curtailed_fraction",
    "self_consumption_fraction",
    "self_sufficiency_fraction",
    "renewable_share_fraction",
    "renewable_share_with_certificates_fraction",
)
#: The limits whose violations a rolling run counts, as named in ``summary["rolling"]``.
LIMITS = ("import_limit", "export_limit")
#: The columns that say which period a row covers.
HORIZON_COLUMNS = ("horizon_start", "horizon_end", "horizon_days", "horizon_step_h")
#: Suffixes of the columns that are totals over the horizon (money, energy, CO2), and
#: the cycles column; each gets a ``_per_day`` twin when horizons differ.
TOTAL_SUFFIXES = ("_cny", "_kwh", "_t")
CYCLES_COLUMN = "equivalent_full_cycles"
#: What :func:`check_horizons` tells the user to do.
HORIZON_FIX = (
    "compare runs over the same horizon (start and end), or give "
    "--allow-different-horizons to compare them per day (columns ending in _per_day)"
)
_NS_PER_DAY = 86_400e9


def read_summaries(folders: Sequence[str | Path]) -> dict[str, dict[str, Any]]:
    """The ``summary.json`` of each run folder, keyed by a unique label (the folder name).

    Raises
    ------
    DataError
        A folder without a readable ``summary.json`` (every such folder named).
    """
    problems: list[Problem] = []
    out: dict[str, dict[str, Any]] = {}
    for folder in map(Path, folders):
        path = folder / "summary.json"
        if not path.is_file():
            problems.append(_not_a_run(folder))
            continue
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(Problem(f"cannot read '{path}': {exc}", file=str(path)))
            continue
        problem = _summary_problem(folder, path, summary)
        if problem is not None:
            problems.append(problem)
            continue
        label = folder.name or str(folder)
        while label in out:
            label = f"{label}'"
        out[label] = summary
    if problems:
        raise DataError(problems)
    return out


def _not_a_run(folder: Path) -> Problem:
    """Why a folder without ``summary.json`` cannot be compared, and what to give."""
    if (folder / "park_summary.json").is_file():
        sites = sorted(p for p in (folder / "sites").glob("*/summary.json"))
        return Problem(
            f"'{folder}' is a park run (park_summary.json): compare its sites' runs instead",
            file=str(folder),
            allowed="folders written by `vpp run` for a site",
            fix="give the site folders, e.g. "
            + (" ".join(str(p.parent) for p in sites[:3]) or f"{folder}/sites/<name>"),
        )
    return Problem(
        f"run folder '{folder}' has no summary.json",
        file=str(folder),
        fix="give folders written by `vpp run` (or run the scenario first)",
    )


def _summary_problem(folder: Path, path: Path, summary: Any) -> Problem | None:
    """What makes a ``summary.json`` unfit to compare (None when it is fit)."""
    if not isinstance(summary, Mapping):
        return Problem(
            f"'{path}' does not hold a run summary (a JSON object)",
            file=str(path),
            value=type(summary).__name__,
            fix="give folders written by `vpp run`",
        )
    if "sizes" in summary and "horizon" not in summary:
        return Problem(
            f"'{folder}' is a sizing study: its summary.json holds sizes and finance, not "
            "a run's KPIs",
            file=str(path),
            fix=f"compare the sized site's run in {folder / 'dispatch'}",
        )
    horizon = summary.get("horizon")
    missing = [
        k for k in ("start", "end") if not isinstance(horizon, Mapping) or horizon.get(k) is None
    ]
    if missing:
        return Problem(
            "the summary has no horizon (start and end), so its totals cannot be put beside "
            "another run's",
            file=str(path),
            key="horizon." + "/".join(missing),
            value="missing",
            allowed="a summary.json written by `vpp run`",
            fix="run the scenario again with `vpp run` and compare that folder",
        )
    try:
        _horizon(summary)
    except (TypeError, ValueError) as exc:
        return Problem(
            f"the summary's horizon cannot be read: {clip(str(exc), 160)}",
            file=str(path),
            key="horizon",
            value=short(horizon),
            allowed="start and end as ISO 8601 times, end after start",
        )
    return None


def _horizon(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The horizon columns of a summary; empty values when it has none.

    Raises
    ------
    ValueError, TypeError
        A start or end that is not a time, an end not after the start, or one of them
        with a time zone and the other without.
    """
    horizon = summary.get("horizon")
    if not isinstance(horizon, Mapping) or horizon.get("start") is None:
        return dict.fromkeys(HORIZON_COLUMNS[:2], "") | dict.fromkeys(HORIZON_COLUMNS[2:], np.nan)
    if not all(isinstance(horizon.get(k), str) for k in ("start", "end")):
        raise ValueError("start and end must be texts (ISO 8601 times)")
    start = pd.Timestamp(horizon["start"])
    end = pd.Timestamp(horizon["end"])
    if not end > start:
        raise ValueError(f"end {end} is not after start {start}")
    return {
        "horizon_start": start.isoformat(),
        "horizon_end": end.isoformat(),
        "horizon_days": (end - start).value / _NS_PER_DAY,
        "horizon_step_h": _number(horizon.get("step_h")),
    }


def _number(value: Any) -> float:
    """A KPI as a float; NaN when absent.

    Raises
    ------
    TypeError
        A value that is present but not a number (a damaged summary).
    ValueError
        A number that is not finite (NaN or infinity: a damaged summary).
    """
    if value is None:
        return np.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {short(value)}")
    if not np.isfinite(value):  # JSON read by Python takes NaN and Infinity
        raise ValueError(f"expected a finite number, got {short(value)}")
    return float(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    """A summary section as a mapping; empty when absent.

    Raises
    ------
    TypeError
        A section that is present but not a mapping (a damaged summary).
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a mapping, got {short(value)}")
    return value


def compare_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    """One run's row: its KPIs, and savings, peak shaving and emission cuts per baseline.

    Columns: ``scenario``; :data:`OWN_KPIS`; ``peak_import_max_kw`` [kW];
    ``equivalent_full_cycles`` (all batteries) [-]; ``location_based_t`` and
    ``market_based_t`` [t CO2]; per baseline ``B``: ``savings_vs_B_cny`` [CNY],
    ``savings_vs_B_fraction`` [-], ``peak_shaving_max_vs_B_kw`` [kW],
    ``emission_reduction_vs_B_location_based_t`` and ``..._market_based_t`` [t CO2].
    A summary written before KPIs existed gives NaN (its ``savings_cny`` counts as the
    saving against ``pv-only``).

    Also ``currency`` (of every ``_cny`` column; a summary without it is in CNY),
    ``mode`` (``perfect`` or ``rolling``; a summary without it is ``perfect``) and,
    for rolling runs, ``cost_of_imperfect_forecasts_cny`` [CNY] (rolling total cost minus
    the perfect-foresight one) and ``limit_violations_steps`` (steps above the import
    limit plus steps above the export limit after settlement) [-]; NaN for perfect runs.
    """
    kpis = _mapping(summary.get("kpis"))
    peaks = _mapping(summary.get("peak_import_kw"))
    row: dict[str, Any] = {"scenario": summary.get("scenario", "")}
    row["mode"] = summary.get("mode") or "perfect"
    row["currency"] = currency(summary)  # of the *_cny columns
    row.update(_horizon(summary))
    for key in OWN_KPIS:
        row[key] = _number(kpis.get(key, summary.get(key) if key == "total_cost_cny" else None))
    row["peak_import_max_kw"] = max(_number(v) for v in peaks.values()) if peaks else np.nan
    cycles = _mapping(kpis.get("equivalent_full_cycles"))
    row["equivalent_full_cycles"] = sum(_number(c) for c in cycles.values()) if cycles else np.nan
    emissions = _mapping(kpis.get("emissions_t"))
    for basis in ("location_based_t", "market_based_t"):
        row[basis] = _number(emissions.get(basis))
    rolling = (summary.get("rolling") or {}) if row["mode"] == "rolling" else {}
    row["cost_of_imperfect_forecasts_cny"] = _number(rolling.get("cost_of_imperfect_forecasts_cny"))
    violations = rolling.get("violations")
    row["limit_violations_steps"] = (
        float(sum((violations.get(k) or {}).get("steps", 0) for k in LIMITS))
        if isinstance(violations, Mapping)
        else np.nan
    )
    versus = kpis.get("vs_baseline")
    if versus is None and "savings_cny" in summary:
        versus = {"pv-only": {"savings_cny": summary["savings_cny"]}}
    for name, v in _mapping(versus).items():
        v = _mapping(v)
        row[f"savings_vs_{name}_cny"] = _number(v.get("savings_cny"))
        split = _mapping(v.get("savings_split_cny"))
        row[f"savings_dispatch_vs_{name}_cny"] = _number(split.get("dispatch_cny"))
        row[f"savings_vs_{name}_fraction"] = _number(v.get("savings_fraction"))
        row[f"peak_shaving_max_vs_{name}_kw"] = _number(v.get("peak_shaving_max_kw"))
        cut = _mapping(v.get("emission_reduction_t"))
        for basis in ("location_based_t", "market_based_t"):
            row[f"emission_reduction_vs_{name}_{basis}"] = _number(cut.get(basis))
    return row


def compare_table(
    summaries: Mapping[str, Mapping[str, Any]], *, allow_different_horizons: bool = False
) -> pd.DataFrame:
    """One row per run (index ``run``: the labels of :func:`read_summaries`).

    Parameters
    ----------
    summaries : mapping
        Run label to ``summary.json``.
    allow_different_horizons : bool
        Compare runs over different horizons per day instead of refusing them.

    Raises
    ------
    DataError
        Horizons that differ, unless allowed (:func:`check_horizons`).
    """
    rows, problems = [], []
    for label, summary in summaries.items():
        try:
            rows.append(compare_row(summary))
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            problems.append(
                Problem(
                    f"the summary of run '{label}' is damaged: a value has the wrong type "
                    f"({clip(str(exc), 120)})",
                    file=f"{label}/summary.json",
                    allowed="a summary.json written by `vpp run`, unedited",
                    fix="run the scenario again with `vpp run` and compare that folder",
                )
            )
    codes = {label: row["currency"] for label, row in zip(summaries, rows)}
    if not problems and len(set(codes.values())) > 1:
        problems.append(
            Problem(
                "the runs state their money in different currencies",
                key="currency",
                value=", ".join(f"{label}: {code}" for label, code in codes.items()),
                allowed="runs in one currency",
                fix="compare runs of one currency (vpp converts no money)",
            )
        )
    if problems:
        raise DataError(problems)
    table = pd.DataFrame(rows, index=list(summaries))
    table.index.name = "run"
    if check_horizons(table, allow=allow_different_horizons):
        table = with_per_day(table)
    return table


def check_horizons(table: pd.DataFrame, *, allow: bool) -> bool:
    """Whether the rows cover different horizons (another start or end).

    Raises
    ------
    DataError
        They do and ``allow`` is false: the message names every run and its horizon.
    """
    spans = table[["horizon_start", "horizon_end"]].astype(str).agg(" .. ".join, axis=1)
    if spans.nunique() <= 1:
        return False
    if allow:
        return True
    runs = "; ".join(f"{run}: {_span(row)}" for run, row in table[list(HORIZON_COLUMNS)].iterrows())
    raise DataError(
        Problem(
            "the runs cover different horizons, so their totals are not comparable (a "
            "shorter run looks cheaper)",
            key="horizon",
            value=runs,
            allowed="runs over the same start and end (their steps may differ)",
            fix=HORIZON_FIX,
        )
    )


def _span(row: Mapping[str, Any]) -> str:
    """``start .. end (N days, step S h)`` of a row."""
    step = row["horizon_step_h"]
    return f"{row['horizon_start']} .. {row['horizon_end']} ({row['horizon_days']:g} days" + (
        f", step {step:g} h)" if np.isfinite(step) else ")"
    )


def with_per_day(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ``<column>_per_day`` twin of each total: money [CNY], energy [kWh],
    CO2 [t] and battery cycles, divided by the row's ``horizon_days``."""
    days = table["horizon_days"].to_numpy(dtype=float)
    totals = [
        c
        for c in table.columns
        if c not in HORIZON_COLUMNS
        and (c.endswith(TOTAL_SUFFIXES) or c == CYCLES_COLUMN)
        and pd.api.types.is_numeric_dtype(table[c])
    ]
    per_day = pd.DataFrame(
        {f"{c}_per_day": table[c].to_numpy(dtype=float) / days for c in totals},
        index=table.index,
    )
    order = [n for c in table.columns for n in (c, f"{c}_per_day") if n in table or n in per_day]
    return pd.concat([table, per_day], axis=1)[order]


def format_table(table: pd.DataFrame) -> str:
    """The table turned on its side (a KPI per line, a run per column), for printing."""
    shown = table.T
    width = min(64, max(48, *(len(str(k)) + 1 for k in shown.index)))
    lines = [" " * width + "".join(f"{str(c)[:18]:>20}" for c in shown.columns)]
    for key, values in shown.iterrows():
        cells = []
        for value in values:
            if isinstance(value, str):
                text = value[:16].replace("T", " ") if str(key) in HORIZON_COLUMNS else value
                cells.append(f"{text[:18]:>20}")
            elif pd.isna(value):
                cells.append(f"{'-':>20}")
            elif str(key).endswith("_fraction"):
                cells.append(f"{100 * value:>19.1f}%")
            elif str(key).endswith("_per_day") or str(key) == "horizon_step_h":
                cells.append(f"{value:>20,.3g}" if abs(value) < 100 else f"{value:>20,.1f}")
            else:
                cells.append(f"{value:>20,.1f}")
        lines.append(f"{str(key)[: width - 1]:<{width}}" + "".join(cells))
    return "\n".join(lines)


def write_compare(
    table: pd.DataFrame, out_dir: str | Path, *, runs: Sequence[str | Path] = ()
) -> list[Path]:
    """Write ``compare.csv`` and ``compare.png`` into ``out_dir``, all or nothing.

    ``runs`` are the compared run folders: ``out_dir`` may not hold one of them.
    """
    from vpp.report.compare_figures import plot_compare

    def fill(tmp: Path) -> None:
        table.to_csv(tmp / "compare.csv")
        plot_compare(table, tmp / "compare.png")

    return write_folder_atomically(out_dir, COMPARE_FILES, fill, kind="compare", inputs=runs)
