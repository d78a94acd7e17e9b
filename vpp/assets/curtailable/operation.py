"""The curtailable-load unit: its rolling-window inputs, plan, real-time rule and hold.

Its power is a declared series, known in advance, so a window gets it as it is. In real
time the load sheds as scheduled, capped at the power actually sheddable
(``max_shed_fraction`` of the actual power).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.assets.hold import hold_at
from vpp.timeseries import Horizon


class CurtailableController(Controller):
    """A curtailable load over one applied span: the scheduled shed, capped."""

    def __init__(self, asset: Any, applied: Applied) -> None:
        self.name = asset.name
        self.power_kw = applied.actual_kw(f"{asset.name}_power_kw")
        cap = asset.spec.max_shed_fraction * self.power_kw
        self.shed_kw = np.clip(applied.plan[f"{asset.name}_shed_kw"][: applied.k], 0.0, cap)

    def demand_kw(self) -> np.ndarray:
        """The actual power less the shed [kW]."""
        return self.power_kw - self.shed_kw

    def columns(self) -> dict[str, np.ndarray]:
        """The settled shed [kW]."""
        return {f"{self.name}_shed_kw": self.shed_kw}


class CurtailableOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """A curtailable load is planned in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> None:
        """A curtailable load carries nothing from one window to the next."""
        return None

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """A curtailable load adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: None, window: Window) -> Any:
        """Its declared series on the window."""
        series = {k: v[window.start : window.stop] for k, v in asset.series.items()}
        return dataclasses.replace(asset, series=series)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The planned shed [kW]."""
        return {f"{asset.name}_shed_kw": values(block.shed_kw)}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """The settled shed [kW]."""
        return {f"{asset.name}_shed_kw": np.zeros(n)}

    def controller(self, asset: Any, state: None, applied: Applied) -> CurtailableController:
        """It sheds as scheduled, capped (:class:`CurtailableController`)."""
        return CurtailableController(asset, applied)

    def carry(self, asset: Any, state: None, controller: CurtailableController) -> None:
        """Nothing to carry."""
        return None

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """The shed held as settled."""
        hold_at(block.shed_kw, columns[f"{asset.name}_shed_kw"])

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """A curtailable load has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """A curtailable load has no measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """Its power is a declared series: the input as it is."""
        return asset
