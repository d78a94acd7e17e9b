"""The EV fleet unit: its sessions (:mod:`vpp.assets.ev_fleet.sessions`), idle behaviour
(uncontrolled charging, no V2G)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.ev_fleet.sessions import ev_inputs
from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.model import AssetInput


class EVFleetRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """The session series of the block and ``<fleet>_default_kw``: every session
        charging at full power from its arrival until its energy is delivered [kW].
        Sessions clipped to the horizon or outside it are notes (``ctx.notes``).

        Raises
        ------
        DataError
            With every problem of the sessions file.
        """
        i = next(k for k, f in enumerate(ctx.site.ev_fleets) if f is entry)
        asset, default_kw = ev_inputs(entry, ctx.horizon, f"site.ev_fleets[{i}]", ctx.notes)
        ctx.columns[f"{entry.name}_default_kw"] = default_kw
        return [asset]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every fleet is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """Uncontrolled charging: ``<fleet>_charge_kw`` = ``<fleet>_default_kw``, no
        discharge [kW]."""
        default = series[f"{asset.name}_default_kw"].to_numpy()
        columns = {f"{asset.name}_charge_kw": default, f"{asset.name}_discharge_kw": 0.0}
        return Idle(demand_kw=default, columns=columns)

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: the fleet gives nothing back when idle (no V2G)."""
        return {}
