"""Size PV and storage: capacities as decisions, a year of dispatch as the operating model.

:func:`size` builds the site model of a perfect-foresight run with every candidate
(an asset with a ``sizing`` entry, :mod:`vpp.scenario.planning`) made sized (its
unit's ``sizing_series``, :mod:`vpp.assets.sizing`), and minimizes

.. math::

    \\sum_{c} y \\left(\\mathrm{CRF}(r, L_c)\\, I_c + O_c\\right) x_c
    \\;+\\; \\text{the horizon's bill}

where :math:`x_c` is a candidate's size, :math:`I_c` its capital cost per unit (a
battery's replacement at its present value :math:`R/(1+r)^k` added to it), :math:`O_c`
its fixed O&M per unit and year, :math:`L_c` its lifetime, :math:`r` the discount rate
and :math:`y` the horizon's length in years (a year for the demo: the full year of
hourly dispatch is the operating model; no typical-day aggregation).

A size at a bound of its sizing entry (the limit, not the economics, chose it) is
flagged with the key to change (:mod:`vpp.planning.limits`).

Then it checks itself: the chosen sizes are written into a scenario (``sized``), which
is run as an ordinary fixed-size dispatch; its bill must equal the operating part of
the sizing objective (:func:`self_check`: to :data:`SIZE_CHECK_RTOL` for an LP, within
the bounds the two solves' reported gaps give for a MIP). The site without the
candidates (``as_is``) is run too, and the investment is valued against it over the
analysis period (:mod:`vpp.planning.finance`).

A site with integer variables (a deferrable load) makes every one of these solves a
MIP, solved with the scenario's ``operation.mip_gap`` and ``operation.mip_time_limit_s``
(:func:`vpp.planning.sizing_model.mip_options`), as ``vpp run`` solves it: a branch and
cut stopped at its limit with a feasible point is a result, with its gap in
``summary.solver.mip`` (the sizing's) and a note in ``summary.notes``.

The model is built and solved by :mod:`vpp.planning.sizing_model` (interior point
first, with crossover and the dual simplex as fallbacks; on typical days the dual
simplex first, :func:`vpp.planning.sizing_model.sizing_chain`). The cost-carbon frontier
(:func:`vpp.planning.frontier.frontier`) re-solves the same compiled model under a list
of caps on the site's location-based electricity emissions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC

from vpp.assets import site_entries, unit
from vpp.assets.emission_factors import grid_factor_info
from vpp.errors import Problem, ScenarioError, SolverError
from vpp.inputs.site import build_inputs
from vpp.model import build_model, solve
from vpp.model.strategies import MipOptions, MipReport, check_time_limit
from vpp.planning.beside import Beside
from vpp.planning.fade import with_fade
from vpp.planning.finance import finance_summary
from vpp.planning.frontier import frontier, frontier_records
from vpp.planning.investment import Investment
from vpp.planning.limits import size_limits
from vpp.planning.parties import party_cash_flows, sized_power_kw
from vpp.planning.sizing_model import (
    KG_PER_T,
    Progress,
    build_sizing_model,
    candidates,
    chosen_sizes,
    compile_sizing_model,
    horizon_years,
    mip_options,
    sized_entries,
    sizing_chain,
    solve_sizing,
)
from vpp.planning.typical import peak_errors
from vpp.runs.perfect import raise_for_status
from vpp.runs.solved_schedule import objective_extra_cny
from vpp.scenario.load import validate_scenario
from vpp.scenario.schema import Scenario
from vpp.sim.run import RunResult, run

#: The sized dispatch's bill vs the operating part of the sizing objective [-].
SIZE_CHECK_RTOL = 1e-6


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
        Sizes (each with its ``limits``: which sizes sit at a limit, its value and the
        key that sets it, :func:`vpp.planning.limits.size_limits`), annual costs, the
        self-check, finance (NPV, IRR, paybacks, LCOE, LCOS, CO2 avoided), the solver
        (strategy, status, gap, iterations, every attempt), timings.
    dispatch, as_is : RunResult
        The sized site's perfect-foresight run, and the site as it is (its optimal
        dispatch and bill only, :func:`bill_only`).
    frontier : pandas.DataFrame or None
        Cost-carbon frontier points, when asked (a candidate's sizes at a limit in
        ``<candidate>_at_limit``; ``summary["frontier"]`` also has each point's
        ``limits`` as ``sizes``' ``limits``).
    """

    scenario: Scenario
    sized: Scenario
    sizes: dict[str, dict[str, Any]]
    summary: dict[str, Any]
    dispatch: RunResult
    as_is: RunResult
    frontier: pd.DataFrame | None = None
    cash_flows: pd.DataFrame = field(default_factory=pd.DataFrame)


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
    site = scenario.site
    problems = [p for u, entry in sized_entries(scenario) for p in u.sizing_problems(entry, site)]
    if problems:
        raise ScenarioError(problems)


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
        Time limit of each solve (the sizing, each frontier point, the sized dispatch
        and the site as it is), shared by the solver strategies of that solve
        (:mod:`vpp.model.strategies`) [s]; None: no limit. A site with a deferrable
        load (a MIP) also stops each solve at ``operation.mip_time_limit_s``, whichever
        is shorter, and keeps the best point found (module docstring).
    progress : callable, optional
        Called with a short message at each stage, and with the elapsed time,
        iteration and gap (interior point) or infeasibilities left (simplex) every few
        seconds while HiGHS solves the sizing and the dispatch runs.

    Raises
    ------
    ScenarioError, DataError
        Bad input (exit code 2), a time limit that is not positive finite seconds
        among them.
    InfeasibleError, SolverError
        As :func:`vpp.sim.run.run`; SolverError when every solver strategy failed, a
        MIP found no feasible point within its limit, or the self-check failed
        (:func:`self_check`).
    """
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    time_limit_s = check_time_limit(time_limit_s)  # before the model is built, not after
    _check(scenario)
    say("building the sizing model")
    sm = build_sizing_model(scenario, with_cap=frontier_points > 0)
    t_build = time.perf_counter() - clock
    say("solving with HiGHS")
    t0 = time.perf_counter()
    compile_sizing_model(sm)
    mip = mip_options(scenario)
    as_is_run = Beside(  # needs no size: it runs while HiGHS sizes (vpp.planning.beside)
        bill_only,
        without_candidates(scenario),
        time_limit_s=time_limit_s,
        mip=mip,
        progress=progress,
    )
    result = solve_sizing(sm.lp, time_limit_s, say, "the sizing", mip, sizing_chain(sm))
    if not result.has_solution:  # a MIP at its time limit answers with its best point
        raise_for_status(result.status, sm.inputs)
    sizing_solver = result.solver.to_dict() if result.solver else None
    t_solve = time.perf_counter() - t0
    sizes, investment = chosen_sizes(scenario, sm, result)
    limits = size_limits(scenario, sm, sizes)
    operating = result.objective_cny - investment
    sized = sized_scenario(scenario, sizes)
    say("running the sized site and the site as it is")
    t0 = time.perf_counter()
    dispatch = run(sized, time_limit_s=time_limit_s, progress=progress)
    as_is = as_is_run.result()
    t_runs = time.perf_counter() - t0
    typical_days = None
    if sm.aggregation is None:
        check = self_check(operating, result.objective_cny, sizing_solver, dispatch)
    else:  # typical days: the sized run's bill is the truth, the error is reported
        typical_days, check = typical_report(
            scenario, sm, sizes, operating, dispatch, say, result.value
        )
    notes = _mip_notes(
        ("the sizing", sizing_solver),
        ("the sized site's run", dispatch.summary.get("solver")),
        ("the site as it is", as_is.summary.get("solver")),
    )
    if check.get("note"):
        notes.append(check["note"])
    years = horizon_years(sm.inputs.horizon)
    investments = with_fade(
        _investments(scenario, sizes, dispatch, years), scenario, dispatch, years
    )
    savings = (as_is.summary["total_cost_cny"] - dispatch.summary["total_cost_cny"]) / years
    pv_value, pv_co2 = pv_share(sizes, dispatch, years)
    co2 = (electricity_t(as_is) - electricity_t(dispatch)) / years
    fin = finance_summary(
        investments,
        annual_savings_cny=savings,
        pv_savings_cny=min(pv_value, max(savings, 0.0)) if savings > 0 else 0.0,
        finance=scenario.finance,
        annual_co2_avoided_t=co2,
        pv_co2_avoided_t=min(pv_co2, max(co2, 0.0)) if co2 > 0 else 0.0,
    )
    cash = pd.DataFrame(fin.pop("cash_flows"))
    if scenario.finance.by_party:  # ownership emc, tax, subsidies or debt
        parties, fin["by_party"] = party_cash_flows(
            cash, investments, scenario.finance, **sized_power_kw(sizes)
        )
        cash = pd.concat([cash, parties], axis=1)
    points = None
    if frontier_points > 0:
        say(f"cost-carbon frontier ({frontier_points} points)")
        points = frontier(
            sm, scenario, result, frontier_points, time_limit_s=time_limit_s, progress=say, mip=mip
        )
    summary = {
        "scenario": scenario.name,
        "currency": scenario.currency,  # of every *_cny amount
        "status": result.status,  # Optimal, or a MIP's limit (its best point: notes)
        "notes": notes,
        "sizes": {name: {**chosen, "limits": limits[name]} for name, chosen in sizes.items()},
        "horizon_years": years,
        "annualized_investment_cny": investment / years,
        "operating_cost_cny": operating,
        "objective_cny": result.objective_cny,
        "as_is_total_cost_cny": as_is.summary["total_cost_cny"],
        "sized_total_cost_cny": dispatch.summary["total_cost_cny"],
        "annual_savings_cny": savings,
        "annual_co2_avoided_t": co2,
        "grid_factor": grid_factor_info(scenario.site),  # the factor of co2 and the frontier
        "check": check,
        "finance": fin,
        "frontier": None if points is None else frontier_records(points),  # with limits
        "representative_periods": typical_days,
        "solver": sizing_solver,
        "timings_s": {
            "build": round(t_build, 4),
            "solve": round(t_solve, 4),
            "runs": round(t_runs, 4),  # the sized run, and the wait for the site as it is
            "as_is": round(as_is_run.seconds or 0.0, 4),  # beside the sizing's solve
            "total": round(time.perf_counter() - clock, 4),
        },
    }
    if points is not None:  # the table keeps each candidate's flags in one cell
        points = points.drop(columns="limits", errors="ignore")
    return SizingResult(scenario, sized, sizes, summary, dispatch, as_is, points, cash)


def bill_only(
    scenario: Scenario,
    *,
    time_limit_s: float | None = None,
    mip: MipOptions | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """The site's optimal dispatch and bill, without baselines, KPIs or report tables.

    The site as it is only serves as the reference of the investment: its schedule,
    ``total_cost_cny`` and ``solver`` (a MIP's gap, solved with ``mip``) are all
    :func:`size` reads. ``progress`` hears the solve's elapsed time and iterations (as
    :func:`size`).
    """
    from vpp.model import extract
    from vpp.runs.bill import bill

    inputs = build_inputs(scenario)
    with PauseGC():
        model = build_model(inputs.assets, inputs.horizon)
    result = solve(
        model, time_limit_s=time_limit_s, mip=mip, progress=progress, what="the site as it is"
    )
    if not result.has_solution:
        raise_for_status(result.status, inputs)
    dt_h = inputs.horizon.step_h
    solved = extract(model, result, inputs.horizon)
    schedule = pd.concat([inputs.series, solved.schedule], axis=1)
    summary = bill(schedule, scenario, dt_h)
    summary["horizon"] = {"step_h": dt_h, "steps": inputs.horizon.n}
    summary["solver"] = result.solver.to_dict() if result.solver else None
    return RunResult(
        scenario=scenario,
        schedule=schedule,
        baseline=schedule,
        horizon=inputs.horizon,
        summary=summary,
    )


def sized_scenario(scenario: Scenario, sizes: dict[str, dict[str, Any]]) -> Scenario:
    """The scenario with the chosen sizes; candidates sized to nothing are removed.

    Each chosen entry is rewritten by its unit's ``sized_entry`` (None: removed).
    """
    data = scenario.model_dump(mode="python", exclude_none=True)
    site = data["site"]
    for name, chosen in sizes.items():
        key = unit(chosen["kind"]).site_key
        entries = site.get(key, [])
        site[key] = [
            e
            for e in (
                unit(chosen["kind"]).sized_entry(e, chosen) if e.get("name") == name else e
                for e in entries
            )
            if e is not None
        ]
    return validate_scenario(data)


def without_candidates(scenario: Scenario) -> Scenario:
    """The site as it is: every candidate removed."""
    names = {c.name for c in candidates(scenario)}
    site = scenario.site
    keys = {u.site_key for u, _ in sized_entries(scenario)}
    update = {
        key: [e for e in getattr(site, key) if getattr(e, "name", None) not in names]
        for key in keys
    }
    return scenario.model_copy(update={"site": site.model_copy(update=update)})


def typical_report(
    scenario: Scenario,
    sm: Any,
    sizes: dict[str, dict[str, Any]],
    operating: float,
    dispatch: RunResult,
    say: Progress,
    value: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    r"""``representative_periods`` of the summary, and the check, of a sizing on typical days.

    ``value`` reads a variable of the solved sizing model (``SolveResult.value``); the
    monthly billed peaks on typical days are set against the full run's
    (:func:`vpp.planning.typical.peak_errors`, ``peak_error``).

    The bill error is computed, not estimated: :math:`(O - D) / |D|`, with :math:`O` the
    operating part of the sizing objective on the typical days (each day's costs times
    the days it stands for) and :math:`D` the sized site's full-horizon run (its bill
    plus the tie-break terms, as :func:`self_check` compares them). With
    ``compare_full`` the sizing is also made on every step, and ``size_error`` holds,
    per candidate and size, (typical - full) / max(|full|, 1) [-]; else it is None.
    """
    agg = sm.aggregation
    option = scenario.planning.representative_periods
    total = float(dispatch.summary["total_cost_cny"])
    tie = objective_extra_cny(dispatch.schedule, dispatch.scenario, dispatch.horizon.step_h)
    full_bill = total + tie
    size_error = None
    if option.compare_full:
        say("sizing on every step too (compare_full)")
        full = size(scenario.model_copy(update={"planning": None}))
        size_error = {
            name: {
                key: (float(chosen[key]) - float(full.sizes[name][key]))
                / max(abs(float(full.sizes[name][key])), 1.0)
                for key, value in chosen.items()
                if isinstance(value, float)
            }
            for name, chosen in sizes.items()
        }
    out = {
        "days": int(option.days if option.days is not None else 7 * option.weeks),
        "typical_days": len(agg.day_of_typical),
        "extreme_days": [
            str(sm.inputs.horizon.index[d * agg.steps_per_day].date()) for d in agg.extreme_days
        ],
        "typical_operating_cost_cny": operating,
        "sized_bill_cny": full_bill,
        "bill_error_fraction": (operating - full_bill) / max(abs(full_bill), 1.0),
        "size_error": size_error,
        "peak_error": peak_errors(
            sm.model,
            value,
            [str(p) for p in sm.inputs.horizon.months],
            dispatch.summary.get("peak_import_kw") or {},
        ),
        # units whose rows typical days represent approximately, each note saying how
        "approximations": list(agg.notes),
    }
    check = {
        "sizing_operating_cost_cny": operating,
        "sized_bill_cny": total,
        "gap_cny": operating - full_bill,
        "note": "sized on typical days: the sizing objective is not the sized run's bill; "
        "their difference is representative_periods.bill_error_fraction",
    }
    return out, check


def self_check(
    operating: float,
    objective: float,
    sizing_solver: dict[str, Any] | None,
    dispatch: RunResult,
) -> dict[str, Any]:
    r"""The sized dispatch's bill must equal the operating part of the sizing objective.

    The objective also carries the tie-break terms (battery charging, green use); they
    are taken from the dispatch run, whose own objective check holds them: the
    comparison is of :math:`O` (the sizing objective :math:`Z` less the investment) and
    the dispatch's objective :math:`D` (its bill plus those terms).

    An LP is solved to optimality on both sides: :math:`|O - D|` must stay within
    :data:`SIZE_CHECK_RTOL` of the bill. A MIP (a deferrable load in the site) is solved
    on each side only to within a relative gap, so the two solves may stop at different
    integer points. The comparison is then widened by what the two reported gaps
    allow, and no more: the sizing's gap :math:`g_s` (its ``solver.mip.gap``) puts
    :math:`Z` within :math:`g_s |Z|` of HiGHS's best bound, hence of the least sizing
    cost :math:`Z^*`; likewise :math:`g_d` for :math:`D` and the least dispatch cost
    :math:`D^*` at the chosen sizes. With :math:`I` the investment (:math:`Z = I + O`),

    .. math::

        D^* \le O \quad (\text{the sizing's dispatch is one at those sizes}), \qquad
        O - D^* = Z - (I + D^*) \le Z - Z^* \le g_s |Z|, \qquad
        0 \le D - D^* \le g_d |D|

    so :math:`-g_d |D| \le O - D \le g_s |Z|`, each side plus the LP tolerance.
    A check against these bounds catches what the LP check catches (a bill that is not
    the objective, a size read back wrong) beyond the gaps, and never fails for a
    sizing and a dispatch each solved to their gap. It was chosen over re-running the
    dispatch with the sizing's integer decisions fixed (exact, but then the sized
    dispatch would not be the run ``vpp run`` gives for the sized scenario, and it
    would cost one more solve). A MIP that reported no gap cannot be bounded: the
    check is then not made, and says so (``note``).

    Parameters
    ----------
    operating : float
        The operating part of the sizing objective, :math:`O` [CNY].
    objective : float
        The sizing objective, :math:`Z` [CNY].
    sizing_solver : dict or None
        The sizing's ``solver`` report (``mip`` for a MIP).
    dispatch : RunResult
        The sized site's run (its ``summary.solver``).

    Raises
    ------
    SolverError
        The difference is outside the bounds: an internal error.
    """
    total = float(dispatch.summary["total_cost_cny"])
    schedule = dispatch.schedule
    dt_h = dispatch.horizon.step_h
    tie = objective_extra_cny(schedule, dispatch.scenario, dt_h)
    gap = operating - total - tie
    tol = SIZE_CHECK_RTOL * max(1.0, abs(total))
    g_sizing = _relative_gap(sizing_solver)
    g_dispatch = _relative_gap(dispatch.summary.get("solver"))
    out: dict[str, Any] = {
        "sizing_operating_cost_cny": operating,
        "sized_bill_cny": total,
        "gap_cny": gap,
    }
    if g_sizing is None or g_dispatch is None:
        out["note"] = (
            "the sizing's self-check was not made: a mixed-integer solve reported no gap, "
            "so the sized run's bill cannot be bounded against the sizing objective"
        )
        return out
    upper = g_sizing * max(1.0, abs(objective)) + tol
    lower = -g_dispatch * max(1.0, abs(total + tie)) - tol
    if g_sizing or g_dispatch:
        out["allowed_cny"] = [lower, upper]  # from the MIP gaps (docstring)
    if not lower <= gap <= upper:
        raise SolverError(
            f"internal check failed: the sizing objective's operating part {operating:,.4f} "
            f"CNY differs from the sized site's bill {total:,.4f} CNY by {gap:+,.4f} CNY, "
            f"outside [{lower:+,.4f}, {upper:+,.4f}] CNY; please report this"
        )
    return out


def _relative_gap(solver: dict[str, Any] | None) -> float | None:
    """A solve's relative MIP gap [-]: 0 for an LP; the reported gap, or the requested
    one of a branch and cut that proved its point optimal without reporting its gap;
    None when a MIP's gap is unknown."""
    mip = (solver or {}).get("mip")
    if mip is None:
        return 0.0
    if mip.get("gap") is not None:
        return max(0.0, float(mip["gap"]))
    return float(mip["gap_limit"]) if mip.get("proven_optimal") else None


def _mip_notes(*solves: tuple[str, dict[str, Any] | None]) -> list[str]:
    """The notes of the MIP solves not proven optimal, each named (``the sizing: ...``)."""
    notes = []
    for what, solver in solves:
        mip = (solver or {}).get("mip")
        if mip is None:
            continue
        note = MipReport(**mip).note()
        if note:
            notes.append(f"{what}: {note}")
    return notes


def _investments(
    scenario: Scenario, sizes: dict, dispatch: RunResult, years: float
) -> list[Investment]:
    """The new components as the finance sees them (each unit's ``investment``)."""
    dt_h = dispatch.horizon.step_h
    out = []
    for u, entry in sized_entries(scenario):
        fields = u.investment(entry, sizes[entry.name], dispatch.schedule, dt_h, years)
        if fields is not None:
            out.append(Investment(**fields))
    return out


def pv_share(sizes: dict, dispatch: RunResult, years: float) -> tuple[float, float]:
    """Energy-price value [CNY/yr] and grid emissions [t/yr] of the new output (PV).

    The part of the savings and of the CO2 avoided that fades with PV degradation: the
    output of every sized entry whose unit gives one (``sized_output_kw``).
    """
    s = dispatch.schedule
    dt_h = dispatch.horizon.step_h
    value = co2 = 0.0
    for u, entry in site_entries(dispatch.scenario.site):
        if getattr(entry, "name", None) not in sizes:
            continue
        kw = u.sized_output_kw(entry, s)
        if kw is None:
            continue
        value += float(np.dot(kw, s["price_cny_per_kwh"].to_numpy()) * dt_h)
        co2 += float(np.dot(kw, s["grid_factor_kg_per_kwh"].to_numpy()) * dt_h) / KG_PER_T
    return value / years, co2 / years


def electricity_t(run: RunResult) -> float:
    """Location-based electricity emissions of a run [t]: import x grid factor."""
    schedule, dt_h = run.schedule, run.horizon.step_h
    imp = schedule["grid_import_kw"].to_numpy()
    return float(np.dot(imp, schedule["grid_factor_kg_per_kwh"].to_numpy()) * dt_h) / KG_PER_T
