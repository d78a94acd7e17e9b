"""The park as one LP: every site's blocks, the shared limit, the demand-response offers.

For sites :math:`s` with net import :math:`n_{s,t} = P^{imp}_{s,t} - P^{exp}_{s,t}` [kW]
(each site built by :func:`vpp.model.build.fill_site`, unchanged):

.. math::

    -\\bar L \\le \\sum_s n_{s,t} \\le \\bar L \\qquad \\forall t
    \\qquad (\\text{the shared transformer or feeder, if given})

    \\frac{1}{|W_e|} \\sum_{t \\in W_e} \\sum_s n_{s,t} + o_e \\le B_e,
    \\qquad 0 \\le o_e \\le R_e \\qquad (\\text{peak-shaving event } e)

    \\frac{1}{|W_e|} \\sum_{t \\in W_e} \\sum_s n_{s,t} - o_e \\ge B_e
    \\qquad (\\text{valley-filling event } e)

    \\min \\sum_s cost_s - \\sum_e \\rho_e o_e

with :math:`W_e` the event's steps, :math:`B_e` the park's baseline (the sum of the
sites' baselines, averaged over the event) [kW], :math:`R_e` the requested response,
:math:`o_e` the offer (``offer_kw[e]``) [kW] and :math:`\\rho_e` the payment [CNY/kW per
event]. The plant offers what pays and delivers at least what it offers; which sites
deliver it follows from the optimum. With ``elastic`` the shared limit gets penalised
slacks so that an infeasible park can be explained (which hours, by how much).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from vpp.assets import unit
from vpp.assets.columns import has_role
from vpp.model.blocks.contract import ELASTIC_PENALTY_CNY_PER_KWH, linear, linear_sum
from vpp.model.build import fill_site


def exchange_block(site_block: Any, assets: list[Any]) -> Any:
    """The block of a site's connection to the grid: its ports ``import_kw`` and
    ``export_kw`` [kW] carry the site's exchange with the park.

    Parameters
    ----------
    site_block : pyomo block
        One site's block (:func:`vpp.model.build.fill_site`).
    assets : list of AssetInput
        The site's assets; the one whose unit declares the ``grid_import`` role is taken.
    """
    name = next(a.name for a in assets if has_role(unit(a.kind), "grid_import"))
    return site_block.asset[name]


def build_park_model(
    inputs: dict[str, Any],
    horizon: Any,
    events: list[Any],
    shared_limit_kw: float | None,
    *,
    elastic: bool = False,
    elastic_sites: bool = False,
) -> pyo.ConcreteModel:
    """Build the park LP (module docstring).

    Parameters
    ----------
    inputs : dict of str to SiteInputs
        Each site's inputs on the park's horizon.
    horizon : Horizon
        The park's steps.
    events : list of EventInputs
        Demand-response events (:class:`vpp.portfolio.park.EventInputs`).
    shared_limit_kw : float or None
        The shared transformer or feeder limit [kW].
    elastic : bool
        Penalised slacks on the shared limit (diagnosis; the sites stay as they are: a
        site infeasible on its own is explained by :func:`vpp.runs.diagnosis.diagnose`).
    elastic_sites : bool
        Each site's own elastic slacks too (:func:`vpp.model.build.fill_site`): a rolling
        window infeasible on its forecasts is planned this way
        (:mod:`vpp.operation.park_window`).
    """
    with PauseGC():
        m = pyo.ConcreteModel(name="park")
        m.T = pyo.RangeSet(0, horizon.n - 1)
        m.T0 = pyo.RangeSet(0, horizon.n)
        names = list(inputs)
        m.site = pyo.Block(names)
        for name in names:
            fill_site(m.site[name], inputs[name].assets, horizon, elastic=elastic_sites)
        grids = [exchange_block(m.site[s], inputs[s].assets) for s in names]
        coefs = [c for _ in grids for c in (1.0, -1.0)]

        def net(t: int, extra_coefs: list[float] = (), extra_vars: list[Any] = ()) -> Any:
            variables = [v for g in grids for v in (g.import_kw[t], g.export_kw[t])]
            return linear([*coefs, *extra_coefs], [*variables, *extra_vars])

        slack_cost = 0.0
        if shared_limit_kw is not None:
            limit = float(shared_limit_kw)
            if elastic:
                m.limit_excess_kw = pyo.Var(m.T, bounds=(0.0, None))
                m.shared_limit = pyo.Constraint(
                    m.T,
                    rule=lambda b, t: (-limit, net(t, [-1.0], [b.limit_excess_kw[t]]), limit),
                )
                slack_cost = linear_sum(
                    ELASTIC_PENALTY_CNY_PER_KWH * horizon.step_h, m.limit_excess_kw
                )
            else:
                m.shared_limit = pyo.Constraint(m.T, rule=lambda b, t: (-limit, net(t), limit))
        m.E = pyo.RangeSet(0, len(events) - 1) if events else pyo.Set(initialize=[])
        m.offer_kw = pyo.Var(m.E, bounds=lambda b, e: (0.0, float(events[e].event.requested_kw)))
        revenue = []
        for e, ev in enumerate(events):
            steps = ev.steps.tolist()
            w = 1.0 / len(steps)
            variables = [v for t in steps for g in grids for v in (g.import_kw[t], g.export_kw[t])]
            weights = [w * c for _ in steps for c in coefs]
            sign = 1.0 if ev.event.kind == "peak_shaving" else -1.0
            body = linear([*weights, sign], [*variables, m.offer_kw[e]])
            bound = ev.park_baseline_kw
            if sign > 0:
                m.add_component(f"dr_delivery_{e}", pyo.Constraint(expr=(None, body, bound)))
            else:
                m.add_component(f"dr_delivery_{e}", pyo.Constraint(expr=(bound, body, None)))
            revenue.append(-float(ev.rate_cny_per_kw))
        dr = linear(revenue, [m.offer_kw[e] for e in range(len(events))]) if events else 0.0
        m.dr_revenue_cny = pyo.Expression(expr=-dr if events else 0.0)
        m.objective = pyo.Objective(
            expr=sum(m.site[s].site_cost_cny for s in names) + dr + slack_cost,
            sense=pyo.minimize,
        )
    return m


def site_objective_cny(model: pyo.ConcreteModel, name: str, x: np.ndarray, lp: Any) -> float:
    """One site's part of the park objective [CNY] at the solution ``x``.

    Evaluates the site's cost expression with the variables set to their values (the
    compiled LP only knows the park's total).
    """
    site = model.site[name]
    for var in site.component_data_objects(pyo.Var, descend_into=True):
        pos = lp.column_of.get(id(var))
        if pos is not None:
            var.set_value(float(x[pos]), skip_validation=True)
        elif var.value is None:
            var.set_value(var.lb if var.lb is not None else 0.0, skip_validation=True)
    return float(pyo.value(site.site_cost_cny))
