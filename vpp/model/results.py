"""Read a solved model back into pandas: one column per asset quantity."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from vpp.model.solve import SolveResult


@dataclass(frozen=True)
class Solved:
    """A solved dispatch.

    Attributes
    ----------
    schedule : pandas.DataFrame
        On the horizon's index; a column ``<asset>_<variable>`` per time-indexed
        variable, with the unit in its name (``grid_import_kw``, ``bess_soc_kwh``).
        State variables (``*_kwh`` over ``n+1`` points) give the state at the start
        of each step; their final value is in ``final_state``.
    objective_cny : float
        Objective value [CNY].
    cost_by_component_cny : dict
        ``{(asset, variable): cost}``: the objective split over the variables that
        carry cost [CNY]; adds up to the objective.
    final_state : dict
        ``{column: value}`` for state variables at the end of the horizon.
    timings_s : dict
        ``compile``, ``solve``, ``extract`` [s].
    """

    schedule: pd.DataFrame
    objective_cny: float
    cost_by_component_cny: dict[tuple[str, str], float]
    final_state: dict[str, float]
    timings_s: dict[str, float] = field(default_factory=dict)


def _exact_binary(var: Any, values: np.ndarray) -> np.ndarray:
    """A binary variable's values rounded to exactly 0 or 1 (a MIP answer holds them to
    HiGHS's integrality tolerance, such as ``2.5e-14`` or ``0.9999999999999745``, which
    the schedule would print); other variables as they are."""
    first = next(iter(var.values()), None)
    return np.round(values) if first is not None and first.is_binary() else values


def extract(model: pyo.ConcreteModel, result: SolveResult, horizon: Any) -> Solved:
    """Turn a solved model into a :class:`Solved` on ``horizon.index``.

    Parameters
    ----------
    model : pyomo.environ.ConcreteModel or block
        The model built by :func:`vpp.model.build.build_model`, or one site's block of a
        park model (:func:`vpp.model.build.fill_site`): only its variables are read.
    result : SolveResult
        Its optimal solution.
    horizon : vpp.timeseries.Horizon
        The run's horizon.
    """
    t0 = time.perf_counter()
    n = horizon.n
    columns: dict[str, np.ndarray] = {}
    final: dict[str, float] = {}
    top = model.model()
    for name, block in model.asset.items():
        for var in block.component_objects(pyo.Var, descend_into=False):
            if not var.is_indexed():
                continue
            index_set = var.index_set()
            if index_set is top.T:  # + 0.0: a solver's -0.0 is written as 0.0
                columns[f"{name}_{var.local_name}"] = _exact_binary(var, result.values(var)) + 0.0
            elif index_set is top.T0:
                values = result.values(var)
                columns[f"{name}_{var.local_name}"] = values[:n]
                final[f"{name}_{var.local_name}"] = float(values[n])
    schedule = pd.DataFrame(columns, index=horizon.index)
    schedule.index.name = "timestamp"

    lp = result.lp
    contribution = lp.cost * result.x
    costs: dict[tuple[str, str], float] = {}
    candidates = np.flatnonzero(lp.cost)
    if model is not top:  # one site of a park: only its own columns
        own = [lp.column_of.get(id(v)) for v in model.component_data_objects(pyo.Var)]
        own_cols = np.array([j for j in own if j is not None], dtype=np.int64)
        candidates = own_cols[lp.cost[own_cols] != 0.0] if own_cols.size else own_cols
    for j in candidates.tolist():
        var = lp.columns[j]
        block = var.parent_block()
        if block is model:
            asset = "site"
        elif block.parent_block() is model:
            asset = block.index()
        else:  # another site of a park
            continue
        key = (str(asset), var.parent_component().local_name)
        costs[key] = costs.get(key, 0.0) + float(contribution[j])
    timings = dict(result.timings_s)
    timings["extract"] = time.perf_counter() - t0
    return Solved(
        schedule=schedule,
        objective_cny=result.objective_cny,
        cost_by_component_cny=costs,
        final_state=final,
        timings_s=timings,
    )
