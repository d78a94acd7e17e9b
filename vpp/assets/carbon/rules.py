"""The carbon unit: the carbon price in the objective (built at site level, after every
asset it couples), idle behaviour (nothing: the bill prices carbon from a schedule)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.carbon.block import CarbonPricing
from vpp.assets.certificates.rules import GREEN_ASSET
from vpp.assets.emission_factors import (
    certificates_lower_emissions,
    fuel_emissions_kg,
    site_factors,
)
from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext
from vpp.assets.opt_outs import PassiveInRules
from vpp.emissions import horizon_year_share
from vpp.model import AssetInput

#: Asset name of the site's carbon-price block.
CARBON_ASSET = "carbon"


class CarbonRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """None here: the carbon price couples to other assets and needs the emission
        factors; it is built in :meth:`site_inputs`."""
        return []

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """The carbon price (asset ``carbon``) when it is in the objective: the price
        [CNY/t], the priced carriers, the fuel emissions over the horizon [kg] and the
        ``market_factor_kg_per_kwh`` series [kgCO2/kWh]. Nothing when the emission
        factors could not be resolved (that problem is collected already)."""
        site = ctx.site
        price = site.carbon_price
        factors = site_factors(ctx)
        if price is None or not price.in_objective or factors is None:
            return []
        horizon = ctx.horizon
        fuel_kg = fuel_emissions_kg(
            site, factors, year_share=horizon_year_share(horizon.index, horizon.step_h)
        )
        pricing = CarbonPricing(
            grid="grid",
            contracts=tuple(c.name for c in site.green_contracts),
            certificates=GREEN_ASSET if certificates_lower_emissions(site) else None,
            price_cny_per_t=float(price.cny_per_t),
            price_electricity="electricity" in price.carriers,
            fuel_kg=sum(fuel_kg.values()),
            priced_fuel_kg=sum(v for c, v in fuel_kg.items() if c in price.carriers),
        )
        series = {"market_factor_kg_per_kwh": ctx.columns["market_factor_kg_per_kwh"]}
        return [AssetInput(CARBON_ASSET, "carbon", pricing, series)]

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """Nothing: the carbon price has no power."""
        return Idle()

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: the carbon price has no power."""
        return {}
