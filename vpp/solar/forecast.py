"""The PV forecast a weather forecast gives, per array and per site.

A forecast file is what a weather service delivers before the day it describes. The
daily job reads one from ``forecasts/``, turns it into AC power of the site's modelled
arrays on the run's step, and schedules storage against it. How good such forecasts are
is measured by :mod:`vpp.solar.forecast_evaluation`; the sample files are made by
:mod:`vpp.solar.forecast_samples`.

The file format and the issue-time rules are in :mod:`vpp.solar.forecast_reader`;
:func:`read_forecast` and :class:`WeatherForecast` are re-exported here.

PV forecast (:func:`pv_forecast_kw`)
------------------------------------
On the run's step (the scenario's ``horizon.step``) over the forecast's period:
:func:`vpp.solar.weather.weather_on_index` brings the forecast weather onto the steps
(explicit resampling), :func:`vpp.solar.arrays.arrays_ac_kw` gives each modelled array's
AC power [kW] (``rooftop`` and ``carport`` arrays; ``profile`` and ``clearsky`` arrays do
not depend on the weather and are not forecast). Columns ``<array>_pv_kw``, their sum
``site_pv_kw`` and ``lead_h``, the time from the issue to the start of each step [h].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem, ScenarioError
from vpp.scenario.schema import CarportPV, RooftopPV, Scenario, step_minutes
from vpp.solar.arrays import arrays_ac_kw
from vpp.solar.forecast_reader import WeatherForecast, read_forecast
from vpp.solar.weather import weather_on_index

__all__ = [
    "SITE_COLUMN",
    "WeatherForecast",
    "array_column",
    "forecast_index",
    "modelled_arrays",
    "pv_forecast_kw",
    "read_forecast",
    "scenario_step",
    "summarize_pv_forecast",
]

#: The column of the site's total forecast [kW].
SITE_COLUMN = "site_pv_kw"
_HOUR = pd.Timedelta(hours=1)

ModelledArray = RooftopPV | CarportPV


def array_column(name: str) -> str:
    """The column of one array's forecast or measurement [kW]: ``<name>_pv_kw``."""
    return f"{name}_pv_kw"


def modelled_arrays(scenario: Scenario, *, file: str | None = None) -> list[ModelledArray]:
    """The site's weather-driven arrays (``rooftop``, ``carport``), in scenario order.

    ``file`` is the scenario's file, for messages.

    Raises
    ------
    ScenarioError
        The site has none, or an array's column would clash with ``site_pv_kw``.
    """
    arrays = [a for a in scenario.site.pv if a.weather_driven]
    if not arrays:
        kinds = ", ".join(f"{a.name} ({a.kind})" for a in scenario.site.pv) or "none"
        raise ScenarioError(
            Problem(
                "the site has no weather-driven PV array to forecast",
                file=file,
                key="site.pv",
                value=f"arrays {kinds}",
                allowed="at least one array of kind rooftop or carport",
                fix="describe the arrays as kind: rooftop or kind: carport (profile and "
                "clearsky arrays do not depend on the weather)",
            )
        )
    if any(array_column(a.name) == SITE_COLUMN for a in arrays):
        raise ScenarioError(
            Problem(
                "an array named 'site' would clash with the site's total column",
                file=file,
                key="site.pv",
                value="name: site",
                allowed="any other name",
                fix="rename the array",
            )
        )
    return arrays


def forecast_index(
    forecast: WeatherForecast, step: pd.Timedelta, timezone: str
) -> pd.DatetimeIndex:
    """The run's steps inside the forecast's period.

    Parameters
    ----------
    forecast : WeatherForecast
        The forecast.
    step : pandas.Timedelta
        The run's step.
    timezone : str
        The scenario's time zone.

    Returns
    -------
    pandas.DatetimeIndex
        Labels from the period's start (rounded up to the step) to its end, ``freq`` set.

    Raises
    ------
    DataError
        The period is shorter than one step.
    """
    start = forecast.start.tz_convert(timezone).ceil(step)
    n = int((forecast.end.tz_convert(timezone) - start) // step)
    if n < 1:
        raise DataError(
            Problem(
                "forecast period is shorter than one step of the run",
                file=str(forecast.path),
                timestamp=forecast.start.isoformat(),
                value=f"period {forecast.start.isoformat()} to {forecast.end.isoformat()}",
                allowed=f"at least one step of {step}",
                fix="use a longer forecast, or a shorter step in the scenario",
            )
        )
    return pd.date_range(start, periods=n, freq=step).as_unit("ns")


def scenario_step(scenario: Scenario) -> pd.Timedelta:
    """The run's step of a scenario [time]."""
    return pd.Timedelta(minutes=step_minutes(scenario.horizon.step))


def pv_forecast_kw(
    scenario: Scenario,
    forecast: WeatherForecast,
    *,
    index: pd.DatetimeIndex | None = None,
    where: str = "forecast",
) -> pd.DataFrame:
    """AC power forecast of every modelled array and of the site, on the run's step.

    Parameters
    ----------
    scenario : Scenario
        Gives the arrays, the site's location, the time zone and the step.
    forecast : WeatherForecast
        The forecast weather.
    index : pandas.DatetimeIndex, optional
        The steps to forecast; by default :func:`forecast_index` at the scenario's step.
    where : str
        Where the file was named, for messages.

    Returns
    -------
    pandas.DataFrame
        On ``index``: ``<array>_pv_kw`` [kW] per modelled array, ``site_pv_kw`` [kW] (their
        sum) and ``lead_h`` [h] (from the issue time to the start of the step).
    """
    arrays = modelled_arrays(scenario)
    if index is None:
        index = forecast_index(forecast, scenario_step(scenario), scenario.timezone)
    loc = scenario.site.location
    weather = weather_on_index(forecast.weather, index, where=where)
    ac = arrays_ac_kw(
        arrays,
        weather,
        latitude_deg=loc.latitude_deg,
        longitude_deg=loc.longitude_deg,
        altitude_m=loc.altitude_m,
    )
    frame = pd.DataFrame(
        {array_column(a.name): np.asarray(ac[a.name], dtype=float) for a in arrays},
        index=index,
    )
    frame[SITE_COLUMN] = frame.sum(axis=1)
    frame["lead_h"] = (index - forecast.issued_at) / _HOUR
    frame.index.name = "timestamp"
    return frame


def summarize_pv_forecast(frame: pd.DataFrame, forecast: WeatherForecast) -> str:
    """A few lines for the terminal: the forecast's source and energy per local day [kWh].

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`pv_forecast_kw`.
    forecast : WeatherForecast
        The forecast it came from.
    """
    step_h = _step_h(frame.index)
    columns = [c for c in frame.columns if c.endswith("_pv_kw")]
    days = frame[columns].groupby(frame.index.date).sum() * step_h
    lines = [
        f"forecast {forecast.path.name}: issued {forecast.issued_at.isoformat()}, "
        f"{len(frame)} steps of {_step_text(step_h)} from {frame.index[0].isoformat()}, "
        f"lead {frame['lead_h'].iloc[0]:g}-{frame['lead_h'].iloc[-1]:g} h",
        "energy [kWh]  " + "".join(f"{c.removesuffix('_pv_kw'):>12}" for c in columns),
    ]
    for day, row in days.iterrows():
        lines.append(f"{day!s:<14}" + "".join(f"{row[c]:12,.0f}" for c in columns))
    return "\n".join(lines)


def _step_h(index: pd.DatetimeIndex) -> float:
    if index.freq is not None:
        return pd.Timedelta(index.freq) / _HOUR
    return (index[1] - index[0]) / _HOUR if len(index) > 1 else 1.0


def _step_text(step_h: float) -> str:
    return f"{step_h:g} h" if step_h >= 1 else f"{step_h * 60:g} min"
