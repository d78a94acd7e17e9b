"""The PV unit: its rolling-window inputs, plan, real-time rule and settlement hold.

A window plans on the PV forecast issued at its start (``<array>_available_kw``); in real
time an array produces all it actually can and is curtailed only to keep the export
within the export limit (in proportion to what each array produces).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.assets.hold import hold_at
from vpp.timeseries import Horizon


class PVController(Controller):
    """One array over one applied span: all it can, less the curtailment."""

    def __init__(self, name: str, applied: Applied) -> None:
        self.name = name
        self.pv_kw = applied.actual_kw(f"{name}_available_kw")
        self.forecast_kw = applied.forecasts[f"{name}_available_kw"][: applied.k]

    def supply_kw(self) -> np.ndarray:
        """The actual available power [kW]."""
        return self.pv_kw

    def curtailable_kw(self) -> np.ndarray:
        """Everything it produces may be curtailed [kW]."""
        return self.pv_kw

    def curtail(self, kw: np.ndarray) -> None:
        """Produce ``kw`` less [kW]."""
        self.pv_kw -= kw

    def columns(self) -> dict[str, np.ndarray]:
        """The forecast the plan used and the settled output [kW]."""
        return {f"{self.name}_forecast_kw": self.forecast_kw, f"{self.name}_pv_kw": self.pv_kw}


class PVOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """An array is in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> None:
        """An array carries nothing from one window to the next."""
        return None

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """PV adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: None, window: Window) -> Any:
        """The array's forecast issued at the window's start [kW]."""
        available = window.forecasts[f"{asset.name}_available_kw"]
        return dataclasses.replace(asset, series={"available_kw": available})

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The planned output [kW] (real time produces all it can instead)."""
        return {f"{asset.name}_pv_kw": values(block.pv_kw)}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """The forecast each applied step was planned on and the settled output [kW]."""
        return {f"{asset.name}_forecast_kw": np.zeros(n), f"{asset.name}_pv_kw": np.zeros(n)}

    def controller(self, asset: Any, state: None, applied: Applied) -> PVController:
        """All it can, curtailed for the export limit (:class:`PVController`)."""
        return PVController(asset.name, applied)

    def carry(self, asset: Any, state: None, controller: PVController) -> None:
        """Nothing to carry."""
        return None

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """The output held as settled."""
        hold_at(block.pv_kw, columns[f"{asset.name}_pv_kw"])

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """PV has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """PV has no measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """The array's forecast (``forecasts["<array>_available_kw"]``) in place of its
        series [kW]; an array without a forecast keeps its series."""
        key = f"{asset.name}_available_kw"
        if key not in forecasts:
            return asset
        return dataclasses.replace(asset, series={**asset.series, "available_kw": forecasts[key]})
