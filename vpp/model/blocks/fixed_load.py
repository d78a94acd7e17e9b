"""Fixed (inflexible) load block: the site's measured or synthetic demand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.model.blocks.contract import LinearPort
from vpp.model.blocks.registry import register
from vpp.model.blocks.updates import BusConstant, register_update


@register("load")
def build_fixed_load(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> None:
    r"""Build a fixed load.

    .. math::

        net_t = -L_t, \qquad cost = 0

    =============  ==============  ================================
    symbol         attribute       meaning
    =============  ==============  ================================
    :math:`L_t`    ``load_kw``     the load series [kW] (``series``)
    =============  ==============  ================================
    """
    block.net_kw = LinearPort([], constant_kw=-series["load_kw"])
    block.cost_cny = pyo.Expression(expr=0.0)


@register_update("load")
def update_fixed_load(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> list[Any]:
    """The numbers of :func:`build_fixed_load` on a new window: :math:`-L_t`."""
    return [BusConstant(-np.asarray(series["load_kw"], float))]
