"""PV array block: AC output up to what the array can produce; curtailment is free."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.model.blocks.contract import LinearPort, as_bounds
from vpp.model.blocks.registry import register
from vpp.model.blocks.sizing import PV_SIZE_KEY, build_sized_pv
from vpp.model.blocks.updates import ColBounds, register_update


@register("pv")
def build_pv(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> None:
    r"""Build a PV array.

    .. math::

        0 \le P_t \le \bar P_t, \qquad net_t = P_t, \qquad cost = 0

    =================  ==================  =============================================
    symbol             attribute           meaning
    =================  ==================  =============================================
    :math:`P_t`        ``pv_kw[t]``        AC power delivered to the bus [kW]
    :math:`\bar P_t`   ``available_kw``    AC power the array can produce [kW] (series)
    =================  ==================  =============================================

    Curtailment :math:`\bar P_t - P_t` is reported in the results. With the sizing keys
    in ``series`` the size is a decision (:func:`vpp.model.blocks.sizing.build_sized_pv`).
    """
    if PV_SIZE_KEY in series:
        build_sized_pv(block, asset, horizon, series)
        return
    m = block.model()
    upper = as_bounds(series["available_kw"])
    block.pv_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, upper[t]))
    block.net_kw = LinearPort([(1.0, block.pv_kw)])
    block.cost_cny = pyo.Expression(expr=0.0)


@register_update("pv")
def update_pv(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> list[Any]:
    """The numbers of :func:`build_pv` on a new window: :math:`\\bar P_t`."""
    return [ColBounds(block.pv_kw, upper=series["available_kw"])]
