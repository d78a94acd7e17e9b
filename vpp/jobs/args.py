"""The daily job's arguments, checked before the run is recorded: ``--date``, ``--now``,
``--time-limit``.

- ``--date``: a calendar date of the park's time zone, ``YYYY-MM-DD`` and nothing else.
  ``2026-07-16T00:00:00Z`` is refused: a time with an offset is an instant, which falls on
  another date in the park's zone (08:00 in Shanghai), not a day to schedule.
- ``--now``: a local date-time of the park, ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` (a space for
  the ``T`` is accepted). Without an offset it is read in the park's time zone; with ``Z``
  or ``+HH:MM``/``-HH:MM`` it is converted to it. A date alone, a zone name, words or
  anything else is refused.
- ``--time-limit``: a finite number of seconds above 0, or none (no limit).

Dates and times are accepted from :data:`FIRST_YEAR` to :data:`LAST_YEAR` (the load
history the job reads reaches a month back, and timestamps stay within pandas' range).
Every refusal is an :class:`ArgumentError` (exit code 2) naming the option, the value
received (cut to :data:`SHOWN_CHARS` characters) and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from typing import Any

import pandas as pd

from vpp.errors import EXIT_BAD_INPUT, Problem, VppError, clip

#: First and last year of a ``--date`` or ``--now``.
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: Characters of a refused value shown in the message.
SHOWN_CHARS = 60
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOW = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
_NOW_EXAMPLE = "2026-07-15T15:00 (park time) or 2026-07-15T07:00:00Z"


class ArgumentError(VppError):
    """An argument of the daily job is not what it must be (exit code 2)."""

    exit_code = EXIT_BAD_INPUT


def _refuse(
    option: str, value: Any, message: str, allowed: str, fix: str | None = None
) -> ArgumentError:
    return ArgumentError(
        Problem(
            message, key=option, value=repr(clip(str(value), SHOWN_CHARS)), allowed=allowed, fix=fix
        )
    )


def _in_range(option: str, text: str, moment: dt.date) -> None:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise _refuse(
            option,
            text,
            "the year is outside the range the job schedules",
            f"years {FIRST_YEAR} to {LAST_YEAR}",
        )


def parse_date(text: Any) -> pd.Timestamp:
    """The day to schedule: ``YYYY-MM-DD``, a calendar date of the park's time zone.

    Returns
    -------
    pandas.Timestamp
        Midnight of the day, timezone-naive (local to the park).

    Raises
    ------
    ArgumentError
        Anything but a calendar date ``YYYY-MM-DD`` from :data:`FIRST_YEAR` to
        :data:`LAST_YEAR`.
    """
    allowed = "a calendar date of the park's time zone, YYYY-MM-DD (e.g. 2026-07-16)"
    if isinstance(text, dt.date) and not isinstance(text, dt.datetime):
        text = text.isoformat()
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise _refuse(
            "--date",
            text,
            "the date to schedule is not YYYY-MM-DD",
            allowed,
            "give the local date alone, without a time or an offset",
        )
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _refuse("--date", text, "no such calendar date", allowed) from None
    _in_range("--date", text, day)
    return pd.Timestamp(day)


def parse_now(text: Any) -> dt.datetime | None:
    """``--now``: a date-time, naive (park time) or with an offset; None when not given.

    Raises
    ------
    ArgumentError
        Not a date-time of the form described in the module docstring.
    """
    if text is None:
        return None
    allowed = "a date-time YYYY-MM-DDTHH:MM[:SS], park time, or with Z or +HH:MM"
    if not isinstance(text, str) or not _NOW.fullmatch(text):
        raise _refuse(
            "--now",
            text,
            "the present is not a date-time",
            allowed,
            f"e.g. {_NOW_EXAMPLE}; or leave --now out (15:00 the day before)",
        )
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _refuse("--now", text, "no such date or time of day", allowed) from None
    _in_range("--now", text, moment)
    return moment


def local_now(moment: dt.datetime | None, timezone: str, day: pd.Timestamp) -> pd.Timestamp:
    """The present in the park's time zone: ``moment`` localized or converted, or by
    default 15:00 the day before ``day`` (9 h before the day starts).

    Raises
    ------
    ArgumentError
        A naive ``moment`` that does not exist, or exists twice, in the time zone
        (daylight-saving changes).
    """
    if moment is None:
        start = day.tz_localize(timezone, ambiguous=False, nonexistent="shift_forward")
        return start - pd.Timedelta(hours=9)
    stamp = pd.Timestamp(moment)
    if stamp.tz is not None:
        return stamp.tz_convert(timezone)
    try:
        return stamp.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError):  # pytz's Ambiguous/NonExistentTimeError are ValueErrors
        raise _refuse(
            "--now",
            moment.isoformat(),
            f"this local time does not exist once in {timezone}",
            "a time that exists once in the park's time zone",
            "give the time with its offset, e.g. +08:00",
        ) from None


def check_now(now: pd.Timestamp, day: pd.Timestamp, timezone: str, intraday: bool) -> None:
    """``--now`` against ``--date``: a day-ahead run's present is before the end of the
    day it schedules; an intraday run's present lies on that day.

    Raises
    ------
    ArgumentError
        The present is after the day (nothing left to schedule), or, intraday, on
        another day.
    """
    start = day.tz_localize(timezone, ambiguous=False, nonexistent="shift_forward")
    end = (day + pd.Timedelta(days=1)).tz_localize(
        timezone, ambiguous=False, nonexistent="shift_forward"
    )
    if intraday and not start <= now < end:
        raise _refuse(
            "--now",
            now.isoformat(),
            f"an intraday re-plan is for the day --now lies on; --date is {day.date()}",
            f"a time of {day.date()} ({start.isoformat()} .. {end.isoformat()})",
            "give --date as today's date, or leave --now out (the wall clock)",
        )
    if now >= end:
        raise _refuse(
            "--now",
            now.isoformat(),
            f"the present is after the day to schedule ({day.date()}): nothing is left to plan",
            f"a time before {end.isoformat()}",
            "schedule a later --date, or give --now before it",
        )


def check_time_limit(value: Any) -> float | None:
    """``--time-limit``: a finite number of seconds above 0, or None (no limit) [s].

    Raises
    ------
    ArgumentError
        Not a number, not finite (NaN, infinity), or not above 0.
    """
    if value is None:
        return None
    allowed = "a finite number of seconds above 0, or no --time-limit (no limit)"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _refuse("--time-limit", value, "the time limit is not a number", allowed)
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise _refuse(
            "--time-limit",
            value,
            "the time limit is not a positive finite number of seconds",
            allowed,
        )
    return number
