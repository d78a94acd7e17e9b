"""Parameter sweeps: one scenario run for every combination of a few values.

A sweep file (YAML) names a scenario, the keys to vary and their values, and the
figures to keep; reading and checking it, and its combinations, are
:mod:`vpp.planning.sweep_definition` (:func:`~vpp.planning.sweep_definition.load_sweep`).
The runs go through :func:`vpp.parallel.run_many` (local processes, or a Dask cluster). A
failed run (infeasible, solver failure) is recorded with its error and the others go on.
Mode ``finance`` runs each combination at the sizes it gives and values the investment
(:mod:`vpp.planning.sweep_finance`).
Writing the results is :func:`vpp.report.sweep_figures.write_sweep`.
"""

from __future__ import annotations

import difflib
import math
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vpp.parallel import Outcome, run_many
from vpp.planning.sweep_definition import Sweep, combinations, plain_value, scenario_data

__all__ = [
    "SweepResult",
    "flatten",
    "format_table",
    "run_combination",
    "run_sweep",
]


@dataclass(frozen=True)
class SweepResult:
    """The outcome of :func:`run_sweep`.

    Attributes
    ----------
    sweep : Sweep
        What was run.
    table : pandas.DataFrame
        One row per combination: ``run`` (its number), the parameter values (one column
        per key path, a linked axis's key paths included), the metrics (units in their
        names), ``solver_status`` (modes ``run`` and ``finance``), ``status`` (``ok`` or
        ``failed``), ``error`` and ``seconds`` [s].
    unknown_metrics : list of str
        Listed metrics that no successful run had, each with close matches.
    wall_seconds : float
        Elapsed time of the whole sweep [s].
    where : str
        ``"N local processes"`` or the Dask scheduler address.
    """

    sweep: Sweep
    table: pd.DataFrame
    unknown_metrics: list[str]
    wall_seconds: float
    where: str

    @property
    def failed(self) -> int:
        """Number of failed runs [-]."""
        return int((self.table["status"] != "ok").sum())

    def definition(self) -> dict[str, Any]:
        """The sweep, its counts and timing (for ``sweep.json``)."""
        out = self.sweep.definition()
        out.update(
            ok=len(self.table) - self.failed,
            failed=self.failed,
            unknown_metrics=self.unknown_metrics,
            wall_seconds=round(self.wall_seconds, 3),
            ran_on=self.where,
        )
        return out


# ---------------------------------------------------------------------------- running


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys; lists are left out.

    ``{"kpis": {"self_sufficiency_fraction": 0.1}}`` becomes
    ``{"kpis.self_sufficiency_fraction": 0.1}``.
    """
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif not isinstance(data, (list, tuple)):
        out[prefix] = data
    return out


def run_combination(task: dict[str, Any]) -> dict[str, Any]:
    """The worker of a sweep: validate one combination's scenario, run it, flatten its summary.

    Top-level so that worker processes (local or Dask) can import it.

    Parameters
    ----------
    task : dict
        ``data`` (scenario data with the combination applied), ``base_dir`` (folder that
        relative file paths resolve against), ``mode`` (one of
        :data:`~vpp.planning.sweep_definition.MODES`) and, in mode ``finance``,
        ``token`` (the sweep's, :func:`vpp.planning.sweep_finance.value_as_given`).

    Returns
    -------
    dict
        Every scalar of the summary under its dotted key.
    """
    from vpp.scenario.load import validate_scenario

    scenario = validate_scenario(task["data"], base_dir=Path(task["base_dir"]))
    if task["mode"] == "size":
        from vpp.planning.size import size

        result = size(scenario)
    elif task["mode"] == "finance":
        from vpp.planning.sweep_finance import value_as_given

        result = value_as_given(scenario, token=task.get("token"))
    else:
        import vpp

        result = vpp.run(scenario)
    summary = getattr(result, "summary", result)
    return flatten(summary if isinstance(summary, dict) else {})


def run_sweep(
    sweep: Sweep,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every combination of a sweep in parallel.

    Parameters
    ----------
    sweep : Sweep
        From :func:`~vpp.planning.sweep_definition.load_sweep`.
    workers : int, optional
        Local worker processes [-]; default the number of CPUs.
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:port``); its workers need vpp installed
        and the scenario's input files at the same paths.
    progress : callable, optional
        ``progress(done, total)`` after each run (see :func:`vpp.parallel.progress_bar`).

    Returns
    -------
    SweepResult
        The results table; failed runs are rows with ``status`` ``failed``.
    """
    combos = combinations(sweep)
    base_dir = str(sweep.scenario_file.parent.resolve())
    tasks = [
        {"data": scenario_data(sweep, c), "base_dir": base_dir, "mode": sweep.mode} for c in combos
    ]
    if sweep.mode == "finance":  # the workers share the site as it is within this sweep
        token = uuid.uuid4().hex
        tasks = [{**task, "token": token} for task in tasks]
    start = time.perf_counter()
    outcomes = run_many(
        run_combination, tasks, workers=workers, scheduler=scheduler, progress=progress
    )
    wall = time.perf_counter() - start
    table, unknown = _table(sweep, combos, outcomes)
    if scheduler:
        where = f"Dask scheduler {scheduler}"
    else:
        n = min(workers or _cpu_count(), len(tasks))
        where = f"{n} local process{'es' if n != 1 else ''}"
    return SweepResult(sweep, table, unknown, wall, where)


def _cpu_count() -> int:
    return os.cpu_count() or 1


def _table(
    sweep: Sweep, combos: list[dict[str, Any]], outcomes: list[Outcome]
) -> tuple[pd.DataFrame, list[str]]:
    """One row per combination, and the listed metrics no successful run had."""
    found: set[str] = set()
    rows = []
    for combination, outcome in zip(combos, outcomes):
        row: dict[str, Any] = {"run": outcome.index}
        row.update({k: plain_value(v) for k, v in combination.items()})
        values = outcome.value if outcome.ok and isinstance(outcome.value, dict) else {}
        for metric in sweep.metrics:
            picked = _pick(values, metric)
            found.update(picked)
            row.update(picked if picked else {metric: math.nan})
        if sweep.mode in ("run", "finance"):
            row["solver_status"] = values.get("status")
        row["status"] = "ok" if outcome.ok else "failed"
        row["error"] = outcome.error
        row["seconds"] = round(outcome.seconds, 3)
        rows.append(row)
    table = pd.DataFrame(rows)
    unknown = []
    available = set().union(*(o.value for o in outcomes if o.ok and isinstance(o.value, dict)))
    if available:
        for metric in sweep.metrics:
            if not any(f == metric or f.startswith(metric + ".") for f in found):
                close = difflib.get_close_matches(metric, sorted(available), n=3, cutoff=0.6)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                unknown.append(f"{metric}{hint}")
    return table, unknown


def format_table(table: pd.DataFrame) -> str:
    """The results as text: each column by the shortest unique tail of its key path."""
    shown = table.drop(columns=["error"])
    parts = {c: [p.strip().split(".") for p in c.split(",")] for c in shown.columns}
    names: dict[str, str] = {}
    for column, paths in parts.items():
        for n in range(1, max(len(p) for p in paths) + 1):
            short = ",".join(".".join(p[-n:]) for p in paths)
            others = [
                ",".join(".".join(q[-n:]) for q in qs) for c, qs in parts.items() if c != column
            ]
            if short not in others:
                break
        names[column] = short
    shown = shown.rename(columns=names)
    return shown.to_string(index=False, float_format=lambda v: f"{v:.6g}")


def _pick(values: dict[str, Any], metric: str) -> dict[str, Any]:
    """The metric's value, or every numeric value under it when it names a group."""
    if metric in values:
        return {metric: values[metric]}
    group = metric + "."
    return {
        k: v
        for k, v in values.items()
        if k.startswith(group)
        and ".limits." not in k  # a size's limit flags: its sizing keys, not a metric
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
    }
