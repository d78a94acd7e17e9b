"""Time-of-use (TOU) calendars: which period each step falls in, and its price.

A calendar is a plain dict with a ``seasons`` list; each season has a ``name``, the
``months`` (1-12) it applies to and its ``periods``, each ``{"period", "start", "end"}``
with ``HH:MM`` local clock times. A period's interval is ``[start, end)``; ``end`` may be
``24:00``, and an end before the start crosses midnight (``22:00``-``02:00``). Within a
season the periods must cover the 24 hours exactly once; the seasons must cover every
month a run touches, and no month twice. Optional ``day_rules`` give weekends, public
holidays or other days their own periods (:mod:`vpp.tariffs.rules`).

Period names are free; the standard ones, in the order bills list them, are
:data:`STANDARD_PERIODS`: ``critical_peak`` (尖峰), ``peak`` (峰), ``flat`` (平),
``valley`` (谷) and ``deep_valley`` (深谷).

Built-in calendars are YAML files in ``vpp/tariffs/data``; each carries its source, its
reliability tag, its validity dates (``valid_from``, ``valid_to``; a run outside them
gets a note, not an error) and either explicit ``prices_cny_per_kwh`` or a
``price_rule``, plus optional ``derived_prices`` (:mod:`vpp.tariffs.prices`). An inline
calendar (what ``TouCalendar.model_dump()`` gives) has the same keys; without prices of
its own, the scenario gives ``prices_cny_per_kwh``.

A step belongs to the period in force at its start (the label), by the local date and
clock time of the index's own time zone (a naive index is read as local wall-clock time).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vpp.errors import Problem, ScenarioError
from vpp.tariffs.clock import NO_PERIOD, interval_table
from vpp.tariffs.prices import calendar_prices, resolve_prices
from vpp.tariffs.rules import CompiledRule, compile_rules, rule_masks

__all__ = [
    "STANDARD_PERIODS",
    "TouResult",
    "apply_calendar",
    "calendar_prices",
    "list_calendars",
    "load_calendar",
    "period_labels",
    "tou_prices",
    "validity_notes",
]

#: The standard period names, from the dearest to the cheapest (the bill's column order).
STANDARD_PERIODS = ("critical_peak", "peak", "flat", "valley", "deep_valley")


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
        (:class:`datetime.date`; ``valid_to`` is None while in force), ``source`` (the
        file's source mapping: ``document``, ``reliability``, ...), ``periods`` (the
        period names) and ``day_rules`` (``{name: default on/off}``).
    """
    rows = []
    for name in sorted(_data_files()):
        data = _read_builtin(name)
        periods = {p["period"]: None for s in data["seasons"] for p in s["periods"]}
        for rule in data.get("day_rules") or []:
            periods.update({p["period"]: None for p in rule.get("periods") or []})
        rows.append(
            {
                "name": data["name"],
                "title": data["title"],
                "valid_from": data["valid_from"],
                "valid_to": data.get("valid_to"),
                "source": copy.deepcopy(data["source"]),
                "periods": list(periods),
                "day_rules": {
                    r["name"]: r.get("default", True) for r in data.get("day_rules") or []
                },
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


@dataclass(frozen=True)
class _Compiled:
    month_season: np.ndarray  # month (1-12) -> season row
    tables: np.ndarray  # season row x minute -> period code
    names: list[str]  # period code -> name
    rules: list[CompiledRule]


def _compile(calendar: dict[str, Any], months_needed: set[int], where: str) -> _Compiled:
    """Check a calendar and compile it to lookup tables; raises every problem at once."""
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
    month_season = np.full(13, NO_PERIOD, dtype=np.int16)
    month_owner: dict[int, str] = {}
    tables = []
    by_name: dict[str, np.ndarray] = {}
    for i, season in enumerate(seasons):
        key = f"{where}.seasons[{i}]"
        label = season.get("name", f"#{i}")
        table = interval_table(
            season.get("periods") or [],
            f"{key}.periods",
            f"season '{label}'",
            names,
            problems,
            whole_day=True,
        )
        tables.append(table)
        by_name[str(label)] = table
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
    rules = compile_rules(calendar, by_name, names, where, problems)
    if problems:
        raise ScenarioError(problems)
    return _Compiled(month_season, np.stack(tables), names, rules)


def _local_fields(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """Local month [1-12], minute of the day [0-1439] and date (naive midnight) per label."""
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"index must be a pandas DatetimeIndex, got {type(index).__name__}")
    month = np.asarray(index.month, dtype=np.int16)
    minute = np.asarray(index.hour, dtype=np.int16) * 60 + np.asarray(index.minute, np.int16)
    local = index.tz_localize(None) if index.tz is not None else index
    return month, minute, local.normalize()


@dataclass(frozen=True)
class TouResult:
    """A calendar applied to a run's steps.

    Attributes
    ----------
    periods : numpy.ndarray
        Object array: the period name of each step.
    prices_cny_per_kwh : numpy.ndarray or None
        The energy price of each step [CNY/kWh] (None when prices were not asked for).
    period_prices_cny_per_kwh : dict of str to float
        The price of each period after overrides [CNY/kWh].
    rule_days : dict of str to int
        For each day rule in force, on how many days of the run it applied.
    notes : list of str
        Remarks for the run's summary (holiday years not covered, ...).
    """

    periods: np.ndarray
    prices_cny_per_kwh: np.ndarray | None
    period_prices_cny_per_kwh: dict[str, float] = field(default_factory=dict)
    rule_days: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def apply_calendar(
    index: pd.DatetimeIndex,
    calendar: dict[str, Any],
    prices_override: dict[str, float] | None = None,
    day_rules: dict[str, Any] | None = None,
    *,
    where: str = "site.grid.energy_price",
    with_prices: bool = True,
) -> TouResult:
    """The period and price of each step under a TOU calendar.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Labels at the start of each interval; any step.
    calendar : dict
        A built-in calendar (:func:`load_calendar`) or an inline one (``{"seasons": ...}``).
    prices_override : dict of str to float, optional
        Price per period [CNY/kWh]; replaces the calendar's own price of that period.
    day_rules : dict, optional
        The scenario's switches of the calendar's day rules: ``{name: true | false |
        [dates]}`` (see :mod:`vpp.tariffs.rules`).
    where : str, optional
        The scenario key of the energy price, named in error messages.
    with_prices : bool, optional
        Compute the prices (and require one for every period).

    Raises
    ------
    ScenarioError
        Every problem found at once: periods of a season that leave a gap or overlap, a
        malformed clock time, months missing from the seasons or in two, a bad day rule
        or switch, an override for an unknown period, a price that is not a number, a
        period without a price.
    """
    month, minute, dates = _local_fields(index)
    compiled = _compile(calendar, set(np.unique(month).tolist()), f"{where}.calendar")
    codes = compiled.tables[compiled.month_season[month], minute]
    problems: list[Problem] = []
    masks, rule_days, notes = rule_masks(
        compiled.rules, dates, day_rules, f"{where}.day_rules", problems
    )
    for rule, mask in masks:
        overlay = rule.table[minute]
        change = mask & (overlay != NO_PERIOD)
        codes = np.where(change, overlay, codes)
    prices = None
    period_prices: dict[str, float] = {}
    if with_prices:
        period_prices = resolve_prices(calendar, compiled.names, prices_override, where, problems)
    if problems:
        raise ScenarioError(problems)
    labels = np.asarray(compiled.names, dtype=object)[codes]
    if with_prices:
        table = np.array([period_prices[name] for name in compiled.names], dtype=float)
        prices = table[codes]
    return TouResult(labels, prices, period_prices, rule_days, notes)


def period_labels(
    index: pd.DatetimeIndex,
    calendar: dict[str, Any],
    *,
    day_rules: dict[str, Any] | None = None,
    where: str = "site.grid.energy_price",
) -> np.ndarray:
    """The TOU period of each step, by the local date and clock time of its start.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Labels at the start of each interval; any step.
    calendar : dict
        A built-in calendar (:func:`load_calendar`) or an inline one (``{"seasons": ...}``).
    day_rules : dict, optional
        Switches of the calendar's day rules (see :func:`apply_calendar`).
    where : str, optional
        The scenario key of the energy price, named in error messages.

    Returns
    -------
    numpy.ndarray
        Object array of period names, one per step.

    Raises
    ------
    ScenarioError
        The calendar problems of :func:`apply_calendar` (prices are not checked).
    """
    return apply_calendar(index, calendar, None, day_rules, where=where, with_prices=False).periods


def tou_prices(
    index: pd.DatetimeIndex,
    calendar: dict[str, Any],
    prices_override: dict[str, float] | None = None,
    where: str = "site.grid.energy_price",
    *,
    day_rules: dict[str, Any] | None = None,
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
    day_rules : dict, optional
        Switches of the calendar's day rules (see :func:`apply_calendar`).

    Returns
    -------
    numpy.ndarray
        Float array, one price per step [CNY/kWh].

    Raises
    ------
    ScenarioError
        See :func:`apply_calendar`.
    """
    result = apply_calendar(index, calendar, prices_override, day_rules, where=where)
    assert result.prices_cny_per_kwh is not None
    return result.prices_cny_per_kwh


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def validity_notes(calendar: dict[str, Any], index: pd.DatetimeIndex, label: str) -> list[str]:
    """Notes when the run's dates fall outside the calendar's ``valid_from``/``valid_to``.

    Parameters
    ----------
    calendar : dict
        The calendar (a calendar without validity dates gives no note).
    index : pandas.DatetimeIndex
        The run's steps (local dates are compared).
    label : str
        How the calendar is named in the note, e.g. ``calendar 'jiangsu-2025-industrial'``.

    Returns
    -------
    list of str
        Empty when the run lies inside the validity.
    """
    _, _, dates = _local_fields(index)
    first, last = dates[0].date(), dates[-1].date()
    valid_from = _as_date(calendar.get("valid_from"))
    valid_to = _as_date(calendar.get("valid_to"))
    span = f"{valid_from or 'open'} .. {valid_to or 'open'}"
    notes = []
    if valid_from is not None and first < valid_from:
        notes.append(
            f"the run starts on {first}, before {label} is valid ({span}): its periods "
            "and prices may not apply to the days before"
        )
    if valid_to is not None and last > valid_to:
        notes.append(
            f"the run ends on {last}, after {label} ceased to be valid ({span}): its "
            "periods and prices may not apply to the days after"
        )
    return notes
