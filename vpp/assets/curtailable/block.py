"""Curtailable load block: a load that may be partly shed at a cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import NoShortfallToExplain, PerStepRows
from vpp.assets.sizing import NotSized
from vpp.model.blocks.contract import LinearPort, as_bounds, linear_sum
from vpp.model.blocks.updates import BusConstant, ColBounds


class CurtailableBlock(NotSized, NoShortfallToExplain, PerStepRows):
    """Its Pyomo block, updater and signature; it is never sized (:class:`NotSized`).
    Its rows are per step: on typical days it stands for every day as it is
    (:class:`PerStepRows`; the sizing weights its shedding cost by the days each
    typical day stands for)."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build a curtailable load.

        .. math::

            0 \le X_t \le \phi L_t, \qquad net_t = -(L_t - X_t),
            \qquad cost = c^{shed} \sum_t X_t \,\Delta t

        =================  ===============  ==============================================
        symbol             attribute        meaning
        =================  ===============  ==============================================
        :math:`L_t`        series           ``power_kw``: the load when not shed [kW]
        :math:`X_t`        ``shed_kw[t]``   load shed [kW]
        :math:`\phi`       asset            ``max_shed_fraction`` [-]
        :math:`c^{shed}`   asset            ``shed_cost_cny_per_kwh`` [CNY/kWh]
        =================  ===============  ==============================================
        """
        m = block.model()
        power = series["power_kw"]
        upper = as_bounds(asset.max_shed_fraction * power)
        block.shed_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, upper[t]))
        block.net_kw = LinearPort([(1.0, block.shed_kw)], constant_kw=-power)
        cost = asset.shed_cost_cny_per_kwh * horizon.step_h
        block.cost_cny = pyo.Expression(expr=linear_sum(cost, block.shed_kw))

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any]:
        """The numbers of :meth:`build` on a new window: :math:`\\phi L_t`, :math:`-L_t`."""
        power = np.asarray(series["power_kw"], float)
        return [
            ColBounds(block.shed_kw, upper=asset.max_shed_fraction * power),
            BusConstant(-power),
        ]

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> tuple:
        """Empty: its block has the same structure in every window of the same length."""
        return ()
