"""The load unit: its rolling-window inputs, plan, real-time rule and settlement hold.

A window plans on the load forecast issued at its start (``forecasts["load_kw"]``); in
real time the site consumes the actual load, whatever was forecast.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.timeseries import Horizon


class LoadController(Controller):
    """The actual load over one applied span; the forecast used is reported."""

    def __init__(self, applied: Applied) -> None:
        self.load_kw = applied.actual_kw("load_kw")
        self.forecast_kw = applied.forecasts["load_kw"][: applied.k]

    def demand_kw(self) -> np.ndarray:
        """The actual load [kW]."""
        return self.load_kw

    def columns(self) -> dict[str, np.ndarray]:
        """The load forecast the plan used [kW]."""
        return {"load_forecast_kw": self.forecast_kw}


class LoadOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """The load is in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> None:
        """The load carries nothing from one window to the next."""
        return None

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """The load adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: None, window: Window) -> Any:
        """The load forecast issued at the window's start [kW]."""
        return dataclasses.replace(asset, series={"load_kw": window.forecasts["load_kw"]})

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The load is not dispatched: no plan."""
        return {}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """The load forecast each applied step was planned on [kW]."""
        return {"load_forecast_kw": np.zeros(n)}

    def controller(self, asset: Any, state: None, applied: Applied) -> LoadController:
        """The actual load (:class:`LoadController`)."""
        return LoadController(applied)

    def carry(self, asset: Any, state: None, controller: LoadController) -> None:
        """Nothing to carry."""
        return None

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """The load is fixed at its actual series in the settlement: nothing to hold."""

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """The load has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """The load has no measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """The load forecast (``forecasts["load_kw"]``) in place of the series [kW]."""
        if "load_kw" not in forecasts:
            return asset
        load = np.asarray(forecasts["load_kw"])
        return dataclasses.replace(asset, series={**asset.series, "load_kw": load})
