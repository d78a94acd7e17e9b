"""The sizing model: the site's dispatch model with the candidates' sizes as decisions.

Shared by :func:`vpp.planning.size.size` and the cost-carbon frontier
(:mod:`vpp.planning.frontier`): which assets are candidates, their sizing keys (each
unit's ``sizing_series``, :mod:`vpp.assets.sizing`), the model with its optional
emission-cap row, the solve (interior point first,
:data:`vpp.model.strategies.INTERIOR_FIRST`) and the sizes read back from a solution
(each unit's ``sized_values``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from vpp.assets import site_entries
from vpp.assets.base import AssetUnit
from vpp.assets.sizing import SizingCosts
from vpp.errors import SolverError
from vpp.inputs.site import build_inputs
from vpp.model import build_model, solve
from vpp.model.blocks.contract import linear_sum
from vpp.model.solve import INF, compile_lp
from vpp.model.strategies import DUAL_SIMPLEX, INTERIOR_FIRST, SIMPLEX_FIRST, MipOptions, Strategy
from vpp.planning import typical
from vpp.planning.finance import crf
from vpp.scenario.schema import Scenario

#: Hours in the year that annual costs refer to [h].
HOURS_PER_YEAR = 8760.0
#: Kilograms per tonne [kg/t].
KG_PER_T = 1000.0
#: The chain of a sizing on typical days (:func:`sizing_chain`): dual simplex first.
TYPICAL_FIRST: tuple[Strategy, ...] = SIMPLEX_FIRST

Progress = Callable[[str], None]


def candidates(scenario: Scenario) -> list[Any]:
    """The site's entries that carry a ``sizing`` entry, in model order."""
    return [entry for _, entry in sized_entries(scenario)]


def sized_entries(scenario: Scenario) -> list[tuple[AssetUnit, Any]]:
    """The candidates with their units, in model order (PV arrays, then batteries)."""
    return [
        (unit, entry)
        for unit, entry in site_entries(scenario.site)
        if getattr(entry, "sizing", None) is not None
    ]


def horizon_years(horizon: Any) -> float:
    """The horizon's length in years of :data:`HOURS_PER_YEAR` [-]."""
    return horizon.n * horizon.step_h / HOURS_PER_YEAR


@dataclass
class SizingModel:
    """The built and compiled sizing model, kept for the frontier's re-solves."""

    inputs: Any
    model: Any
    lp: Any = None
    cap_row: int | None = None
    #: The typical days (:class:`vpp.planning.typical.Aggregation`) when the model is
    #: built on them (``planning.representative_periods``); None: every step.
    aggregation: Any = None


def representative_periods(scenario: Scenario) -> Any:
    """The scenario's ``planning.representative_periods``, or None."""
    planning = getattr(scenario, "planning", None)
    return None if planning is None else planning.representative_periods


def build_sizing_model(scenario: Scenario, *, with_cap: bool = False) -> SizingModel:
    """Inputs with the candidates sized, the Pyomo model, and (optionally) an emission-cap row.

    The cap row, ``emission_cap``, is :math:`\\sum_t f_t P^{imp}_t \\Delta t / 1000 \\le
    \\bar E` [t] with :math:`\\bar E` infinite until the frontier
    (:func:`vpp.planning.frontier.frontier`) sets it; on typical days (the scenario's
    ``planning.representative_periods``, :mod:`vpp.planning.typical`) each step's term
    is times the days its typical day stands for (:func:`step_values`).
    """
    option = representative_periods(scenario)
    if option is not None:
        sized_by_name = {entry.name: (unit, entry) for unit, entry in sized_entries(scenario)}
        inputs, model, agg = typical.build_typical_model(
            scenario, option, sized_by_name, horizon_years
        )
        sm = SizingModel(inputs, model, aggregation=agg)
        if with_cap:
            _add_cap(sm)
        return sm
    inputs = build_inputs(scenario)
    horizon = inputs.horizon
    costs = SizingCosts(scenario.finance.discount_rate, horizon_years(horizon), crf)
    sized = {entry.name: (unit, entry) for unit, entry in sized_entries(scenario)}
    assets = []
    for a in inputs.assets:
        unit, entry = sized.get(a.name, (None, None))
        keys = None if unit is None else unit.sizing_series(entry, costs, horizon, a.series)
        if keys is not None:
            a = dataclasses.replace(a, series={**a.series, **keys})
        assets.append(a)
    inputs = dataclasses.replace(inputs, assets=assets)
    with PauseGC():
        model = build_model(assets, horizon)
    sm = SizingModel(inputs, model)
    if with_cap:
        _add_cap(sm)
    return sm


def step_values(sm: SizingModel, column: str) -> np.ndarray:
    """``column`` of the inputs' series on the model's steps, each times the days its
    typical day stands for (1 when the model has every step) [the column's unit]."""
    values = sm.inputs.series[column].to_numpy()
    agg = sm.aggregation
    if agg is None:
        return values
    return values[agg.steps] * np.repeat(agg.weights, agg.steps_per_day)


def _add_cap(sm: SizingModel) -> None:
    """The emission-cap row ``emission_cap`` (:func:`build_sizing_model`), its upper
    bound 1e12 t until compiled."""
    factor = step_values(sm, "grid_factor_kg_per_kwh") * sm.inputs.horizon.step_h
    grid = sm.model.asset["grid"]
    coefs = (factor / KG_PER_T).tolist()
    with PauseGC():
        sm.model.emission_cap = pyo.Constraint(
            expr=(None, linear_sum(coefs, grid.import_kw), 1.0e12)
        )


def chosen_sizes(scenario: Scenario, sm: SizingModel, result: Any) -> tuple[dict, float]:
    """Chosen sizes, and the investment part of the objective [CNY over the horizon].

    Per candidate, as its unit's ``sized_values`` reads them from the solved sizing
    model ``result``: ``kind`` and ``capacity_kw`` (PV) or ``energy_kwh``, ``power_kw``
    and ``units`` (battery).
    """
    sizes: dict[str, dict[str, Any]] = {}
    investment = 0.0
    series_of = {a.name: a.series for a in sm.inputs.assets}
    for unit, entry in sized_entries(scenario):
        block = sm.model.asset[entry.name]
        chosen, invested = unit.sized_values(block, series_of[entry.name], result.value)
        sizes[entry.name] = chosen
        investment += invested
    return sizes, investment


def compile_sizing_model(sm: SizingModel) -> None:
    """Compile ``sm.model`` into ``sm.lp``; find the emission-cap row and lift its cap."""
    sm.lp = compile_lp(sm.model)
    if hasattr(sm.model, "emission_cap"):
        sm.cap_row = next(
            i for i, r in enumerate(sm.lp.rows) if r.constraint is sm.model.emission_cap
        )
        # the Pyomo row needs a finite bound to be compiled; HiGHS gets no cap at all
        # (a bound of 1e12 would be a value far outside what HiGHS scales well)
        set_cap(sm.lp, sm.cap_row, INF)


def mip_options(scenario: Scenario) -> MipOptions:
    """The branch-and-cut options of the scenario's ``operation`` (``mip_gap``,
    ``mip_time_limit_s``), as a perfect-foresight run (:mod:`vpp.runs.perfect`) uses them."""
    operation = scenario.operation
    return MipOptions(gap=operation.mip_gap, time_limit_s=operation.mip_time_limit_s)


def sizing_chain(sm: SizingModel) -> tuple[Strategy, ...]:
    """The solver strategies of a sizing model, in order (:func:`solve_sizing`).

    Every step (``sm.aggregation`` None): :data:`vpp.model.strategies.INTERIOR_FIRST`.
    On typical days: :data:`TYPICAL_FIRST`, the dual simplex first (then interior point
    with crossover, then without). On the demo's 12 + 12 typical days at 15 min (16,559
    columns) the dual simplex took half the interior point's CPU time (1.7 s against
    3.4 s), and its basis warm-starts the frontier's points (:mod:`vpp.planning.frontier`:
    6 points in 3.1 s of CPU against 19.7 s from scratch by interior point), with the
    same costs to 0.01 CNY; on the full year the interior point is 2-3x faster
    (``benchmarks/README.md``).
    """
    return INTERIOR_FIRST if sm.aggregation is None else TYPICAL_FIRST


def solve_sizing(
    lp: Any,
    time_limit_s: float | None,
    say: Progress,
    what: str,
    mip: MipOptions | None = None,
    chain: tuple[Strategy, ...] | None = None,
) -> Any:
    """Solve the compiled sizing model with ``chain`` (:func:`sizing_chain`; None:
    :data:`~vpp.model.strategies.INTERIOR_FIRST`), then its fallbacks.

    The sized LP couples every step to the sizes: HiGHS's interior point solves the
    demo year in about 2/3 of the dual simplex's time, and needs no crossover (the
    sizes need no vertex: the self-check re-runs them as a dispatch, solved to a
    vertex). Crossover, then the dual simplex, are the fallbacks
    (:data:`vpp.model.strategies.INTERIOR_FIRST`; timings in ``benchmarks/README.md``).
    On typical days the dual simplex comes first (:func:`sizing_chain`).

    A sizing with integer variables (a deferrable load in the site) is a MIP: HiGHS's
    branch and cut solves it with ``mip`` (:func:`mip_options`: the relative gap, and
    the time limit at which the best point found, with its gap, is the answer:
    ``result.has_solution``).

    An answer that is not optimal (infeasible or unbounded) from an interior point is
    checked by the dual simplex, from scratch: the interior point without crossover
    decides infeasibility by its own criteria, and the sizing should not fail where it
    is solvable. The report then lists every attempt; if the check itself finds no
    answer, the first answer stands. An answer of the dual simplex, or of a chain in
    which it already ran, is not checked again. (A MIP has one strategy, the branch
    and cut, and is not checked.)
    """
    chain = INTERIOR_FIRST if chain is None else chain
    result = solve(
        lp, time_limit_s=time_limit_s, strategies=chain, progress=say, what=what, mip=mip
    )
    report = result.solver
    last = next((s for s in chain if s.name == DUAL_SIMPLEX.name), DUAL_SIMPLEX)
    if result.status == "Optimal" or report is None or lp.is_mip:
        return result
    if any(a.strategy == last.name for a in report.attempts):
        return result
    left = None if time_limit_s is None else time_limit_s - report.seconds
    if left is not None and left <= 0.0:
        return result
    say(f"HiGHS {report.strategy} ended with '{result.status}'; checking with {last.name}")
    lp.highs.clearSolver()
    try:
        check = solve(lp, time_limit_s=left, strategies=(last,), progress=say, what=what)
    except SolverError:
        return result
    if check.solver is not None:
        check.solver.attempts[:0] = report.attempts
    return check


def set_cap(lp: Any, cap_row: int, upper_t: float) -> None:
    """Set the emission cap row's upper bound [t] (``INF``: no cap)."""
    rows = np.array([cap_row], np.int32)
    lp.highs.changeRowsBounds(1, rows, np.array([-INF]), np.array([upper_t]))
