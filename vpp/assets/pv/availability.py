"""PV availability of every array of a site, on the horizon [kW AC].

Profile arrays come from their series, clear-sky arrays from pvlib's clear sky, and
modelled arrays (rooftop, carport) from the site's weather (the built-in Suzhou
typical year by default, or a weather or forecast file) through
:func:`vpp.solar.arrays.arrays_ac_kw`, all modelled arrays in one pass: the PV unit's
``inputs`` (:mod:`vpp.assets.pv.rules`) computes every array of the site on its first
entry and keeps the result for the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vpp.scenario.schema import (
    ClearSkyPV,
    ProfilePV,
    Site,
)
from vpp.timeseries import Horizon

SeriesGetter = Callable[..., np.ndarray]


@dataclass(frozen=True)
class PVInputs:
    """Available AC power per array [kW] and where the weather came from."""

    available_kw: dict[str, np.ndarray]
    weather_source: str | None
    weather_notes: tuple[str, ...]


def pv_inputs(site: Site, horizon: Horizon, get: SeriesGetter) -> PVInputs:
    """Available PV power of each array of ``site`` on ``horizon``.

    Parameters
    ----------
    site : Site
        The scenario's site.
    horizon : Horizon
        The run's steps.
    get : callable
        ``get(spec, where, nonnegative=fix)`` reads a series and collects problems
        (:meth:`vpp.assets.inputs.InputContext.read`).

    Raises
    ------
    DataError
        From the weather reader (missing columns, non-physical values, gaps, time zone).
    """
    available: dict[str, np.ndarray] = {}
    modelled = [a for a in site.pv if a.weather_driven]
    source: str | None = None
    notes: tuple[str, ...] = ()
    if modelled:
        from vpp.solar.arrays import arrays_ac_kw

        weather, source, notes = site_weather(site, horizon)
        loc = site.location
        modelled_kw = arrays_ac_kw(
            modelled,
            weather,
            latitude_deg=loc.latitude_deg,
            longitude_deg=loc.longitude_deg,
            altitude_m=loc.altitude_m,
        )
    for i, array in enumerate(site.pv):
        where = f"site.pv[{i}]"
        if isinstance(array, ProfilePV):
            available[array.name] = get(
                array.series,
                f"{where}.series",
                nonnegative="give PV output as positive kW (check the sign convention)",
            )
        elif isinstance(array, ClearSkyPV):
            available[array.name] = _clearsky(array, horizon)
        else:
            available[array.name] = np.asarray(modelled_kw[array.name], dtype=float)
    return PVInputs(available, source, notes)


def site_weather(site: Site, horizon: Horizon) -> tuple[object, str, tuple[str, ...]]:
    """The site's weather on the horizon: (frame, source description, notes)."""
    from vpp.solar.weather import read_weather, weather_on_index

    spec = site.weather
    if spec.source == "suzhou-typical-year":
        from vpp.solar.typical_year import suzhou_typical_year

        weather = suzhou_typical_year()
    else:
        if spec.format == "csv":
            _check_forecast_issue_time(spec.file, horizon)
        loc = site.location
        weather = read_weather(
            spec.file,
            spec.format,
            latitude_deg=loc.latitude_deg,
            longitude_deg=loc.longitude_deg,
            altitude_m=loc.altitude_m,
            timezone=spec.timezone,
            interval_label=spec.interval_label,
            max_gap_steps=spec.max_gap_steps,
            where="site.weather",
        )
    frame = weather_on_index(weather, horizon.index, where="site.weather")
    return frame, weather.source, tuple(weather.notes)


def _check_forecast_issue_time(path: object, horizon: Horizon) -> None:
    """A weather CSV that is a forecast (``# issued_at:`` header) must predate the run.

    A forecast issued after the start of the horizon could not have been used to plan
    it; such a file is refused (:func:`vpp.solar.forecast_reader.check_issue_time`).
    """
    from vpp.solar.forecast_reader import check_issue_time, parse_time, read_header

    header, lines, _ = read_header(path)
    if "issued_at" not in header:
        return
    line = lines["issued_at"]
    issued = parse_time(
        header["issued_at"], what="issued_at", file=str(path), timestamp=f"line {line}"
    )
    end = horizon.index[-1] + pd.Timedelta(hours=horizon.step_h)
    check_issue_time(path, issued, horizon.index[0], end, line=line)


def _clearsky(array: ClearSkyPV, horizon: Horizon) -> np.ndarray:
    from vpp.profiles.synthetic import suzhou_temperature_c
    from vpp.solar.clearsky import clearsky_pv_kw

    return clearsky_pv_kw(
        horizon.index,
        latitude_deg=array.latitude_deg,
        longitude_deg=array.longitude_deg,
        dc_capacity_kw=array.dc_capacity_kw,
        tilt_deg=array.tilt_deg,
        azimuth_deg=array.azimuth_deg,
        dc_ac_ratio=array.dc_ac_ratio,
        losses_fraction=array.losses_fraction,
        clearness_fraction=array.clearness_fraction,
        temp_air_c=suzhou_temperature_c(horizon.index),
    )


__all__ = ["PVInputs", "pv_inputs", "site_weather"]
