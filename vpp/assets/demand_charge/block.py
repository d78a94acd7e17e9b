"""Demand-charge block: the largest import, export or |net| exchange of each billing
period inside a window, at a rate per kW."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import NoShortfallToExplain
from vpp.assets.sizing import NotSized
from vpp.model.blocks.contract import LinearPort, linear, linear_sum
from vpp.model.blocks.updates import ColBounds, ColCost

#: Asset name of the grid connection whose import and export the charges meter.
GRID_ASSET = "grid"


def window_layout(series: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The steps in the window, the billing period of each step (0..B-1) and the floor
    of each billing period [kW], from the block's series."""
    steps = np.flatnonzero(np.asarray(series["in_window"], dtype=float) > 0.5)
    billing = np.asarray(series["billing_index"], dtype=np.int64)
    floor = np.asarray(series["peak_floor_kw"], dtype=float)
    return steps, billing, floor


class DemandChargeBlock(NotSized, NoShortfallToExplain):
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
        r"""Build one demand charge on the grid connection's metered powers.

        For every billing period :math:`b` (calendar month or day) and every step
        :math:`t \in b \cap W` of the charge's window :math:`W`:

        .. math::

            \hat P_b \ge q_t, \qquad \hat P_b \ge \underline{\hat P}_b,
            \qquad cost = \sum_b r\, \hat P_b, \qquad net_t = 0

        with :math:`q_t = P^{imp}_t` (``on: import``), :math:`q_t = P^{exp}_t`
        (``export``), or, for ``net``, two rows :math:`\hat P_b \ge P^{imp}_t -
        P^{exp}_t` and :math:`\hat P_b \ge P^{exp}_t - P^{imp}_t` (so :math:`\hat P_b \ge
        |P^{imp}_t - P^{exp}_t|`). Minimizing, :math:`\hat P_b` is the billing period's
        largest :math:`q_t` in the window or the floor, whichever is higher; a billing
        period without a step in the window pays :math:`r \underline{\hat P}_b`.

        ============================  ==========================  ==============================
        symbol                        attribute                   meaning
        ============================  ==========================  ==============================
        :math:`\hat P_b`              ``peak_kw[b]``              billed peak of period b [kW]
        :math:`P^{imp}_t, P^{exp}_t`  grid ``import_kw``,         metered import and export [kW]
                                      ``export_kw``
        :math:`W`                     series ``in_window``        1 where the step is in the
                                                                  window (periods, hours, months)
        :math:`b(t)`                  series ``billing_index``    billing period of step t [-]
        :math:`\underline{\hat P}_b`  series ``peak_floor_kw``    peak already metered [kW]
        :math:`r`                     ``rate_cny_per_kw``         [CNY/kW per billing period]
        ============================  ==========================  ==============================

        The rows are one indexed constraint over the window's steps, built from a
        precomputed billing map.
        """
        grid = block.parent_block().asset[GRID_ASSET]
        steps, billing, floor = window_layout(series)
        bill = billing.tolist()
        lower = floor.tolist()
        block.B = pyo.RangeSet(0, len(lower) - 1)
        block.peak_kw = pyo.Var(block.B, bounds=lambda b, k: (lower[k], None))
        block.W = pyo.Set(initialize=steps.tolist(), ordered=True)
        peak = block.peak_kw
        if asset.on == "import":
            pairs = [(1.0, grid.import_kw)]
        elif asset.on == "export":
            pairs = [(1.0, grid.export_kw)]
        else:
            pairs = [(1.0, grid.import_kw), (-1.0, grid.export_kw)]
        coefs = [a for a, _ in pairs] + [-1.0]

        def row(signs: list[float], t: int) -> tuple:
            return (None, linear(signs, [v[t] for _, v in pairs] + [peak[bill[t]]]), 0.0)

        block.peak_def = pyo.Constraint(block.W, rule=lambda b, t: row(coefs, t))
        if asset.on == "net":
            reverse = [-a for a, _ in pairs] + [-1.0]
            block.peak_def_reverse = pyo.Constraint(block.W, rule=lambda b, t: row(reverse, t))
        block.net_kw = LinearPort([])
        block.cost_cny = pyo.Expression(expr=linear_sum(float(asset.rate_cny_per_kw), peak))

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> None:
        """Each billing period's peak holds over the window's steps of every day it
        stands for (:func:`vpp.assets.demand_charge.typical.relink_periods`)."""
        from vpp.assets.demand_charge.typical import relink_periods

        relink_periods(block, asset, days, block.parent_block().asset[GRID_ASSET])

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any]:
        """The floors of a new window's billing periods (the peaks billed so far) [kW]."""
        _, _, floor = window_layout(series)
        rate = np.full(len(floor), float(asset.rate_cny_per_kw))
        return [ColBounds(block.peak_kw, lower=floor), ColCost(block.peak_kw, rate)]

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> tuple:
        """The window's steps and billing map, and what is charged."""
        steps, billing, floor = window_layout(series)
        return steps.tobytes(), billing.tobytes(), len(floor), asset.on
