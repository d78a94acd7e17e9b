"""Clock intervals of a day: parsing ``HH:MM`` and laying periods on a minute table.

Shared by the season periods (:mod:`vpp.tariffs.calendars`), which must cover the 24
hours exactly once, and the day rules (:mod:`vpp.tariffs.rules`), whose periods may
cover only part of the day but must not overlap.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from vpp.errors import Problem

MINUTES_PER_DAY = 1440
#: Minute-table entry of a minute no period covers.
NO_PERIOD = -1

_CLOCK = re.compile(r"([01]\d|2[0-4]):([0-5]\d)")


def clock_minutes(text: object) -> int | None:
    """Minutes after midnight of an ``HH:MM`` string (``24:00`` allowed), else None [min]."""
    match = _CLOCK.fullmatch(text) if isinstance(text, str) else None
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def hhmm(minute: int) -> str:
    """``HH:MM`` of a minute of the day."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end minute of each run of True in a 1440-long mask."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist()))


def interval_table(
    periods: list[dict[str, Any]],
    key: str,
    label: str,
    names: list[str],
    problems: list[Problem],
    *,
    whole_day: bool,
) -> np.ndarray:
    """Minute of the day -> period code (index into ``names``) of a list of periods.

    Parameters
    ----------
    periods : list of dict
        ``{"period", "start", "end"}`` with ``HH:MM`` clock times; the interval is
        ``[start, end)``, ``end`` may be ``24:00`` and an end before the start crosses
        midnight.
    key : str
        Scenario or file key of the list, named in problems (``...periods``).
    label : str
        What the periods belong to, e.g. ``season 'summer_winter'``.
    names : list of str
        Period names seen so far; new names are appended (the codes index it).
    problems : list of Problem
        Problems found are appended here.
    whole_day : bool
        Whether the periods must cover all 24 hours (a season) or may leave minutes
        uncovered (:data:`NO_PERIOD`, a day rule's partial periods).

    Returns
    -------
    numpy.ndarray
        ``int16`` array of 1440 period codes.
    """
    table = np.full(MINUTES_PER_DAY, NO_PERIOD, dtype=np.int16)
    count = np.zeros(MINUTES_PER_DAY, dtype=np.int16)
    owners: list[list[str]] = [[] for _ in range(MINUTES_PER_DAY)]
    for j, period in enumerate(periods or []):
        where = f"{key}[{j}]"
        if not isinstance(period, dict):
            problems.append(
                Problem(
                    f"{label}: period #{j} is not a mapping",
                    key=where,
                    value=repr(period),
                    allowed="{period: NAME, start: 'HH:MM', end: 'HH:MM'}",
                )
            )
            continue
        start = clock_minutes(period.get("start"))
        end = clock_minutes(period.get("end"))
        if start is None or end is None:
            problems.append(
                Problem(
                    f"{label}: period '{period.get('period')}' has a clock time that is not HH:MM",
                    key=where,
                    value=f"start {period.get('start')!r}, end {period.get('end')!r}",
                    allowed="quoted clock times from '00:00' to '24:00'",
                    fix="write start and end as quoted strings such as '22:00'",
                )
            )
            continue
        start %= MINUTES_PER_DAY
        if start == end % MINUTES_PER_DAY and not (start == 0 and end == MINUTES_PER_DAY):
            problems.append(
                Problem(
                    f"{label}: period '{period.get('period')}' starts and ends at the same time",
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
        spans = [(start, end)] if end > start else [(start, MINUTES_PER_DAY), (0, end)]
        for a, b in spans:
            table[a:b] = code
            count[a:b] += 1
            for minute in range(a, b):
                owners[minute].append(name)
    if whole_day:
        for a, b in runs(count == 0):
            problems.append(
                Problem(
                    f"{label}: no period covers {hhmm(a)}-{hhmm(b)}",
                    key=key,
                    fix=f"add a period for {hhmm(a)}-{hhmm(b)} or stretch a neighbour over it",
                )
            )
    for a, b in runs(count > 1):
        problems.append(
            Problem(
                f"{label}: periods overlap at {hhmm(a)}-{hhmm(b)} ({', '.join(owners[a])})",
                key=key,
                fix="make each clock time belong to exactly one period",
            )
        )
    return table
