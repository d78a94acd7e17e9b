"""Green-power contract block (绿电): energy taken within the contract's terms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import NoShortfallToExplain, RebuiltEachWindow
from vpp.assets.sizing import NotSized
from vpp.model.blocks.contract import LinearPort, as_bounds, linear_sum

_KWH_PER_MWH = 1000.0


class GreenContractBlock(NotSized, RebuiltEachWindow, NoShortfallToExplain):
    """Its Pyomo block, updater and signature; it is never sized (:class:`NotSized`)."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build a green-power contract.

        Commercial meaning: green power is traded energy delivered through the grid. The
        energy taken is *part of the metered grid import* (it passes the same meter, so
        the grid block's import limit and demand charge apply to it unchanged); the site
        pays the contract's energy price and green premium on it instead of the TOU energy
        price, and still pays the grid fees (transmission and distribution, government
        funds). The grid block charges the TOU price :math:`c_t` on all import, so this
        block's cost carries the difference. The block therefore adds no power to the bus
        (:math:`net_t = 0`); its port ``green_kw`` declares the green energy for the site's
        green account (block kind ``certificates``), which holds the coupling that all
        contracts together take at most the metered import.

        Equations, for every step :math:`t` and settlement period :math:`p` (a clock hour
        for hourly settlement, a calendar month for monthly) with steps :math:`T_p`:

        .. math::

            0 \le G_t \le \bar G_t \quad (\text{with a profile; else } G_t \ge 0)

            \sum_{t \in T_p} G_t \,\Delta t \le V_p \quad (\text{only without a profile})

            \sum_{t \in T_p} G_t \,\Delta t + U_p \ge \phi V_p, \qquad 0 \le U_p \le \phi V_p

            net_t = 0, \qquad green_t = G_t

            cost = \sum_t (\pi^e + \pi^g + f - c_t)\, G_t \,\Delta t + \pi^u \sum_p U_p

        and, in the green account: :math:`\sum_{contracts} G_t \le P^{imp}_t` (the grid's
        metered import).

        ================  =======================  ===============================================
        symbol            attribute                meaning
        ================  =======================  ===============================================
        :math:`G_t`       ``take_kw[t]``           green power taken [kW]
        :math:`U_p`       ``untaken_kwh[p]``       take-or-pay minimum not taken in period p [kWh]
        :math:`\bar G_t`  series ``available_kw``  delivery profile [kW] (optional)
        :math:`V_p`       series                   ``period_volume_kwh[p]``: contracted volume in
                                                   period p inside the horizon [kWh]
        :math:`T_p`       series ``period_id``     ``period_id[t] == p``
        :math:`c_t`       series                   ``price_cny_per_kwh``: the grid's TOU energy
                                                   price [CNY/kWh]
        :math:`\pi^e`     asset                    ``energy_price_cny_per_mwh`` / 1000 [CNY/kWh]
        :math:`\pi^g`     asset                    ``green_premium_cny_per_mwh`` / 1000 [CNY/kWh]
        :math:`f`         asset                    ``grid_fees_cny_per_kwh`` [CNY/kWh]
        :math:`\phi`      asset                    ``take_or_pay_fraction`` [-]
        :math:`\pi^u`     asset                    ``shortfall_penalty_cny_per_mwh`` / 1000
                                                   [CNY/kWh]
        ================  =======================  ===============================================

        So a green kWh costs :math:`\pi^e + \pi^g + f` in total, and a grey one :math:`c_t`.
        """
        m = block.model()
        dt_h = horizon.step_h
        available = series.get("available_kw")
        if available is not None:
            upper = as_bounds(available)
            block.take_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, upper[t]))
        else:
            block.take_kw = pyo.Var(m.T, bounds=(0.0, None))
        period_id = np.asarray(series["period_id"], dtype=int)
        volume = np.asarray(series["period_volume_kwh"], dtype=float).ravel()
        members: list[list[int]] = [[] for _ in range(len(volume))]
        for t, p in enumerate(period_id.tolist()):
            members[p].append(t)
        block.P = pyo.RangeSet(0, len(volume) - 1)
        if available is None:
            block.volume_cap = pyo.Constraint(
                block.P,
                rule=lambda b, p: (
                    None,
                    linear_sum(dt_h, [b.take_kw[t] for t in members[p]]),
                    float(volume[p]),
                ),
            )
        phi = float(asset.take_or_pay_fraction)
        minimum = phi * volume
        penalty = 0.0
        if phi > 0.0 and (minimum > 0.0).any():
            block.untaken_kwh = pyo.Var(block.P, bounds=lambda b, p: (0.0, float(minimum[p])))
            block.take_or_pay = pyo.Constraint(
                block.P,
                rule=lambda b, p: (
                    float(minimum[p]),
                    linear_sum(dt_h, [b.take_kw[t] for t in members[p]]) + b.untaken_kwh[p],
                    None,
                ),
            )
            rate = asset.shortfall_penalty_cny_per_mwh / _KWH_PER_MWH
            penalty = linear_sum(rate, block.untaken_kwh)
        contract = (
            asset.energy_price_cny_per_mwh + asset.green_premium_cny_per_mwh
        ) / _KWH_PER_MWH + asset.grid_fees_cny_per_kwh
        coef = (contract - np.asarray(series["price_cny_per_kwh"], dtype=float)) * dt_h
        block.net_kw = LinearPort([])
        block.green_kw = LinearPort([(1.0, block.take_kw)])
        block.cost_cny = pyo.Expression(expr=linear_sum(coef, block.take_kw) + penalty)

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> None:
        """Each settlement period's volume cap and take-or-pay row sum the energy taken
        over the days the period's typical days stand for
        (:func:`vpp.assets.green_contract.typical.relink_periods`)."""
        from vpp.assets.green_contract.typical import relink_periods

        relink_periods(block, asset, horizon, days)
