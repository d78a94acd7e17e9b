r"""The genset unit: its Pyomo block, updater and structure signature.

The block (:func:`build_genset`), for every step :math:`t` of length :math:`\Delta t` [h]:

.. math::

    0 \le P_t \le \hat P_t, \qquad net_t = P_t

    \text{LP (no minimum stable load):} \quad P_t = \bar P\, u_t, \quad 0 \le u_t \le 1

    \text{MILP (minimum stable load } m\text{):} \quad
    m \bar P\, u_t \le P_t \le \bar P\, u_t, \quad u_t \in \{0, 1\}

    F_t = a\, u_t + b\, P_t

    cost = \sum_t \left[ (c^f + c^{CO_2}_t)\, F_t + c^{om} P_t \right] \Delta t

=======================  ===========================  ============================================
symbol                   attribute                    meaning
=======================  ===========================  ============================================
:math:`P_t`              ``power_kw[t]``              output to the bus [kW]
:math:`u_t`              ``running_fraction[t]``      running: on/off (MILP) or the output's share
                                                      of rated power (LP) [-]
:math:`\hat P_t`         series ``max_kw``            the most it may give: rated power x
                                                      availability, capped by its ``use`` rule
                                                      [kW] (:mod:`vpp.assets.genset.rules`)
:math:`\bar P`           ``rated_kw``                 rated power [kW]
:math:`m`                ``min_stable_fraction``      minimum stable load [-] (MILP only)
:math:`F_t`              (``fuel_l_per_h``)           diesel burn [L/h]
:math:`a`, :math:`b`     ``fuel_intercept_l_per_h``,  fuel curve: per running hour [L/h], per kWh
                         ``fuel_slope_l_per_kwh``     [L/kWh]
:math:`c^f`              ``fuel_price_cny_per_l``     diesel price [CNY/L]
:math:`c^{CO_2}_t`       series ``carbon_cny_per_l``  carbon price on a litre of diesel [CNY/L]
                                                      (0 unless the carbon price covers diesel)
:math:`c^{om}`           ``om_cost_cny_per_kwh``      O&M [CNY/kWh]
=======================  ===========================  ============================================

In the LP the intercept is paid in proportion to the output (no intercept at zero output,
all of it at rated power): the convex hull of the on/off fuel curve, which is the MILP's
linear relaxation. The block has no hard requirement, so ``elastic`` adds nothing.
Every number that changes between rolling windows is a bound or a cost, so one compiled
model serves every window (:meth:`GensetBlock.update`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import NoShortfallToExplain, PerStepRows
from vpp.assets.sizing import NotSized
from vpp.model.blocks.contract import LinearPort, as_bounds, linear, linear_sum
from vpp.model.blocks.updates import ColBounds, ColCost

__all__ = ["GensetBlock", "build_genset", "fuel_cost_cny_per_l", "update_genset"]


def fuel_cost_cny_per_l(asset: Any, series: dict[str, np.ndarray], n: int) -> np.ndarray:
    """:math:`c^f + c^{CO_2}_t`: what a litre of diesel costs in each step [CNY/L]."""
    carbon = np.asarray(series.get("carbon_cny_per_l", 0.0), dtype=float)
    return float(asset.fuel_price_cny_per_l) + np.broadcast_to(carbon, (n,))


def _costs(asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Objective coefficients of :math:`P_t` and :math:`u_t` [CNY per kW and per unit]."""
    n = len(np.asarray(series["max_kw"]))
    litre = fuel_cost_cny_per_l(asset, series, n)
    power = (litre * asset.fuel_slope_l_per_kwh + asset.om_cost_cny_per_kwh) * horizon.step_h
    running = litre * asset.fuel_intercept_l_per_h * horizon.step_h
    return power, running


def build_genset(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> None:
    """Build a genset (module docstring: equations and symbols).

    Parameters
    ----------
    block : pyomo Block
        The empty block to fill.
    asset : vpp.scenario.genset.Genset
        The scenario entry.
    horizon : vpp.timeseries.Horizon
        Steps (``step_h`` [h]).
    series : dict of str to numpy.ndarray
        ``max_kw`` [kW] and ``carbon_cny_per_l`` [CNY/L] on the steps.
    elastic : bool
        Unused: the block has no hard requirement to soften.
    """
    m = block.model()
    upper = as_bounds(np.minimum(np.asarray(series["max_kw"], float), asset.rated_kw))
    block.power_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, upper[t]))
    rated = float(asset.rated_kw)
    if asset.min_stable_fraction is None:
        block.running_fraction = pyo.Var(m.T, bounds=(0.0, 1.0))
        block.running_def = pyo.Constraint(
            m.T,
            rule=lambda b, t: (
                0.0,
                linear([1.0, -rated], [b.power_kw[t], b.running_fraction[t]]),
                0.0,
            ),
        )
    else:
        low = float(asset.min_stable_fraction) * rated
        block.running_fraction = pyo.Var(m.T, domain=pyo.Binary)
        block.at_most_rated = pyo.Constraint(
            m.T,
            rule=lambda b, t: (
                None,
                linear([1.0, -rated], [b.power_kw[t], b.running_fraction[t]]),
                0.0,
            ),
        )
        block.at_least_stable = pyo.Constraint(
            m.T,
            rule=lambda b, t: (
                0.0,
                linear([1.0, -low], [b.power_kw[t], b.running_fraction[t]]),
                None,
            ),
        )
    block.net_kw = LinearPort([(1.0, block.power_kw)])
    power_cost, running_cost = _costs(asset, horizon, series)
    block.cost_cny = pyo.Expression(
        expr=linear_sum(power_cost, block.power_kw)
        + linear_sum(running_cost, block.running_fraction)
    )


def update_genset(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> list[Any]:
    """The numbers of :func:`build_genset` on a new window: :math:`\\hat P_t` and the costs."""
    power_cost, running_cost = _costs(asset, horizon, series)
    upper = np.minimum(np.asarray(series["max_kw"], float), asset.rated_kw)
    return [
        ColBounds(block.power_kw, upper=upper),
        ColCost(block.power_kw, power_cost),
        ColCost(block.running_fraction, running_cost),
    ]


class GensetBlock(NotSized, NoShortfallToExplain, PerStepRows):
    """Its Pyomo block, updater and structure signature; a genset is never sized
    (:class:`vpp.assets.sizing.NotSized` gives the sizing answers). Its rows are per
    step (an LP, or a MILP with an on/off switch per step and no minimum up or down
    time): on typical days it stands for every day as it is (:class:`PerStepRows`; the
    sizing weights its fuel, O&M and carbon costs by the days each typical day stands
    for). Its ``use`` rule caps each step from the horizon's inputs before the days are
    cut, as in the sizing on every step."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        """Fill ``block`` with the genset (:func:`build_genset`)."""
        build_genset(block, asset, horizon, series, elastic=elastic)

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any] | None:
        """Bounds and costs of a new window (:func:`update_genset`)."""
        return update_genset(block, asset, horizon, series, elastic=elastic)

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> Hashable:
        """Windows share a model whatever their numbers: the structure depends only on
        the scenario entry (LP or MILP), which does not change between windows."""
        return ()
