"""The window occurrences of a deferrable load on a horizon, and its as-soon-as-possible
default.

A step belongs to a window when its start lies inside it; windows are local wall-clock
times placed day by day, on the days the load runs (``weekdays``: Chinese working days,
:func:`vpp.profiles.working_days`). The horizon cuts two kinds of occurrence: one that
opened before its start is not one of its occurrences (``dropped``), and one that closes
after its end keeps only its steps inside (``cut``). What a run does with them depends
on how it is planned, and so do the notes: perfect foresight does not plan the first
and makes the second finish its run inside the horizon (when it cannot, the run is
infeasible and the diagnosis names the occurrence); rolling runs, the park backtest and
the daily job treat them as :mod:`vpp.assets.deferrable.wording` says, which words
every note and flag on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vpp.assets.clock_windows import window_edges
from vpp.profiles import working_days
from vpp.scenario.common import clock_minutes
from vpp.scenario.deferrable import DeferrableLoad, window_minutes
from vpp.timeseries import Horizon

__all__ = ["Occurrences", "asap_on", "deferrable_windows"]


@dataclass(frozen=True)
class Occurrences:
    """A deferrable load's window occurrences on a horizon.

    Attributes
    ----------
    window_id : numpy.ndarray
        Per step, the occurrence index (``-1`` outside every planned occurrence).
    dropped : list of pandas.Timestamp
        Openings of the occurrences that opened before the horizon's start (not among
        the horizon's occurrences; the daily job carries the one under way at its
        ``now``, :mod:`vpp.assets.deferrable.job`).
    cut : list of pandas.Timestamp
        Openings of the occurrences that close after the horizon's end (among the
        horizon's occurrences, with their steps inside it).
    """

    window_id: np.ndarray
    dropped: list[pd.Timestamp]
    cut: list[pd.Timestamp]

    @property
    def count(self) -> int:
        """Number of planned occurrences [-]."""
        return int(self.window_id.max()) + 1 if self.window_id.size else 0


def _local_days(flex: DeferrableLoad, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    days = pd.date_range(
        (index[0] - pd.Timedelta(days=1)).tz_localize(None).normalize(),
        index[-1].tz_localize(None).normalize(),
        freq="D",
    )
    if flex.days == "weekdays":
        return days[working_days(days)]
    if isinstance(flex.days, list):
        wanted = {pd.Timestamp(d).date() for d in flex.days}
        return days[[d.date() in wanted for d in days]]
    return days


def deferrable_windows(flex: DeferrableLoad, horizon: Horizon) -> Occurrences:
    """The planned window occurrences of ``flex`` on ``horizon`` (module docstring)."""
    index = horizon.index
    tz = index.tz
    start_min = clock_minutes(flex.window_start)
    length_min = window_minutes(flex.window_start, flex.window_end)
    local_days = _local_days(flex, index)
    # windows are local wall-clock times, placed on the absolute axis day by day
    opens_all, closes_all = window_edges(local_days, start_min, length_min, tz)
    window_id = np.full(horizon.n, -1, dtype=int)
    t_ns = index.as_unit("ns").asi8
    h_start = t_ns[0]
    h_end = t_ns[-1] + int(round(horizon.step_h * 3600e9))
    dropped: list[pd.Timestamp] = []
    cut: list[pd.Timestamp] = []
    k = 0
    for opens, closes, stamp in zip(opens_all.asi8.tolist(), closes_all.asi8.tolist(), opens_all):
        if closes <= h_start or opens >= h_end:
            continue
        if opens < h_start:
            dropped.append(stamp)
            continue
        lo = int(np.searchsorted(t_ns, opens))
        hi = int(np.searchsorted(t_ns, closes))
        if hi <= lo:
            continue
        if closes > h_end:
            cut.append(stamp)
        window_id[lo:hi] = k
        k += 1
    return Occurrences(window_id, dropped, cut)


def asap_on(flex: DeferrableLoad, window_id: np.ndarray, step_h: float) -> np.ndarray:
    """The baseline of a deferrable load: on [0/1] from each window's opening for its
    ``run_h`` in one block (cut at the window's or horizon's end)."""
    on = np.zeros(window_id.size)
    n_run = int(round(flex.run_h / step_h))
    for k in range(int(window_id.max()) + 1 if window_id.size else 0):
        steps = np.flatnonzero(window_id == k)
        on[steps[:n_run]] = 1.0
    return on
