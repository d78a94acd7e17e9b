"""The cost-carbon frontier of a sizing: least cost under caps on electricity emissions.

Location-based emissions (grid import times the grid factor) only: market-based
emissions can be met with certificates and show no physical trade-off. The grid factor
is the schedule's ``grid_factor_kg_per_kwh``, per step: the site's
``emissions.grid_factor_series`` when given (then the caps weigh each step's import by
its own factor, and with ``grid_factor_kind: marginal`` the caps are on marginal-factor
emissions), else the constant annual factor. On typical days
(``planning.representative_periods``) the caps and the points' emissions and costs are
those of the typical days, each weighted by the days it stands for.

A point whose size sits at a limit of its ``sizing`` entry carries the same flags as
the single sizing (:mod:`vpp.planning.limits`): ``limits`` per candidate and size, and
``<candidate>_at_limit`` in one cell (as ``sizes.csv``'s ``at_limit``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import SolverError
from vpp.model.solve import INF
from vpp.model.strategies import DUAL_SIMPLEX, MipOptions
from vpp.planning.limits import limit_columns, size_limits
from vpp.planning.sizing_model import (
    KG_PER_T,
    Progress,
    SizingModel,
    chosen_sizes,
    horizon_years,
    set_cap,
    sizing_chain,
    solve_sizing,
    step_values,
)
from vpp.scenario.schema import Scenario


def frontier(
    sm: SizingModel,
    scenario: Scenario,
    optimum: Any,
    points: int,
    *,
    time_limit_s: float | None = None,
    progress: Progress | None = None,
    mip: MipOptions | None = None,
) -> pd.DataFrame:
    """Least cost under caps on location-based electricity emissions (epsilon-constraint).

    The caps run evenly from the least-cost solution's emissions down to the least
    emissions any sizing within the limits reaches (found by minimizing emissions
    alone: a cost tie-break would sit below HiGHS's optimality tolerance and spread the
    costs beyond what HiGHS scales well). Each point re-solves the compiled model with
    only the cap row's bound changed, with the sizing's solver strategies
    (:func:`vpp.planning.sizing_model.sizing_chain`): on every step by interior point
    from scratch each time (on the demo year, warm-started dual simplex was several
    times slower); on typical days by the dual simplex from the previous solve's basis
    (6 points of the demo in a sixth of the interior point's time, same costs). A point
    that HiGHS cannot solve is recorded with its status and the reason, and the others
    go on.

    A sizing with integer variables (a deferrable load) solves each point as a MIP with
    ``mip`` (the scenario's ``operation.mip_gap`` and ``mip_time_limit_s``); a point
    stopped at its limit with a feasible point keeps it, with its status and ``gap``
    (and ``gap_limit``, the gap asked).

    Each solved point carries ``limits`` (:func:`vpp.planning.limits.size_limits` of
    its sizes: per candidate and size, ``at_limit``, ``limit_value`` and ``key``) and,
    per candidate, ``<candidate>_at_limit`` (:func:`vpp.planning.limits.limit_columns`:
    ``capacity_kw upper 800; ...``, empty when no size is at a limit).
    """
    say = progress or (lambda _msg: None)
    lp = sm.lp
    highs = lp.highs
    cap_row = sm.cap_row
    if cap_row is None:
        raise ValueError("the sizing model was built without the emission cap row")
    grid = sm.model.asset["grid"]
    imp_cols = np.array([lp.column_of[id(v)] for v in grid.import_kw.values()], dtype=np.int32)
    factor = step_values(sm, "grid_factor_kg_per_kwh") * sm.inputs.horizon.step_h
    e_cost = _emissions_t(optimum.x, imp_cols, factor)
    chain = sizing_chain(sm)
    # a basis to start from: the dual simplex's, never a MIP's nor an interior point's
    warm = chain[0].name == DUAL_SIMPLEX.name and not lp.is_mip
    cost = lp.cost.copy()
    green = np.zeros_like(cost)
    green[imp_cols] = factor / KG_PER_T
    idx = np.arange(len(cost), dtype=np.int32)
    highs.changeColsCost(len(idx), idx, green)
    if not warm:
        highs.clearSolver()
    try:
        low = solve_sizing(lp, time_limit_s, say, "the least emissions", mip, chain)
    finally:
        highs.changeColsCost(len(idx), idx, cost)
    if not low.has_solution:
        raise SolverError(f"HiGHS could not find the least emissions: {low.status}")
    e_low = _emissions_t(low.x, imp_cols, factor)
    rows = []
    years = horizon_years(sm.inputs.horizon)
    for k, cap in enumerate(np.linspace(e_cost, e_low, points)):
        say(f"frontier point {k + 1} of {points}: at most {cap:,.0f} t")
        set_cap(lp, cap_row, cap * (1 + 1e-9) + 1e-9)
        if not warm:
            highs.clearSolver()
        try:
            what = f"frontier point {k + 1} of {points}"
            res = solve_sizing(lp, time_limit_s, say, what, mip, chain)
        except SolverError as exc:
            rows.append({"point": k, "cap_t": cap, "status": "failed", "reason": str(exc)})
            continue
        if not res.has_solution:
            rows.append({"point": k, "cap_t": cap, "status": res.status})
            continue
        sizes, _ = chosen_sizes(scenario, sm, res)
        row = {
            "point": k,
            "cap_t": cap,
            "status": res.status,
            "strategy": res.solver.strategy if res.solver else None,
            "emissions_t_per_year": _emissions_t(res.x, imp_cols, factor) / years,
            "cost_cny_per_year": res.objective_cny / years,
        }
        if res.solver is not None and res.solver.mip is not None:
            row["gap"] = res.solver.mip.gap  # a MIP's relative gap [-], and the one asked
            row["gap_limit"] = res.solver.mip.gap_limit
        limits = size_limits(scenario, sm, sizes)
        for name, s in sizes.items():
            for key, value in s.items():
                if key != "kind" and value is not None:
                    row[f"{name}_{key}"] = value
            row[f"{name}_at_limit"] = limit_columns(limits[name])
        row["limits"] = limits
        rows.append(row)
    set_cap(lp, cap_row, INF)
    return pd.DataFrame(rows)


def frontier_records(points: pd.DataFrame) -> list[dict[str, Any]]:
    """The points as ``summary.json`` holds them: each point's own keys only.

    A point HiGHS could not solve has ``point``, ``cap_t``, ``status`` and ``reason``;
    the table gives it NaN in the other points' columns (``frontier.csv``: empty
    cells), which JSON cannot hold (:func:`vpp.report.jsonfile.write_json` refuses it).
    """
    return [
        {k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
        for row in points.to_dict("records")
    ]


def _emissions_t(x: np.ndarray, imp_cols: np.ndarray, factor: np.ndarray) -> float:
    return float(np.dot(x[imp_cols], factor)) / KG_PER_T
