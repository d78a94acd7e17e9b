"""``vpp compare``: the KPIs of several run folders side by side (no matplotlib here).

:func:`read_summaries` reads each folder's ``summary.json``; :func:`compare_table`
flattens ``summary["kpis"]`` into one row per run; :func:`write_compare` writes
``compare.csv`` and ``compare.png`` into an output folder, atomically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem
from vpp.report.atomic import write_folder_atomically

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
            problems.append(
                Problem(
                    f"run folder '{folder}' has no summary.json",
                    file=str(folder),
                    fix="give folders written by `vpp run` (or run the scenario first)",
                )
            )
            continue
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(Problem(f"cannot read '{path}': {exc}", file=str(path)))
            continue
        label = folder.name or str(folder)
        while label in out:
            label = f"{label}'"
        out[label] = summary
    if problems:
        raise DataError(problems)
    return out


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else np.nan


def compare_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    """One run's row: its KPIs, and savings, peak shaving and emission cuts per baseline.

    Columns: ``scenario``; :data:`OWN_KPIS`; ``peak_import_max_kw`` [kW];
    ``equivalent_full_cycles`` (all batteries) [-]; ``location_based_t`` and
    ``market_based_t`` [t CO2]; per baseline ``B``: ``savings_vs_B_cny`` [CNY],
    ``savings_vs_B_fraction`` [-], ``peak_shaving_max_vs_B_kw`` [kW],
    ``emission_reduction_vs_B_location_based_t`` and ``..._market_based_t`` [t CO2].
    A summary written before KPIs existed gives NaN (its ``savings_cny`` counts as the
    saving against ``pv-only``).

    Also ``mode`` (``perfect`` or ``rolling``; a summary without it is ``perfect``) and,
    for rolling runs, ``cost_of_imperfect_forecasts_cny`` [CNY] (rolling total cost minus
    the perfect-foresight one) and ``limit_violations_steps`` (steps above the import
    limit plus steps above the export limit after settlement) [-]; NaN for perfect runs.
    """
    kpis = summary.get("kpis") or {}
    peaks = summary.get("peak_import_kw") or {}
    row: dict[str, Any] = {"scenario": summary.get("scenario", "")}
    row["mode"] = summary.get("mode") or "perfect"
    for key in OWN_KPIS:
        row[key] = _number(kpis.get(key, summary.get(key) if key == "total_cost_cny" else None))
    row["peak_import_max_kw"] = max(peaks.values()) if peaks else np.nan
    cycles = kpis.get("equivalent_full_cycles")
    row["equivalent_full_cycles"] = float(sum(cycles.values())) if cycles else np.nan
    emissions = kpis.get("emissions_t") or {}
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
    for name, v in (versus or {}).items():
        row[f"savings_vs_{name}_cny"] = _number(v.get("savings_cny"))
        row[f"savings_vs_{name}_fraction"] = _number(v.get("savings_fraction"))
        row[f"peak_shaving_max_vs_{name}_kw"] = _number(v.get("peak_shaving_max_kw"))
        cut = v.get("emission_reduction_t") or {}
        for basis in ("location_based_t", "market_based_t"):
            row[f"emission_reduction_vs_{name}_{basis}"] = _number(cut.get(basis))
    return row


def compare_table(summaries: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run (index ``run``: the labels of :func:`read_summaries`)."""
    table = pd.DataFrame([compare_row(s) for s in summaries.values()], index=list(summaries))
    table.index.name = "run"
    return table


def format_table(table: pd.DataFrame) -> str:
    """The table turned on its side (a KPI per line, a run per column), for printing."""
    shown = table.T
    lines = [f"{'':<48}" + "".join(f"{str(c)[:18]:>20}" for c in shown.columns)]
    for key, values in shown.iterrows():
        cells = []
        for value in values:
            if isinstance(value, str):
                cells.append(f"{value[:18]:>20}")
            elif pd.isna(value):
                cells.append(f"{'-':>20}")
            elif str(key).endswith("_fraction"):
                cells.append(f"{100 * value:>19.1f}%")
            else:
                cells.append(f"{value:>20,.1f}")
        lines.append(f"{str(key)[:48]:<48}" + "".join(cells))
    return "\n".join(lines)


def write_compare(table: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Write ``compare.csv`` and ``compare.png`` into ``out_dir``, all or nothing."""
    from vpp.report.compare_figures import plot_compare

    def fill(tmp: Path) -> None:
        table.to_csv(tmp / "compare.csv")
        plot_compare(table, tmp / "compare.png")

    return write_folder_atomically(out_dir, COMPARE_FILES, fill)
