"""PV forecasts for rolling runs: from weather-forecast files, perfect, or synthetic.

Part of the PV unit (its operation concern): the forecasts a rolling window is planned on
(``<array>_available_kw``), and the PV forecast error in the rolling summary.

``files``: at each decision every window step takes the newest forecast file of the
folder that was issued by then and whose period covers the step, turned into PV with the
solar forecast path (:func:`vpp.solar.forecast.pv_forecast_kw`, the same model chain as
the actuals); steps no file covers repeat the values of one day earlier
(:func:`files_pv_forecast_kw`; the daily job uses the same function).

``synthetic``:
With a weather *year* (the built-in Suzhou typical year or a measured file) there are
no archived forecasts to replay, so a rolling run forecasts PV as the actual output
plus a documented synthetic error (:class:`vpp.scenario.operation.PVForecastError`):

.. math::

    \\hat P_t = \\min\\!\\left(C_t,\\; \\max\\!\\left(0,\\; P_t + \\sigma(\\ell_t)\\, z_t\\, C_t
    \\right)\\right), \\qquad \\sigma(\\ell) = \\sigma_0 + \\sigma_1 \\ell / 24\\,\\text{h}

:math:`C_t` is the array's clear-sky AC output: for arrays modelled with pvlib
(``rooftop``, ``carport``), the same model chain run on Ineichen clear-sky irradiance
(pvlib's Linke-turbidity climatology) with the run's air temperature and 1 m/s wind;
for arrays given as a series or a clear-sky shape, the array's largest output scaled
by the site's normalised clear-sky GHI. :math:`z` is a standard-normal AR(1) series
(coefficient :math:`\\rho^{\\Delta t}` per step, :math:`\\rho` per hour), drawn afresh
for every issue from ``seed`` and the issue's step, and shared by the site's arrays:
they see one sky. The error vanishes under a clear-sky envelope of zero (night),
grows with the lead time, and is bounded by physics (never negative, never above
clear sky). With the defaults (0.15, +0.05 per day, 0.8 per hour) the day-ahead error
of the demo site's PV is an nRMSE of about 5 % of DC capacity over all hours (about
10 % over daylight hours), the range reported for good day-ahead NWP-based
forecasts; the run's summary gives the realised figures.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.scenario.operation import PVForecastError
from vpp.scenario.schema import Site
from vpp.timeseries import Horizon

#: Wind speed assumed for the clear-sky envelope [m/s] (cell temperature only).
CLEAR_SKY_WIND_M_S = 1.0


def weather_arrays(site: Site) -> list[Any]:
    """The site's arrays modelled from weather with pvlib (kinds ``rooftop``, ``carport``),
    in scenario order; the others are given as a series or a clear-sky shape."""
    return [a for a in site.pv if a.weather_driven]


def pv_forecast_problems(site: Site, spec: Any) -> list[Any]:
    """Every problem of a rolling run's PV forecast settings for ``site`` (empty if none).

    A site with PV needs a PV forecast source; ``pv_forecast: files`` forecasts arrays
    modelled from weather only (:func:`weather_arrays`).
    """
    from vpp.errors import Problem

    problems: list[Problem] = []
    if site.pv and spec.pv_forecast is None:
        problems.append(
            Problem(
                "the site has PV but the rolling run has no PV forecast source",
                key="operation.rolling.pv_forecast",
                value="missing",
                allowed="synthetic, perfect",
            )
        )
    if spec.pv_forecast == "files":
        modelled = {a.name for a in weather_arrays(site)}
        other = [a.name for a in site.pv if a.name not in modelled]
        if other:
            problems.append(
                Problem(
                    "pv_forecast: files forecasts arrays modelled from weather (kind rooftop "
                    "or carport) only",
                    key="operation.rolling.pv_forecast",
                    value=f"arrays {other}",
                    fix="model those arrays with kind rooftop or carport, or use "
                    "pv_forecast: synthetic",
                )
            )
    return problems


def actual_pv_kw(site: Site, series: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each array's actual available output on the horizon, from the input frame [kW]."""
    return {a.name: series[f"{a.name}_available_kw"].to_numpy(float) for a in site.pv}


def pv_forecast_error(
    site: Site, series: pd.DataFrame, columns: dict[str, np.ndarray]
) -> dict[str, float] | None:
    """The error of the site's PV forecast over the operated horizon, or None without PV.

    The sum of the arrays' forecasts (``<array>_forecast_kw`` of ``columns``) against
    their actual available output, normalised by the DC capacity (:func:`pv_capacity_kw`)
    (:func:`vpp.solar.forecast_skill.error_metrics`).
    """
    from vpp.solar.forecast_skill import error_metrics

    if not site.pv:
        return None
    actual = actual_pv_kw(site, series)
    forecast = sum(columns[f"{a.name}_forecast_kw"] for a in site.pv)
    return error_metrics(
        forecast, sum(actual.values()), capacity_kw=max(pv_capacity_kw(site, actual), 1e-9)
    )


def clear_sky_ac_kw(
    site: Site, horizon: Horizon, actual_kw: dict[str, np.ndarray], temp_air_c: np.ndarray
) -> dict[str, np.ndarray]:
    """Clear-sky AC output of each array on the horizon, the envelope :math:`C_t` [kW].

    Parameters
    ----------
    site : Site
        The scenario's site (arrays and location).
    horizon : Horizon
        The run's steps.
    actual_kw : dict of str to numpy.ndarray
        Actual available output per array [kW] (scales arrays not modelled with pvlib).
    temp_air_c : numpy.ndarray
        Air temperature on the horizon [degC].
    """
    import pvlib

    loc = site.location
    index = horizon.index
    mid = index + pd.Timedelta(hours=horizon.step_h / 2)
    place = pvlib.location.Location(
        loc.latitude_deg, loc.longitude_deg, tz=str(index.tz), altitude=loc.altitude_m
    )
    with warnings.catch_warnings():
        # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message=r".*dayofyear is deprecated")
        sky = place.get_clearsky(mid, model="ineichen")
    sky.index = index
    out: dict[str, np.ndarray] = {}
    modelled = weather_arrays(site)
    if modelled:
        from vpp.solar.arrays import arrays_ac_kw

        weather = pd.DataFrame(
            {
                "ghi": sky["ghi"].to_numpy(),
                "dni": sky["dni"].to_numpy(),
                "dhi": sky["dhi"].to_numpy(),
                "temp_air": np.asarray(temp_air_c, float),
                "wind_speed": CLEAR_SKY_WIND_M_S,
            },
            index=index,
        )
        out.update(
            arrays_ac_kw(
                modelled,
                weather,
                latitude_deg=loc.latitude_deg,
                longitude_deg=loc.longitude_deg,
                altitude_m=loc.altitude_m,
            )
        )
    ghi = sky["ghi"].to_numpy()
    shape = ghi / ghi.max() if ghi.max() > 0 else ghi
    for array in site.pv:
        if array.name not in out:
            out[array.name] = float(np.max(actual_kw[array.name], initial=0.0)) * shape
    # the envelope bounds the forecast: never below what the array actually produced
    return {name: np.maximum(out[name], actual_kw[name]) for name in actual_kw}


def synthetic_pv_forecast_kw(
    actual_kw: dict[str, np.ndarray],
    clear_sky_kw: dict[str, np.ndarray],
    issue: int,
    stop: int,
    step_h: float,
    error: PVForecastError,
) -> dict[str, np.ndarray]:
    """The forecast issued at step ``issue`` for steps ``issue..stop-1`` [kW per array].

    Formula in the module docstring; deterministic for given ``error.seed`` and ``issue``.
    """
    n = stop - issue
    rng = np.random.default_rng([int(error.seed) & 0xFFFFFFFF, int(issue)])
    phi = float(error.correlation_per_h) ** step_h
    z = np.empty(n)
    if n:
        shocks = rng.standard_normal(n)
        z[0] = shocks[0]
        scale = np.sqrt(max(0.0, 1.0 - phi * phi))
        for t in range(1, n):
            z[t] = phi * z[t - 1] + scale * shocks[t]
    lead_h = np.arange(n) * step_h
    sigma = error.sigma_fraction + error.sigma_growth_fraction_per_day * lead_h / 24.0
    out: dict[str, np.ndarray] = {}
    for name, actual in actual_kw.items():
        cap = clear_sky_kw[name][issue:stop]
        out[name] = np.clip(actual[issue:stop] + sigma * z * cap, 0.0, cap)
    return out


def pv_capacity_kw(site: Site, actual_kw: dict[str, np.ndarray]) -> float:
    """DC capacity of the site's PV, for normalising forecast errors [kWp].

    Arrays given only as a series count with their largest output.
    """
    total = 0.0
    for array in site.pv:
        dc: Any = getattr(array, "dc_capacity_kw", None)
        total += float(dc) if dc else float(np.max(actual_kw[array.name], initial=0.0))
    return total


def read_forecast_folder(folder: Any, site: Site) -> list[Any]:
    """Every weather-forecast file of ``folder``, read and checked, oldest issue first.

    Raises
    ------
    DataError
        A file is malformed or issued after the start of its period (named), or the
        folder holds none.
    """
    from vpp.errors import DataError, Problem
    from vpp.solar.forecast_reader import forecast_files, read_forecast

    paths = forecast_files(folder)
    if not paths:
        raise DataError(
            Problem(
                "the PV forecast folder holds no forecast files",
                key="operation.rolling.pv_forecast_folder",
                value=str(folder),
                fix="put the weather-forecast CSV files there (forecasts/README.md)",
            )
        )
    where = "operation.rolling.pv_forecast_folder"
    read = [read_forecast(p, location=site.location, where=where) for p in paths]
    return sorted(read, key=lambda f: f.issued_at)


def files_pv_forecast_kw(
    scenario: Any,
    forecasts: list[Any],
    index: pd.DatetimeIndex,
    step_h: float,
    *,
    now: pd.Timestamp | None = None,
    max_age_h: float | None = None,
    uncovered: str = "error",
    notes: list[dict[str, Any]] | None = None,
) -> dict[str, np.ndarray]:
    """PV forecast per array on ``index`` (a window) from the forecast files [kW].

    The files usable are those issued at or before ``now`` (default ``index[0]``) and,
    with ``max_age_h``, at most that old at ``now``. Each step takes the newest usable
    file whose period covers it; a step no file covers takes the value of one day
    earlier (of the window's covered steps, going back day by day). With one file
    covering the window's start this is the rule of the rolling runs: that file, its
    last day repeated after its period.

    Parameters
    ----------
    scenario : Scenario
        The site's arrays and location.
    forecasts : list of WeatherForecast
        The files read (:func:`read_forecast_folder`), any order.
    index : pandas.DatetimeIndex
        The window's steps.
    step_h : float
        Step [h].
    now : pandas.Timestamp, optional
        The issue time; ``index[0]`` by default.
    max_age_h : float, optional
        Largest age of a file at ``now`` [h]; no limit by default.
    uncovered : str
        ``"error"``: raise when no file covers the window's start, steps without a
        value of one day earlier are 0 kW (the rolling runs); ``"nan"``: such steps
        are NaN (the daily job fills them from its next source).
    notes : list of dict, optional
        Appended: one segment per run of steps from one source, ``{"from", "to"`` (ISO,
        end exclusive), ``"method"`` (``"forecast"`` or ``"day before"``), ``"file"``,
        ``"issued_at"``, ``"truncated"`` (the newest file does not reach the window's
        end)``}``.

    Raises
    ------
    DataError
        With ``uncovered="error"``: no file was issued by ``now`` and covers ``index[0]``.
    """
    from vpp.errors import DataError, Problem
    from vpp.solar.forecast import array_column, pv_forecast_kw

    now = index[0] if now is None else now
    n = len(index)
    step = pd.Timedelta(hours=step_h)
    usable = [
        f
        for f in forecasts
        if f.issued_at <= now
        and (max_age_h is None or now - f.issued_at <= pd.Timedelta(hours=max_age_h))
    ]
    usable.sort(key=lambda f: f.issued_at, reverse=True)  # newest first (stable: ties keep order)
    source = np.full(n, -1)
    for k, f in enumerate(usable):
        free = (source < 0) & np.asarray((index >= f.start) & (index < f.end))
        source[free] = k
    if uncovered == "error" and source[0] < 0:
        raise DataError(
            Problem(
                "no PV forecast file was issued by this re-optimization and covers it",
                key="operation.rolling.pv_forecast_folder",
                timestamp=now.isoformat(),
                value=f"{len(forecasts)} file(s), issued "
                + ", ".join(f.issued_at.isoformat() for f in forecasts[:4]),
                fix="add the forecast issued before this time, or use pv_forecast: synthetic",
            )
        )
    out = {a.name: np.full(n, np.nan) for a in scenario.site.pv}
    for k in np.unique(source[source >= 0]).tolist():
        f = usable[k]
        steps = np.flatnonzero(source == k)
        lo, hi = int(steps[0]), int(steps[-1]) + 1  # one contiguous run through pvlib
        frame = pv_forecast_kw(scenario, f, index=index[lo:hi], where=str(f.path))
        for array in scenario.site.pv:
            out[array.name][steps] = frame[array_column(array.name)].to_numpy()[steps - lo]
    per_day = max(1, int(round(24 / step_h)))
    covered = source >= 0
    filled = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(~covered).tolist():
        j = i - per_day
        while j >= 0 and not covered[j]:
            j -= per_day
        for values in out.values():
            values[i] = values[j] if j >= 0 else (0.0 if uncovered == "error" else np.nan)
        filled[i] = j >= 0
    if notes is not None:
        ends = pd.DatetimeIndex([*index[1:], index[-1] + step])
        kinds = [
            ("forecast", int(s)) if s >= 0 else ("day before" if d else "none", -1)
            for s, d in zip(source.tolist(), filled.tolist())
        ]
        start = 0
        for i in range(1, n + 1):
            if i < n and kinds[i] == kinds[start]:
                continue
            method, k = kinds[start]
            note: dict[str, Any] = {
                "from": index[start].isoformat(),
                "to": ends[i - 1].isoformat(),
                "method": method,
            }
            if k >= 0:
                f = usable[k]
                note.update(
                    file=Path(str(f.path)).name,
                    issued_at=f.issued_at.isoformat(),
                    truncated=bool(k == 0 and f.end < ends[-1]),
                )
            notes.append(note)
            start = i
    return out
