"""Demand-response baseline (需求响应基线): similar days and baseline load from meter history.

Pure functions on a metered load history (a pandas series) and a
:class:`~vpp.scenario.dr.DemandResponseEvent`; the event is then settled by
:func:`vpp.portfolio.dr.settle_event`.

Calendar
--------
Days are local calendar days in the history's time zone (wall clock). A day's **kind** is
that of :func:`vpp.profiles.synthetic.day_kinds` (calendar ``cn-holidays.yaml``): a public
holiday whatever its weekday; else a working day (Monday to Friday and official make-up
working days, 调休上班); else Saturday or Sunday. Outside the years the calendar covers
there are no holidays, only weekends.

Baseline (:func:`similar_days`, :func:`baseline_kw`)
----------------------------------------------------
The similar days of an event on day ``D`` of kind ``K`` are the ``N`` most recent days
``d < D`` of kind ``K`` (a working-day event takes working days, so weekends and holidays
are skipped; a Saturday, Sunday or holiday event takes days of its own kind), skipping the
days in ``exclude_days`` (other event days) and days with data missing (no row or NaN) in the
event window. With ``w`` the event's steps and ``s(t)`` a step's time of day,

``B(t) = (1/N) sum_{d in days} M(d, s(t))``   [kW], for each step ``t`` of the event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem, ScenarioError
from vpp.profiles.synthetic import HOLIDAY, SATURDAY, SUNDAY, WORKING_DAY, day_kinds
from vpp.scenario.dr import DemandResponseEvent
from vpp.timeseries import local_time

__all__ = ["baseline_kw", "event_steps", "similar_days"]

_NS_DAY = 86_400_000_000_000
_EPOCH = dt.date(1970, 1, 1)
_KIND_NAMES = {
    WORKING_DAY: "working day",
    SATURDAY: "Saturday",
    SUNDAY: "Sunday",
    HOLIDAY: "public holiday",
}
#: How far back the needed calendar days are searched for an error message [days].
_CALENDAR_LOOKBACK_DAYS = 3 * 366


# --- time helpers ---------------------------------------------------------------------------


def _check_index(index: object, key: str) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataError(
            Problem(
                "load history needs a timezone-aware DatetimeIndex",
                key=key,
                value=f"{type(index).__name__}, tz {getattr(index, 'tz', None)}",
                fix="index the history by interval-start timestamps with their time zone",
            )
        )
    if not index.is_monotonic_increasing or not index.is_unique:
        raise DataError(
            Problem(
                "load history timestamps are not increasing and unique",
                key=key,
                fix="sort the history and drop duplicates",
            )
        )
    return index


def _step_ns(index: pd.DatetimeIndex, key: str) -> int:
    """Step of a regular index [ns]: its freq, else the smallest difference."""
    if index.freq is not None:
        return int(pd.Timedelta(index.freq).as_unit("ns").value)
    if len(index) < 2:
        raise DataError(
            Problem(
                "cannot tell the step of a history of fewer than two steps",
                key=key,
                value=f"{len(index)} step(s)",
            )
        )
    return int(np.diff(index.as_unit("ns").asi8).min())


def _wall_ns(times: pd.DatetimeIndex, tz: object) -> np.ndarray:
    """Local wall-clock nanoseconds since 1970-01-01 00:00 in ``tz``."""
    return pd.DatetimeIndex(times).tz_convert(tz).tz_localize(None).as_unit("ns").asi8


def _day_number(day: dt.date | str | pd.Timestamp) -> int:
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    if isinstance(day, dt.datetime):  # pandas.Timestamp included
        day = day.date()
    return (day - _EPOCH).days


def _date(day_number: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day_number))


def event_steps(
    event: DemandResponseEvent, step: pd.Timedelta | str, tz: object
) -> pd.DatetimeIndex:
    """The interval starts of an event's steps.

    Parameters
    ----------
    event : DemandResponseEvent
        The event; naive times are read in ``tz``.
    step : pandas.Timedelta or str
        Step of the run or of the history (``"15min"``, ``"1h"``).
    tz : str or tzinfo
        Time zone of the run (the scenario's).

    Returns
    -------
    pandas.DatetimeIndex
        ``start, start + step, ...`` before ``end``, timezone-aware in ``tz``.

    Raises
    ------
    ScenarioError
        ``start`` or ``end`` is not on the step grid (a whole number of steps from
        local midnight).
    """
    step_td = pd.Timedelta(step)
    start, end = local_time(event.start, tz), local_time(event.end, tz)
    for key, time in (("start", start), ("end", end)):
        if (time - time.normalize()) % step_td:
            raise ScenarioError(
                Problem(
                    f"demand-response event '{event.name}' is not on the {step_td} step grid",
                    key=f"{event.name}.{key}",
                    value=str(time),
                    allowed=f"multiples of {step_td} from local midnight",
                    fix=f"move '{key}' onto the step grid",
                )
            )
    return pd.date_range(start, end, freq=step_td, inclusive="left")


# --- similar days and baseline --------------------------------------------------------------


def _window_offsets(
    start: pd.Timestamp, end: pd.Timestamp | None, step: int
) -> tuple[int, np.ndarray]:
    """Event day number and the wall-clock offsets of its steps from midnight [ns].

    Without ``end``, the steps of the whole day.
    """
    wall = int(_wall_ns(pd.DatetimeIndex([start]), start.tz)[0])
    day, tod = divmod(wall, _NS_DAY)
    if end is None:
        return day, step * np.arange(_NS_DAY // step, dtype=np.int64)
    n_steps = max(1, -(-(end - start).as_unit("ns").value // step))
    return day, tod + step * np.arange(n_steps, dtype=np.int64)


def _candidates(
    event_day: int, kind_of: Callable[[np.ndarray], np.ndarray], excluded: set[int], first: int
) -> np.ndarray:
    """Days before ``event_day`` back to ``first`` of the event day's kind, newest first."""
    if first >= event_day:
        return np.zeros(0, dtype=np.int64)
    days = np.arange(event_day - 1, first - 1, -1, dtype=np.int64)
    kinds = kind_of(np.concatenate([[event_day], days]))
    keep = kinds[1:] == kinds[0]
    if excluded:
        keep &= ~np.isin(days, np.fromiter(excluded, dtype=np.int64))
    return days[keep]


def similar_days(
    event_start: dt.datetime | pd.Timestamp,
    history_index: pd.DatetimeIndex,
    n_days: int,
    *,
    event_end: dt.datetime | pd.Timestamp | None = None,
    exclude_days: Iterable[dt.date | str] = (),
    day_kind_of: Callable[[np.ndarray], np.ndarray] = day_kinds,
) -> list[dt.date]:
    """The baseline days of an event: the ``n_days`` most recent similar days with data.

    Parameters
    ----------
    event_start : datetime.datetime or pandas.Timestamp
        Start of the event; naive is read in the history's time zone.
    history_index : pandas.DatetimeIndex
        Timestamps (interval starts) that hold a valid metered value; timezone-aware,
        increasing, one step size. Drop the NaN rows before passing the index.
    n_days : int
        Number of days wanted, at least 1.
    event_end : datetime.datetime or pandas.Timestamp, optional
        End of the event: a day counts only if every step of the event's time-of-day
        window is in ``history_index``; without it, every step of the whole day.
    exclude_days : iterable of datetime.date or str, optional
        Days never used (days with other demand-response events), ``YYYY-MM-DD`` strings
        allowed.
    day_kind_of : callable, optional
        Day kinds of an array of day numbers since 1970-01-01 (default
        :func:`vpp.profiles.synthetic.day_kinds`, with its holiday calendar).

    Returns
    -------
    list of datetime.date
        Up to ``n_days`` days, most recent first: days before the event's local day of the
        same kind (working day, Saturday, Sunday or holiday), not excluded, with complete
        data. Fewer when the history is too short (see :func:`baseline_kw` for the error).
    """
    if int(n_days) != n_days or n_days < 1:
        raise ScenarioError(
            Problem(
                "the number of baseline days must be a whole number >= 1",
                key="baseline_days",
                value=str(n_days),
            )
        )
    index = _check_index(history_index, "history_index")
    if len(index) == 0:
        return []
    step = _step_ns(index, "history_index") if len(index) > 1 else _NS_DAY
    tz = index.tz
    start = local_time(event_start, tz)
    end = None if event_end is None else local_time(event_end, tz)
    event_day, offsets = _window_offsets(start, end, step)
    wall = _wall_ns(index, tz)
    excluded = {_day_number(d) for d in exclude_days}
    found: list[dt.date] = []
    for day in _candidates(event_day, day_kind_of, excluded, int(wall[0] // _NS_DAY)).tolist():
        if np.isin(day * _NS_DAY + offsets, wall, assume_unique=True).all():
            found.append(_date(day))
            if len(found) == n_days:
                break
    return found


def baseline_kw(
    history_kw: pd.Series,
    event: DemandResponseEvent,
    *,
    exclude_days: Iterable[dt.date | str] = (),
) -> pd.Series:
    """The baseline load on an event's steps: the mean of its similar days [kW].

    Parameters
    ----------
    history_kw : pandas.Series
        Metered load before the event [kW], timezone-aware regular index of interval
        starts (the scenario's time zone; naive event times are read in it). NaN counts as
        missing. Rows on or after the event day are never read.
    event : DemandResponseEvent
        The event; ``event.baseline_days`` similar days are averaged.
    exclude_days : iterable of datetime.date or str, optional
        Days of other demand-response events, skipped.

    Returns
    -------
    pandas.Series
        ``baseline_kw`` on the event's steps (:func:`event_steps` at the history's step)
        [kW]. ``attrs`` holds ``mean_kw`` (its mean over the event [kW]) and
        ``similar_days`` (the days used, most recent first).

    Raises
    ------
    DataError
        Bad history index, or fewer than ``baseline_days`` similar days with complete data:
        the message names the first missing timestamp of the days it needed (the
        ``baseline_days`` most recent days of the event day's kind, by calendar) and lists
        them.
    ScenarioError
        The event is not on the history's step grid.
    """
    key = f"column '{history_kw.name}'" if history_kw.name is not None else "history_kw"
    index = _check_index(history_kw.index, key)
    step = _step_ns(index, key)
    tz = index.tz
    steps = event_steps(event, pd.Timedelta(step), tz)
    values = history_kw.to_numpy(dtype=float)
    valid = index[np.isfinite(values)]
    n = event.baseline_days
    days = similar_days(event.start, valid, n, event_end=event.end, exclude_days=exclude_days)
    event_day, offsets = _window_offsets(steps[0], local_time(event.end, tz), step)
    if len(days) < n:
        _raise_short_history(index, valid, event, n, days, event_day, offsets, exclude_days, key)
    by_wall = pd.Series(values, index=_wall_ns(index, tz))
    rows = np.stack(
        [by_wall.reindex(_day_number(day) * _NS_DAY + offsets).to_numpy() for day in days]
    )
    out = pd.Series(rows.mean(axis=0), index=steps, name="baseline_kw")
    out.attrs = {"mean_kw": float(out.mean()), "similar_days": list(days)}
    return out


def _raise_short_history(
    index: pd.DatetimeIndex,
    valid: pd.DatetimeIndex,
    event: DemandResponseEvent,
    n: int,
    found: list[dt.date],
    event_day: int,
    offsets: np.ndarray,
    exclude_days: Iterable[dt.date | str],
    key: str,
) -> None:
    """DataError naming the first missing timestamp of the ``n`` days the baseline needed."""
    tz = index.tz
    excluded = {_day_number(d) for d in exclude_days}
    needed = _candidates(event_day, day_kinds, excluded, event_day - _CALENDAR_LOOKBACK_DAYS)[:n]
    wanted = (needed[:, None] * _NS_DAY + offsets[None, :]).ravel()
    missing = np.sort(wanted[~np.isin(wanted, _wall_ns(valid, tz))])
    kind = _KIND_NAMES.get(int(day_kinds(np.array([event_day]))[0]), "day")
    first = (
        pd.Timestamp(int(missing[0]), unit="ns").tz_localize(tz).isoformat()
        if len(missing)
        else None
    )
    history = f"{index[0].isoformat()} to {index[-1].isoformat()}" if len(index) else "empty"
    window = f"{local_time(event.start, tz):%H:%M}-{local_time(event.end, tz):%H:%M}"
    raise DataError(
        Problem(
            f"load history is too short for the baseline of event '{event.name}': found "
            f"{len(found)} of {n} {kind}s with complete data before {_date(event_day)}; "
            "the first missing value of the days needed",
            key=key,
            timestamp=first,
            value=f"history {history}",
            allowed="every step of the event window "
            f"({window})"
            f" on the days {', '.join(str(_date(d)) for d in sorted(needed))}",
            fix="give a longer history or fill the gaps, or lower the event's baseline_days",
        )
    )
