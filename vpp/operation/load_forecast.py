"""Load forecasts for rolling runs: same-day-type persistence and a profile model, evaluated.

Calendar
--------
Days are local calendar days in the history's time zone (wall clock; Asia/Shanghai has no
daylight saving). A day's **type** is, as in :mod:`vpp.profiles.synthetic` (whose calendar
``cn-holidays.yaml`` is reused): a public holiday (whatever its weekday); else a working day
(Monday to Friday, and any official make-up working day, 调休上班); else Saturday or Sunday.
Outside the years the calendar covers there are no holidays, only weekends.

Rules (neither reads any value at or after the issue time)
----------------------------------------------------------
``L`` is the last local day that has ended at the issue time (``issue_time`` itself at
00:00 ends the day before; at 14:00 the day before, too: that day is only partly measured).
Every forecast step ``t`` (at or after the issue time) has a local day ``D`` and a time of
day ``s``; ``K`` is the type of ``D``.

- **Same-day-type persistence** (:func:`same_weekday_persistence`): ``F(t) = M(d, s)`` with
  ``d`` the most recent day of type ``K`` among the 7 days ``L-6 .. L``; if none has type
  ``K``: for a holiday the most recent Sunday, else Saturday (a factory runs on a public
  holiday most like on a weekend; otherwise the first day of every holiday period would be
  forecast as a working day); else the same weekday one week earlier: ``d = D - 7k``,
  ``k >= 1`` the smallest with ``D - 7k <= L``.
  Needs the 7 full days ``L-6 .. L``.
- **Profile** (:func:`profile_forecast`): ``F(t) = mean M(d, s)`` over the days ``d`` of
  type ``K`` among the ``7 weeks`` days ``L - 7 weeks + 1 .. L``; if none, the same fallback
  as persistence (a holiday takes the Sundays, else the Saturdays), else the same weekday's
  days there. With ``scale_to_last_day`` the profile is multiplied by
  ``r = E(L) / E_prof(L)``: the energy of day ``L`` over the energy of the profile of
  ``L``'s own type from the same window (which contains ``L``); ``r = 1`` if that is 0.
  Needs the ``7 weeks`` full days before the issue.

A value missing (no row, or NaN) in the days a rule needs is a :class:`DataError` naming the
first missing timestamp and the days needed. Values outside those days are never read.

Evaluation (:func:`evaluate_load_forecasts`)
--------------------------------------------
Metrics from :mod:`vpp.solar.forecast_skill` (``error_metrics``, ``skill``): with
``e = F - M`` [kW], MAE, RMSE, bias; ``nRMSE = RMSE / mean M`` over all evaluated samples
(load has no nameplate); ``skill = 1 - RMSE / RMSE_persistence``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem
from vpp.profiles.synthetic import HOLIDAY, SATURDAY, SUNDAY, day_kinds
from vpp.solar.forecast_skill import error_metrics, skill, to_step

__all__ = ["evaluate_load_forecasts", "profile_forecast", "same_weekday_persistence"]

_NS_DAY = 86_400_000_000_000
_HOUR = pd.Timedelta(hours=1)
_PERSISTENCE_DAYS = 7
METHODS = ("persistence", "profile", "profile_scaled")
"""Methods evaluated by :func:`evaluate_load_forecasts`, in the table's order."""


def _key(history_kw: pd.Series) -> str:
    return f"column '{history_kw.name}'" if history_kw.name is not None else "history_kw"


def _step_ns(idx: pd.DatetimeIndex) -> int:
    """The step of a regular index [ns]: its freq, else the smallest difference."""
    if idx.freq is not None:
        return int(pd.Timedelta(idx.freq).value)
    return int(np.diff(idx.as_unit("ns").asi8).min())


def _wall_ns(times: pd.DatetimeIndex, tz: object) -> np.ndarray:
    """Local wall-clock nanoseconds since 1970-01-01 00:00 in ``tz``."""
    return pd.DatetimeIndex(times).tz_convert(tz).tz_localize(None).as_unit("ns").asi8


def _window(
    history_kw: pd.Series, issue_time: pd.Timestamp, n_days: int, rule: str
) -> tuple[np.ndarray, np.ndarray, int, int, object]:
    """The ``n_days`` full local days before the issue: (days x steps [kW], day numbers,
    step [ns], issue wall clock [ns], tz). Raises DataError if any value is missing."""
    key = _key(history_kw)
    idx = history_kw.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None or len(idx) < 2:
        raise DataError(
            Problem(
                "load history needs a timezone-aware DatetimeIndex of at least two steps",
                key=key,
                value=f"{type(idx).__name__} of {len(idx)}, tz {getattr(idx, 'tz', None)}",
                fix="index the history by interval-start timestamps with their time zone",
            )
        )
    if not idx.is_monotonic_increasing or not idx.is_unique:
        raise DataError(
            Problem(
                "load history timestamps are not increasing and unique",
                key=key,
                fix="sort the history and drop duplicated timestamps",
            )
        )
    step = _step_ns(idx)
    if _NS_DAY % step:
        raise DataError(
            Problem(
                "load history step does not divide a day",
                key=key,
                value=str(pd.Timedelta(step)),
                allowed="15 min, 1 h, ...",
            )
        )
    issue = pd.Timestamp(issue_time)
    if issue.tz is None:
        raise DataError(
            Problem(
                "issue time has no time zone",
                key="issue_time",
                value=str(issue),
                fix="give it with its UTC offset",
            )
        )
    issue_ns = int(_wall_ns(pd.DatetimeIndex([issue]), idx.tz)[0])
    last = issue_ns // _NS_DAY - 1
    days = np.arange(last - n_days + 1, last + 1, dtype=np.int64)
    per_day = _NS_DAY // step
    wanted = days[0] * _NS_DAY + step * np.arange(n_days * per_day, dtype=np.int64)
    values = pd.Series(history_kw.to_numpy(dtype=float), index=_wall_ns(idx, idx.tz))
    got = values.reindex(wanted).to_numpy()
    missing = np.flatnonzero(~np.isfinite(got))
    if len(missing):
        first = pd.Timestamp(int(wanted[missing[0]]), unit="ns").tz_localize(idx.tz)
        start = pd.Timestamp(int(wanted[0]), unit="ns").tz_localize(idx.tz)
        end = start + pd.Timedelta(days=n_days)
        raise DataError(
            Problem(
                f"load history lacks {len(missing)} value(s) that the {rule} needs, the first",
                key=key,
                timestamp=first.isoformat(),
                value=f"history from {idx[0].isoformat()} to {idx[-1].isoformat()}",
                allowed=f"every {pd.Timedelta(step)} step of the {n_days} full local days before "
                f"the issue time {issue.isoformat()}: {start.isoformat()} to {end.isoformat()}",
                fix="fill the gap or give a longer history (or issue later)",
            )
        )
    return got.reshape(n_days, per_day), days, step, issue_ns, idx.tz


def _targets(
    index: pd.DatetimeIndex, issue_ns: int, step: int, tz: object
) -> tuple[np.ndarray, np.ndarray]:
    """Local day number and step-of-day of each forecast step."""
    index = pd.DatetimeIndex(index)
    if index.tz is None:
        raise DataError(
            Problem(
                "forecast index has no time zone", key="index", fix="give a timezone-aware index"
            )
        )
    ns = _wall_ns(index, tz)
    off = np.flatnonzero(ns % step)
    early = np.flatnonzero(ns < issue_ns)
    grid = f"multiples of {pd.Timedelta(step)} from midnight"
    for rows, what, allowed in (
        (off, "is off the history's step grid", grid),
        (early, "is before the issue time", "steps at or after it"),
    ):
        if len(rows):
            raise DataError(
                Problem(
                    f"forecast step {what}",
                    key="index",
                    timestamp=index[rows[0]].isoformat(),
                    allowed=allowed,
                )
            )
    day = ns // _NS_DAY
    return day, (ns - day * _NS_DAY) // step


def same_weekday_persistence(
    history_kw: pd.Series, issue_time: pd.Timestamp, index: pd.DatetimeIndex
) -> np.ndarray:
    """Same-day-type persistence (rule in the module docstring) [kW].

    Parameters
    ----------
    history_kw : pandas.Series
        Measured load, tz-aware regular index of interval starts [kW]; only the 7 full local
        days before ``issue_time`` are read.
    issue_time : pandas.Timestamp
        Issue time, tz-aware.
    index : pandas.DatetimeIndex
        Steps to forecast, tz-aware, on the history's grid, at or after ``issue_time``.

    Returns
    -------
    numpy.ndarray
        Forecast load, one per step of ``index`` [kW].

    Raises
    ------
    DataError
        A value of the 7 days is missing (first missing timestamp named), bad index.
    """
    block, days, step, issue_ns, tz = _window(
        history_kw, issue_time, _PERSISTENCE_DAYS, "same-day-type persistence"
    )
    kinds = day_kinds(days)
    t_day, t_slot = _targets(index, issue_ns, step, tz)
    out = np.empty(len(t_day))
    for d in np.unique(t_day).tolist():
        row = _days_like(kinds, days, d)[-1]
        sel = t_day == d
        out[sel] = block[row, t_slot[sel]]
    return out


#: Day types to use, in order, when the window holds no day of the target's own type: a
#: factory runs on a public holiday most like on a Sunday, then a Saturday.
_FALLBACK = {HOLIDAY: (SUNDAY, SATURDAY)}


def _days_like(kinds: np.ndarray, days: np.ndarray, day: int) -> np.ndarray:
    """Rows of the window's days that stand in for ``day``, oldest first.

    The days of the same type; else, for a holiday, the Sundays, else the Saturdays;
    else the same weekday.
    """
    kind = int(day_kinds(np.array([day]))[0])
    for candidate in (kind, *_FALLBACK.get(kind, ())):
        rows = np.flatnonzero(kinds == candidate)
        if len(rows):
            return rows
    return np.flatnonzero((days - day) % 7 == 0)


def profile_forecast(
    history_kw: pd.Series,
    issue_time: pd.Timestamp,
    index: pd.DatetimeIndex,
    *,
    weeks: int = 4,
    scale_to_last_day: bool = False,
) -> np.ndarray:
    """Profile model: mean of the same day type and time of day over ``weeks`` weeks [kW].

    Parameters
    ----------
    history_kw : pandas.Series
        Measured load, tz-aware regular index of interval starts [kW]; only the
        ``7 weeks`` full local days before ``issue_time`` are read.
    issue_time : pandas.Timestamp
        Issue time, tz-aware.
    index : pandas.DatetimeIndex
        Steps to forecast, tz-aware, on the history's grid, at or after ``issue_time``.
    weeks : int
        Length of the window [weeks], at least 1.
    scale_to_last_day : bool
        Multiply by the last full day's energy over its own profile's energy (docstring).

    Returns
    -------
    numpy.ndarray
        Forecast load, one per step of ``index`` [kW].

    Raises
    ------
    DataError
        A value of the window is missing (first missing timestamp named), bad index.
    """
    if int(weeks) != weeks or weeks < 1:
        raise DataError(
            Problem(
                "profile window must be a whole number of weeks",
                key="weeks",
                value=str(weeks),
                allowed="1, 2, 3, ...",
            )
        )
    block, days, step, issue_ns, tz = _window(
        history_kw, issue_time, 7 * int(weeks), f"{weeks}-week profile model"
    )
    kinds = day_kinds(days)

    def profile(d: int) -> np.ndarray:
        return block[_days_like(kinds, days, d)].mean(axis=0)

    ratio = 1.0
    if scale_to_last_day:
        energy = float(profile(int(days[-1])).sum())
        ratio = float(block[-1].sum()) / energy if energy > 0 else 1.0
    t_day, t_slot = _targets(index, issue_ns, step, tz)
    out = np.empty(len(t_day))
    for d in np.unique(t_day).tolist():
        sel = t_day == d
        out[sel] = ratio * profile(d)[t_slot[sel]]
    return out


def evaluate_load_forecasts(
    history_kw: pd.Series,
    issue_times: Sequence[pd.Timestamp],
    horizon_h: float,
    step: pd.Timedelta | str,
    *,
    weeks: int = 4,
) -> pd.DataFrame:
    """Both methods (and the scaled profile) over many issue times, per lead hour and overall.

    Each issue forecasts the steps ``issue, issue + step, ...`` over ``horizon_h``; the lead
    hour of step ``t`` is ``floor((t - issue) / 1 h)``. A history finer than ``step`` is
    averaged to it first (a mean with any missing part is missing).

    Parameters
    ----------
    history_kw : pandas.Series
        Measured load covering the windows before each issue and every forecast step [kW].
    issue_times : sequence of pandas.Timestamp
        Issue times, tz-aware, on the ``step`` grid.
    horizon_h : float
        Forecast horizon [h], a whole number of steps.
    step : pandas.Timedelta or str
        Evaluation step, a multiple of the history's step.
    weeks : int
        Window of the profile model [weeks].

    Returns
    -------
    pandas.DataFrame
        One row per method (``METHODS``) and lead hour, then one per method over all lead
        hours (``lead_h`` NA): ``method``, ``lead_h`` [h], ``n``, ``mae_kw``, ``rmse_kw``,
        ``bias_kw``, ``nrmse_fraction`` (RMSE over the mean measured load),
        ``skill_fraction`` (against persistence; NaN where persistence is exact).

    Raises
    ------
    DataError
        Missing history (first missing timestamp named), bad step or horizon.
    """
    step = pd.Timedelta(step)
    src = pd.Timedelta(_step_ns(history_kw.index))
    n_steps = pd.Timedelta(hours=horizon_h) / step
    if step % src or n_steps != int(n_steps) or n_steps < 1:
        raise DataError(
            Problem(
                "evaluation step must be a multiple of the history's step, and the horizon a "
                "whole number of steps",
                key="step",
                value=f"step {step}, history {src}, horizon {horizon_h} h",
                fix="choose e.g. step 1 h and horizon 24 h",
            )
        )
    history = history_kw.asfreq(src)
    if step != src:
        history = to_step(history.to_frame("load_kw"), step)["load_kw"].rename(history_kw.name)
    parts = []
    for issue in issue_times:
        issue = pd.Timestamp(issue)
        index = pd.date_range(issue, periods=int(n_steps), freq=step).tz_convert(history.index.tz)
        measured = history.reindex(index).to_numpy(dtype=float)
        if not np.isfinite(measured).all():
            first = index[np.flatnonzero(~np.isfinite(measured))[0]]
            raise DataError(
                Problem(
                    "measured load is missing for a forecast step to evaluate",
                    key=_key(history_kw),
                    timestamp=first.isoformat(),
                    allowed=f"every step of the {horizon_h} h after "
                    f"each issue time (issue {issue.isoformat()})",
                    fix="give a longer history",
                )
            )
        parts.append(
            pd.DataFrame(
                {
                    "issue_time": issue,
                    "timestamp": index,
                    "lead_h": np.asarray((index - issue) // _HOUR, dtype=np.int64),
                    "measured_kw": measured,
                    "persistence_kw": same_weekday_persistence(history, issue, index),
                    "profile_kw": profile_forecast(history, issue, index, weeks=weeks),
                    "profile_scaled_kw": profile_forecast(
                        history, issue, index, weeks=weeks, scale_to_last_day=True
                    ),
                }
            )
        )
    samples = pd.concat(parts, ignore_index=True)
    mean_kw = float(samples["measured_kw"].mean())
    groups = [(int(h), g) for h, g in samples.groupby("lead_h")] + [(None, samples)]
    rows = []
    for method in METHODS:
        for lead, g in groups:
            m = g["measured_kw"].to_numpy()
            row = {"method": method, "lead_h": lead}
            row.update(error_metrics(g[f"{method}_kw"].to_numpy(), m, capacity_kw=mean_kw))
            reference = error_metrics(g["persistence_kw"].to_numpy(), m, capacity_kw=mean_kw)
            row["skill_fraction"] = skill(row["rmse_kw"], reference["rmse_kw"])
            rows.append(row)
    table = pd.DataFrame(rows)
    table["lead_h"] = table["lead_h"].astype("Int64")
    return table
