"""The grid unit: its input series (the tariff, the emission factors), idle behaviour."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.emission_factors import emission_factor_columns
from vpp.assets.grid.limits import export_bounds_kw, no_export_cap_kw, read_limits
from vpp.assets.grid.tariff import TariffInputs, tariff_inputs
from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.errors import ScenarioError
from vpp.model import AssetInput


class GridRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 1

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """The tariff on the horizon (:func:`vpp.assets.grid.tariff.tariff_inputs`).

        Adds ``price_cny_per_kwh``, ``tou_period`` and ``export_price_cny_per_kwh`` to
        the columns (zeros and ``series`` periods after a tariff problem, which is
        collected) and the tariff's summary to ``ctx.info["tariff_info"]``; the block
        input carries both prices [CNY/kWh], the monthly basic-charge terms and the
        import and export limits per step (``import_limit_kw``, ``export_limit_kw``
        [kW], :func:`vpp.assets.grid.limits.read_limits`).
        """
        try:
            tariff = tariff_inputs(entry, ctx.horizon, ctx.read)
        except ScenarioError as exc:
            ctx.collect(exc)
            tariff = TariffInputs.empty(ctx.horizon.n)
        cols = ctx.columns
        cols["price_cny_per_kwh"] = tariff.price_cny_per_kwh
        cols["tou_period"] = tariff.tou_period
        cols["export_price_cny_per_kwh"] = tariff.export_price_cny_per_kwh
        ctx.info["tariff_info"] = tariff.info
        series = {
            "price_cny_per_kwh": cols["price_cny_per_kwh"],
            "export_price_cny_per_kwh": cols["export_price_cny_per_kwh"],
            **tariff.grid_series,
            **read_limits(entry, ctx.horizon.n, ctx.read),
        }
        return [AssetInput("grid", "grid", entry, series)]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """The grid's emission factors ``grid_factor_kg_per_kwh`` and
        ``market_factor_kg_per_kwh`` [kgCO2/kWh]
        (:func:`vpp.assets.emission_factors.emission_factor_columns`); no block input.

        With batteries that do not export (``export_to_grid: false``) the grid's block
        input gets the no-export cap ``export_cap_kw`` [kW]
        (:func:`vpp.assets.grid.limits.no_export_cap_kw`, which needs every PV array's
        availability and the load, read before).
        """
        emission_factor_columns(ctx)
        cap = no_export_cap_kw(ctx.site, ctx.columns, ctx.horizon.n)
        if cap is not None:
            for asset in ctx.assets:
                if asset.kind == "grid":
                    asset.series["export_cap_kw"] = cap
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """It takes the surplus up to its export bound of each step
        (:func:`vpp.assets.grid.limits.export_bounds_kw`) where the export price is
        positive."""
        can_export = series["export_price_cny_per_kwh"].to_numpy() > 0.0
        bound = export_bounds_kw(asset.spec, asset.series, len(series))
        limit = np.where(can_export, bound, 0.0)
        return Idle(export_max_kw=limit)

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: the site writes its import and export (``grid_import_kw``, ...)."""
        return {}
