r"""The genset unit: rolling-window inputs, reading a plan, the real-time rule, the hold.

- **Window inputs** (:func:`window_series`): the steps of the window of every series;
  with ``use: grid_limit`` the steps it may run in are recomputed from the window's
  forecasts (:math:`\tilde L_t - \sum_{pv} \tilde A_t > \bar I`), as a planner would know
  them. A genset carries no state between windows (no fuel tank, no minimum up or down
  time).
- **Real-time rule** (:func:`real_time`): the genset gives its planned output; with
  ``use: grid_limit`` it also takes up the need the forecast missed,
  :math:`\max(0, N_t - \tilde N_t)` with :math:`N_t` the actual and :math:`\tilde N_t` the
  forecast need (``need_kw``: what the import limit cannot carry); never more than the rule
  allows on the actuals (:math:`\hat P_t`, ``max_kw`` of the inputs). With a minimum stable
  load, an output above zero but below :math:`m \bar P` (a missed need, or a plan a
  solver tolerance below the minimum) rises to it where the actuals allow
  (:math:`\hat P_t \ge m \bar P`) and stops otherwise (:math:`P_t = u_t = 0`); a step the
  plan left off stays off. The grid takes the rest, as for every other asset.
  With perfect forecasts the rule gives the plan.
- **Settlement**: its settled ``power_kw`` and ``running_fraction`` are what the real-time
  rule gave; its money and diesel are recomputed from them (:mod:`vpp.assets.genset.money`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vpp.assets.genset.rules import grid_limit_need_kw, pv_keys, rule_inputs

__all__ = [
    "GensetOperation",
    "forecast_need_kw",
    "real_time",
    "running_of",
    "window_series",
    "with_rule_forecasts",
]


def window_series(
    asset: Any, start: int, stop: int, forecasts: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The genset's series on the window ``start..stop-1`` (module docstring).

    ``forecasts`` holds the window's ``load_kw`` and ``<array>_available_kw`` [kW], from
    ``start``; with ``use: grid_limit`` they replace the actuals its rule reads.
    """
    series = {k: np.asarray(v)[start:stop] for k, v in asset.series.items()}
    if asset.spec.use == "grid_limit":
        return with_rule_forecasts(series, forecasts)
    return series


def with_rule_forecasts(
    series: dict[str, np.ndarray], forecasts: dict[str, Any]
) -> dict[str, np.ndarray]:
    """A ``grid_limit`` genset's series with the forecasts of ``load_kw`` and PV put in
    (a column without a forecast keeps its series) and its rule recomputed [kW]."""
    n = len(series["max_kw"])
    out = dict(series)
    for key in ["load_kw", *pv_keys(series)]:
        if key in forecasts:
            out[key] = np.asarray(forecasts[key], float)[:n]
    out.update(rule_inputs(out))
    return out


def forecast_need_kw(asset: Any, forecasts: dict[str, Any], start: int, k: int) -> np.ndarray:
    r"""The need a ``grid_limit`` genset's plan saw over ``k`` steps from ``start``:
    :math:`\max(0, \tilde L_t - \sum_{pv} \tilde A_t - \bar I)` on the window's forecasts
    (the actual series where a column has none) [kW]."""
    series = asset.series
    span = slice(start, start + k)

    def seen(key: str) -> np.ndarray:
        if key in forecasts:
            return np.asarray(forecasts[key], float)[:k]
        return np.asarray(series[key], float)[span]

    pv = sum((seen(key) for key in pv_keys(series)), np.zeros(k))
    return grid_limit_need_kw(seen("load_kw"), pv, np.asarray(series["import_limit_kw"])[span])


def running_of(genset: Any, power_kw: np.ndarray) -> np.ndarray:
    """:math:`u_t` of outputs :math:`P_t` [-]: on/off (a minimum stable load), else
    :math:`P_t / \\bar P`."""
    p = np.asarray(power_kw, float)
    if genset.min_stable_fraction is None:
        return p / genset.rated_kw
    return (p > 0.0).astype(float)


def real_time(
    genset: Any,
    planned_kw: np.ndarray,
    max_kw: np.ndarray,
    need_kw: np.ndarray | None = None,
    forecast_need_kw: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The settled output of planned outputs on the actuals (module docstring).

    Parameters
    ----------
    genset : vpp.scenario.genset.Genset
        The scenario entry.
    planned_kw : numpy.ndarray
        The plan's ``power_kw`` on the steps [kW].
    max_kw : numpy.ndarray
        The actual :math:`\\hat P_t` on the same steps [kW].
    need_kw, forecast_need_kw : numpy.ndarray, optional
        With ``use: grid_limit``: the actual and the forecast need [kW].

    Returns
    -------
    dict of str to numpy.ndarray
        ``power_kw`` [kW] and ``running_fraction`` [-].
    """
    p = np.asarray(planned_kw, float).copy()
    cap = np.minimum(np.asarray(max_kw, float), genset.rated_kw)
    if need_kw is not None and forecast_need_kw is not None:
        p = p + np.maximum(0.0, np.asarray(need_kw) - np.asarray(forecast_need_kw))
    p = np.clip(p, 0.0, cap)
    if genset.min_stable_fraction is not None:
        low = genset.min_stable_fraction * genset.rated_kw
        # an output the plan (or the missed need) asks for runs at least at the minimum
        # where the actuals allow it; a step planned off stays off
        called = (p > 0.0) & (cap >= low)
        below = p < low
        p = np.where(below, np.where(called, low, 0.0), p)
    return {"power_kw": p, "running_fraction": running_of(genset, p)}


class GensetOperation:
    """Planned in every window; follows its plan in real time (module docstring)."""

    def in_windows(self, asset: Any) -> bool:
        """A genset is planned in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Any) -> None:
        """None: a genset carries nothing between windows."""
        return None

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """0: its carbon price is in its own block's cost [CNY/kWh]."""
        return 0.0

    def window(self, asset: Any, state: None, window: Any) -> Any:
        """Its series on the window's steps; a ``grid_limit`` rule on the window's
        forecasts (:func:`window_series`)."""
        series = window_series(asset, window.start, window.stop, window.forecasts)
        return dataclasses.replace(asset, series=series)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """Its planned output [kW]."""
        return {f"{asset.name}_power_kw": values(block.power_kw)}

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """Its settled output [kW] and running [-]."""
        return {
            f"{asset.name}_power_kw": np.zeros(n),
            f"{asset.name}_running_fraction": np.zeros(n),
        }

    def controller(self, asset: Any, state: None, applied: Any) -> Any:
        """Gives the real-time rule's output (:func:`real_time`) as a supply."""
        from vpp.assets.genset.controller import GensetController

        k, span = applied.k, applied.span
        need = forecast = None
        if asset.spec.use == "grid_limit":
            need = np.asarray(asset.series["need_kw"], float)[span]
            forecast = forecast_need_kw(asset, applied.forecasts, applied.start, k)
        settled = real_time(
            asset.spec,
            applied.plan[f"{asset.name}_power_kw"][:k],
            np.asarray(asset.series["max_kw"], float)[span],
            need,
            forecast,
        )
        return GensetController(asset.name, settled)

    def carry(self, asset: Any, state: None, controller: Any) -> None:
        """None: nothing to carry."""
        return None

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """Output held as settled (and on/off, with a minimum stable load)."""
        from vpp.assets.hold import hold_at

        hold_at(block.power_kw, columns[f"{asset.name}_power_kw"])
        if asset.spec.min_stable_fraction is not None:  # on/off: held as settled
            hold_at(block.running_fraction, columns[f"{asset.name}_running_fraction"])
        # without a minimum stable load, running = output / rated follows from the block's
        # row; holding it too could clash with the output's rounding to zero

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """None: a genset has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """None: the daily job reads no state of a genset."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """With ``use: grid_limit``, its rule on the job's forecasts of ``load_kw`` and PV
        (:func:`with_rule_forecasts`); any other genset reads no forecast."""
        if asset.spec.use != "grid_limit":
            return asset
        return dataclasses.replace(asset, series=with_rule_forecasts(asset.series, forecasts))
