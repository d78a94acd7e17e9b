"""The shiftable-load unit: its rolling-window inputs, plan, real-time rule and hold.

Carried between windows: the energy served so far in each window occurrence [kWh]. A
window is given, for each occurrence it overlaps, the energy still owed (due minus
served before the window) times the share of the occurrence's remaining steps that lie
inside the window. In real time the load runs as scheduled.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, Window
from vpp.assets.hold import hold_at
from vpp.timeseries import Horizon


def owed(asset: Any, start: int, stop: int, served_kwh: np.ndarray) -> dict[str, np.ndarray]:
    """A shiftable load's window occurrences and the energy owed inside steps
    ``start .. stop - 1`` (module docstring) [kWh]."""
    full_id = asset.series["window_id"]
    due = asset.series["window_energy_kwh"]
    ids = full_id[start:stop]
    present = np.unique(ids[ids >= 0])
    local = np.full(stop - start, -1, dtype=int)
    energy = np.empty(len(present))
    for j, k in enumerate(present.tolist()):
        members = np.flatnonzero(full_id == k)
        remaining = int((members >= start).sum())
        inside = int(((members >= start) & (members < stop)).sum())
        energy[j] = max(0.0, due[k] - served_kwh[k]) * inside / remaining
        local[ids == k] = j
    return {"window_id": local, "window_energy_kwh": energy}


class ShiftableController(Controller):
    """A shiftable load over one applied span: it runs as scheduled."""

    def __init__(self, asset: Any, served_kwh: np.ndarray, applied: Applied) -> None:
        self.name = asset.name
        self.power_kw = np.maximum(applied.plan[f"{asset.name}_power_kw"][: applied.k], 0.0)
        ids = asset.series["window_id"][applied.span]
        inside = ids >= 0
        self.served_kwh = served_kwh.copy()
        np.add.at(self.served_kwh, ids[inside], self.power_kw[inside] * applied.dt_h)

    def demand_kw(self) -> np.ndarray:
        """The scheduled power [kW]."""
        return self.power_kw

    def columns(self) -> dict[str, np.ndarray]:
        """The settled power [kW]."""
        return {f"{self.name}_power_kw": self.power_kw}

    def end_state(self) -> np.ndarray:
        """Energy served per window occurrence after the span [kWh]."""
        return self.served_kwh


class ShiftableOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """A shiftable load is planned in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> np.ndarray:
        """Nothing served yet in any window occurrence [kWh]."""
        return np.zeros(len(asset.series["window_energy_kwh"]))

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """A shiftable load adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: np.ndarray, window: Window) -> Any:
        """The occurrences in the window and the energy owed in it (:func:`owed`)."""
        return dataclasses.replace(asset, series=owed(asset, window.start, window.stop, state))

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The planned power [kW]."""
        return {f"{asset.name}_power_kw": values(block.power_kw)}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """The settled power [kW]."""
        return {f"{asset.name}_power_kw": np.zeros(n)}

    def controller(self, asset: Any, state: np.ndarray, applied: Applied) -> ShiftableController:
        """It runs as scheduled (:class:`ShiftableController`)."""
        return ShiftableController(asset, state, applied)

    def carry(self, asset: Any, state: np.ndarray, controller: ShiftableController) -> np.ndarray:
        """The energy served per window occurrence after the span [kWh]."""
        return controller.end_state()

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """The power held as settled; each window's energy is what the operation served
        (the energy rule is off: a window that runs past the horizon's end is clipped to
        it, while the operation, which plans past the end in a park backtest, may have
        served more of it by then)."""
        hold_at(block.power_kw, columns[f"{asset.name}_power_kw"])
        block.energy_due.deactivate()

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """A shiftable load has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """A shiftable load has no measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """Its windows and energy are declared: the input as it is."""
        return asset
