"""The grid's block on typical days: each month's peak (and excess demand) holds the
import of every step of every typical day that stands for a day of that month
(:mod:`vpp.planning.typical`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.typical_days import Aggregation, stood_for
from vpp.model.blocks.contract import linear


def relink_months(block: Any, asset: Any, horizon: Any, agg: Aggregation) -> None:
    """:math:`\\hat P_m \\ge P^{imp}_t` (and the excess) for every month a day stands for."""
    pairs = stood_for(agg, horizon.month_index)
    if hasattr(block, "peak_def"):
        block.del_component(block.peak_def)
        block.peak_def_typical = pyo.Constraint(
            range(len(pairs)),
            rule=lambda b, i: (
                None,
                linear([1.0, -1.0], [b.import_kw[pairs[i][0]], b.peak_import_kw[pairs[i][1]]]),
                0.0,
            ),
        )
    if hasattr(block, "excess_def"):
        tau = [float(b) for b in months_array(asset, "excess_threshold_kw", block)]
        block.del_component(block.excess_def)
        block.excess_def_typical = pyo.Constraint(
            range(len(pairs)),
            rule=lambda b, i: (
                None,
                linear([1.0, -1.0], [b.import_kw[pairs[i][0]], b.excess_demand_kw[pairs[i][1]]]),
                tau[pairs[i][1]],
            ),
        )


def months_array(asset: Any, key: str, block: Any) -> np.ndarray:
    """A per-month series of the grid, broadcast to its months [-]."""
    n_months = len(block.E)
    return np.broadcast_to(np.asarray(asset.series[key], float), (n_months,))
