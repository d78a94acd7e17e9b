"""The carbon unit's operation: settled over the horizon, its price folded into windows.

The carbon account is settled over the horizon
(:class:`vpp.assets.settled.SettledOverTheHorizon`); its price on electricity is folded
into the windows' import price (market-based factor).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets.settled import SettledOverTheHorizon

#: Kilograms per tonne.
KG_PER_T = 1000.0


class CarbonOperation(SettledOverTheHorizon):
    """Not in the rolling windows; its electricity price is added to the windows' import."""

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> np.ndarray | float:
        """The carbon price on grid import in the windows [CNY/kWh]: :math:`\\lambda f_t / 1000`
        with :math:`f` the market-based factor [kg/kWh]; zero unless the scenario prices
        electricity emissions in the objective."""
        price = scenario.site.carbon_price
        if price is None or not price.in_objective or "electricity" not in price.carriers:
            return 0.0
        factor = np.asarray(asset.series["market_factor_kg_per_kwh"], float)[start:stop]
        return float(price.cny_per_t) / KG_PER_T * factor
