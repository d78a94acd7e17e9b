"""The curtailable unit: its power series, idle behaviour (never shed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.model import AssetInput


class CurtailableRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """``<name>_power_kw``: what the load draws unless shed [kW]."""
        i = next(k for k, f in enumerate(ctx.site.flexible_loads) if f is entry)
        power = ctx.read(
            entry.power_kw,
            f"site.flexible_loads[{i}].power_kw",
            nonnegative="give the load's consumption as positive kW",
        )
        ctx.columns[f"{entry.name}_power_kw"] = power
        return [AssetInput(entry.name, "curtailable", entry, {"power_kw": power})]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every curtailable load is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """Never shed: it draws ``<name>_power_kw``; ``<name>_shed_kw`` is zero."""
        power = series[f"{asset.name}_power_kw"].to_numpy()
        return Idle(demand_kw=power, columns={f"{asset.name}_shed_kw": 0.0})

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: a load supplies nothing."""
        return {}
