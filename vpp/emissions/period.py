r"""Annual figures over a run's horizon: the horizon's share of a year.

A scenario declares its natural gas, diesel and purchased heat, and its economic output,
**per year** (``site.emissions.activity`` and ``economics``). A run covers its horizon,
which may be a week or 28 days, so each annual figure :math:`a` counts as :math:`a\,s`
over the horizon, with the horizon's share of a year

.. math::

    s = \sum_y \frac{h_y}{H_y}

where :math:`h_y` is the length of the horizon inside calendar year :math:`y` (local
time of the horizon) and :math:`H_y` the length of that year: 365 days, or 366 in a
leap year. A horizon of one whole calendar year has :math:`s = 1`; 28 days in 2026 have
:math:`s = 28/365`; 28 days of 2028 have :math:`28/366`; a year from 1 July has
:math:`184/365 + 181/365` or, across a leap year, the sum of its two parts.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["ANNUAL_RULE", "horizon_year_share", "prorate", "year_share"]

#: The rule, as the summary states it.
ANNUAL_RULE = (
    "natural gas, diesel, heat and the economic figures are declared per year; a run counts "
    "them over its horizon times the horizon's share of a year (its length inside each "
    "calendar year over that year's length: 365 days, 366 in a leap year)"
)


def year_share(start: pd.Timestamp, end: pd.Timestamp) -> float:
    """The share of a year that the period ``start`` .. ``end`` covers [-].

    Parameters
    ----------
    start, end : pandas.Timestamp
        The period's first instant and its end (exclusive), both with the same time zone
        or both naive; calendar years are taken in that time zone.

    Returns
    -------
    float
        :math:`\\sum_y h_y / H_y` (module docstring); 0 for an empty period.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    share = 0.0
    for year in range(start.year, end.year + 1):
        first = pd.Timestamp(year=year, month=1, day=1, tz=start.tz)
        after = pd.Timestamp(year=year + 1, month=1, day=1, tz=start.tz)
        inside = min(end, after) - max(start, first)
        if inside > pd.Timedelta(0):
            share += inside / (after - first)
    return float(share)


def horizon_year_share(index: pd.DatetimeIndex, step_h: float) -> float:
    """:func:`year_share` of a horizon given by its step labels (interval starts) [-].

    Parameters
    ----------
    index : pandas.DatetimeIndex
        The horizon's steps, each the start of its interval.
    step_h : float
        Step length [h].
    """
    return year_share(index[0], index[-1] + pd.Timedelta(hours=step_h))


def prorate(annual: Mapping[str, float | None], share: float) -> dict[str, float | None]:
    """Annual figures counted over a horizon: each times ``share`` (None stays None)."""
    return {k: None if v is None else float(v) * share for k, v in annual.items()}
