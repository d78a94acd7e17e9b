"""The shiftable unit: its windows, idle behaviour (as soon as possible)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.assets.shiftable.windows import asap_profile, shiftable_windows
from vpp.model import AssetInput


class ShiftableRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """``<name>_default_kw`` (as soon as possible) [kW]; the block gets ``window_id``
        (per step) and ``window_energy_kwh`` (per window occurrence) [kWh]."""
        window_id, energy = shiftable_windows(entry, ctx.horizon)
        ctx.columns[f"{entry.name}_default_kw"] = asap_profile(
            entry, window_id, energy, ctx.horizon
        )
        series = {"window_id": window_id, "window_energy_kwh": energy}
        return [AssetInput(entry.name, "shiftable", entry, series)]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every shiftable load is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """It runs at its default: ``<name>_power_kw`` = ``<name>_default_kw`` [kW]."""
        default = series[f"{asset.name}_default_kw"].to_numpy()
        return Idle(demand_kw=default, columns={f"{asset.name}_power_kw": default})

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: a load supplies nothing."""
        return {}
