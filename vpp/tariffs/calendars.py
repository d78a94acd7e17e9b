"""Time-of-use (TOU) calendars: which period each step falls in, and its price.

A calendar is a plain dict with a ``seasons`` list; each season has a ``name``, the
``months`` (1-12) it applies to and its ``periods``, each ``{"period", "start", "end"}``
with ``HH:MM`` local clock times. A period's interval is ``[start, end)``; ``end`` may be
``24:00``, and an end before the start crosses midnight (``22:00``-``02:00``). Within a
season the periods must cover the 24 hours exactly once; the seasons must cover every
month a run touches, and no month twice.

Built-in calendars are YAML files in ``vpp/tariffs/data``; each carries its source, its
reliability tag, its validity dates and either explicit ``prices_cny_per_kwh`` or a
``price_rule`` (``purchase_cny_per_kwh x coefficient + fixed_adders_cny_per_kwh``). An
inline calendar (what ``TouCalendar.model_dump()`` gives) has the same ``seasons`` and no
prices; the scenario then gives ``prices_cny_per_kwh``.

A step belongs to the period in force at its start (the label), by the local month and
clock time of the index's own time zone (a naive index is read as local wall-clock time).
"""

from __future__ import annotations

import copy
import functools
import math
import re
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vpp.errors import Problem, ScenarioError

__all__ = [
    "calendar_prices",
    "list_calendars",
    "load_calendar",
    "period_labels",
    "tou_prices",
]

_MINUTES_PER_DAY = 1440
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_NO_PERIOD = -1


def _data_files() -> dict[str, Any]:
    folder = resources.files("vpp.tariffs") / "data"
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


@functools.cache
def _read_builtin(name: str) -> dict[str, Any]:
    files = _data_files()
    return yaml.safe_load(files[name].read_text(encoding="utf-8"))


def list_calendars() -> list[dict[str, Any]]:
    """The built-in TOU calendars, sorted by name.

    Returns
    -------
    list of dict
        One dict per calendar with ``name``, ``title``, ``valid_from`` and ``valid_to``
        (:class:`datetime.date`; ``valid_to`` is None while in force) and ``source`` (the
        file's source mapping: ``document``, ``reliability``, ...).
    """
    rows = []
    for name in sorted(_data_files()):
        data = _read_builtin(name)
        rows.append(
            {
                "name": data["name"],
                "title": data["title"],
                "valid_from": data["valid_from"],
                "valid_to": data.get("valid_to"),
                "source": copy.deepcopy(data["source"]),
            }
        )
    return rows


def load_calendar(name: str) -> dict[str, Any]:
    """The parsed data file of a built-in calendar (a fresh copy, safe to change).

    Parameters
    ----------
    name : str
        The calendar's name, e.g. ``jiangsu-2025-industrial`` (see :func:`list_calendars`).

    Raises
    ------
    ScenarioError
        The name is not a built-in calendar; the message lists the built-in names.
    """
    names = sorted(_data_files())
    if name not in names:
        raise ScenarioError(
            Problem(
                f"unknown TOU calendar '{name}'",
                key="site.grid.energy_price.calendar",
                value=repr(name),
                allowed=", ".join(names),
                fix="use one of the built-in names, or write the calendar inline as "
                "'calendar: {seasons: [{name, months, periods: [{period, start, end}]}]}' "
                "with 'prices_cny_per_kwh'",
            )
        )
    return copy.deepcopy(_read_builtin(name))


def calendar_prices(calendar: dict[str, Any]) -> dict[str, float]:
    """The calendar's own price of each period [CNY/kWh].

    Explicit ``prices_cny_per_kwh`` if the calendar has them; otherwise computed from
    ``price_rule`` as ``purchase_cny_per_kwh * coefficients[period] +
    fixed_adders_cny_per_kwh`` (rounded to 1e-10); empty for an inline calendar.
    """
    explicit = calendar.get("prices_cny_per_kwh")
    if explicit:
        return {str(k): float(v) for k, v in explicit.items()}
    rule = calendar.get("price_rule")
    if not rule:
        return {}
    purchase = float(rule["purchase_cny_per_kwh"])
    adders = float(rule.get("fixed_adders_cny_per_kwh", 0.0))
    return {
        str(period): round(purchase * float(coefficient) + adders, 10)
        for period, coefficient in rule["coefficients"].items()
    }


def _clock_minutes(text: object) -> int | None:
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end minute of each run of True in a 1440-long mask."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist()))


def _season_table(
    season: dict[str, Any], key: str, names: list[str], problems: list[Problem]
) -> np.ndarray:
    """Minute-of-day -> period code of one season; appends its problems."""
    label = season.get("name", "?")
    table = np.full(_MINUTES_PER_DAY, _NO_PERIOD, dtype=np.int16)
    count = np.zeros(_MINUTES_PER_DAY, dtype=np.int16)
    owners: list[list[str]] = [[] for _ in range(_MINUTES_PER_DAY)]
    for j, period in enumerate(season.get("periods") or []):
        where = f"{key}.periods[{j}]"
        start = _clock_minutes(period.get("start"))
        end = _clock_minutes(period.get("end"))
        if start is None or end is None:
            problems.append(
                Problem(
                    f"season '{label}': period '{period.get('period')}' has a clock time "
                    "that is not HH:MM",
                    key=where,
                    value=f"start {period.get('start')!r}, end {period.get('end')!r}",
                    allowed="quoted clock times from '00:00' to '24:00'",
                    fix="write start and end as quoted strings such as '22:00'",
                )
            )
            continue
        start %= _MINUTES_PER_DAY
        if start == end % _MINUTES_PER_DAY and not (start == 0 and end == _MINUTES_PER_DAY):
            problems.append(
                Problem(
                    f"season '{label}': period '{period.get('period')}' starts and ends at "
                    "the same time",
                    key=where,
                    value=f"{period.get('start')}-{period.get('end')}",
                    fix="give a non-empty interval; a whole day is '00:00'-'24:00'",
                )
            )
            continue
        name = str(period.get("period"))
        if name not in names:
            names.append(name)
        code = names.index(name)
        spans = [(start, end)] if end > start else [(start, _MINUTES_PER_DAY), (0, end)]
        for a, b in spans:
            table[a:b] = code
            count[a:b] += 1
            for minute in range(a, b):
                owners[minute].append(name)
    for a, b in _runs(count == 0):
        problems.append(
            Problem(
                f"season '{label}': no period covers {_hhmm(a)}-{_hhmm(b)}",
                key=f"{key}.periods",
                fix=f"add a period for {_hhmm(a)}-{_hhmm(b)} or stretch a neighbour over it",
            )
        )
    for a, b in _runs(count > 1):
        problems.append(
            Problem(
                f"season '{label}': periods overlap at {_hhmm(a)}-{_hhmm(b)} "
                f"({', '.join(owners[a])})",
                key=f"{key}.periods",
                fix="make each clock time belong to exactly one period",
            )
        )
    return table


def _compile(
    calendar: dict[str, Any], months_needed: set[int], where: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Month -> season row, season row x minute -> period code, and the period names."""
    problems: list[Problem] = []
    seasons = calendar.get("seasons") if isinstance(calendar, dict) else None
    if not seasons:
        raise ScenarioError(
            Problem(
                "the TOU calendar has no seasons",
                key=where,
                fix="give 'seasons: [{name, months, periods: [{period, start, end}]}]'",
            )
        )
    names: list[str] = []
    month_season = np.full(13, _NO_PERIOD, dtype=np.int16)
    month_owner: dict[int, str] = {}
    tables = []
    for i, season in enumerate(seasons):
        key = f"{where}.seasons[{i}]"
        label = season.get("name", f"#{i}")
        tables.append(_season_table(season, key, names, problems))
        for month in season.get("months") or []:
            if not isinstance(month, int) or not 1 <= month <= 12:
                problems.append(
                    Problem(
                        f"season '{label}' names a month that does not exist",
                        key=f"{key}.months",
                        value=repr(month),
                        allowed="integers 1 to 12",
                    )
                )
            elif month in month_owner:
                seasons_text = (
                    f"listed twice in season '{label}'"
                    if month_owner[month] == label
                    else f"in two seasons, '{month_owner[month]}' and '{label}'"
                )
                problems.append(
                    Problem(
                        f"month {month} is {seasons_text}",
                        key=f"{key}.months",
                        fix=f"keep month {month} in one season only",
                    )
                )
            else:
                month_owner[month] = label
                month_season[month] = i
    missing = sorted(m for m in months_needed if m not in month_owner)
    if missing:
        problems.append(
            Problem(
                f"no season covers month(s) {missing}, which the run's time steps touch",
                key=f"{where}.seasons",
                value=f"months covered {sorted(month_owner)}",
                fix=f"add month(s) {missing} to a season's 'months'",
            )
        )
    if problems:
        raise ScenarioError(problems)
    return month_season, np.stack(tables), names


def _local_fields(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Local month [1-12] and minute of the day [0-1439] of each label."""
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"index must be a pandas DatetimeIndex, got {type(index).__name__}")
    month = np.asarray(index.month, dtype=np.int16)
    minute = np.asarray(index.hour, dtype=np.int16) * 60 + np.asarray(index.minute, np.int16)
    return month, minute


def _period_codes(
    index: pd.DatetimeIndex, calendar: dict[str, Any], where: str
) -> tuple[np.ndarray, list[str]]:
    month, minute = _local_fields(index)
    month_season, tables, names = _compile(calendar, set(np.unique(month).tolist()), where)
    return tables[month_season[month], minute], names


def period_labels(
    index: pd.DatetimeIndex,
    calendar: dict[str, Any],
    *,
    where: str = "site.grid.energy_price.calendar",
) -> np.ndarray:
    """The TOU period of each step, by the local month and clock time of its start.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Labels at the start of each interval; any step.
    calendar : dict
        A built-in calendar (:func:`load_calendar`) or an inline one (``{"seasons": ...}``).
    where : str, optional
        The scenario key named in error messages.

    Returns
    -------
    numpy.ndarray
        Object array of period names, one per step.

    Raises
    ------
    ScenarioError
        Periods of a season leave a gap or overlap, a clock time is malformed, or the
        seasons do not cover every month the index touches or cover one twice. All the
        problems found are raised together.
    """
    codes, names = _period_codes(index, calendar, where)
    return np.asarray(names, dtype=object)[codes]


def tou_prices(
    index: pd.DatetimeIndex,
    calendar: dict[str, Any],
    prices_override: dict[str, float] | None = None,
    where: str = "site.grid.energy_price",
) -> np.ndarray:
    """The energy price of each step under a TOU calendar [CNY/kWh].

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Labels at the start of each interval.
    calendar : dict
        A built-in calendar (:func:`load_calendar`) or an inline one (``{"seasons": ...}``).
    prices_override : dict of str to float, optional
        Price per period [CNY/kWh]; replaces the calendar's own price of that period.
    where : str, optional
        The scenario key of the energy price, named in error messages.

    Returns
    -------
    numpy.ndarray
        Float array, one price per step [CNY/kWh].

    Raises
    ------
    ScenarioError
        The override names a period the calendar does not have, a price is not a finite
        number, or a period of the calendar has no price (plus the calendar problems of
        :func:`period_labels`).
    """
    codes, names = _period_codes(index, calendar, f"{where}.calendar")
    prices = calendar_prices(calendar)
    problems: list[Problem] = []
    for period, value in (prices_override or {}).items():
        if period not in names:
            problems.append(
                Problem(
                    f"price given for period '{period}', which the calendar does not have",
                    key=f"{where}.prices_cny_per_kwh.{period}",
                    allowed=f"the calendar's periods: {', '.join(names)}",
                    fix="rename the key to one of the calendar's periods or remove it",
                )
            )
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            problems.append(
                Problem(
                    f"the price of period '{period}' is not a finite number",
                    key=f"{where}.prices_cny_per_kwh.{period}",
                    value=repr(value),
                    allowed="a number [CNY/kWh]",
                )
            )
            continue
        prices[period] = number
    missing = [name for name in names if name not in prices]
    if missing:
        problems.append(
            Problem(
                f"no price for period(s) {', '.join(missing)}",
                key=f"{where}.prices_cny_per_kwh",
                value=f"prices for {', '.join(sorted(prices)) or 'no period'}",
                allowed=f"the calendar's periods: {', '.join(names)}",
                fix="give 'prices_cny_per_kwh' with a price [CNY/kWh] for every period",
            )
        )
    if problems:
        raise ScenarioError(problems)
    table = np.array([prices[name] for name in names], dtype=float)
    return table[codes]
