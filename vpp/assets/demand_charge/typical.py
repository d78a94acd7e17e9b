"""A demand charge's block on typical days: each billing period's peak holds the
quantity at the window's steps of every typical day that stands for a day of that
period (:mod:`vpp.planning.typical`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.typical_days import Aggregation, stood_for
from vpp.model.blocks.contract import linear


def relink_periods(block: Any, asset: Any, agg: Aggregation, grid: Any) -> None:
    """Each billing period's peak over the window's steps of the days it stands for."""
    for name in ("peak_def", "peak_def_reverse", "W"):  # built on the typical steps
        if hasattr(block, name):
            block.del_component(getattr(block, name))
    in_window = np.asarray(asset.series["in_window"], float) > 0.5
    billing = np.asarray(asset.series["billing_index"], np.int64)
    # billing period, or -1 outside the window
    code = np.where(in_window, billing, -1)
    pairs = [(t, b) for t, b in stood_for(agg, code) if b >= 0]
    if asset.spec.on == "import":
        sides = [[(1.0, grid.import_kw)]]
    elif asset.spec.on == "export":
        sides = [[(1.0, grid.export_kw)]]
    else:
        sides = [
            [(1.0, grid.import_kw), (-1.0, grid.export_kw)],
            [(-1.0, grid.import_kw), (1.0, grid.export_kw)],
        ]
    for n_side, side in enumerate(sides):
        coefs = [c for c, _ in side] + [-1.0]
        rule = lambda b, i, side=side, coefs=coefs: (  # noqa: E731
            None,
            linear(coefs, [v[pairs[i][0]] for _, v in side] + [b.peak_kw[pairs[i][1]]]),
            0.0,
        )
        block.add_component(
            f"peak_def_typical_{n_side}", pyo.Constraint(range(len(pairs)), rule=rule)
        )
