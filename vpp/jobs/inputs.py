"""What the daily job forecasts for a window ``[now, stop)``: load and PV, never zero,
never read past ``now``; and the forecasts put into the sites' inputs.

Every choice is recorded in a ``sources`` dict (the day's ``summary.json``) and every
fallback past a source that was there but could not be used is a flag. The chains
(``docs/telemetry.md`` gives them with their maximum ages):

Load (:func:`load_forecast`), per site:

1. the metered load ``load-<site>.csv`` (:mod:`vpp.jobs.telemetry`) before ``now``: the
   :data:`PROFILE_WEEKS`-week same-day-type profile
   (:func:`vpp.operation.load_forecast.profile_forecast`), with fewer weeks (flagged)
   down to one when the readings hold fewer full days before ``now``'s date;
2. the scenario's own load history, read up to ``now`` only
   (:func:`vpp.portfolio.park.metered_history_kw`, cut at ``now``), same profile;
3. the scenario's load inputs on the window (flagged: these may be a profile or, for a
   measured series, the series itself).

PV (:func:`pv_forecast`), per site with weather-driven arrays (``rooftop``, ``carport``):

1. the weather-forecast files issued at or before ``now`` and at most
   :data:`MAX_FORECAST_AGE_H` old at ``now``, newest first, each for the steps it covers;
   steps after them repeat a covered step of a whole number of days earlier: the same
   function as the rolling runs (:func:`vpp.assets.pv.forecast.files_pv_forecast_kw`).
   A newest file that does not reach the window's end is flagged ``truncated``;
2. steps still without a value: **clear-sky index persistence** of the measured PV
   (``pv-<site>.csv``) of the 24 h before ``now`` (its last reading at most
   :data:`~vpp.jobs.states.METER_MAX_AGE_H` old)
   (:func:`vpp.solar.forecast_skill.clearsky_index_persistence_kw`);
3. else **clear sky** (optimistic: flagged).

Arrays given as a series keep their series. The source records the segments
(``segments``: from, to, method, file) since a window may take several.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.pv.forecast import files_pv_forecast_kw, weather_arrays
from vpp.errors import DataError, Problem, VppError, clip
from vpp.inputs.site import SiteInputs
from vpp.jobs.states import METER_MAX_AGE_H
from vpp.jobs.telemetry import Telemetry
from vpp.operation.load_forecast import profile_forecast
from vpp.scenario.schema import Scenario

#: Largest age of a forecast file at ``now`` [h].
MAX_FORECAST_AGE_H = 36.0
#: Weeks of load history the load forecast averages [weeks].
PROFILE_WEEKS = 4


def metered_kw(frame: pd.DataFrame, column: str, step: pd.Timedelta) -> pd.Series:
    """Telemetry readings of ``column`` on a regular grid of ``step`` (means) [kW]; NaN
    where no reading falls."""
    series = frame.set_index("timestamp")[column].astype(float)
    series = series.resample(step).mean()
    return series.asfreq(step)


def load_forecast(
    name: str,
    scenario: Scenario,
    index: pd.DatetimeIndex,
    now: pd.Timestamp,
    telemetry: Telemetry,
    flags: list[str],
) -> tuple[np.ndarray, dict[str, Any]]:
    """The site's load on the window ``index`` issued at ``now`` (module docstring) [kW].

    Returns
    -------
    numpy.ndarray
        Forecast load per step of ``index`` [kW], finite.
    dict
        ``method``, ``history`` (which history), ``why`` (what was passed over).

    Raises
    ------
    DataError
        Only when the scenario's own load inputs cannot be read on the window.
    """
    step = pd.Timedelta(index.freq)
    passed: list[str] = []
    metered = telemetry.load.get(name)
    file = f"load-{name}.csv"
    if metered is not None and len(metered):
        history = metered_kw(metered, "load_kw", step)
        history = history[history.index < now]
        error: DataError | None = None
        for weeks in range(PROFILE_WEEKS, 0, -1):
            try:
                values = profile_forecast(history, now, index, weeks=weeks)
            except DataError as exc:
                error = error or exc
                continue
            source = {
                "method": f"{weeks}-week same-day-type profile",
                "history": f"telemetry {file}",
            }
            if weeks < PROFILE_WEEKS:
                why = f"{file} holds fewer than {PROFILE_WEEKS} weeks of full days before now"
                source["why"] = why
                flags.append(f"site '{name}': load from a {weeks}-week profile ({why})")
            return values, source
        why = f"telemetry {file} lacks the 7 full days before now"
        if error is not None:
            why += f" ({clip(error.problems[0].message, 120)})"
        passed.append(why)
        flags.append(f"site '{name}': {why}; the load forecast takes the scenario's history")
    else:
        passed.append(f"no telemetry {file}")
    try:
        history = scenario_history_kw(scenario, now, 7 * PROFILE_WEEKS + 1)
        values = profile_forecast(history, now, index, weeks=PROFILE_WEEKS)
        return values, {
            "method": f"{PROFILE_WEEKS}-week same-day-type profile",
            "history": "scenario load",
            "history_from": history.index[0].isoformat(),
            "history_to": now.isoformat(),
            "why": "; ".join(passed),
        }
    except DataError as exc:
        passed.append(f"the scenario's load history: {clip(exc.problems[0].message, 120)}")
    values = scenario_load_kw(scenario, index)
    why = "; ".join(passed)
    flags.append(f"site '{name}': load from the scenario's load inputs on the window ({why})")
    return values, {"method": "scenario load inputs", "why": why}


def scenario_history_kw(scenario: Scenario, now: pd.Timestamp, days: int) -> pd.Series:
    """The scenario's load over the ``days`` days before ``now``'s date, cut at ``now``
    (never a value after it) [kW]."""
    from vpp.portfolio.park import metered_history_kw

    history = metered_history_kw(scenario, now, days, load_only=True)
    return history[history.index < now]


def scenario_load_kw(scenario: Scenario, index: pd.DatetimeIndex) -> np.ndarray:
    """The scenario's load inputs on ``index`` (its last resort forecast) [kW]."""
    from vpp.portfolio.park import metered_history_kw

    first = index[0].normalize()
    end = index[-1].normalize() + pd.Timedelta(days=1)
    days = int(round((end - first) / pd.Timedelta(days=1)))
    load = metered_history_kw(scenario, end, days, load_only=True)
    return load.reindex(index).to_numpy(dtype=float)


def pv_forecast(
    name: str,
    scenario: Scenario,
    index: pd.DatetimeIndex,
    now: pd.Timestamp,
    forecast_files: list[Any],
    telemetry: Telemetry,
    flags: list[str],
    *,
    max_age_h: float = MAX_FORECAST_AGE_H,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """PV per weather-driven array on the window ``index`` issued at ``now`` (module
    docstring) [kW].

    Returns
    -------
    dict of str to numpy.ndarray
        Per array, finite and at least 0 [kW].
    dict
        ``method`` (of the first step), ``file`` and ``issued_at`` (the newest file
        used), ``segments``, ``why`` when a fallback was taken.
    """
    from vpp.solar.forecast import array_column
    from vpp.solar.forecast_skill import clearsky_pv_kw

    arrays = weather_arrays(scenario.site)
    if not arrays:
        return {}, {"method": "none (no weather-driven arrays)"}
    modelled = scenario.model_copy(update={"site": scenario.site.model_copy(update={"pv": arrays})})
    step = pd.Timedelta(index.freq)
    notes: list[dict[str, Any]] = []
    out = files_pv_forecast_kw(
        modelled,
        forecast_files,
        index,
        step / pd.Timedelta(hours=1),
        now=now,
        max_age_h=max_age_h,
        uncovered="nan",
        notes=notes,
    )
    source: dict[str, Any] = {}
    used = [n for n in notes if n["method"] == "forecast"]
    if used:
        newest = max(used, key=lambda n: n["issued_at"])
        source.update(method="forecast", file=newest["file"], issued_at=newest["issued_at"])
        for n in used:
            if n["truncated"]:
                flags.append(
                    f"site '{name}': PV forecast file {n['file']} is truncated: it ends at "
                    f"{n['to']}, before the window's end; older files and fallbacks give the "
                    "rest"
                )
    missing = np.isnan(out[arrays[0].name])
    why = None
    if missing.any():
        why = (
            f"no forecast file issued by {now.isoformat()} within {max_age_h:g} h covers "
            f"{int(missing.sum())} step(s) from {index[np.flatnonzero(missing)[0]].isoformat()}"
        )
        window = pd.date_range(
            index[0] - pd.Timedelta(days=1), index[-1] + step, freq=step, inclusive="left"
        )
        clear = clearsky_pv_kw(modelled, window)
        fill, method = _persistence(name, arrays, telemetry, clear, index, now, flags)
        if fill is None:
            method = "clear sky"
            why += "; no fresh measured PV for clear-sky index persistence"
            sky = clear.reindex(index)
            fill = {a.name: sky[array_column(a.name)].to_numpy(dtype=float) for a in arrays}
        for a in arrays:
            values = np.nan_to_num(fill[a.name], nan=0.0, posinf=0.0, neginf=0.0)
            out[a.name][missing] = np.clip(values, 0.0, None)[missing]
        for n in notes:
            if n["method"] == "none":
                n["method"] = method
        source.setdefault("method", method)
        source["why"] = why
        flags.append(f"site '{name}': PV from {method} ({why})")
    source["segments"] = notes
    return {a.name: out[a.name] for a in arrays}, source


def _persistence(
    name: str,
    arrays: list[Any],
    telemetry: Telemetry,
    clear: pd.DataFrame,
    index: pd.DatetimeIndex,
    now: pd.Timestamp,
    flags: list[str],
) -> tuple[dict[str, np.ndarray] | None, str]:
    """Clear-sky index persistence of ``pv-<site>.csv`` per array, or None (why flagged
    when the file was there)."""
    from vpp.solar.forecast import array_column
    from vpp.solar.forecast_skill import clearsky_index_persistence_kw

    method = "clear-sky index persistence"
    frame = telemetry.pv.get(name)
    if frame is None or not len(frame):
        return None, method
    file = f"pv-{name}.csv"
    last = frame["timestamp"].iloc[-1]
    if now - last > pd.Timedelta(hours=METER_MAX_AGE_H):
        flags.append(
            f"site '{name}': telemetry {file} last read at {last.isoformat()}, more than "
            f"{METER_MAX_AGE_H:g} h before now: not used for PV persistence"
        )
        return None, method
    step = pd.Timedelta(index.freq)
    out = {}
    for a in arrays:
        col = array_column(a.name)
        if col not in frame:
            flags.append(f"site '{name}': telemetry {file} has no column {col}")
            return None, method
        values = clearsky_index_persistence_kw(metered_kw(frame, col, step), clear[col], index, now)
        if np.isnan(values).all():
            return None, method
        out[a.name] = values
    return out, method


def with_forecasts(
    inputs: SiteInputs,
    load_kw: np.ndarray,
    pv_kw: dict[str, np.ndarray],
    soc_kwh: dict[str, float],
    site: str = "",
) -> SiteInputs:
    """The site's inputs with the forecasts and initial states put in.

    The forecasts replace the input frame's ``load_kw`` and ``<array>_available_kw``
    columns; each asset takes what it reads through its unit
    (:meth:`~vpp.assets.base.AssetUnit.with_forecasts`).

    Raises
    ------
    DataError
        A forecast or state that is not finite (never handed to the model).
    """
    checks = [("load forecast [kW]", load_kw)]
    checks += [(f"PV forecast of array '{k}' [kW]", v) for k, v in pv_kw.items()]
    checks += [(f"state of battery '{k}' [kWh]", v) for k, v in soc_kwh.items()]
    index = inputs.horizon.index
    for what, values in checks:
        array = np.atleast_1d(np.asarray(values, dtype=float))
        bad = ~np.isfinite(array)
        if bad.any():
            first = int(np.argmax(bad))
            raise DataError(
                Problem(
                    f"site '{site}': the {what} is not a finite number at {int(bad.sum())} step(s)",
                    timestamp=index[first].isoformat() if array.size == len(index) else None,
                    value=str(array[first]),
                    allowed="finite numbers",
                    fix="check the site's load history and the telemetry it was made from",
                )
            )
    forecasts = {"load_kw": load_kw, **{f"{k}_available_kw": v for k, v in pv_kw.items()}}
    series = inputs.series.copy()
    for column, values in forecasts.items():
        series[column] = values
    assets = [unit(a.kind).with_forecasts(a, forecasts, soc_kwh.get(a.name)) for a in inputs.assets]
    return dataclasses.replace(inputs, assets=assets, series=series)


def read_forecasts(folder: Path | None, scenario: Scenario, flags: list[str]) -> list[Any]:
    """Every readable forecast file of the folder; unreadable ones are flagged and skipped."""
    from vpp.solar.forecast_reader import read_forecast

    if folder is None or not folder.is_dir():
        flags.append(
            "no weather-forecast folder given (--forecasts)"
            if folder is None
            else f"no forecast folder at {folder}"
        )
        return []
    out = []
    for path in sorted(folder.glob("*.csv")):
        try:
            out.append(read_forecast(path, location=scenario.site.location, where="--forecasts"))
        except VppError as exc:
            flags.append(f"forecast file {path.name} skipped: {exc.problems[0].message}")
    return out
