"""The windows of a shiftable load on a horizon, and its as-soon-as-possible default.

A step belongs to a window when its start lies inside it; windows are local
wall-clock times placed day by day. :func:`shiftable_windows` gives the block's series,
:func:`asap_profile` the baseline's schedule (full power from each window's start).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vpp.scenario.schema import ShiftableLoad, clock_minutes
from vpp.timeseries import Horizon

__all__ = ["asap_profile", "shiftable_windows"]


def shiftable_windows(flex: ShiftableLoad, horizon: Horizon) -> tuple[np.ndarray, np.ndarray]:
    """The window occurrences of a shiftable load on the horizon.

    A step belongs to a window when its start lies inside it. Each occurrence opens
    at ``window_start`` on a day the load runs; an end before the start closes on the
    next day. An occurrence cut by the horizon's start or end owes the share of its
    energy that falls inside the horizon.

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
    end_min = clock_minutes(flex.window_end)
    length_min = (end_min - start_min) % 1440 or 1440
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
    first_of_two = np.ones(len(local_days), dtype=bool)  # ambiguous times: the first one
    opens_all = (
        (local_days + pd.Timedelta(minutes=start_min))
        .tz_localize(tz, nonexistent="shift_forward", ambiguous=first_of_two)
        .as_unit("ns")
    )
    closes_all = (
        (local_days + pd.Timedelta(minutes=start_min + length_min))
        .tz_localize(tz, nonexistent="shift_forward", ambiguous=first_of_two)
        .as_unit("ns")
    )
    window_id = np.full(horizon.n, -1, dtype=int)
    energy: list[float] = []
    t_ns = index.as_unit("ns").asi8
    h_start = t_ns[0]
    h_end = t_ns[-1] + int(round(horizon.step_h * 3600e9))
    for opens, closes in zip(opens_all.asi8.tolist(), closes_all.asi8.tolist()):
        lo = int(np.searchsorted(t_ns, opens))
        hi = int(np.searchsorted(t_ns, closes))
        if hi <= lo:
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
