"""Daily windows given as local clock times, placed on a run's absolute time axis.

Shiftable and deferrable loads open a window at a local wall-clock time on the days they
run; :func:`window_edges` turns those days and the window's clock times into opening and
closing instants, day by day, so that a daylight-saving change moves them as the clock
does (a time that does not exist shifts forward; an ambiguous one is its first
occurrence).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["window_edges"]


def window_edges(
    local_days: pd.DatetimeIndex, start_min: int, length_min: int, tz: object
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Opening and closing instants of one window per local day [ns resolution].

    Parameters
    ----------
    local_days : pandas.DatetimeIndex
        Naive local midnights of the days the window opens.
    start_min : int
        Local clock time the window opens [min after midnight].
    length_min : int
        Its length [min]; an opening plus the length past midnight closes the next day.
    tz : tzinfo or str
        The run's time zone.

    Returns
    -------
    opens, closes : pandas.DatetimeIndex
        Time-zone-aware instants, one per day of ``local_days``.
    """
    first_of_two = np.ones(len(local_days), dtype=bool)  # ambiguous times: the first one

    def at(minutes: int) -> pd.DatetimeIndex:
        return (
            (local_days + pd.Timedelta(minutes=minutes))
            .tz_localize(tz, nonexistent="shift_forward", ambiguous=first_of_two)
            .as_unit("ns")
        )

    return at(start_min), at(start_min + length_min)
