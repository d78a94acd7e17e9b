"""Grid connection block: import, export, energy price and monthly demand charge."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.model.blocks import LinearPort, linear, linear_sum, register


@register("grid")
def build_grid(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> None:
    r"""Build the grid connection.

    Equations, for every step :math:`t` and calendar month :math:`m`:

    .. math::

        0 \le P^{imp}_t \le \bar P^{imp}, \qquad 0 \le P^{exp}_t \le \bar P^{exp}

        \hat P_m \ge P^{imp}_t \quad \forall t \in m, \qquad \hat P_m \ge \underline{\hat P}_m

        net_t = P^{imp}_t - P^{exp}_t

        cost = \sum_t (c_t P^{imp}_t - e_t P^{exp}_t)\,\Delta t + \sum_m d\,\hat P_m

    ===========================  =====================  ==========================================
    symbol                       attribute              meaning
    ===========================  =====================  ==========================================
    :math:`P^{imp}_t`            ``import_kw[t]``       import from the grid [kW]
    :math:`P^{exp}_t`            ``export_kw[t]``       export to the grid [kW]
    :math:`\hat P_m`             ``peak_import_kw[m]``  largest import of month m [kW]
    :math:`\bar P^{imp}`         asset                  ``import_limit_kw`` (none = unlimited)
    :math:`\bar P^{exp}`         asset                  ``export_limit_kw``
    :math:`c_t`, :math:`e_t`     series                 energy and export price [CNY/kWh]
    :math:`d`                    asset                  ``demand_charge_cny_per_kw_month``
    :math:`\underline{\hat P}_m`  series (optional)     ``peak_floor_kw``: peak already set
                                                        earlier in the month [kW]
    ===========================  =====================  ==========================================

    The demand charge is billed in full for every calendar month the horizon touches.
    The peak variables and their constraints exist only when :math:`d > 0`.
    """
    m = block.model()
    dt_h = horizon.step_h
    imp_ub = asset.import_limit_kw
    block.import_kw = pyo.Var(m.T, bounds=(0.0, imp_ub))
    block.export_kw = pyo.Var(m.T, bounds=(0.0, float(asset.export_limit_kw)))
    block.net_kw = LinearPort([(1.0, block.import_kw), (-1.0, block.export_kw)])

    price = series["price_cny_per_kwh"] * dt_h
    export_price = series["export_price_cny_per_kwh"] * dt_h
    energy = linear_sum(price, block.import_kw)
    export = linear_sum(export_price, block.export_kw)
    demand_rate = float(asset.demand_charge_cny_per_kw_month)
    if demand_rate > 0.0:
        month_of = horizon.month_index
        n_months = int(month_of.max()) + 1
        floor = series.get("peak_floor_kw", np.zeros(n_months))
        block.M = pyo.RangeSet(0, n_months - 1)
        block.peak_import_kw = pyo.Var(block.M, bounds=lambda b, k: (float(floor[k]), imp_ub))
        month_list = month_of.tolist()
        block.peak_def = pyo.Constraint(
            m.T,
            rule=lambda b, t: (
                None,
                linear([1.0, -1.0], [b.import_kw[t], b.peak_import_kw[month_list[t]]]),
                0.0,
            ),
        )
        demand = linear_sum(demand_rate, block.peak_import_kw)
    else:
        demand = 0.0
    block.energy_cost_cny = pyo.Expression(expr=energy)
    block.export_revenue_cny = pyo.Expression(expr=export)
    block.demand_charge_cny = pyo.Expression(expr=demand)
    block.cost_cny = pyo.Expression(
        expr=block.energy_cost_cny - block.export_revenue_cny + block.demand_charge_cny
    )
