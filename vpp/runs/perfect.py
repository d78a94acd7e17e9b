"""A perfect-foresight dispatch run of one site, with its baselines and summary.

:func:`run_perfect` builds and solves the site's model over the whole horizon;
:func:`finish_run` turns any solved full-horizon model (this one, a rolling run's
settlement, a park's site) into a checked :class:`~vpp.runs.result.RunResult`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import pandas as pd

from vpp.assets.columns import role_columns
from vpp.assets.grid.limits import battery_export_note
from vpp.errors import InfeasibleError, SolverError
from vpp.inputs.site import SiteInputs, build_inputs, describe
from vpp.model import build_model, extract, solve
from vpp.model.strategies import INFEASIBLE_STATUSES, MipOptions
from vpp.runs.baseline import baseline_schedule, import_limit_violations
from vpp.runs.baselines import baseline_schedules, baselines_summary
from vpp.runs.bill import bill
from vpp.runs.carbon import carbon_summary, green_summary
from vpp.runs.diagnosis import diagnose
from vpp.runs.flows import energy_flows_kwh
from vpp.runs.kpis import run_kpis
from vpp.runs.result import Progress, RunResult
from vpp.runs.solved_schedule import check_objective, with_derived_columns
from vpp.runs.tariff_report import bill_report
from vpp.scenario.schema import Scenario

__all__ = ["finish_run", "raise_for_status", "run_perfect"]

#: Detail lines (``vpp -v`` shows them).
_log = logging.getLogger(__name__)


def run_perfect(
    scenario: Scenario,
    *,
    time_limit_s: float | None,
    progress: Progress | None,
    inputs: SiteInputs | None = None,
) -> RunResult:
    """The perfect-foresight run of :func:`vpp.sim.run.run`; ``inputs`` if already built."""
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
    operation = scenario.operation
    mip = MipOptions(gap=operation.mip_gap, time_limit_s=operation.mip_time_limit_s)
    result = solve(model, time_limit_s=time_limit_s, progress=progress, mip=mip)
    _log.debug(
        "    HiGHS: %s, %d columns, %d rows, objective %.2f CNY, compile %.2f s, solve %.2f s",
        result.status,
        len(result.lp.columns),
        len(result.lp.rows),
        result.objective_cny,
        result.timings_s.get("compile", float("nan")),
        result.timings_s.get("solve", float("nan")),
    )
    if not result.has_solution:
        raise_for_status(result.status, inputs)
    mip_note = result.solver.mip.note() if result.solver and result.solver.mip else None
    if mip_note:  # a MIP at its time limit: the best schedule found, with its gap
        inputs = dataclasses.replace(inputs, notes=[*inputs.notes, mip_note])
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
    schedule = with_derived_columns(pd.concat(parts, axis=1), scenario)
    optimized = bill(schedule, scenario, horizon.step_h)
    objective = solved.objective_cny if objective_cny is None else objective_cny
    check_objective(objective, optimized, schedule, scenario, horizon.step_h)
    say("baseline and summary")
    base = baseline_schedule(inputs, scenario)
    base_bill = bill(base, scenario, horizon.step_h)
    t0 = time.perf_counter()
    schedules, rule = baseline_schedules(inputs, scenario, base)
    timings = {**timings, **solved.timings_s}
    summary = _summary(scenario, inputs, schedule, optimized, base, base_bill, result.status)
    summary["baselines"] = baselines_summary(schedules, rule, scenario, horizon.step_h)
    summary["kpis"] = run_kpis(schedule, scenario, horizon.step_h, summary, summary["baselines"])
    summary = _with_savings_split(summary)
    timings["baselines"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - clock
    summary["final_soc_kwh"] = {
        b.name: solved.final_state[column]
        for _, b, column in role_columns(scenario.site, "storage_soc")
    }
    summary["timings_s"] = {k: round(v, 4) for k, v in timings.items()}
    solver = getattr(result, "solver", None)  # which HiGHS strategy answered (vpp.model.solve)
    summary["solver"] = solver.to_dict() if solver is not None else None
    return RunResult(
        scenario=scenario,
        schedule=schedule,
        baseline=base,
        summary=summary,
        baselines=schedules,
        horizon=horizon,
    )


def raise_for_status(status: str, inputs: SiteInputs) -> None:
    """Raise the error that explains an answer that is not optimal.

    A solve that found no answer (a time limit, a stall) raised already
    (:func:`vpp.model.solve.solve`); this explains the answers that are not optimal.

    Parameters
    ----------
    status : str
        HiGHS's status of the solve.
    inputs : SiteInputs
        The site solved, diagnosed when it is infeasible.

    Raises
    ------
    InfeasibleError
        Infeasible: with the problems of :func:`vpp.runs.diagnosis.diagnose`.
    SolverError
        Any other status (unbounded).
    """
    if status in INFEASIBLE_STATUSES:
        raise InfeasibleError(diagnose(inputs))
    raise SolverError(f"HiGHS ended with status '{status}'")


def _with_savings_split(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with ``savings_<part>`` after ``savings_cny``: the split of its
    savings against the pv-only baseline, as the KPIs computed it."""
    split = summary["kpis"]["vs_baseline"]["pv-only"]["savings_split_cny"]
    out: dict[str, Any] = {}
    for key, value in summary.items():
        out[key] = value
        if key == "savings_cny":
            # the savings by source: dispatch, green contracts, certificates, carbon price
            out.update({f"savings_{k}": v for k, v in split.items()})
    return out


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
    curtailed = [c for _, _, c in role_columns(scenario.site, "pv_curtailed")]
    energy["pv_curtailed_kwh"] = (
        float(schedule[curtailed].to_numpy().sum() * dt_h) if curtailed else 0.0
    )
    for _, b, column in role_columns(scenario.site, "storage_discharge"):
        energy[f"{b.name}_discharged_kwh"] = float(schedule[column].sum() * dt_h)
        energy[f"{b.name}_equivalent_full_cycles"] = energy[f"{b.name}_discharged_kwh"] / (
            b.energy_kwh * (b.soc_max_fraction - b.soc_min_fraction)
        )
    base_energy = {
        "import_kwh": float(base["grid_import_kw"].sum() * dt_h),
        "export_kwh": float(base["grid_export_kw"].sum() * dt_h),
    }
    return {
        "scenario": scenario.name,
        "currency": scenario.currency,  # of every *_cny amount (nothing is converted)
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
        "notes": [  # what the inputs dropped or clipped (not errors), and rule leaks
            *inputs.notes,
            *filter(None, [battery_export_note(scenario.site, schedule, dt_h)]),
        ],
        **{k: v for k, v in optimized.items() if k != "peak_import_kw"},
        "peak_import_kw": optimized["peak_import_kw"],
        "energy_kwh": energy,
        "energy_flows_kwh": energy_flows_kwh(schedule, dt_h),
        "baseline": {
            "description": "same site without batteries, flexibility, green contracts "
            "and certificates",
            **{k: v for k, v in base_bill.items()},
            **bill_report(scenario, base, dt_h),
            "energy_kwh": base_energy,
            "import_limit_violations": import_limit_violations(base, scenario),
        },
        "peak_shaving_kw": shaving,
        "peak_shaving_max_kw": max(shaving.values()) if shaving else 0.0,
        "savings_cny": base_bill["total_cost_cny"] - optimized["total_cost_cny"],
        "tariff": inputs.tariff_info,
        **bill_report(scenario, schedule, dt_h),
        "green": green_summary(schedule, scenario, dt_h),
        "carbon": carbon_summary(schedule, base, scenario, dt_h),
    }
