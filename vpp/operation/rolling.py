"""A year as it would be operated: daily re-optimization on forecasts, settled on actuals.

Before the first solve, every precondition is checked and the forecast of every decision
issued (:mod:`vpp.operation.prepare`), so that a run that cannot finish says so at once.

At each decision step (:func:`vpp.operation.windows.decision_steps`: every
``interval_h`` from ``reoptimize_hour``) the site is optimized over the look-ahead
window on that moment's forecasts and state (:mod:`vpp.operation.windows`): each
asset's window input is its unit's :meth:`~vpp.assets.base.AssetUnit.window`, and its
plan is read by :meth:`~vpp.assets.base.AssetUnit.plan_columns`. The plan is applied
until the next decision and settled against what actually happened by the
**real-time rule** ``operation.rolling.real_time_rule``
(:data:`vpp.operation.real_time.REAL_TIME_RULE`), each unit through its real-time
controller, driven by one site loop (:func:`vpp.operation.real_time.apply_span`):

- shiftable, curtailable and deferrable loads follow the schedule (a shed is capped at
  the actual sheddable power);
- the batteries follow their power set points within their state-of-charge bounds;
  with ``peak_guard`` (the default) they also hold the import at the month's peak so
  far or the plan's, whichever is higher;
- EV fleets follow the schedule within each session's limits (connected power, the
  energy the session still needs);
- PV produces all it actually can, curtailed only to keep export within the export
  limit;
- the grid takes the rest. Import above the import limit, and export above the
  export limit that curtailment cannot remove, are **violations**: counted, summed
  and reported with their first time, never hidden.

Each unit carries its state into the next window
(:meth:`~vpp.assets.base.AssetUnit.carry`): the state of charge, the month-to-date peak
import, the energy shiftable loads have already received, the energy each EV session
has been given, the runs of deferrable loads. Windows with the same structure share
one compiled model (:class:`vpp.model.update.ReusableModel`); a window with a kind that
has no parameter updater (EV fleets, deferrable loads) is built for that window only. A
window that is infeasible on its forecasts (for example a load forecast above the import
limit plus storage) is planned with the elastic model instead, and counted. A window
with integer variables (a deferrable load) is solved by branch and cut with the
scenario's ``operation.mip_gap`` and ``operation.mip_time_limit_s``
(:func:`mip_options`).

Finally green contracts, certificates and the carbon account are settled over the
whole horizon on the settled dispatch (:func:`settle`): the full site model with
every physical quantity held at its settled value (each unit's
:meth:`~vpp.assets.base.AssetUnit.hold`), so that the bill, the objective
check and the summary are computed exactly as for a perfect-foresight run.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.control import Applied
from vpp.errors import InfeasibleError, SolverError
from vpp.model import build_model, solve
from vpp.model.strategies import INFEASIBLE_STATUSES, MipOptions
from vpp.model.update import ReusableModel, structure_key
from vpp.operation.prepare import Prepared, prepare_rolling
from vpp.operation.real_time import apply_span
from vpp.operation.settlement import settle
from vpp.operation.summary import rolling_summary
from vpp.operation.windows import Operated, initial_states, window_assets
from vpp.runs.perfect import finish_run, run_perfect
from vpp.runs.result import Progress, RunResult
from vpp.scenario.schema import Scenario


def run_rolling(
    scenario: Scenario, *, time_limit_s: float | None = None, progress: Progress | None = None
) -> RunResult:
    """Operate the scenario's horizon on a rolling horizon (module docstring).

    Every precondition is checked, and every forecast issued, before the first solve
    (:func:`vpp.operation.prepare.prepare_rolling`). Also runs the perfect-foresight
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
    extra = operated_frame(ops, inputs.horizon.index)
    timings = {**prep.timings_s, "perfect": t_perfect, **ops.timings_s, "settlement": t_settle}
    out = finish_run(scenario, inputs, model, result, timings, clock, say, extra_columns=extra)
    out.summary["mode"] = "rolling"
    out.summary["rolling"] = rolling_summary(scenario, prep.spec, inputs, ops, perfect, out)
    return out


#: Operated columns the schedule reports as they are, first in this order, then every
#: other ``*_forecast_kw`` column in model order (the report's contract).
_PLAN_COLUMNS = (
    "load_forecast_kw",
    "grid_import_plan_kw",
    "grid_import_violation_kw",
    "grid_export_violation_kw",
)


def operated_frame(ops: Operated, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The operated columns a rolling run's schedule reports (:data:`_PLAN_COLUMNS`, then
    every other ``*_forecast_kw``), on ``index`` (the horizon's steps) [kW]."""
    reported = [k for k in _PLAN_COLUMNS if k in ops.columns]
    reported += [k for k in ops.columns if k.endswith("_forecast_kw") and k not in reported]
    return pd.DataFrame({k: ops.columns[k][: len(index)] for k in reported}, index=index)


def operate(
    scenario: Scenario,
    prep: Prepared,
    *,
    time_limit_s: float | None = None,
    say: Progress = lambda _msg: None,
) -> Operated:
    """Plan each window on its forecasts and settle it on actuals (module docstring)."""
    inputs, spec = prep.inputs, prep.spec
    horizon = inputs.horizon
    n = horizon.n
    ops = Operated(load_evaluation=prep.load_evaluation)
    planned = [a for a in inputs.assets if unit(a.kind).in_windows(a)]
    for a in planned:
        ops.columns.update(unit(a.kind).operated_columns(a, n))
    state = initial_states(inputs.assets, horizon)
    models: dict[Any, ReusableModel] = {}
    decisions = prep.decisions
    t_solve = t_build = t_update = t_windows = 0.0
    month_seen = None
    mip = mip_options(scenario)
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
        key = structure_key(assets, window)
        t0 = time.perf_counter()
        if key is None:  # a kind without a parameter updater: built for this window only
            once = build_model(assets, window)
            ops.builds += 1
            t_build += time.perf_counter() - t0
            t0 = time.perf_counter()
            result = solve(once, time_limit_s=time_limit_s, mip=mip)
            read = (once, result.values)
        else:
            model = models.get(key) if spec.reuse_model else None
            if model is None:
                model = ReusableModel(assets, window)
                ops.builds += 1
                t_build += time.perf_counter() - t0
                if spec.reuse_model:
                    models[key] = model
            else:
                model.update(assets, window)
                t_update += time.perf_counter() - t0
            t0 = time.perf_counter()
            result = model.solve(time_limit_s=time_limit_s)
            read = (model.model, lambda var, m=model, r=result: m.values(r, var))
        ops.solves += 1
        t_solve += time.perf_counter() - t0
        if result.has_solution:  # optimal, or a MIP's best point at its time limit
            plan = _plan_columns(*read, assets)
        else:
            plan = _elastic_plan(assets, window, result.status, time_limit_s, mip)
            ops.elastic_windows.append(horizon.index[start].isoformat())
        applied = Applied(
            scenario, horizon, start, until, plan, forecasts, inputs.series, spec.real_time_rule
        )
        settle_span(planned, ops, state, applied)
    ops.final_states = state
    ops.timings_s = {
        "windows": t_windows,
        "builds": t_build,
        "updates": t_update,
        "solves": t_solve,
    }
    return ops


def _plan_columns(m: Any, values: Any, assets: list[Any]) -> dict[str, np.ndarray]:
    """The plan's columns, each unit reading its block through ``values(var)``."""
    plan: dict[str, np.ndarray] = {}
    for a in assets:
        plan.update(unit(a.kind).plan_columns(m.asset[a.name], a, values))
    return plan


def mip_options(scenario: Scenario) -> MipOptions:
    """The branch-and-cut options of each window with integer variables (a deferrable
    load): the scenario's ``operation.mip_gap`` and ``operation.mip_time_limit_s``, as
    a perfect-foresight run solves with them."""
    operation = scenario.operation
    return MipOptions(gap=operation.mip_gap, time_limit_s=operation.mip_time_limit_s)


def _elastic_plan(
    assets: list[Any],
    window: Any,
    status: str,
    time_limit_s: float | None,
    mip: MipOptions | None = None,
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
    result = solve(model, time_limit_s=time_limit_s, mip=mip)
    if not result.has_solution:
        raise SolverError(
            f"the window issued at {window.index[0].isoformat()} is infeasible on its "
            f"forecasts and its elastic model ended with status '{result.status}'"
        )
    return _plan_columns(model, result.values, assets)


def settle_span(planned: list[Any], ops: Operated, state: dict[str, Any], applied: Applied) -> None:
    """Settle the applied span of a plan on actuals by the real-time rule
    (:func:`vpp.operation.real_time.apply_span`), write the settled columns and carry each
    asset's state into the next window.

    The peak guard may leave a battery below the plan at the end of the horizon: the
    summary reports and prices that shortfall
    (:func:`vpp.operation.summary.final_soc_shortfall`).
    """
    span = applied.span
    ctrls = apply_span(planned, state, applied, ops.guard_misses)
    for a in planned:
        c = ctrls[a.name]
        for name, values in c.columns().items():
            ops.columns[name][span] = values
        state[a.name] = unit(a.kind).carry(a, state[a.name], c)
