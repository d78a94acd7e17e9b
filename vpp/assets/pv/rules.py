"""The PV unit: its available power (all arrays of a site from one weather read), idle
behaviour (serve the load first)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.assets.pv.availability import PVInputs, pv_inputs
from vpp.errors import VppError
from vpp.model import AssetInput

#: ``InputContext.shared`` key of the site's PV availability.
_SHARED_KEY = "pv_available"


def site_pv(ctx: InputContext) -> PVInputs:
    """Every array's available power on the horizon, computed on the first call.

    Modelled arrays share one weather read and one pvlib pass
    (:func:`vpp.assets.pv.availability.pv_inputs`); after a weather problem (collected)
    every array is zero. Records ``weather_source`` and ``weather_notes`` in ``ctx.info``.
    """
    pv = ctx.shared.get(_SHARED_KEY)
    if pv is None:
        try:
            pv = pv_inputs(ctx.site, ctx.horizon, ctx.read)
        except VppError as exc:
            ctx.collect(exc)
            pv = PVInputs({a.name: np.zeros(ctx.horizon.n) for a in ctx.site.pv}, None, ())
        ctx.shared[_SHARED_KEY] = pv
        ctx.info["weather_source"] = pv.weather_source
        ctx.info["weather_notes"] = pv.weather_notes
    return pv


class PVRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """``<pv>_available_kw`` [kW AC] (:func:`site_pv`)."""
        available = site_pv(ctx).available_kw[entry.name]
        ctx.columns[f"{entry.name}_available_kw"] = available
        return [AssetInput(entry.name, "pv", entry, {"available_kw": available})]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every array is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """It supplies ``<pv>_available_kw``: the load first, then export, else curtailed."""
        return Idle(supply_columns=(f"{asset.name}_available_kw",))

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """``<pv>_pv_kw`` (available x share) and ``<pv>_curtailed_kw`` (the rest) [kW]."""
        avail = series[f"{asset.name}_available_kw"].to_numpy(dtype=float)
        return {
            f"{asset.name}_pv_kw": avail * share,
            f"{asset.name}_curtailed_kw": avail * (1.0 - share),
        }
