"""Fixed (inflexible) load block: the site's measured or synthetic demand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import NoShortfallToExplain, PerStepRows
from vpp.assets.sizing import NotSized
from vpp.model.blocks.contract import LinearPort
from vpp.model.blocks.updates import BusConstant


class LoadBlock(NotSized, NoShortfallToExplain, PerStepRows):
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

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any]:
        """The numbers of :meth:`build` on a new window: :math:`-L_t`."""
        return [BusConstant(-np.asarray(series["load_kw"], float))]

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> tuple:
        """Empty: a load's block has the same structure in every window of the same length."""
        return ()
