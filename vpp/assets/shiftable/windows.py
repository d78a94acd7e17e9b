"""The windows of a shiftable load on a horizon, and its as-soon-as-possible default.

A step belongs to a window when its start lies inside it; windows are local
wall-clock times placed day by day. :func:`shiftable_windows` gives the block's series,
:func:`asap_profile` the baseline's schedule (full power from each window's start),
:func:`short_window_problem` the bad input of a window shorter than one step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vpp.assets.clock_windows import window_edges
from vpp.errors import Problem
from vpp.scenario.schema import ShiftableLoad, clock_minutes
from vpp.timeseries import Horizon

__all__ = ["asap_profile", "shiftable_windows", "short_window_problem", "window_minutes"]

_MIN_PER_DAY = 1440


def window_minutes(flex: ShiftableLoad) -> int:
    """Length of the load's window [min]: an end before the start crosses midnight,
    00:00 to 24:00 is the whole day."""
    start_min = clock_minutes(flex.window_start)
    end_min = clock_minutes(flex.window_end)
    return (end_min - start_min) % _MIN_PER_DAY or _MIN_PER_DAY


def short_window_problem(flex: ShiftableLoad, key: str, horizon: Horizon) -> Problem | None:
    """The problem of a window shorter than one step of the run (None when it is not).

    A step belongs to a window when its start lies inside it, and a step serves its
    power for the whole step: a window shorter than a step holds one step start or
    none, so its energy would be served outside the window, or never. ``key`` is the
    load's scenario key (``site.flexible_loads[0]``).
    """
    length_min = window_minutes(flex)
    step_min = horizon.step_h * 60.0
    if length_min >= step_min - 1e-9:
        return None
    return Problem(
        f"the window of shiftable load '{flex.name}' ({flex.window_start} to "
        f"{flex.window_end}, {length_min} min) is shorter than one step of the run "
        f"({step_min:g} min): no whole step lies inside it to serve its "
        f"{flex.energy_kwh:g} kWh",
        key=f"{key}.window_end",
        value=f"{flex.window_start} to {flex.window_end} ({length_min} min)",
        allowed=f"a window of at least one step ({step_min:g} min)",
        fix=f"widen the window to at least {step_min:g} min, or run at a step of at most "
        f"{length_min} min that divides the window (horizon.step)",
    )


def shiftable_windows(
    flex: ShiftableLoad, horizon: Horizon, dropped: list[pd.Timestamp] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The window occurrences of a shiftable load on the horizon.

    A step belongs to a window when its start lies inside it. Each occurrence opens
    at ``window_start`` on a day the load runs; an end before the start closes on the
    next day. An occurrence cut by the horizon's start or end owes the share of its
    energy that falls inside the horizon. An occurrence that overlaps the horizon
    but holds no step start (a window opening inside the horizon's last step) owes
    nothing: its opening time is appended to ``dropped``, when given, for a note (a
    window shorter than a step is bad input before this, :func:`short_window_problem`).

    Returns
    -------
    window_id : numpy.ndarray
        Per step, the occurrence index (``-1`` outside every window).
    energy_kwh : numpy.ndarray
        Per occurrence, the energy due inside the horizon [kWh].
    """
    index = horizon.index
    tz = index.tz
    start_min = clock_minutes(flex.window_start)
    length_min = window_minutes(flex)
    local_days = pd.date_range(
        (index[0] - pd.Timedelta(days=1)).tz_localize(None).normalize(),
        index[-1].tz_localize(None).normalize(),
        freq="D",
    )
    if flex.days == "weekdays":
        local_days = local_days[local_days.day_of_week < 5]
    elif isinstance(flex.days, list):
        wanted = {pd.Timestamp(d).date() for d in flex.days}
        local_days = local_days[[d.date() in wanted for d in local_days]]
    # windows are local wall-clock times, placed on the absolute axis day by day
    opens_all, closes_all = window_edges(local_days, start_min, length_min, tz)
    window_id = np.full(horizon.n, -1, dtype=int)
    energy: list[float] = []
    t_ns = index.as_unit("ns").asi8
    h_start = t_ns[0]
    h_end = t_ns[-1] + int(round(horizon.step_h * 3600e9))
    for opens, closes in zip(opens_all.asi8.tolist(), closes_all.asi8.tolist()):
        lo = int(np.searchsorted(t_ns, opens))
        hi = int(np.searchsorted(t_ns, closes))
        if hi <= lo:
            if dropped is not None and min(closes, h_end) > max(opens, h_start):
                dropped.append(pd.Timestamp(opens, tz="UTC").tz_convert(tz))
            continue
        inside_ns = min(closes, h_end) - max(opens, h_start)
        share = min(1.0, inside_ns / (closes - opens))
        window_id[lo:hi] = len(energy)
        energy.append(flex.energy_kwh * share)
    return window_id, np.array(energy, dtype=float)


def asap_profile(
    flex: ShiftableLoad, window_id: np.ndarray, energy_kwh: np.ndarray, horizon: Horizon
) -> np.ndarray:
    """The baseline schedule of a shiftable load: full power from each window's start [kW]."""
    power = np.zeros(horizon.n)
    per_step_kwh = flex.max_power_kw * horizon.step_h
    for k, due in enumerate(energy_kwh):
        steps = np.flatnonzero(window_id == k)
        if steps.size == 0:
            continue
        served = np.minimum(
            per_step_kwh, np.maximum(0.0, due - per_step_kwh * np.arange(steps.size))
        )
        power[steps] = served / horizon.step_h
    return power
