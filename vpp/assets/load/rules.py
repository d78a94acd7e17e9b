"""The load unit: its input series (measured or synthetic), idle behaviour."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.model import AssetInput
from vpp.profiles.synthetic import synthetic_load_kw


class LoadRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 0

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """``load_kw`` [kW]: the load's series, or its synthetic profile."""
        if entry.series is not None:
            load_kw = ctx.read(
                entry.series,
                "site.load.series",
                nonnegative="give the site's consumption as positive kW; PV goes under site.pv",
            )
        else:
            syn = entry.synthetic
            load_kw = synthetic_load_kw(ctx.horizon.index, syn.profile, syn.peak_kw, syn.seed)
        ctx.columns["load_kw"] = load_kw
        return [AssetInput("load", "load", entry, {"load_kw": load_kw})]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: the load is one entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """It consumes ``load_kw``."""
        return Idle(demand_kw=series["load_kw"].to_numpy())

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: the load supplies nothing."""
        return {}
