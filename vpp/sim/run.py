"""A perfect-foresight dispatch run of one site, with its baseline and summary."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC

from vpp.errors import InfeasibleError, Problem, ScenarioError, SolverError
from vpp.model import build_model, extract, solve
from vpp.model.blocks.battery import TIE_BREAK_CNY_PER_KWH
from vpp.scenario.schema import Scenario, ShiftableLoad
from vpp.sim.baseline import baseline_schedule, import_limit_violations
from vpp.sim.baselines import baseline_schedules, baselines_summary
from vpp.sim.bill import bill
from vpp.sim.carbon import (
    carbon_summary,
    diagnose_green,
    green_extra_cny,
    green_summary,
    green_tie_break_cny,
)
from vpp.sim.ev_inputs import ev_shortfall_problem
from vpp.sim.inputs import SiteInputs, build_inputs, describe
from vpp.sim.kpis import run_kpis, savings_split
from vpp.sim.tariff_report import bill_report

#: Relative agreement required between the LP objective and the recomputed bill [-].
OBJECTIVE_CHECK_RTOL = 1e-6
#: Slack below which an elastic variable counts as zero in a diagnosis [kW or kWh].
DIAGNOSIS_TOL = 1e-4
#: Operation modes of :func:`run`.
MODES = ("perfect", "rolling")

Progress = Callable[[str], None]
#: Detail lines (``vpp -v`` shows them).
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """The outcome of :func:`run`.

    Attributes
    ----------
    scenario : Scenario
        What was run.
    schedule : pandas.DataFrame
        Inputs and optimized dispatch on the horizon's index (units in column names).
    baseline : pandas.DataFrame
        The same site without batteries and flexibility.
    summary : dict
        Bill, peak shaving, energy totals, baseline figures and timings (see README);
        ``savings_cny`` against the pv-only baseline and its parts ``savings_dispatch_cny``,
        ``savings_green_contracts_cny``, ``savings_certificates_cny`` and
        ``savings_carbon_cny`` (:func:`vpp.sim.kpis.savings_split`); ``baselines`` and
        ``kpis`` (:mod:`vpp.sim.baselines`, :mod:`vpp.sim.kpis`).
    baselines : dict of str to pandas.DataFrame
        The schedules of the ``no-assets``, ``pv-only`` and ``rule-based`` baselines.
    """

    scenario: Scenario
    schedule: pd.DataFrame
    baseline: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, pd.DataFrame] = field(default_factory=dict)


def run(
    scenario: Scenario,
    *,
    mode: str | None = None,
    time_limit_s: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Optimize the scenario's site over its horizon.

    Parameters
    ----------
    scenario : Scenario
        What to run.
    mode : {"perfect", "rolling"}, optional
        ``perfect``: one optimization with perfect foresight. ``rolling``: daily
        re-optimization on forecasts, settled against actuals (:mod:`vpp.sim.rolling`).
        Default: the scenario's ``operation.mode``.
    time_limit_s : float, optional
        HiGHS time limit per solve [s].
    progress : callable, optional
        Called with a short message at each stage.

    Raises
    ------
    ScenarioError, DataError
        Bad input (exit code 2).
    InfeasibleError
        No dispatch meets every limit; the message names the limit and the hours.
    SolverError
        HiGHS failed or hit its time limit.
    """
    mode = mode or scenario.operation.mode
    if mode not in MODES:
        raise ScenarioError(
            Problem(
                "unknown operation mode",
                key="operation.mode",
                value=repr(mode),
                allowed=", ".join(MODES),
            )
        )
    # The cyclic garbage collector would scan the model's millions of small objects
    # again and again while they are created; nothing here makes reference cycles
    # that need it during the run.
    with PauseGC():
        if mode == "rolling":
            from vpp.sim.rolling import run_rolling

            return run_rolling(scenario, time_limit_s=time_limit_s, progress=progress)
        return run_perfect(scenario, time_limit_s=time_limit_s, progress=progress)


def run_perfect(
    scenario: Scenario,
    *,
    time_limit_s: float | None,
    progress: Progress | None,
    inputs: SiteInputs | None = None,
) -> RunResult:
    """The perfect-foresight run of :func:`run`; ``inputs`` when they were built already."""
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    if inputs is None:
        say("reading inputs")
        inputs = build_inputs(scenario)
    horizon = inputs.horizon
    t_inputs = time.perf_counter() - clock
    say(f"building the model ({horizon.n} steps of {horizon.step_h:g} h)")
    t0 = time.perf_counter()
    model = build_model(inputs.assets, horizon)
    t_build = time.perf_counter() - t0
    say("solving with HiGHS")
    result = solve(model, time_limit_s=time_limit_s, progress=progress)
    _log.debug(
        "    HiGHS: %s, %d columns, %d rows, objective %.2f CNY, compile %.2f s, solve %.2f s",
        result.status,
        len(result.lp.columns),
        len(result.lp.rows),
        result.objective_cny,
        result.timings_s.get("compile", float("nan")),
        result.timings_s.get("solve", float("nan")),
    )
    if result.status != "Optimal":
        raise_for_status(result.status, inputs, time_limit_s)
    timings = {"inputs": t_inputs, "build": t_build}
    return finish_run(scenario, inputs, model, result, timings, clock, say)


def finish_run(
    scenario: Scenario,
    inputs: SiteInputs,
    model: Any,
    result: Any,
    timings: dict[str, float],
    clock: float,
    say: Progress,
    extra_columns: pd.DataFrame | None = None,
    objective_cny: float | None = None,
) -> RunResult:
    """Bill, check, baselines and summary of a solved full-horizon model.

    ``extra_columns`` (on the horizon's index) are added to the schedule before the
    bill is computed (a rolling run's forecasts and plan). ``model`` may be one site's
    block of a park model; then ``objective_cny`` is that site's part of the objective
    (the bill is checked against it).
    """
    horizon = inputs.horizon
    solved = extract(model, result, horizon)
    parts = [inputs.series, solved.schedule]
    if extra_columns is not None:
        parts.append(extra_columns)
    schedule = _with_derived(pd.concat(parts, axis=1), scenario)
    optimized = bill(
        schedule, scenario, horizon.step_h, green_extra_cny(schedule, scenario, horizon.step_h)
    )
    objective = solved.objective_cny if objective_cny is None else objective_cny
    _check_objective(objective, optimized, schedule, scenario, horizon.step_h)
    say("baseline and summary")
    base = baseline_schedule(inputs, scenario)
    base_extra = green_extra_cny(base, scenario, horizon.step_h)
    base_bill = bill(base, scenario, horizon.step_h, base_extra)
    t0 = time.perf_counter()
    schedules, rule = baseline_schedules(inputs, scenario, base)
    timings = {**timings, **solved.timings_s}
    summary = _summary(scenario, inputs, schedule, optimized, base, base_bill, result.status)
    summary["baselines"] = baselines_summary(schedules, rule, scenario, horizon.step_h)
    summary["kpis"] = run_kpis(schedule, scenario, horizon.step_h, summary, summary["baselines"])
    timings["baselines"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - clock
    summary["final_soc_kwh"] = {
        b.name: solved.final_state[f"{b.name}_soc_kwh"] for b in scenario.site.batteries
    }
    summary["timings_s"] = {k: round(v, 4) for k, v in timings.items()}
    solver = getattr(result, "solver", None)  # which HiGHS strategy answered (vpp.model.solve)
    summary["solver"] = solver.to_dict() if solver is not None else None
    return RunResult(
        scenario=scenario, schedule=schedule, baseline=base, summary=summary, baselines=schedules
    )


def _with_derived(schedule: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Add curtailed PV and net import columns."""
    extra = {}
    for array in scenario.site.pv:
        extra[f"{array.name}_curtailed_kw"] = (
            schedule[f"{array.name}_available_kw"] - schedule[f"{array.name}_pv_kw"]
        ).clip(lower=0.0)
    extra["grid_net_import_kw"] = schedule["grid_import_kw"] - schedule["grid_export_kw"]
    return pd.concat([schedule, pd.DataFrame(extra, index=schedule.index)], axis=1)


def _check_objective(
    objective: float, parts: dict[str, Any], schedule: pd.DataFrame, scenario: Scenario, dt_h: float
) -> None:
    """The LP objective must equal the bill recomputed from the schedule."""
    tie = sum(
        TIE_BREAK_CNY_PER_KWH * float(schedule[f"{b.name}_charge_kw"].sum()) * dt_h
        for b in scenario.site.batteries
    )
    expected = parts["total_cost_cny"] + tie + green_tie_break_cny(schedule, dt_h)
    if abs(objective - expected) > OBJECTIVE_CHECK_RTOL * max(1.0, abs(expected)):
        raise SolverError(
            f"internal check failed: the solver's objective {objective:.6f} CNY differs from "
            f"the bill recomputed from the schedule {expected:.6f} CNY; please report this"
        )


def raise_for_status(status: str, inputs: SiteInputs, time_limit_s: float | None) -> None:
    if status in ("Infeasible", "Primal infeasible or unbounded"):
        raise InfeasibleError(diagnose(inputs))
    if status == "Time limit reached":
        raise SolverError(f"HiGHS stopped at the time limit of {time_limit_s} s without an answer")
    raise SolverError(f"HiGHS ended with status '{status}'")


def diagnose(inputs: SiteInputs) -> list[Problem]:
    """Explain an infeasible site in the user's words: which limit, which hours.

    Solves the elastic model (hard requirements softened by penalised slacks) and
    reports every slack that had to be used.
    """
    horizon = inputs.horizon
    index = horizon.index
    with PauseGC():
        model = build_model(inputs.assets, horizon, elastic=True)
    result = solve(model)
    if result.status != "Optimal":
        return [Problem(f"the scenario is infeasible (HiGHS: {result.status})")]
    problems: list[Problem] = []
    unserved = result.values(model.unserved_kw)
    bad = np.flatnonzero(unserved > DIAGNOSIS_TOL)
    if bad.size:
        grid = next(a.spec for a in inputs.assets if a.kind == "grid")
        limit = grid.import_limit_kw
        first = ", ".join(index[i].isoformat() for i in bad[:5])
        load = inputs.series["load_kw"].to_numpy()
        problems.append(
            Problem(
                f"the load cannot be served: the grid import limit of {limit:g} kW plus the "
                f"site's own supply (PV, batteries, load shedding) falls short by up to "
                f"{unserved[bad].max():.1f} kW in {bad.size} step(s); first: {first} "
                f"(load there {load[bad[0]]:.1f} kW)",
                key="site.grid.import_limit_kw",
                timestamp=index[bad[0]].isoformat(),
                value=f"{limit:g} kW",
                fix="raise the import limit, add local supply or storage, or check the load",
            )
        )
    surplus = result.values(model.surplus_kw)
    bad = np.flatnonzero(surplus > DIAGNOSIS_TOL)
    if bad.size:
        problems.append(
            Problem(
                f"more power than the site can use, store or export in {bad.size} step(s), "
                f"up to {surplus[bad].max():.1f} kW",
                key="site.grid.export_limit_kw",
                timestamp=index[bad[0]].isoformat(),
                fix="raise the export limit or let the supply be curtailed",
            )
        )
    for asset in inputs.assets:
        block = model.asset[asset.name]
        if asset.kind != "shiftable" or not hasattr(block, "shortfall_kwh"):
            continue
        flex: ShiftableLoad = asset.spec
        short = result.values(block.shortfall_kwh)
        window_id = asset.series["window_id"]
        due = asset.series["window_energy_kwh"]
        bad_windows = np.flatnonzero(short > DIAGNOSIS_TOL)
        if bad_windows.size == 0:
            continue
        k = int(bad_windows[0])
        steps = np.flatnonzero(window_id == k)
        fits = flex.max_power_kw * steps.size * horizon.step_h
        opens = ", ".join(
            index[np.flatnonzero(window_id == j)[0]].isoformat() for j in bad_windows[:3]
        )
        problems.append(
            Problem(
                f"shiftable load '{flex.name}' cannot take its energy inside its window "
                f"{flex.window_start}-{flex.window_end} in {bad_windows.size} window(s) "
                f"(first steps: {opens}): the first needs {due[k]:.1f} kWh but at most "
                f"{fits:.1f} kWh fits in its {steps.size} step(s) at {flex.max_power_kw:g} kW",
                key=f"site.flexible_loads '{flex.name}'",
                timestamp=index[steps[0]].isoformat(),
                value=f"energy_kwh {flex.energy_kwh:g}",
                fix="lower energy_kwh, raise max_power_kw or widen the window",
            )
        )
    for asset in inputs.assets:  # EV sessions short of their energy by departure
        block = model.asset[asset.name]
        if asset.kind != "ev_fleet" or asset.spec.unmet != "infeasible":
            continue
        unmet = result.values(block.unmet_kwh)
        if unmet.sum() > DIAGNOSIS_TOL:
            short = result.values(block.shortfall_kwh) if hasattr(block, "shortfall_kwh") else None
            problems.append(ev_shortfall_problem(asset, unmet, short))
    problems += diagnose_green(model, result, inputs)
    if not problems:
        problems.append(Problem("the scenario is infeasible, but no single limit explains it"))
    return problems


def _summary(
    scenario: Scenario,
    inputs: SiteInputs,
    schedule: pd.DataFrame,
    optimized: dict[str, Any],
    base: pd.DataFrame,
    base_bill: dict[str, Any],
    status: str,
) -> dict[str, Any]:
    horizon = inputs.horizon
    dt_h = horizon.step_h
    shaving = {
        month: base_bill["peak_import_kw"][month] - peak
        for month, peak in optimized["peak_import_kw"].items()
    }
    energy = describe(inputs)
    energy["import_kwh"] = float(schedule["grid_import_kw"].sum() * dt_h)
    energy["export_kwh"] = float(schedule["grid_export_kw"].sum() * dt_h)
    curtailed = [f"{a.name}_curtailed_kw" for a in scenario.site.pv]
    energy["pv_curtailed_kwh"] = (
        float(schedule[curtailed].to_numpy().sum() * dt_h) if curtailed else 0.0
    )
    for b in scenario.site.batteries:
        energy[f"{b.name}_discharged_kwh"] = float(schedule[f"{b.name}_discharge_kw"].sum() * dt_h)
        energy[f"{b.name}_equivalent_full_cycles"] = energy[f"{b.name}_discharged_kwh"] / (
            b.energy_kwh * (b.soc_max_fraction - b.soc_min_fraction)
        )
    base_energy = {
        "import_kwh": float(base["grid_import_kw"].sum() * dt_h),
        "export_kwh": float(base["grid_export_kw"].sum() * dt_h),
    }
    return {
        "scenario": scenario.name,
        "mode": "perfect",
        "horizon": {
            "start": str(horizon.index[0]),
            "end": str(horizon.index[-1] + pd.Timedelta(hours=dt_h)),
            "step_h": dt_h,
            "steps": horizon.n,
        },
        "status": status,
        "weather": {"source": inputs.weather_source, "notes": list(inputs.weather_notes)}
        if inputs.weather_source
        else None,
        **{k: v for k, v in optimized.items() if k != "peak_import_kw"},
        "peak_import_kw": optimized["peak_import_kw"],
        "energy_kwh": energy,
        "baseline": {
            "description": "same site without batteries, flexibility, green contracts "
            "and certificates",
            **{k: v for k, v in base_bill.items()},
            **bill_report(scenario, base, dt_h, green_extra_cny(base, scenario, dt_h)),
            "energy_kwh": base_energy,
            "import_limit_violations": import_limit_violations(base, scenario),
        },
        "peak_shaving_kw": shaving,
        "peak_shaving_max_kw": max(shaving.values()) if shaving else 0.0,
        "savings_cny": base_bill["total_cost_cny"] - optimized["total_cost_cny"],
        # the same savings by source: dispatch, green contracts, certificates, carbon price
        **{f"savings_{k}": v for k, v in savings_split(optimized, base_bill).items()},
        "tariff": inputs.tariff_info,
        **bill_report(scenario, schedule, dt_h, green_extra_cny(schedule, scenario, dt_h)),
        "green": green_summary(schedule, scenario, dt_h),
        "carbon": carbon_summary(schedule, base, scenario, dt_h),
    }
