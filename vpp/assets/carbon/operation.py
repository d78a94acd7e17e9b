"""The carbon unit: its rolling-window inputs, plan, real-time rule and settlement hold.

The carbon account is settled over the horizon; its price on electricity is folded into
the windows' import price (market-based factor). It is left out of the rolling windows
and settled over the whole horizon afterwards, on the operated dispatch
(:func:`vpp.operation.settlement.settle`), where it is optimized as in a perfect-foresight
run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.timeseries import Horizon

#: Kilograms per tonne.
KG_PER_T = 1000.0


class CarbonOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """Settled over the whole horizon afterwards, not in the windows."""
        return False

    def initial_state(self, asset: Any, horizon: Horizon) -> None:
        """Nothing is carried: it is not in the windows."""
        return None

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

    def window(self, asset: Any, state: None, window: Window) -> None:
        """Not in the windows."""
        return None

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """Not in the windows: no plan."""
        return {}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """Not operated in real time: no columns."""
        return {}

    def controller(self, asset: Any, state: None, applied: Applied) -> Controller:
        """Not operated in real time: a controller that does nothing."""
        return Controller()

    def carry(self, asset: Any, state: None, controller: Controller) -> None:
        """Nothing to carry."""
        return None

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """Optimized in the settlement, not held."""

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """No final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """No measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """It reads no forecast: the input as it is."""
        return asset
