"""The grid unit: its rolling-window inputs, plan, real-time rule and settlement hold.

In a rolling run the grid is the unit that balances the site: it takes whatever the
other units' settled powers leave (:meth:`GridController.take_rest`). Import above the
import limit, and export above the export limit that curtailment cannot remove, are
violations: settled and reported, never hidden.

Carried between windows: the largest settled import of each month so far [kW], the
floor of each month's peak in the next window (the demand charge is paid again only on
what a window adds). Under ``peak_guard`` the grid asks the step loop to hold the import
at the month's peak so far or the plan's, whichever is higher (:class:`MonthGuard`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.control import Applied, Controller, MonthGuard, Window
from vpp.assets.grid.block import BASIC_CHARGE_KEYS
from vpp.assets.grid.limits import export_bounds_kw, forecast_surplus_kw, import_bounds_kw
from vpp.assets.hold import hold_at, release_upper
from vpp.timeseries import Horizon


class GridController(Controller):
    """The grid over one applied span: the guard level, then the rest of the site."""

    def __init__(self, asset: Any, month_peak_kw: np.ndarray, applied: Applied) -> None:
        self.spec = asset.spec
        self.applied = applied
        self.month_peak_kw = month_peak_kw.copy()
        k, start, span = applied.k, applied.start, applied.span
        months = applied.horizon.month_index
        self.month_of = months[span]
        planned = applied.plan["grid_import_kw"]
        self.plan_kw = planned[:k]
        n = applied.horizon.n
        self.import_limit_kw = import_bounds_kw(asset.spec, asset.series, n)[span]
        self.export_limit_kw = export_bounds_kw(asset.spec, asset.series, n)[span]
        cap = asset.series.get("export_cap_kw")
        self._export_cap = None if cap is None else self.export_limit_kw
        self._guard = None
        if applied.rule == "peak_guard":
            window_months = months[start : start + len(planned)]
            level = {
                int(m): max(float(month_peak_kw[m]), float(planned[window_months == m].max()))
                for m in np.unique(self.month_of).tolist()
            }
            self._guard = MonthGuard(level, self.month_of, self.import_limit_kw)
        self.import_kw = np.zeros(k)
        self.export_kw = np.zeros(k)
        self.import_violation_kw = np.zeros(k)
        self.export_violation_kw = np.zeros(k)

    def guard(self) -> MonthGuard | None:
        """The month's peak so far or the plan's, capped at the import limit of each
        step (``peak_guard``)."""
        return self._guard

    def export_cap_kw(self) -> np.ndarray | None:
        """The export bound of each step when batteries must not export (their
        no-export rule, :mod:`vpp.assets.grid.limits`), else None [kW]."""
        return self._export_cap

    def export_excess_kw(self, net_kw: np.ndarray) -> np.ndarray:
        """Export above the export bound of each step at the site's net consumption
        ``net_kw`` [kW]."""
        return np.maximum(np.maximum(-net_kw, 0.0) - self.export_limit_kw, 0.0)

    def take_rest(self, net_kw: np.ndarray, curtailed_kw: np.ndarray) -> None:
        """Import what the site needs, export what it gives less what was curtailed."""
        export = np.maximum(-net_kw, 0.0)
        over = np.maximum(export - self.export_limit_kw, 0.0)
        export -= curtailed_kw
        over -= curtailed_kw
        imp = np.maximum(net_kw, 0.0)
        self.import_kw, self.export_kw = imp, export
        self.import_violation_kw = np.maximum(imp - self.import_limit_kw, 0.0)
        self.export_violation_kw = over
        np.maximum.at(self.month_peak_kw, self.month_of, imp)

    def columns(self) -> dict[str, np.ndarray]:
        """Import, export, the planned import and the violations over the span [kW]."""
        return {
            "grid_import_kw": self.import_kw,
            "grid_export_kw": self.export_kw,
            "grid_import_plan_kw": self.plan_kw,
            "grid_import_violation_kw": self.import_violation_kw,
            "grid_export_violation_kw": self.export_violation_kw,
        }

    def end_state(self) -> np.ndarray:
        """The largest settled import of each month after the span [kW]."""
        return self.month_peak_kw


class GridOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """The grid is planned in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> np.ndarray:
        """The month-to-date peak of each month of the horizon: the basic charge's
        ``month_to_date_peak_kw`` in the first (series ``peak_floor_kw``), else 0 [kW]."""
        return np.array(asset.series.get("peak_floor_kw", np.zeros(len(horizon.months))))

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """The grid's own price is in its series: nothing to add."""
        return 0.0

    def window(self, asset: Any, state: np.ndarray, window: Window) -> Any:
        """Prices and limits on the window (basic charges per month), the import price
        plus the adder, and the month-to-date peak as each month's peak floor. The
        no-export cap of batteries (``export_cap_kw``) is the forecast PV surplus
        (:func:`vpp.assets.grid.limits.forecast_surplus_kw`); the real-time rule holds
        the actual one."""
        start, stop = window.start, window.stop
        months = window.horizon.month_index[start:stop]
        first, last = int(months[0]), int(months[-1]) + 1
        new = {
            k: v[first:last] if k in BASIC_CHARGE_KEYS else v[start:stop]
            for k, v in asset.series.items()
        }
        new["price_cny_per_kwh"] = new["price_cny_per_kwh"] + window.import_price_adder_cny_per_kwh
        new["peak_floor_kw"] = state[first:last]
        if "export_cap_kw" in new:  # the no-export rule, planned on the forecasts
            cap = forecast_surplus_kw(window.scenario.site, window.forecasts, stop - start)
            if cap is not None:
                new["export_cap_kw"] = cap
        return dataclasses.replace(asset, series=new)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The planned import [kW] (the peak guard's level and the plan column)."""
        return {"grid_import_kw": values(block.import_kw)}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """Import and export, the planned import and the violations [kW]."""
        names = (
            "grid_import_kw",
            "grid_export_kw",
            "grid_import_plan_kw",
            "grid_import_violation_kw",
            "grid_export_violation_kw",
        )
        return {name: np.zeros(n) for name in names}

    def controller(self, asset: Any, state: np.ndarray, applied: Applied) -> GridController:
        """It takes the rest of the site (:class:`GridController`)."""
        return GridController(asset, state, applied)

    def carry(self, asset: Any, state: np.ndarray, controller: GridController) -> np.ndarray:
        """The month-to-date peak import after the span [kW]."""
        return controller.end_state()

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """Export held as operated; import free of its limit (a violation stays
        visible) and set by the bus balance, so is the billed peak."""
        release_upper(block.import_kw)
        if hasattr(block, "peak_import_kw"):
            release_upper(block.peak_import_kw)
        hold_at(block.export_kw, columns["grid_export_kw"])

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """The grid has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """The grid has no measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """Prices and limits are known in advance; the no-export cap of batteries, when
        there is one, becomes the forecast PV surplus: :math:`\\max(0, \\sum \\hat A_t
        - \\hat D_t)` over the forecasts ``<array>_available_kw`` and ``load_kw`` [kW]."""
        if "export_cap_kw" not in asset.series or "load_kw" not in forecasts:
            return asset
        load = np.asarray(forecasts["load_kw"], float)
        pv = sum(
            (np.asarray(v, float) for k, v in forecasts.items() if k.endswith("_available_kw")),
            np.zeros(len(load)),
        )
        series = {**asset.series, "export_cap_kw": np.maximum(pv - load, 0.0)}
        return dataclasses.replace(asset, series=series)
