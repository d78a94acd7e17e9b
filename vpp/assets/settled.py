"""The operation answers of a unit settled over the whole horizon, not in windows.

Green contracts, the green account (certificates) and the carbon account are left out of
the rolling windows and optimized over the whole horizon afterwards, on the operated
dispatch (:func:`vpp.operation.settlement.settle`), as in a perfect-foresight run. Their
``operation.py`` inherits :class:`SettledOverTheHorizon` to say so in one line (a unit
that folds something into the windows, such as the carbon price on import, overrides
that answer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.timeseries import Horizon


class SettledOverTheHorizon:
    """The operation capabilities of a unit that is not in the rolling windows."""

    def in_windows(self, asset: Any) -> bool:
        """Settled over the whole horizon afterwards, not in the windows."""
        return False

    def initial_state(self, asset: Any, horizon: Horizon) -> None:
        """Nothing is carried: it is not in the windows."""
        return None

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """It adds nothing to the import price."""
        return 0.0

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
