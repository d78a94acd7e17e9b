r"""A shiftable load's block on typical days (:mod:`vpp.planning.typical`).

The block built on the typical days laid end to end holds the rows of the window
occurrences of the real days it was cut from; they are replaced by one row per typical
day :math:`k` (representation: :mod:`vpp.assets.typical_windows`):

.. math::

    0 \le P_t \le \bar P \;(t \in \mathcal W), \quad P_t = 0 \;(t \notin \mathcal W),
    \qquad \sum_{t \in \mathcal W_k} P_t \,\Delta t = \bar E_k
    = \frac{1}{w_k} \sum_{d:\, c(d) = k} E_d

with :math:`\mathcal W` the steps whose local clock time lies in the window (on every
typical day, whether or not its own day opens one), :math:`\mathcal W_k` those of
typical day :math:`k`, and :math:`E_d` the energy day :math:`d` owes
(:func:`vpp.assets.typical_windows.owed_by_day`). Weighted by :math:`w_k` the year's
energy is exact.

**Approximations** (said in a note of the sizing): a window across midnight is closed on
each typical day (its evening and morning steps one window: the energy of a Friday
night's window may be served on the same typical day's morning rather than Saturday's);
a typical day standing for days that owe different energies (weekdays and weekend
days) draws their mean, so the power drawn on a day is the mean of theirs (a demand
peak the load adds on a day that owes more is understated). With a typical day per day
and windows inside a day, the rows are those of the full model (exact).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.shiftable.windows import window_minutes
from vpp.assets.typical_days import Aggregation
from vpp.assets.typical_windows import clock_mask, owed_by_day, typical_mean
from vpp.model.blocks.contract import linear_sum
from vpp.scenario.schema import clock_minutes

#: Relative spread of what the days of one typical day owe below which they owe the same [-].
SAME_RTOL = 1e-9


def relink_windows(block: Any, asset: Any, horizon: Any, agg: Aggregation) -> str | None:
    """Replace the occurrences' rows by one row per typical day (module docstring).

    Returns
    -------
    str or None
        The note of the approximation made, None when the rows are exact.
    """
    flex = asset.spec
    s = agg.steps_per_day
    k_count = len(agg.day_of_typical)
    start_min, length_min = clock_minutes(flex.window_start), window_minutes(flex)
    mask = clock_mask(horizon.index, start_min, length_min)[agg.steps]
    p_max = float(flex.max_power_kw)
    for t in range(k_count * s):
        block.power_kw[t].setub(p_max if mask[t] else 0.0)
    owed_day = owed_by_day(asset.series["window_id"], asset.series["window_energy_kwh"], s)
    owed = typical_mean(owed_day, agg)
    for name in ("energy_due", "K"):
        block.del_component(getattr(block, name))
    dt_h = horizon.step_h
    members = [np.flatnonzero(mask[k * s : (k + 1) * s]) + k * s for k in range(k_count)]
    block.energy_due_typical = pyo.Constraint(
        range(k_count),
        rule=lambda b, k: (
            linear_sum(dt_h, [b.power_kw[int(t)] for t in members[k]]) == float(owed[k])
        ),
    )
    crosses = start_min + length_min > 1440
    spread = [
        np.ptp(owed_day[agg.order == k]) > SAME_RTOL * max(float(owed_day.max()), 1.0)
        for k in range(k_count)
    ]
    mixed = int(np.sum(spread))
    if not crosses and not mixed:
        return None
    parts = []
    if crosses:
        parts.append(
            f"its window {flex.window_start}-{flex.window_end} crosses midnight and is closed "
            "on each typical day (the day's evening and morning steps one window)"
        )
    if mixed:
        parts.append(
            f"{mixed} typical day(s) stand for days that owe different energies and owe their mean"
        )
    return (
        f"shiftable load '{flex.name}' on typical days: " + "; ".join(parts) + " (weighted, "
        f"the horizon's {float(owed_day.sum()):.6g} kWh exactly)"
    )
