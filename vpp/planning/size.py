"""Size PV and storage: capacities as decisions, a year of dispatch as the operating model.

:func:`size` builds the site model of a perfect-foresight run with every candidate
(an asset with a ``sizing`` entry, :mod:`vpp.scenario.planning`) made sized
(:mod:`vpp.model.blocks.sizing`), and minimizes

.. math::

    \\sum_{c} y \\left(\\mathrm{CRF}(r, L_c)\\, I_c + O_c\\right) x_c
    \\;+\\; \\text{the horizon's bill}

where :math:`x_c` is a candidate's size, :math:`I_c` its capital cost per unit (a
battery's replacement at its present value :math:`R/(1+r)^k` added to it), :math:`O_c`
its fixed O&M per unit and year, :math:`L_c` its lifetime, :math:`r` the discount rate
and :math:`y` the horizon's length in years (a year for the demo: the full year of
hourly dispatch is the operating model; no typical-day aggregation).

Then it checks itself: the chosen sizes are written into a scenario (``sized``), which
is run as an ordinary fixed-size dispatch; its bill must equal the operating part of
the sizing objective. The site without the candidates (``as_is``) is run too, and the
investment is valued against it over the analysis period (:mod:`vpp.planning.finance`).

The cost-carbon frontier (:func:`frontier`) re-solves the same compiled model under a
list of caps on the site's location-based electricity emissions (grid import times
the grid factor; market-based emissions can be met with certificates and show no
physical trade-off).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from vpp.errors import InfeasibleError, Problem, ScenarioError, SolverError
from vpp.model import build_model, solve
from vpp.model.blocks import linear
from vpp.model.blocks.battery import TIE_BREAK_CNY_PER_KWH
from vpp.model.solve import INF, compile_lp
from vpp.planning.finance import Investment, crf, finance_summary
from vpp.scenario.load import validate_scenario
from vpp.scenario.schema import Battery, Scenario
from vpp.sim.carbon import green_tie_break_cny
from vpp.sim.inputs import build_inputs
from vpp.sim.run import RunResult, diagnose, run

#: Sizes below this are "build nothing" [kWp or kWh].
MIN_SIZE = 1e-3
#: The sized dispatch's bill vs the operating part of the sizing objective [-].
SIZE_CHECK_RTOL = 1e-6
#: Hours in the year that annual costs refer to [h].
HOURS_PER_YEAR = 8760.0
_KG_PER_T = 1000.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SizingResult:
    """The outcome of :func:`size`.

    Attributes
    ----------
    scenario : Scenario
        The planning scenario.
    sized : Scenario
        The same with the chosen sizes (candidates sized to nothing removed); ``vpp run``
        dispatches it.
    sizes : dict
        Per candidate: ``kind`` and ``capacity_kw`` (PV) or ``energy_kwh``, ``power_kw``
        and ``units`` (battery).
    summary : dict
        Sizes, annual costs, the self-check, finance (NPV, IRR, paybacks, LCOE, LCOS,
        CO2 avoided), timings.
    dispatch, as_is : RunResult
        The sized site's perfect-foresight run, and the site as it is (its optimal
        dispatch and bill only, :func:`bill_only`).
    frontier : pandas.DataFrame or None
        Cost-carbon frontier points, when asked.
    """

    scenario: Scenario
    sized: Scenario
    sizes: dict[str, dict[str, Any]]
    summary: dict[str, Any]
    dispatch: RunResult
    as_is: RunResult
    frontier: pd.DataFrame | None = None
    cash_flows: pd.DataFrame = field(default_factory=pd.DataFrame)


def candidates(scenario: Scenario) -> list[Any]:
    """The PV arrays and batteries that carry a ``sizing`` entry."""
    site = scenario.site
    return [a for a in (*site.pv, *site.batteries) if getattr(a, "sizing", None) is not None]


def _check(scenario: Scenario) -> None:
    if scenario.finance is None:
        raise ScenarioError(
            Problem(
                "sizing needs a 'finance' entry (discount rate, analysis period)",
                key="finance",
                value="missing",
                fix="add for example: finance: {discount_rate: 0.06, analysis_years: 20}",
            )
        )
    if not candidates(scenario):
        raise ScenarioError(
            Problem(
                "nothing to size: no PV array or battery has a 'sizing' entry",
                key="site.pv[i].sizing / site.batteries[i].sizing",
                fix="add sizing: {max_kw or area_m2, capex_cny_per_kw} to a rooftop, carport "
                "or clearsky array, or sizing: {max_energy_kwh, capex_cny_per_kwh} to a battery",
            )
        )
    target = scenario.site.renewable_target
    sized_batteries = {b.name for b in scenario.site.batteries if b.sizing is not None}
    clash = sized_batteries & set(target.green_storage if target else [])
    if clash:
        raise ScenarioError(
            Problem(
                "a battery being sized cannot also be tracked as green storage",
                key="site.renewable_target.green_storage",
                value=str(sorted(clash)),
                fix="size it first, then track it with its fixed size",
            )
        )


def _years(horizon: Any) -> float:
    return horizon.n * horizon.step_h / HOURS_PER_YEAR


def _sizing_series(asset: Any, spec: Any, finance: Any, years: float) -> dict[str, np.ndarray]:
    """The sizing keys of one candidate (:mod:`vpp.model.blocks.sizing`)."""
    r = finance.discount_rate
    s = spec.sizing
    one = lambda v: np.array([float(v)])  # noqa: E731
    if isinstance(spec, Battery):
        replacement = 0.0
        if s.replacement_year is not None:
            replacement = s.replacement_cny_per_kwh / (1.0 + r) ** s.replacement_year
        factor = crf(r, s.lifetime_years)
        return {
            "energy_min_kwh": one(s.min_energy_kwh),
            "energy_max_kwh": one(s.max_energy_kwh),
            "power_max_kw": one(math.inf if s.max_power_kw is None else s.max_power_kw),
            "duration_h": one(math.nan if s.duration_h is None else s.duration_h),
            "unit_energy_kwh": one(math.nan if s.unit_energy_kwh is None else s.unit_energy_kwh),
            "energy_cost_cny_per_kwh": one(years * factor * (s.capex_cny_per_kwh + replacement)),
            "power_cost_cny_per_kw": one(
                years * (factor * s.capex_cny_per_kw + s.om_cny_per_kw_year)
            ),
        }
    reference = float(spec.dc_capacity_kw)
    return {
        "capacity_min_kw": one(s.min_kw),
        "capacity_max_kw": one(s.limit_kw),
        "capacity_cost_cny_per_kw": one(
            years * (crf(r, s.lifetime_years) * s.capex_cny_per_kw + s.om_cny_per_kw_year)
        ),
        "available_per_kw": np.asarray(asset.series["available_kw"], float) / reference,
    }


@dataclass
class SizingModel:
    """The built and compiled sizing model, kept for the frontier's re-solves."""

    inputs: Any
    model: Any
    lp: Any = None
    cap_row: int | None = None


def build_sizing_model(scenario: Scenario, *, with_cap: bool = False) -> SizingModel:
    """Inputs with the candidates sized, the Pyomo model, and (optionally) an emission-cap row.

    The cap row, ``emission_cap``, is :math:`\\sum_t f_t P^{imp}_t \\Delta t / 1000 \\le
    \\bar E` [t] with :math:`\\bar E` infinite until :func:`frontier` sets it.
    """
    inputs = build_inputs(scenario)
    horizon = inputs.horizon
    years = _years(horizon)
    sized = {c.name: c for c in candidates(scenario)}
    assets = []
    for a in inputs.assets:
        if a.name in sized and a.kind in ("pv", "battery"):
            a = dataclasses.replace(
                a, series={**a.series, **_sizing_series(a, sized[a.name], scenario.finance, years)}
            )
        assets.append(a)
    inputs = dataclasses.replace(inputs, assets=assets)
    with PauseGC():
        model = build_model(assets, horizon)
        if with_cap:
            factor = inputs.series["grid_factor_kg_per_kwh"].to_numpy() * horizon.step_h
            grid = model.asset["grid"]
            coefs = (factor / _KG_PER_T).tolist()
            model.emission_cap = pyo.Constraint(
                expr=(None, linear(coefs, list(grid.import_kw.values())), 1.0e12)
            )
    return SizingModel(inputs, model)


def size(
    scenario: Scenario,
    *,
    frontier_points: int = 0,
    time_limit_s: float | None = None,
    progress: Progress | None = None,
) -> SizingResult:
    """Choose the candidates' sizes at least lifecycle cost (module docstring).

    Parameters
    ----------
    scenario : Scenario
        With ``finance`` and at least one candidate.
    frontier_points : int
        Points of the cost-carbon frontier (0: none).
    time_limit_s : float, optional
        HiGHS time limit per solve [s].
    progress : callable, optional
        Called with a short message at each stage.

    Raises
    ------
    ScenarioError, DataError
        Bad input (exit code 2).
    InfeasibleError, SolverError
        As :func:`vpp.sim.run.run`.
    """
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    _check(scenario)
    say("building the sizing model")
    sm = build_sizing_model(scenario, with_cap=frontier_points > 0)
    t_build = time.perf_counter() - clock
    say("solving with HiGHS")
    t0 = time.perf_counter()
    sm.lp = compile_lp(sm.model)
    # the sized LP couples every step to the sizes: HiGHS's interior point (with
    # crossover, so the answer is a vertex) solves it in about 2/3 of the dual
    # simplex's time on the demo year (benchmarks/README.md)
    sm.lp.highs.setOptionValue("solver", "ipm")
    # no crossover: the sizes need no vertex (the self-check re-runs them as a dispatch,
    # which is solved to a vertex), and crossover took a further 2 s of 18 on the demo
    sm.lp.highs.setOptionValue("run_crossover", "off")
    result = solve(sm.lp, time_limit_s=time_limit_s)
    if result.status != "Optimal":
        _raise(result.status, sm, time_limit_s)
    t_solve = time.perf_counter() - t0
    sizes, investment = _sizes(scenario, sm, result)
    operating = result.objective_cny - investment
    sized = sized_scenario(scenario, sizes)
    say("running the sized site and the site as it is")
    t0 = time.perf_counter()
    dispatch = run(sized, time_limit_s=time_limit_s)
    as_is = bill_only(without_candidates(scenario), time_limit_s=time_limit_s)
    t_runs = time.perf_counter() - t0
    check = _self_check(operating, dispatch)
    years = _years(sm.inputs.horizon)
    investments = _investments(scenario, sizes, dispatch, years)
    savings = (as_is.summary["total_cost_cny"] - dispatch.summary["total_cost_cny"]) / years
    pv_value, pv_co2 = _pv_share(scenario, sizes, dispatch, years)
    co2 = (_electricity_t(as_is.schedule) - _electricity_t(dispatch.schedule)) / years
    fin = finance_summary(
        investments,
        annual_savings_cny=savings,
        pv_savings_cny=min(pv_value, max(savings, 0.0)) if savings > 0 else 0.0,
        finance=scenario.finance,
        annual_co2_avoided_t=co2,
        pv_co2_avoided_t=min(pv_co2, max(co2, 0.0)) if co2 > 0 else 0.0,
    )
    cash = pd.DataFrame(fin.pop("cash_flows"))
    points = None
    if frontier_points > 0:
        say(f"cost-carbon frontier ({frontier_points} points)")
        points = frontier(sm, scenario, result, frontier_points, time_limit_s=time_limit_s)
    summary = {
        "scenario": scenario.name,
        "sizes": sizes,
        "horizon_years": years,
        "annualized_investment_cny": investment / years,
        "operating_cost_cny": operating,
        "objective_cny": result.objective_cny,
        "as_is_total_cost_cny": as_is.summary["total_cost_cny"],
        "sized_total_cost_cny": dispatch.summary["total_cost_cny"],
        "annual_savings_cny": savings,
        "annual_co2_avoided_t": co2,
        "check": check,
        "finance": fin,
        "frontier": None if points is None else points.to_dict("records"),
        "timings_s": {
            "build": round(t_build, 4),
            "solve": round(t_solve, 4),
            "runs": round(t_runs, 4),
            "total": round(time.perf_counter() - clock, 4),
        },
    }
    return SizingResult(scenario, sized, sizes, summary, dispatch, as_is, points, cash)


def bill_only(scenario: Scenario, *, time_limit_s: float | None = None) -> RunResult:
    """The site's optimal dispatch and bill, without baselines, KPIs or report tables.

    The site as it is only serves as the reference of the investment: its schedule and
    ``total_cost_cny`` are all :func:`size` reads.
    """
    from vpp.model import extract
    from vpp.sim.bill import bill
    from vpp.sim.carbon import green_extra_cny

    inputs = build_inputs(scenario)
    with PauseGC():
        model = build_model(inputs.assets, inputs.horizon)
    result = solve(model, time_limit_s=time_limit_s)
    if result.status != "Optimal":
        _raise(result.status, SizingModel(inputs, model), time_limit_s)
    dt_h = inputs.horizon.step_h
    solved = extract(model, result, inputs.horizon)
    schedule = pd.concat([inputs.series, solved.schedule], axis=1)
    summary = bill(schedule, scenario, dt_h, green_extra_cny(schedule, scenario, dt_h))
    summary["horizon"] = {"step_h": dt_h, "steps": inputs.horizon.n}
    return RunResult(scenario=scenario, schedule=schedule, baseline=schedule, summary=summary)


def _raise(status: str, sm: SizingModel, time_limit_s: float | None) -> None:
    if status in ("Infeasible", "Primal infeasible or unbounded"):
        raise InfeasibleError(diagnose(sm.inputs))
    if status == "Time limit reached":
        raise SolverError(f"HiGHS stopped at the time limit of {time_limit_s} s without an answer")
    raise SolverError(f"HiGHS ended the sizing with status '{status}'")


def _sizes(scenario: Scenario, sm: SizingModel, result: Any) -> tuple[dict, float]:
    """Chosen sizes, and the investment part of the objective [CNY over the horizon]."""
    sizes: dict[str, dict[str, Any]] = {}
    investment = 0.0
    for c in candidates(scenario):
        block = sm.model.asset[c.name]
        series = next(a.series for a in sm.inputs.assets if a.name == c.name)
        if isinstance(c, Battery):
            e, p = result.value(block.energy_kwh), result.value(block.power_kw)
            units = round(result.value(block.units)) if hasattr(block, "units") else None
            investment += float(series["energy_cost_cny_per_kwh"][0]) * e
            investment += float(series["power_cost_cny_per_kw"][0]) * p
            sizes[c.name] = {"kind": "battery", "energy_kwh": _snap(block.energy_kwh, e),
                             "power_kw": _snap(block.power_kw, p), "units": units}  # fmt: skip
        else:
            kw = result.value(block.capacity_kw)
            investment += float(series["capacity_cost_cny_per_kw"][0]) * kw
            sizes[c.name] = {"kind": "pv", "capacity_kw": _snap(block.capacity_kw, kw)}
    return sizes, investment


#: A size this close to one of its bounds is that bound [kWp, kWh, kW]: the interior
#: point stops within its tolerance of a vertex.
SNAP_TOL = 1e-3


def _snap(var: Any, value: float) -> float:
    """``value`` moved onto a bound of ``var`` when within :data:`SNAP_TOL` of it."""
    for bound in (var.lb, var.ub):
        if bound is not None and abs(value - float(bound)) <= SNAP_TOL:
            return float(bound)
    return max(0.0, float(value))


def sized_scenario(scenario: Scenario, sizes: dict[str, dict[str, Any]]) -> Scenario:
    """The scenario with the chosen sizes; candidates sized to nothing are removed."""
    data = scenario.model_dump(mode="python", exclude_none=True)
    site = data["site"]
    pv = []
    for entry in site.get("pv", []):
        chosen = sizes.get(entry["name"])
        if chosen is None:
            pv.append(entry)
        elif chosen["capacity_kw"] > MIN_SIZE:
            pv.append({**entry, "dc_capacity_kw": chosen["capacity_kw"]})
    site["pv"] = pv
    batteries = []
    for entry in site.get("batteries", []):
        chosen = sizes.get(entry["name"])
        if chosen is None:
            batteries.append(entry)
        elif chosen["energy_kwh"] > MIN_SIZE and chosen["power_kw"] > MIN_SIZE:
            batteries.append(
                {
                    **entry,
                    "energy_kwh": chosen["energy_kwh"],
                    "charge_power_kw": chosen["power_kw"],
                    "discharge_power_kw": chosen["power_kw"],
                }
            )
    site["batteries"] = batteries
    return validate_scenario(data)


def without_candidates(scenario: Scenario) -> Scenario:
    """The site as it is: every candidate removed."""
    names = {c.name for c in candidates(scenario)}
    site = scenario.site
    return scenario.model_copy(
        update={
            "site": site.model_copy(
                update={
                    "pv": [a for a in site.pv if a.name not in names],
                    "batteries": [b for b in site.batteries if b.name not in names],
                }
            )
        }
    )


def _self_check(operating: float, dispatch: RunResult) -> dict[str, float]:
    """The sized dispatch's bill must equal the operating part of the sizing objective.

    The objective also carries the tie-break terms (battery charging, green use); they
    are taken from the dispatch run, whose own objective check holds them.
    """
    total = float(dispatch.summary["total_cost_cny"])
    schedule = dispatch.schedule
    dt_h = dispatch.summary["horizon"]["step_h"]
    tie = green_tie_break_cny(schedule, dt_h) + sum(
        TIE_BREAK_CNY_PER_KWH * float(schedule[f"{b.name}_charge_kw"].sum()) * dt_h
        for b in dispatch.scenario.site.batteries
    )
    gap = operating - total - tie
    tol = SIZE_CHECK_RTOL * max(1.0, abs(total))
    if abs(gap) > tol:
        raise SolverError(
            f"internal check failed: the sizing objective's operating part {operating:,.4f} "
            f"CNY differs from the sized site's bill {total:,.4f} CNY; please report this"
        )
    return {"sizing_operating_cost_cny": operating, "sized_bill_cny": total, "gap_cny": gap}


def _investments(
    scenario: Scenario, sizes: dict, dispatch: RunResult, years: float
) -> list[Investment]:
    out = []
    dt_h = dispatch.summary["horizon"]["step_h"]
    s = dispatch.schedule
    for c in candidates(scenario):
        chosen = sizes[c.name]
        z = c.sizing
        if isinstance(c, Battery):
            e, p = chosen["energy_kwh"], chosen["power_kw"]
            if e <= MIN_SIZE:
                continue
            col = f"{c.name}_discharge_kw"
            out.append(
                Investment(
                    name=c.name,
                    kind="battery",
                    capex_cny=z.capex_cny_per_kwh * e + z.capex_cny_per_kw * p,
                    om_cny_per_year=z.om_cny_per_kw_year * p,
                    lifetime_years=z.lifetime_years,
                    replacement_year=z.replacement_year,
                    replacement_cny=z.replacement_cny_per_kwh * e,
                    annual_energy_kwh=float(s[col].sum() * dt_h) / years if col in s else 0.0,
                    degradation_fraction_per_year=0.0,
                )
            )
        else:
            kw = chosen["capacity_kw"]
            if kw <= MIN_SIZE:
                continue
            col = f"{c.name}_pv_kw"
            out.append(
                Investment(
                    name=c.name,
                    kind="pv",
                    capex_cny=z.capex_cny_per_kw * kw,
                    om_cny_per_year=z.om_cny_per_kw_year * kw,
                    lifetime_years=z.lifetime_years,
                    replacement_year=None,
                    replacement_cny=0.0,
                    annual_energy_kwh=float(s[col].sum() * dt_h) / years if col in s else 0.0,
                    degradation_fraction_per_year=float(
                        getattr(c, "degradation_fraction_per_year", 0.0)
                    ),
                )
            )
    return out


def _pv_share(scenario: Scenario, sizes: dict, dispatch: RunResult, years: float) -> tuple:
    """Energy-price value [CNY/yr] and grid emissions [t/yr] of the new PV's output.

    The part of the savings and of the CO2 avoided that fades with PV degradation.
    """
    s = dispatch.schedule
    dt_h = dispatch.summary["horizon"]["step_h"]
    value = co2 = 0.0
    for name, chosen in sizes.items():
        col = f"{name}_pv_kw"
        if chosen["kind"] != "pv" or col not in s:
            continue
        kw = s[col].to_numpy()
        value += float(np.dot(kw, s["price_cny_per_kwh"].to_numpy()) * dt_h)
        co2 += float(np.dot(kw, s["grid_factor_kg_per_kwh"].to_numpy()) * dt_h) / _KG_PER_T
    return value / years, co2 / years


def _electricity_t(schedule: pd.DataFrame) -> float:
    """Location-based electricity emissions of a schedule [t]: import x grid factor."""
    dt_h = (schedule.index[1] - schedule.index[0]).total_seconds() / 3600.0
    imp = schedule["grid_import_kw"].to_numpy()
    return float(np.dot(imp, schedule["grid_factor_kg_per_kwh"].to_numpy()) * dt_h) / _KG_PER_T


def frontier(
    sm: SizingModel,
    scenario: Scenario,
    optimum: Any,
    points: int,
    *,
    time_limit_s: float | None = None,
) -> pd.DataFrame:
    """Least cost under caps on location-based electricity emissions (epsilon-constraint).

    The caps run evenly from the least-cost solution's emissions down to the least
    emissions any sizing within the limits reaches (found by minimizing emissions with
    cost as a tiny tie-break). Each point re-solves the compiled model with only the
    cap row's bound changed (interior point from scratch each time: on the demo year,
    warm-started dual simplex was several times slower).
    """
    lp = sm.lp
    highs = lp.highs
    cap_row = next(i for i, r in enumerate(lp.rows) if r.constraint is sm.model.emission_cap)
    grid = sm.model.asset["grid"]
    imp_cols = np.array([lp.column_of[id(v)] for v in grid.import_kw.values()], dtype=np.int32)
    factor = sm.inputs.series["grid_factor_kg_per_kwh"].to_numpy() * sm.inputs.horizon.step_h
    e_cost = _emissions_t(optimum.x, imp_cols, factor)
    # least emissions: emissions as the objective, cost as a tie-break
    cost = lp.cost.copy()
    green = cost * 1e-9
    green[imp_cols] += factor / _KG_PER_T
    idx = np.arange(len(cost), dtype=np.int32)
    highs.changeColsCost(len(idx), idx, green)
    highs.clearSolver()
    low = solve(lp, time_limit_s=time_limit_s)
    highs.changeColsCost(len(idx), idx, cost)
    if low.status != "Optimal":
        raise SolverError(f"HiGHS could not find the least emissions: {low.status}")
    e_low = _emissions_t(low.x, imp_cols, factor)
    rows = []
    years = _years(sm.inputs.horizon)
    for k, cap in enumerate(np.linspace(e_cost, e_low, points)):
        highs.changeRowsBounds(1, np.array([cap_row], np.int32), np.array([-INF]),
                               np.array([cap * (1 + 1e-9) + 1e-9]))  # fmt: skip
        highs.clearSolver()
        res = solve(lp, time_limit_s=time_limit_s)
        if res.status != "Optimal":
            rows.append({"point": k, "cap_t": cap, "status": res.status})
            continue
        sizes, _ = _sizes(scenario, sm, res)
        row = {
            "point": k,
            "cap_t": cap,
            "status": "Optimal",
            "emissions_t_per_year": _emissions_t(res.x, imp_cols, factor) / years,
            "cost_cny_per_year": res.objective_cny / years,
        }
        for name, s in sizes.items():
            for key, value in s.items():
                if key != "kind" and value is not None:
                    row[f"{name}_{key}"] = value
        rows.append(row)
    highs.changeRowsBounds(1, np.array([cap_row], np.int32), np.array([-INF]), np.array([INF]))
    return pd.DataFrame(rows)


def _emissions_t(x: np.ndarray, imp_cols: np.ndarray, factor: np.ndarray) -> float:
    return float(np.dot(x[imp_cols], factor)) / _KG_PER_T
