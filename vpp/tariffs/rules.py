"""Day rules of a TOU calendar: weekends, public holidays and other days with their own periods.

A calendar may list ``day_rules``. Each rule picks days and gives them other periods,
on top of the season periods of their month; rules apply in the order listed, and a
later rule wins where two cover the same step::

    day_rules:
      - name: holiday_deep_valley
        days: holidays                 # every_day | weekends | holidays
        holidays: [spring_festival, labour_day, national_day]   # optional (days: holidays)
        months: [1, 2, 5, 10]          # optional: only days of these months
        periods:                       # these clock intervals change; the rest of the
          - {period: deep_valley, start: "11:00", end: "15:00"}  # day keeps its season
        default: false                 # off unless the scenario switches it on
        source: ...                    # where the rule comes from (built-in files)

Instead of ``periods`` a rule may give ``season: NAME``: the whole day then follows that
season's periods (for example weekends priced like spring and autumn).

- ``weekends`` are Saturdays and Sundays of the local calendar (official make-up working
  days are not considered);
- ``holidays`` are the public holidays of ``vpp/profiles/data/cn-holidays.yaml`` (the
  State Council arrangements; years outside the file have none, and a note says so). A
  holiday block matches a name in ``holidays`` when its own name, or one part of a
  name joined with ``_and_`` (``national_day_and_mid_autumn``), equals it.

A scenario switches rules with ``site.grid.energy_price.day_rules``: ``{NAME: true}``
(on, on every day the rule picks), ``{NAME: false}`` (off) or ``{NAME: [dates]}`` (on,
only on these dates; each must be a day the rule picks). Rules a scenario does not
name keep their ``default`` (``true`` when absent).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vpp.errors import Problem
from vpp.tariffs.clock import MINUTES_PER_DAY, NO_PERIOD, interval_table

__all__ = ["DAY_KINDS", "CompiledRule", "compile_rules", "public_holidays", "rule_masks"]

#: The day selections a rule may use.
DAY_KINDS = ("every_day", "weekends", "holidays")


@functools.cache
def _holiday_file() -> dict[str, Any]:
    # vpp.tariffs imports nothing of vpp.profiles; it reads the same data file.
    path = resources.files("vpp") / "profiles" / "data" / "cn-holidays.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@functools.cache
def public_holidays() -> tuple[dict[dt.date, tuple[str, ...]], frozenset[int]]:
    """Chinese public holidays and the years the holiday file covers.

    Returns
    -------
    holidays : dict of datetime.date to tuple of str
        Each holiday date and the names it answers to (the block's name and the parts
        of a name joined with ``_and_``).
    years : frozenset of int
        The years the file covers; other years have no known holidays.
    """
    data = _holiday_file()
    days: dict[dt.date, tuple[str, ...]] = {}
    for year in data["years"].values():
        for block in year["holidays"]:
            names = (block["name"], *block["name"].split("_and_"))
            first, last = _as_date(block["first"]), _as_date(block["last"])
            for k in range((last - first).days + 1):
                days[first + dt.timedelta(days=k)] = names
    return days, frozenset(int(y) for y in data["years"])


def _holiday_names() -> list[str]:
    holidays, _ = public_holidays()
    return sorted({name for names in holidays.values() for name in names[1:]})


@dataclass(frozen=True)
class CompiledRule:
    """A day rule ready to apply.

    Attributes
    ----------
    name : str
        The rule's name.
    table : numpy.ndarray
        Minute of the day -> period code, :data:`~vpp.tariffs.clock.NO_PERIOD` where the
        season's own period stays.
    days : str
        One of :data:`DAY_KINDS`.
    months : frozenset of int or None
        The months it is limited to.
    holidays : frozenset of str or None
        The holiday names it is limited to (``days: holidays``).
    default : bool
        Whether it applies when the scenario does not name it.
    """

    name: str
    table: np.ndarray
    days: str
    months: frozenset[int] | None
    holidays: frozenset[str] | None
    default: bool


def compile_rules(
    calendar: dict[str, Any],
    season_tables: dict[str, np.ndarray],
    names: list[str],
    where: str,
    problems: list[Problem],
) -> list[CompiledRule]:
    """Check and compile a calendar's ``day_rules``; problems are appended.

    Parameters
    ----------
    calendar : dict
        The calendar, with optional ``day_rules``.
    season_tables : dict of str to numpy.ndarray
        Each season's minute table, by season name (for rules that give ``season``).
    names : list of str
        Period names so far; a rule's new periods are appended.
    where : str
        Key of the calendar in messages.
    problems : list of Problem
        Where problems go.
    """
    rules = calendar.get("day_rules") or []
    if not isinstance(rules, list):
        problems.append(
            Problem(
                "'day_rules' must be a list of rules",
                key=f"{where}.day_rules",
                value=type(rules).__name__,
            )
        )
        return []
    compiled: list[CompiledRule] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        key = f"{where}.day_rules[{i}]"
        if not isinstance(rule, dict) or not rule.get("name"):
            problems.append(
                Problem(
                    "a day rule needs a mapping with at least 'name' and 'days'",
                    key=key,
                    value=repr(rule),
                )
            )
            continue
        name = str(rule["name"])
        if name in seen:
            problems.append(
                Problem(f"day rule '{name}' is defined twice", key=f"{key}.name", fix="rename one")
            )
        seen.add(name)
        count = len(problems)
        days = rule.get("days")
        if days not in DAY_KINDS:
            problems.append(
                Problem(
                    f"day rule '{name}': unknown day selection",
                    key=f"{key}.days",
                    value=repr(days),
                    allowed=", ".join(DAY_KINDS),
                )
            )
        months = rule.get("months")
        if months is not None and (
            not isinstance(months, list)
            or not months
            or any(not isinstance(m, int) or not 1 <= m <= 12 for m in months)
        ):
            problems.append(
                Problem(
                    f"day rule '{name}': 'months' must be a non-empty list of months",
                    key=f"{key}.months",
                    value=repr(months),
                    allowed="integers 1 to 12",
                )
            )
        holidays = rule.get("holidays")
        if holidays is not None:
            known = _holiday_names()
            if days != "holidays":
                problems.append(
                    Problem(
                        f"day rule '{name}': 'holidays' goes with 'days: holidays'",
                        key=f"{key}.holidays",
                        fix="remove 'holidays' or set 'days: holidays'",
                    )
                )
            elif not isinstance(holidays, list) or any(h not in known for h in holidays):
                problems.append(
                    Problem(
                        f"day rule '{name}': unknown holiday name",
                        key=f"{key}.holidays",
                        value=repr(holidays),
                        allowed=", ".join(known),
                    )
                )
        season, periods = rule.get("season"), rule.get("periods")
        table = np.full(MINUTES_PER_DAY, NO_PERIOD, dtype=np.int16)
        if (season is None) == (periods is None):
            problems.append(
                Problem(
                    f"day rule '{name}' needs exactly one of 'periods' or 'season'",
                    key=key,
                    fix="give 'periods: [{period, start, end}]' for part of the day, or "
                    "'season: NAME' to use another season's periods all day",
                )
            )
        elif season is not None:
            if season not in season_tables:
                problems.append(
                    Problem(
                        f"day rule '{name}' names a season the calendar does not have",
                        key=f"{key}.season",
                        value=repr(season),
                        allowed=", ".join(season_tables),
                    )
                )
            else:
                table = season_tables[season]
        elif not isinstance(periods, list) or not periods:
            problems.append(
                Problem(
                    f"day rule '{name}': 'periods' must be a non-empty list",
                    key=f"{key}.periods",
                    value=repr(periods),
                )
            )
        else:
            label = f"day rule '{name}'"
            table = interval_table(
                periods, f"{key}.periods", label, names, problems, whole_day=False
            )
        if len(problems) == count:
            compiled.append(
                CompiledRule(
                    name=name,
                    table=table,
                    days=str(days),
                    months=frozenset(months) if months else None,
                    holidays=frozenset(holidays) if holidays else None,
                    default=bool(rule.get("default", True)),
                )
            )
    return compiled


def _picked_days(rule: CompiledRule, dates: pd.DatetimeIndex) -> np.ndarray:
    """Which of the local ``dates`` (midnights, naive) the rule picks."""
    picked = np.ones(len(dates), dtype=bool)
    if rule.months is not None:
        picked &= np.isin(dates.month, sorted(rule.months))
    if rule.days == "weekends":
        picked &= dates.day_of_week >= 5
    elif rule.days == "holidays":
        holidays, _ = public_holidays()
        wanted = rule.holidays
        picked &= np.array(
            [
                (names := holidays.get(d.date())) is not None
                and (wanted is None or any(n in wanted for n in names))
                for d in dates
            ],
            dtype=bool,
        )
    return picked


def rule_masks(
    rules: list[CompiledRule],
    local_dates: pd.DatetimeIndex,
    switches: dict[str, Any] | None,
    where: str,
    problems: list[Problem],
) -> tuple[list[tuple[CompiledRule, np.ndarray]], dict[str, int], list[str]]:
    """The steps each switched-on rule applies to.

    Parameters
    ----------
    rules : list of CompiledRule
        The calendar's rules, in order.
    local_dates : pandas.DatetimeIndex
        The local date (naive midnight) of each step.
    switches : dict or None
        The scenario's ``day_rules``: ``{name: true | false | [dates]}``.
    where : str
        Key of the scenario's switches in messages.
    problems : list of Problem
        Where problems go (unknown rule names, dates the rule does not pick).

    Returns
    -------
    masks : list of (CompiledRule, numpy.ndarray)
        Each rule that is on, with a boolean mask over the steps.
    days : dict of str to int
        For each rule that is on, the number of days of the run it applies to.
    notes : list of str
        Remarks for the summary (holiday years the data file does not cover).
    """
    switches = dict(switches or {})
    by_name = {r.name: r for r in rules}
    for name in switches:
        if name not in by_name:
            problems.append(
                Problem(
                    f"the calendar has no day rule '{name}'",
                    key=f"{where}.{name}",
                    allowed=", ".join(by_name) or "none: this calendar has no day rules",
                    fix="use one of the calendar's rule names (see `vpp tariffs`) or remove it",
                )
            )
    unique_days, day_of_step = np.unique(local_dates.to_numpy(), return_inverse=True)
    days_index = pd.DatetimeIndex(unique_days)
    masks: list[tuple[CompiledRule, np.ndarray]] = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    for rule in rules:
        switch = switches.get(rule.name, rule.default)
        if switch is False:
            continue
        picked = _picked_days(rule, days_index)
        if isinstance(switch, list):
            listed = {_as_date(d) for d in switch}
            position = {d.date(): k for k, d in enumerate(days_index)}
            outside = sorted(d for d in listed if d in position and not picked[position[d]])
            if outside:
                problems.append(
                    Problem(
                        f"day rule '{rule.name}' does not apply on {len(outside)} listed "
                        f"date(s), first {outside[0]}",
                        key=f"{where}.{rule.name}",
                        value=", ".join(str(d) for d in outside[:5]),
                        allowed=_describe(rule),
                        fix="list only days the rule picks, or remove those dates",
                    )
                )
            picked &= np.array([d.date() in listed for d in days_index], dtype=bool)
        if rule.days == "holidays":
            _, years = public_holidays()
            missing = sorted(set(days_index.year.tolist()) - years)
            if missing:
                notes.append(
                    f"day rule '{rule.name}': no public holidays are known for "
                    f"{', '.join(map(str, missing))} (cn-holidays.yaml covers "
                    f"{min(years)}-{max(years)}); the rule applies on no day of those years"
                )
        counts[rule.name] = int(picked.sum())
        masks.append((rule, picked[day_of_step]))
    return masks, counts, notes


def _describe(rule: CompiledRule) -> str:
    text = {"every_day": "days", "weekends": "Saturdays and Sundays", "holidays": "holidays"}[
        rule.days
    ]
    if rule.holidays:
        text += f" ({', '.join(sorted(rule.holidays))})"
    if rule.months:
        text += f" in months {sorted(rule.months)}"
    return text
