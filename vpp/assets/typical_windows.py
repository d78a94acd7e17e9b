r"""Daily windows and sessions on typical days: what each typical day owes, and where.

Sizing on typical days (:mod:`vpp.planning.typical`) builds every block on the typical
days laid end to end, each a real day of the horizon that stands for :math:`w_k` days
(:class:`vpp.assets.typical_days.Aggregation`). A load that owes energy in a window
(shiftable, deferrable) or a session (EV fleet) has rows that span the steps of its
window, which may cross midnight or fall on some days only. Its unit's ``typical_days``
rewrites those rows with these helpers, on one representation shared by the units:

* **a typical day is a real day, closed on itself** (a periodic-day assumption): a
  window that crosses midnight (22:00-08:00) is, on a typical day, the day's steps from
  00:00 to 08:00 and from 22:00 to 24:00 taken as one window that runs from 22:00 round
  to 08:00 of the *same* day (:func:`cyclic_order`); a session is folded onto the clock
  of its arrival day likewise (:func:`folded_steps`);
* **what a typical day owes is the mean of what the days it stands for owe**
  (:func:`typical_mean`), days without the window owing 0 (a weekday-only window owes
  its energy times the weekdays among the :math:`w_k` days, divided by :math:`w_k`).
  Weighted by :math:`w_k`, the year's energy is exact:
  :math:`\sum_k w_k \bar E_k = \sum_d E_d`.

What a day owes is the energy of the occurrences' steps on that day, each occurrence's
energy spread evenly over its steps (:func:`owed_by_day`): with windows inside a day it
is the energy of the window opening that day; a window across midnight leaves the share
of its evening steps on its opening day and the rest on the next day; an occurrence cut
by the horizon counts with the energy it owes inside it. A day then never owes more than
its window's steps can take at full power when the full horizon's model is feasible, so
a typical day never does either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vpp.assets.typical_days import Aggregation

__all__ = [
    "clock_mask",
    "cyclic_order",
    "folded_steps",
    "opening_days",
    "owed_by_day",
    "typical_mean",
]

_MIN_PER_DAY = 1440


def clock_mask(index: pd.DatetimeIndex, start_min: int, length_min: int) -> np.ndarray:
    """Whether each step starts inside a daily window by the local clock [-].

    Parameters
    ----------
    index : pandas.DatetimeIndex
        The steps' start times (time-zone aware; the local clock is read in their zone).
    start_min : int
        The window's opening [min after local midnight].
    length_min : int
        Its length [min]; past midnight it goes on from 00:00 (a whole day at 1440).
    """
    minutes = np.asarray(index.hour * 60 + index.minute, dtype=np.int64)
    return (minutes - start_min) % _MIN_PER_DAY < length_min


def owed_by_day(window_id: np.ndarray, energy_kwh: np.ndarray, steps_per_day: int) -> np.ndarray:
    """The energy each day of the horizon owes [kWh] (module docstring).

    Each occurrence's energy :math:`E_o` is spread evenly over its steps, and a day owes
    the sum over its steps: :math:`E_d = \\sum_{t \\in d} E_{o(t)} / |W_{o(t)}|`.

    Parameters
    ----------
    window_id : numpy.ndarray
        Per step, the occurrence (-1 outside every window) [-].
    energy_kwh : numpy.ndarray
        Per occurrence, the energy it owes inside the horizon [kWh].
    steps_per_day : int
        :math:`S` [-].
    """
    ids = np.asarray(window_id, dtype=np.int64)
    inside = ids >= 0
    count = np.bincount(ids[inside], minlength=len(energy_kwh)).astype(float)
    per_step = np.zeros(ids.size)
    share = np.divide(
        np.asarray(energy_kwh, float), count, out=np.zeros(len(count)), where=count > 0
    )
    per_step[inside] = share[ids[inside]]
    return per_step.reshape(-1, steps_per_day).sum(axis=1)


def opening_days(window_id: np.ndarray, steps_per_day: int, n_days: int) -> np.ndarray:
    """How many occurrences open (have their first step) on each day [-]."""
    ids = np.asarray(window_id, dtype=np.int64)
    inside = np.flatnonzero(ids >= 0)
    if inside.size == 0:
        return np.zeros(n_days)
    first = inside[np.r_[True, ids[inside][1:] != ids[inside][:-1]]]
    return np.bincount(first // steps_per_day, minlength=n_days).astype(float)


def typical_mean(per_day: np.ndarray, agg: Aggregation) -> np.ndarray:
    """:math:`\\bar x_k = \\frac{1}{w_k} \\sum_{d: c(d) = k} x_d`, per typical day [the
    unit of ``per_day``]."""
    total = np.bincount(agg.order, weights=np.asarray(per_day, float), minlength=len(agg.weights))
    return total / agg.weights


def cyclic_order(mask_day: np.ndarray, start_step: int) -> np.ndarray:
    """The window's steps of one day in the order a run goes through them, closed on the
    day: from the opening step to the day's end, then from the day's start [-].

    ``mask_day`` (length :math:`S`) says which steps of the day lie in the window and
    ``start_step`` is the step the window opens at (0..S-1).
    """
    s = len(mask_day)
    rolled = (np.arange(s) + start_step) % s
    return rolled[np.asarray(mask_day, bool)[rolled]]


def folded_steps(first_step: int, end_step: int, steps_per_day: int) -> tuple[int, np.ndarray]:
    """A session folded onto the clock of its arrival day.

    Parameters
    ----------
    first_step, end_step : int
        Its first step and the step after its last, on the horizon [-].
    steps_per_day : int
        :math:`S` [-].

    Returns
    -------
    day : int
        The day of its first step [-].
    steps : numpy.ndarray
        The step within that day (0..S-1) of each of its steps, in order: past the
        day's end it goes on from the day's start (cyclic). A session longer than a day
        folds onto itself: callers split it first (at most :math:`S` steps each).
    """
    day = first_step // steps_per_day
    return day, (np.arange(first_step, end_step) - day * steps_per_day) % steps_per_day
