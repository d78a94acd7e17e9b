"""How good is a PV forecast? Its baselines from measured PV, and its error metrics.

The skill of a forecast is measured against references anyone could make without it;
:mod:`vpp.solar.forecast_evaluation` reads the measurements and forecast files, matches
them step by step and calls these functions.

Baselines (both use only measurements complete at the issue time)
-----------------------------------------------------------------
- **Persistence** (:func:`persistence_kw`): the value of the same step on the latest day
  already measured at issue time, ``P(t) = M(t - k 24 h)`` with ``k >= 1`` the smallest
  integer such that the interval ``t - k 24 h`` has ended at ``issued_at``. With a 14:00
  issue, the next day's morning repeats today's morning and its afternoon yesterday's.
- **Clear-sky-index persistence** (:func:`clearsky_index_persistence_kw`): the clear-sky
  index of the last 24 h before the issue, ``k = sum M / sum C`` over the intervals in
  ``[issued_at - 24 h, issued_at)``, times the clear-sky PV at each forecast step:
  ``P(t) = k C(t)``. ``C`` is the array's AC power under pvlib's Ineichen clear sky
  (Linke turbidity climatology) at 20 degC and 1 m/s wind, through the same array model.

Metrics (:func:`error_metrics`), on the same samples for the forecast and the baselines
----------------------------------------------------------------------------------------
With ``e = F - M`` over the ``n`` samples of a group [kW]:
``MAE = mean |e|``, ``RMSE = sqrt(mean e^2)``, ``bias = mean e``,
``nRMSE = RMSE / P_dc`` with ``P_dc`` the DC nameplate [kWp] of the array (of all modelled
arrays for the site) — normalized by capacity, not by mean measured power, so that
nights and winter do not inflate it; and the skill
``1 - RMSE / RMSE_persistence`` (NaN where persistence is exact, e.g. at night).
Night steps are included; their errors are zero for every method.

Series are resampled to a coarser step with :func:`to_step` (an average with any missing
step is missing).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pvlib

from vpp.scenario.schema import Scenario
from vpp.solar.arrays import arrays_ac_kw
from vpp.solar.forecast import SITE_COLUMN, array_column, modelled_arrays

__all__ = [
    "clearsky_index_persistence_kw",
    "clearsky_pv_kw",
    "error_metrics",
    "metrics_table",
    "persistence_kw",
    "skill",
    "to_step",
]

_DAY = pd.Timedelta(hours=24)
_CLEAR_TEMP_AIR_C = 20.0
_CLEAR_WIND_M_PER_S = 1.0
_METHODS = ("forecast", "persistence", "csi_persistence")


def to_step(frame: pd.DataFrame, step: pd.Timedelta) -> pd.DataFrame:
    """Mean over each interval of ``step`` (coarser or equal); missing if any part is.

    Parameters
    ----------
    frame : pandas.DataFrame
        On a regular index with ``freq`` set, whose step divides ``step`` [any unit].
    step : pandas.Timedelta
        The target step.

    Returns
    -------
    pandas.DataFrame
        On the ``step`` grid with ``freq`` set; ``frame`` itself when its step is
        ``step`` [unit of ``frame``].
    """
    src = pd.Timedelta(frame.index.freq)
    if src == step:
        return frame
    k = int(step // src)
    origin = frame.index[0].floor(step)
    means = frame.resample(step, origin=origin).mean()
    counts = frame.resample(step, origin=origin).count()
    return means.where(counts == k).asfreq(step)


def persistence_kw(
    measured: pd.Series, index: pd.DatetimeIndex, issued_at: pd.Timestamp
) -> np.ndarray:
    """Day-ahead persistence: the same step on the latest fully measured day [kW].

    Parameters
    ----------
    measured : pandas.Series
        Measured power on a regular index with ``freq`` = the step of ``index`` [kW].
    index : pandas.DatetimeIndex
        The steps to forecast (regular, same step).
    issued_at : pandas.Timestamp
        Issue time; only intervals ended by then are used.

    Returns
    -------
    numpy.ndarray
        ``M(t - k 24 h)``, ``k >= 1`` the smallest integer with ``t - k 24 h + step <=
        issued_at``; NaN where that measurement is missing.
    """
    step = pd.Timedelta(measured.index.freq)
    ahead = (index + step - issued_at) / _DAY
    k = np.maximum(1, np.ceil(np.asarray(ahead, dtype=float))).astype(np.int64)
    source = index - pd.to_timedelta(k * 24, unit="h")
    return measured.reindex(source).to_numpy(dtype=float)


def clearsky_index_persistence_kw(
    measured: pd.Series,
    clearsky_kw: pd.Series,
    index: pd.DatetimeIndex,
    issued_at: pd.Timestamp,
) -> np.ndarray:
    """Clear-sky-index persistence: the last 24 h's clear-sky index times clear sky [kW].

    Parameters
    ----------
    measured : pandas.Series
        Measured power, regular index with ``freq`` set [kW].
    clearsky_kw : pandas.Series
        Clear-sky power of the same array on the same grid, covering the last 24 h before
        the issue and ``index`` [kW].
    index : pandas.DatetimeIndex
        The steps to forecast.
    issued_at : pandas.Timestamp
        Issue time.

    Returns
    -------
    numpy.ndarray
        ``k C(t)`` with ``k = sum M / sum C`` over the steps of ``[issued_at - 24 h,
        issued_at)`` where ``M`` is known; NaN if no such step has clear-sky power.
    """
    step = pd.Timedelta(measured.index.freq)
    window = pd.date_range((issued_at - _DAY).ceil(step), issued_at - step, freq=step).tz_convert(
        measured.index.tz
    )
    m = measured.reindex(window).to_numpy(dtype=float)
    c = clearsky_kw.reindex(window).to_numpy(dtype=float)
    known = np.isfinite(m) & np.isfinite(c)
    total_c = float(c[known].sum())
    if total_c <= 0.0:
        return np.full(len(index), np.nan)
    k = float(m[known].sum()) / total_c
    return k * clearsky_kw.reindex(index).to_numpy(dtype=float)


def clearsky_pv_kw(scenario: Scenario, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Every modelled array's AC power under clear sky, and the site's [kW].

    Ineichen clear sky (pvlib, Linke turbidity climatology) at the middle of each 15-min
    sub-interval, averaged over each step; 20 degC air, 1 m/s wind.

    Parameters
    ----------
    scenario : Scenario
        The arrays and the site's location.
    index : pandas.DatetimeIndex
        Regular, timezone-aware, ``freq`` set, labels at interval starts.

    Returns
    -------
    pandas.DataFrame
        ``<array>_pv_kw`` and ``site_pv_kw`` on ``index`` [kW].
    """
    arrays = modelled_arrays(scenario)
    loc = scenario.site.location
    step = pd.Timedelta(index.freq)
    sub = min(step, pd.Timedelta(minutes=15))
    fine = pd.date_range(index[0], index[-1] + step - sub, freq=sub)
    site = pvlib.location.Location(
        loc.latitude_deg, loc.longitude_deg, str(index.tz), loc.altitude_m
    )
    with warnings.catch_warnings():
        # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message=r".*dayofyear is deprecated")
        sky = site.get_clearsky(fine + sub / 2, model="ineichen")
    sky.index = fine
    weather = sky[["ghi", "dni", "dhi"]].assign(
        temp_air=_CLEAR_TEMP_AIR_C, wind_speed=_CLEAR_WIND_M_PER_S
    )
    ac = arrays_ac_kw(
        arrays,
        weather,
        latitude_deg=loc.latitude_deg,
        longitude_deg=loc.longitude_deg,
        altitude_m=loc.altitude_m,
    )
    frame = pd.DataFrame({array_column(a.name): ac[a.name] for a in arrays}, index=fine)
    frame[SITE_COLUMN] = frame.sum(axis=1)
    return to_step(frame, step).reindex(index)


def error_metrics(
    forecast_kw: np.ndarray, measured_kw: np.ndarray, *, capacity_kw: float
) -> dict[str, float]:
    """MAE, RMSE, bias and nRMSE of one forecast (formulas in the module docstring).

    Parameters
    ----------
    forecast_kw, measured_kw : numpy.ndarray
        Paired values, no NaN [kW].
    capacity_kw : float
        DC nameplate that normalizes the RMSE [kWp].

    Returns
    -------
    dict
        ``n``, ``mae_kw``, ``rmse_kw``, ``bias_kw`` [kW] and ``nrmse_fraction`` [-].
    """
    e = np.asarray(forecast_kw, dtype=float) - np.asarray(measured_kw, dtype=float)
    n = int(e.size)
    if n == 0:
        nan = float("nan")
        return {"n": 0, "mae_kw": nan, "rmse_kw": nan, "bias_kw": nan, "nrmse_fraction": nan}
    rmse = float(np.sqrt(np.mean(e * e)))
    return {
        "n": n,
        "mae_kw": float(np.mean(np.abs(e))),
        "rmse_kw": rmse,
        "bias_kw": float(np.mean(e)),
        "nrmse_fraction": rmse / capacity_kw,
    }


def skill(rmse_kw: float, reference_rmse_kw: float) -> float:
    """``1 - RMSE / RMSE_reference`` [-]; NaN when the reference is exact.

    Parameters
    ----------
    rmse_kw : float
        RMSE of the forecast judged [kW].
    reference_rmse_kw : float
        RMSE of the reference (e.g. persistence) on the same samples [kW].

    Returns
    -------
    float
        The skill [-]; NaN unless ``reference_rmse_kw > 0``.
    """
    if not reference_rmse_kw > 0.0:
        return float("nan")
    return 1.0 - rmse_kw / reference_rmse_kw


def metrics_table(samples: pd.DataFrame, capacity_kw: dict[str, float]) -> pd.DataFrame:
    """Metrics per series and lead hour, then per series over all lead hours.

    Parameters
    ----------
    samples : pandas.DataFrame
        Paired steps without NaN: ``series``, ``lead_h`` [h], ``measured_kw``,
        ``forecast_kw``, ``persistence_kw`` and ``csi_persistence_kw`` [kW].
    capacity_kw : dict of str to float
        DC nameplate per series, the nRMSE's denominator [kWp].

    Returns
    -------
    pandas.DataFrame
        The table of :class:`vpp.solar.forecast_evaluation.Evaluation`: one row per
        series and lead hour, then one per series with ``lead_h`` empty.
    """
    rows = []
    for series, by_series in samples.groupby("series", sort=False):
        groups = [(int(h), g) for h, g in by_series.groupby("lead_h")] + [(None, by_series)]
        for lead, g in groups:
            m = g["measured_kw"].to_numpy()
            row = {"series": series, "lead_h": lead}
            row.update(
                error_metrics(g["forecast_kw"].to_numpy(), m, capacity_kw=capacity_kw[str(series)])
            )
            for method in _METHODS[1:]:
                row[f"{method}_rmse_kw"] = error_metrics(
                    g[f"{method}_kw"].to_numpy(), m, capacity_kw=1.0
                )["rmse_kw"]
            row["skill_fraction"] = skill(row["rmse_kw"], row["persistence_rmse_kw"])
            row["csi_persistence_skill_fraction"] = skill(
                row["csi_persistence_rmse_kw"], row["persistence_rmse_kw"]
            )
            rows.append(row)
    table = pd.DataFrame(rows)
    table["lead_h"] = table["lead_h"].astype("Int64")
    return table
