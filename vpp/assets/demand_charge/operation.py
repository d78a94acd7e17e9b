"""The demand-charge unit's operation: planned in every window, its billed peak carried.

Carried between windows: each billing period's billed peak so far [kW] (the floor
``peak_floor_kw`` in the first billing period, then the largest settled power in the
window), the floor of that billing period's peak in the next window: a window pays
only for what it adds, as the grid's month-to-date peak does for the basic charge.

The real-time controller meters the billed peaks: it reads the settled import and
export the grid takes (:meth:`DemandChargeController.take_rest`) and raises them. Under
the ``peak_guard`` rule a charge billed on the import (``on: import`` or ``net``) also
asks the step loop to hold the import, in the steps of its window, at its billing
period's peak so far or the plan's (:class:`DemandChargeGuard`); a charge on the export
guards nothing. The settlement holds nothing: the billed peaks follow from the settled
import and export, and the bill charges them over the whole horizon.

The daily job measures its state: the billed peak so far in the billing period of
``now`` from the grid meter's readings since that period's start
(:meth:`DemandChargeOperation.metered_peak_kw`, the chain in :mod:`vpp.jobs.states`),
the floor of the first billing period of its window (:meth:`~DemandChargeOperation.
with_measured_peak`); its plan's billed quantity goes into ``state.json``
(:meth:`~DemandChargeOperation.planned_quantity_kw`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.control import Applied, Controller, Window
from vpp.assets.demand_charge.periods import (
    billing_key,
    billing_start,
    tou_periods_at,
    window_mask,
)
from vpp.timeseries import Horizon


def billed_quantity_kw(on: str, import_kw: np.ndarray, export_kw: np.ndarray) -> np.ndarray:
    """The power a charge meters: the import, the export, or :math:`|import - export|`
    (``on``: ``import | export | net``) [kW]."""
    imp = np.asarray(import_kw, dtype=float)
    exp = np.asarray(export_kw, dtype=float)
    if on == "import":
        return imp
    if on == "export":
        return exp
    return np.abs(imp - exp)


class DemandChargeGuard:
    r"""The import level a charge holds at each applied step (``peak_guard``).

    In a step :math:`t` of the charge's window, of billing period :math:`b`:

    .. math:: G^c_t = \max(\hat P^{so\,far}_b, \hat P^{plan}_b)

    with :math:`\hat P^{so\,far}_b` the period's billed peak so far (carried between
    windows; its floor in the first period) and :math:`\hat P^{plan}_b` the largest
    billed quantity the plan meant for the period's steps in the window (the import,
    or :math:`|import - export|` for ``on: net``, of the grid's plan); :math:`+\infty`
    outside the window. A level the batteries could not hold rises to what was imported
    (:meth:`missed`): a peak already billed is not guarded below.

    Parameters
    ----------
    level_kw : dict of int to float
        Level per billing period (its index on the horizon) [kW].
    billing : numpy.ndarray
        The billing period of each applied step.
    in_window : numpy.ndarray of bool
        Whether each applied step is in the charge's window.
    """

    def __init__(self, level_kw: dict[int, float], billing: np.ndarray, in_window: np.ndarray):
        self.level = dict(level_kw)
        self.billing = billing
        self.in_window = in_window

    def level_kw(self, t: int) -> float:
        """The level at applied step ``t`` [kW] (infinite outside the window)."""
        if not self.in_window[t]:
            return float("inf")
        return float(self.level[int(self.billing[t])])

    def missed(self, t: int, import_kw: float) -> None:
        """The import at step ``t`` stayed at ``import_kw`` [kW]."""
        if self.in_window[t]:
            b = int(self.billing[t])
            self.level[b] = max(self.level[b], float(import_kw))


class DemandChargeController(Controller):
    """A charge over one applied span: it meters the settled peaks and, under
    ``peak_guard`` and billed on the import, guards them (:class:`DemandChargeGuard`)."""

    def __init__(self, asset: Any, peaks_kw: np.ndarray, applied: Applied) -> None:
        span = applied.span
        self.on = asset.spec.on
        self.in_window = np.asarray(asset.series["in_window"], float)[span] > 0.5
        self.billing = np.asarray(asset.series["billing_index"], np.int64)[span]
        self.peaks_kw = np.array(peaks_kw, dtype=float)
        self._guard = None
        if applied.rule == "peak_guard" and self.on != "export":
            self._guard = DemandChargeGuard(
                _guard_levels(asset, self.peaks_kw, applied), self.billing, self.in_window
            )

    def guard(self) -> DemandChargeGuard | None:
        """Its billing periods' peaks so far or the plan's, in its window (``peak_guard``,
        billed on the import), else None."""
        return self._guard

    def take_rest(self, net_kw: np.ndarray, curtailed_kw: np.ndarray) -> None:
        """The grid's settled import :math:`\\max(net, 0)` and export
        :math:`\\max(-net, 0) - curtailed` raise the billed peaks of the steps in the
        window [kW]."""
        imp = np.maximum(net_kw, 0.0)
        exp = np.maximum(-net_kw, 0.0) - curtailed_kw
        quantity = billed_quantity_kw(self.on, imp, exp)
        np.maximum.at(self.peaks_kw, self.billing[self.in_window], quantity[self.in_window])

    def end_state(self) -> np.ndarray:
        """The billed peak of each billing period of the horizon after the span [kW]."""
        return self.peaks_kw


def _guard_levels(asset: Any, peaks_kw: np.ndarray, applied: Applied) -> dict[int, float]:
    r""":math:`\max(\hat P^{so\,far}_b, \hat P^{plan}_b)` of each billing period of the
    applied steps [kW] (:class:`DemandChargeGuard`)."""
    plan_import = np.asarray(applied.plan["grid_import_kw"], float)
    plan_export = np.asarray(applied.plan.get("grid_export_kw", np.zeros_like(plan_import)))
    planned = billed_quantity_kw(asset.spec.on, plan_import, plan_export[: len(plan_import)])
    steps = slice(applied.start, applied.start + len(planned))
    in_window = np.asarray(asset.series["in_window"], float)[steps] > 0.5
    billing = np.asarray(asset.series["billing_index"], np.int64)[steps]
    levels = {}
    for b in np.unique(billing[: applied.k]).tolist():
        mine = in_window & (billing == b)
        plan_b = float(planned[mine].max()) if mine.any() else 0.0
        levels[int(b)] = max(float(peaks_kw[b]), plan_b)
    return levels


class DemandChargeOperation:
    """Its rolling-window inputs, real-time rule (a meter and a guard) and settlement."""

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
        """The meter, and under ``peak_guard`` the guard, of the billed peaks
        (:class:`DemandChargeController`)."""
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
        """None: no state of charge. Its measured state is the billed peak so far in the
        billing period of ``now`` (:meth:`metered_peak_kw`, :meth:`with_measured_peak`)."""
        return None

    def billing_period(self, asset: Any, moment: pd.Timestamp) -> tuple[str, pd.Timestamp]:
        """The billing period holding ``moment``: its name (``YYYY-MM``, or
        ``YYYY-MM-DD`` for ``per: day``) and its first instant (local time)."""
        return billing_key(moment, asset.spec.per), billing_start(moment, asset.spec.per)

    def metered_peak_kw(
        self,
        asset: Any,
        grid: Any,
        stamps: pd.DatetimeIndex,
        import_kw: np.ndarray,
        export_kw: np.ndarray,
    ) -> float:
        """The billed peak of metered readings: the largest billed quantity
        (:func:`billed_quantity_kw`) of the readings in the charge's window (periods of
        the ``grid``'s calendar, hours, months; each reading by its timestamp), 0 when
        none is [kW]. The readings are those of the billing period so far."""
        quantity = billed_quantity_kw(asset.spec.on, import_kw, export_kw)
        mask = window_mask(stamps, tou_periods_at(grid, stamps), asset.spec)
        return float(quantity[mask].max()) if mask.any() else 0.0

    def with_measured_peak(self, asset: Any, state: np.ndarray, peak_kw: float) -> np.ndarray:
        """The state with ``peak_kw`` as the floor of its first billing period [kW]."""
        state = np.array(state, dtype=float)
        if len(state):
            state[0] = float(peak_kw)
        return state

    def planned_quantity_kw(
        self, asset: Any, import_kw: np.ndarray, export_kw: np.ndarray
    ) -> np.ndarray:
        """A plan's billed quantity at each step of the input's horizon that counts for
        the first billing period's peak (in the window and that period), NaN at the
        others [kW]."""
        quantity = billed_quantity_kw(asset.spec.on, import_kw, export_kw)
        counts = (np.asarray(asset.series["in_window"], float) > 0.5) & (
            np.asarray(asset.series["billing_index"], np.int64) == 0
        )
        return np.where(counts[: len(quantity)], quantity, np.nan)

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """It reads no forecast: the input as it is."""
        return asset
