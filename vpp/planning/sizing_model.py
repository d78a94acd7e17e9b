"""The sizing model: the site's dispatch model with the candidates' sizes as decisions.

Shared by :func:`vpp.planning.size.size` and the cost-carbon frontier
(:mod:`vpp.planning.frontier`): which assets are candidates, their sizing keys
(:mod:`vpp.model.blocks.sizing`), the model with its optional emission-cap row, the
solve (interior point first, :data:`vpp.model.strategies.INTERIOR_FIRST`) and the sizes
read back from a solution.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from vpp.model import build_model, solve
from vpp.model.blocks.contract import linear_sum
from vpp.model.solve import INF, compile_lp
from vpp.model.strategies import INTERIOR_FIRST
from vpp.planning.finance import crf
from vpp.scenario.schema import Battery, Scenario
from vpp.sim.inputs import build_inputs

#: Hours in the year that annual costs refer to [h].
HOURS_PER_YEAR = 8760.0
#: Kilograms per tonne [kg/t].
KG_PER_T = 1000.0

Progress = Callable[[str], None]


def candidates(scenario: Scenario) -> list[Any]:
    """The PV arrays and batteries that carry a ``sizing`` entry."""
    site = scenario.site
    return [a for a in (*site.pv, *site.batteries) if getattr(a, "sizing", None) is not None]


def horizon_years(horizon: Any) -> float:
    """The horizon's length in years of :data:`HOURS_PER_YEAR` [-]."""
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
    \\bar E` [t] with :math:`\\bar E` infinite until the frontier
    (:func:`vpp.planning.frontier.frontier`) sets it.
    """
    inputs = build_inputs(scenario)
    horizon = inputs.horizon
    years = horizon_years(horizon)
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
            coefs = (factor / KG_PER_T).tolist()
            model.emission_cap = pyo.Constraint(
                expr=(None, linear_sum(coefs, grid.import_kw), 1.0e12)
            )
    return SizingModel(inputs, model)


def chosen_sizes(scenario: Scenario, sm: SizingModel, result: Any) -> tuple[dict, float]:
    """Chosen sizes, and the investment part of the objective [CNY over the horizon].

    Per candidate: ``kind`` and ``capacity_kw`` (PV) or ``energy_kwh``, ``power_kw`` and
    ``units`` (battery), read from the solved sizing model ``result``.
    """
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
            sizes[c.name] = {
                "kind": "battery",
                "energy_kwh": _snap(block.energy_kwh, e),
                "power_kw": _snap(block.power_kw, p),
                "units": units,
            }
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


def solve_sizing(lp: Any, time_limit_s: float | None, say: Progress, what: str) -> Any:
    """Solve the compiled sizing model: interior point first, then its fallbacks.

    The sized LP couples every step to the sizes: HiGHS's interior point solves it in
    about 2/3 of the dual simplex's time on the demo year, and needs no crossover (the
    sizes need no vertex: the self-check re-runs them as a dispatch, solved to a
    vertex). Crossover, then the dual simplex, are the fallbacks
    (:data:`vpp.model.strategies.INTERIOR_FIRST`; timings in ``benchmarks/README.md``).
    """
    return solve(lp, time_limit_s=time_limit_s, strategies=INTERIOR_FIRST, progress=say, what=what)


def set_cap(lp: Any, cap_row: int, upper_t: float) -> None:
    """Set the emission cap row's upper bound [t] (``INF``: no cap)."""
    rows = np.array([cap_row], np.int32)
    lp.highs.changeRowsBounds(1, rows, np.array([-INF]), np.array([upper_t]))
