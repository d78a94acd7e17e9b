"""The demand-charge unit's operation: planned in every window, its billed peak carried.

Carried between windows: each billing period's billed peak so far [kW] (the floor
``peak_floor_kw`` in the first billing period, then the largest settled power in the
window), the floor of that billing period's peak in the next window: a window pays
only for what it adds, as the grid's month-to-date peak does for the basic charge.

The real-time controller is passive: it neither holds nor guards a level (the grid's
peak guard holds the import at the month's peak for the basic charge only); it reads
the settled import and export the grid takes (:meth:`DemandChargeController.take_rest`)
and raises the billed peaks. The settlement holds nothing: the billed peaks follow from
the settled import and export, and the bill charges them over the whole horizon.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.timeseries import Horizon


class DemandChargeController(Controller):
    """A charge over one applied span: passive, it meters the settled peaks."""

    def __init__(self, asset: Any, peaks_kw: np.ndarray, applied: Applied) -> None:
        span = applied.span
        self.on = asset.spec.on
        self.in_window = np.asarray(asset.series["in_window"], float)[span] > 0.5
        self.billing = np.asarray(asset.series["billing_index"], np.int64)[span]
        self.peaks_kw = np.array(peaks_kw, dtype=float)

    def take_rest(self, net_kw: np.ndarray, curtailed_kw: np.ndarray) -> None:
        """The grid's settled import :math:`\\max(net, 0)` and export
        :math:`\\max(-net, 0) - curtailed` raise the billed peaks of the steps in the
        window [kW]."""
        imp = np.maximum(net_kw, 0.0)
        exp = np.maximum(-net_kw, 0.0) - curtailed_kw
        if self.on == "import":
            quantity = imp
        elif self.on == "export":
            quantity = exp
        else:
            quantity = np.abs(imp - exp)
        np.maximum.at(self.peaks_kw, self.billing[self.in_window], quantity[self.in_window])

    def end_state(self) -> np.ndarray:
        """The billed peak of each billing period of the horizon after the span [kW]."""
        return self.peaks_kw


class DemandChargeOperation:
    """Its rolling-window inputs, (passive) real-time rule and settlement."""

    def in_windows(self, asset: Any) -> bool:
        """A charge is planned in every window (it shapes the dispatch)."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> np.ndarray:
        """The floor of each billing period of the horizon [kW]."""
        return np.array(asset.series["peak_floor_kw"], dtype=float)

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """It adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: np.ndarray, window: Window) -> Any:
        """The window's steps and billing map (billing periods renumbered from the
        window's first), the billed peaks so far as their floors."""
        start, stop = window.start, window.stop
        billing = np.asarray(asset.series["billing_index"], np.int64)[start:stop]
        first, last = int(billing[0]), int(billing[-1]) + 1
        series = {
            "in_window": np.asarray(asset.series["in_window"], float)[start:stop],
            "billing_index": billing - first,
            "peak_floor_kw": np.asarray(state, float)[first:last],
        }
        return dataclasses.replace(asset, series=series)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """None: its peaks are per billing period, not per step."""
        return {}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """None: it writes no column."""
        return {}

    def controller(self, asset: Any, state: np.ndarray, applied: Applied) -> DemandChargeController:
        """The passive meter of the billed peaks (:class:`DemandChargeController`)."""
        return DemandChargeController(asset, state, applied)

    def carry(
        self, asset: Any, state: np.ndarray, controller: DemandChargeController
    ) -> np.ndarray:
        """The billed peak of each billing period so far [kW]."""
        return controller.end_state()

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """Nothing held: the billed peaks follow from the settled import and export."""

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """No final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """No measured state: the daily job starts from ``peak_floor_kw``."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """It reads no forecast: the input as it is."""
        return asset
