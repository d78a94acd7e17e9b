"""A year as it would be operated: daily re-optimization on forecasts, settled on actuals.

Before the first solve, every precondition is checked and the forecast of every decision
issued (:mod:`vpp.sim.rolling_prepare`), so that a run that cannot finish says so at once.

At each decision step (:func:`vpp.sim.rolling_inputs.decision_steps`: every
``interval_h`` from ``reoptimize_hour``) the site is optimized over the look-ahead
window on that moment's forecasts and state (:mod:`vpp.sim.rolling_inputs`); the
schedule is applied until the next decision and settled against what actually
happened by the **real-time rule** ``operation.rolling.real_time_rule``
(:data:`REAL_TIME_RULE`):

- shiftable and curtailable loads follow the schedule (a shed is capped at the
  actual sheddable power);
- the batteries follow their power set points within their state-of-charge bounds;
  with ``peak_guard`` (the default) they also hold the import at the month's peak so
  far or the plan's, whichever is higher (:mod:`vpp.sim.real_time`);
- PV produces all it actually can, curtailed only to keep export within the export
  limit;
- the grid takes the rest. Import above the import limit, and export above the
  export limit that curtailment cannot remove, are **violations**: counted, summed
  and reported with their first time, never hidden.

The state of charge, the month-to-date peak import and the energy shiftable loads
have already received carry over into the next window. Windows with the same
structure share one compiled model (:class:`vpp.model.update.ReusableModel`). A
window that is infeasible on its forecasts (for example a load forecast above the
import limit plus storage) is planned with the elastic model instead, and counted.

Finally green contracts, certificates and the carbon account are settled over the
whole horizon on the settled dispatch (:func:`settle`): the full site model with
every physical quantity held at its settled value, so that the bill, the objective
check and the summary are computed exactly as for a perfect-foresight run.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import InfeasibleError, SolverError
from vpp.model import build_model, solve
from vpp.model.strategies import INFEASIBLE_STATUSES
from vpp.model.update import ReusableModel, structure_key
from vpp.scenario.schema import Scenario
from vpp.sim.inputs import SiteInputs
from vpp.sim.perfect import finish_run, run_perfect
from vpp.sim.real_time import run_batteries
from vpp.sim.result import Progress, RunResult
from vpp.sim.rolling_inputs import Operated, WindowState, window_assets
from vpp.sim.rolling_prepare import Prepared, prepare_rolling
from vpp.sim.rolling_summary import rolling_summary
from vpp.sim.settlement import settle


def run_rolling(
    scenario: Scenario, *, time_limit_s: float | None = None, progress: Progress | None = None
) -> RunResult:
    """Operate the scenario's horizon on a rolling horizon (module docstring).

    Every precondition is checked, and every forecast issued, before the first solve
    (:func:`vpp.sim.rolling_prepare.prepare_rolling`). Also runs the perfect-foresight
    optimization, for the cost of imperfect forecasts.

    Raises
    ------
    ScenarioError
        No rolling settings (no forecast source), a look-ahead that is not a whole
        number of steps, PV without a PV forecast.
    DataError
        As :func:`vpp.sim.run.run`; also a load history or PV forecast files that do
        not cover every decision.
    InfeasibleError, SolverError
        As :func:`vpp.sim.run.run`.
    """
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    say("reading inputs and issuing the forecasts of every decision")
    prep = prepare_rolling(scenario)
    inputs = prep.inputs
    say("perfect-foresight reference")
    t0 = time.perf_counter()
    try:
        perfect: RunResult | InfeasibleError = run_perfect(
            scenario, time_limit_s=time_limit_s, progress=None, inputs=inputs
        )
    except InfeasibleError as exc:  # operation goes on; the violations will show why
        perfect = exc
    t_perfect = time.perf_counter() - t0
    ops = operate(scenario, prep, time_limit_s=time_limit_s, say=say)
    say("settling green contracts, certificates and carbon over the horizon")
    t0 = time.perf_counter()
    model, result = settle(inputs, ops, time_limit_s=time_limit_s)
    t_settle = time.perf_counter() - t0
    extra = pd.DataFrame(
        {k: v for k, v in ops.columns.items() if k in _PLAN_COLUMNS or k.endswith("_forecast_kw")},
        index=inputs.horizon.index,
    )
    timings = {**prep.timings_s, "perfect": t_perfect, **ops.timings_s, "settlement": t_settle}
    out = finish_run(scenario, inputs, model, result, timings, clock, say, extra_columns=extra)
    out.summary["mode"] = "rolling"
    out.summary["rolling"] = rolling_summary(scenario, prep.spec, inputs, ops, perfect, out)
    return out


_PLAN_COLUMNS = (
    "load_forecast_kw",
    "grid_import_plan_kw",
    "grid_import_violation_kw",
    "grid_export_violation_kw",
)


def operate(
    scenario: Scenario,
    prep: Prepared,
    *,
    time_limit_s: float | None = None,
    say: Progress = lambda _msg: None,
) -> Operated:
    """Plan each window on its forecasts and settle it on actuals (module docstring)."""
    site = scenario.site
    inputs, spec = prep.inputs, prep.spec
    horizon = inputs.horizon
    n = horizon.n
    ops = Operated(load_evaluation=prep.load_evaluation)

    cols = ops.columns
    for name in ("load_forecast_kw", "grid_import_kw", "grid_export_kw", *_PLAN_COLUMNS[1:]):
        cols[name] = np.zeros(n)
    for a in site.pv:
        cols[f"{a.name}_forecast_kw"] = np.zeros(n)
        cols[f"{a.name}_pv_kw"] = np.zeros(n)
    for b in site.batteries:
        cols[f"{b.name}_charge_kw"] = np.zeros(n)
        cols[f"{b.name}_discharge_kw"] = np.zeros(n)
    for f in site.flexible_loads:
        cols[f"{f.name}_{'power_kw' if f.kind == 'shiftable' else 'shed_kw'}"] = np.zeros(n)
    shiftable = {a.name: a for a in inputs.assets if a.kind == "shiftable"}
    state = WindowState(
        soc_kwh={b.name: b.soc_initial_fraction * b.energy_kwh for b in site.batteries},
        month_peak_kw=np.zeros(len(horizon.months)),
        served_kwh={k: np.zeros(len(a.series["window_energy_kwh"])) for k, a in shiftable.items()},
    )
    models: dict[Any, ReusableModel] = {}
    decisions = prep.decisions
    t_solve = t_build = t_update = t_windows = 0.0
    month_seen = None
    for i, start in enumerate(decisions):
        until = decisions[i + 1] if i + 1 < len(decisions) else n
        stop = min(start + prep.lookahead, n)
        month = str(horizon.index[start].strftime("%Y-%m"))
        if month != month_seen:
            say(f"rolling: {month} (solve {i + 1} of {len(decisions)})")
            month_seen = month
        t0 = time.perf_counter()
        forecasts = prep.forecasts[i]
        assets, window = window_assets(
            inputs.assets, scenario, horizon, start, stop, state, forecasts
        )
        t_windows += time.perf_counter() - t0
        key = structure_key(assets, window) if spec.reuse_model else None
        model = models.get(key) if key is not None else None
        t0 = time.perf_counter()
        if model is None:
            model = ReusableModel(assets, window)
            ops.builds += 1
            t_build += time.perf_counter() - t0
            if key is not None:
                models[key] = model
        else:
            model.update(assets, window)
            t_update += time.perf_counter() - t0
        t0 = time.perf_counter()
        result = model.solve(time_limit_s=time_limit_s)
        ops.solves += 1
        t_solve += time.perf_counter() - t0
        if result.status == "Optimal":
            plan = _plan(model, result, site)
        else:
            plan = _elastic_plan(assets, window, result.status, time_limit_s, site)
            ops.elastic_windows.append(horizon.index[start].isoformat())
        _apply(scenario, inputs, ops, state, plan, forecasts, start, until, spec.real_time_rule)
    ops.timings_s = {
        "windows": t_windows,
        "builds": t_build,
        "updates": t_update,
        "solves": t_solve,
    }
    return ops


def _plan(model: ReusableModel, result: Any, site: Any) -> dict[str, np.ndarray]:
    """The window's schedule by result column (``<asset>_<variable>``)."""
    return _plan_columns(model.model, lambda var: model.values(result, var), site)


def _plan_columns(m: Any, values: Any, site: Any) -> dict[str, np.ndarray]:
    """The plan's columns, reading each variable through ``values(var)``."""
    plan = {"grid_import_kw": values(m.asset["grid"].import_kw)}
    for a in site.pv:
        plan[f"{a.name}_pv_kw"] = values(m.asset[a.name].pv_kw)
    for b in site.batteries:
        block = m.asset[b.name]
        plan[f"{b.name}_charge_kw"] = values(block.charge_kw)
        plan[f"{b.name}_discharge_kw"] = values(block.discharge_kw)
        plan[f"{b.name}_soc_kwh"] = values(block.soc_kwh)
    for f in site.flexible_loads:
        var = "power_kw" if f.kind == "shiftable" else "shed_kw"
        plan[f"{f.name}_{var}"] = values(getattr(m.asset[f.name], var))
    return plan


def _elastic_plan(
    assets: list[Any],
    window: Any,
    status: str,
    time_limit_s: float | None,
    site: Any,
) -> dict[str, np.ndarray]:
    """Plan a window that is infeasible on its forecasts with the elastic model.

    Any other answer that is not optimal (unbounded) raises: a solve that found no
    answer raised already (:func:`vpp.model.solve.solve`).
    """
    if status not in INFEASIBLE_STATUSES:
        raise SolverError(
            f"HiGHS ended the window issued at {window.index[0].isoformat()} with status '{status}'"
        )
    model = build_model(assets, window, elastic=True)
    result = solve(model, time_limit_s=time_limit_s)
    if result.status != "Optimal":
        raise SolverError(
            f"the window issued at {window.index[0].isoformat()} is infeasible on its "
            f"forecasts and its elastic model ended with status '{result.status}'"
        )
    return _plan_columns(model, result.values, site)


def _apply(
    scenario: Scenario,
    inputs: SiteInputs,
    ops: Operated,
    state: WindowState,
    plan: dict[str, np.ndarray],
    forecasts: dict[str, np.ndarray],
    start: int,
    until: int,
    rule: str,
) -> None:
    """Settle steps ``start..until-1`` of a plan on actuals by the real-time rule.

    The order follows the power flow: flexible loads as scheduled, batteries by
    :func:`vpp.sim.real_time.run_batteries` against the actual net demand, then PV
    curtailed only as far as the export limit needs, and the grid takes the rest. The
    guard may leave a battery below the plan at the end of the horizon: the summary
    reports and prices that shortfall (:func:`vpp.sim.rolling_summary.final_soc_shortfall`).
    """
    site = scenario.site
    grid = site.grid
    dt_h = inputs.horizon.step_h
    k = until - start
    span = slice(start, until)
    cols = ops.columns
    actual = inputs.series
    cols["load_forecast_kw"][span] = forecasts["load_kw"][:k]
    cols["grid_import_plan_kw"][span] = plan["grid_import_kw"][:k]
    demand = actual["load_kw"].to_numpy()[span].copy()
    for f in site.flexible_loads:
        if f.kind == "shiftable":
            power = np.maximum(plan[f"{f.name}_power_kw"][:k], 0.0)
            cols[f"{f.name}_power_kw"][span] = power
            demand += power
            window_id = next(a for a in inputs.assets if a.name == f.name).series["window_id"]
            ids = window_id[span]
            inside = ids >= 0
            np.add.at(state.served_kwh[f.name], ids[inside], power[inside] * dt_h)
        else:
            power = actual[f"{f.name}_power_kw"].to_numpy()[span]
            shed = np.clip(plan[f"{f.name}_shed_kw"][:k], 0.0, f.max_shed_fraction * power)
            cols[f"{f.name}_shed_kw"][span] = shed
            demand += power - shed
    pv = {a.name: actual[f"{a.name}_available_kw"].to_numpy()[span].copy() for a in site.pv}
    for a in site.pv:
        cols[f"{a.name}_forecast_kw"][span] = forecasts[f"{a.name}_available_kw"][:k]
    supply = sum(pv.values()) if pv else np.zeros(k)
    months = inputs.horizon.month_index
    guard = None
    if rule == "peak_guard":
        planned = plan["grid_import_kw"]
        window_months = months[start : start + len(planned)]
        guard = {
            int(m): max(float(state.month_peak_kw[m]), float(planned[window_months == m].max()))
            for m in np.unique(months[span]).tolist()
        }
    run = run_batteries(
        site.batteries,
        state.soc_kwh,
        {b.name: plan[f"{b.name}_charge_kw"][:k] for b in site.batteries},
        {b.name: plan[f"{b.name}_discharge_kw"][:k] for b in site.batteries},
        demand - supply,
        dt_h,
        guard_kw=guard,
        month_of=months[span],
        import_limit_kw=grid.import_limit_kw,
    )
    for b in site.batteries:
        cols[f"{b.name}_charge_kw"][span] = run.charge_kw[b.name]
        cols[f"{b.name}_discharge_kw"][span] = run.discharge_kw[b.name]
        demand += run.charge_kw[b.name] - run.discharge_kw[b.name]
        state.soc_kwh[b.name] = run.soc_kwh[b.name]
    net = demand - supply
    export = np.maximum(-net, 0.0)
    over = np.maximum(export - grid.export_limit_kw, 0.0)
    if pv and over.any():
        total = np.maximum(supply, 1e-12)
        cut = np.minimum(over, supply)
        for name in pv:
            pv[name] -= cut * pv[name] / total
        export -= cut
        over -= cut
    for name, values in pv.items():
        cols[f"{name}_pv_kw"][span] = values
    imp = np.maximum(net, 0.0)
    cols["grid_import_kw"][span] = imp
    cols["grid_export_kw"][span] = export
    limit = grid.import_limit_kw
    cols["grid_import_violation_kw"][span] = (
        np.maximum(imp - limit, 0.0) if limit is not None else 0.0
    )
    cols["grid_export_violation_kw"][span] = over
    np.maximum.at(state.month_peak_kw, months[span], imp)
