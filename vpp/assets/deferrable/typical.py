r"""A deferrable load's block on typical days (:mod:`vpp.planning.typical`).

The block built on the typical days laid end to end holds the runs of the occurrences
of the real days it was cut from; its rows are replaced by one window per typical day
:math:`k` (representation: :mod:`vpp.assets.typical_windows`):

* the window is the typical day's steps whose local clock time lies in it, in the order
  a run goes through them from the opening, closed on the day
  (:func:`vpp.assets.typical_windows.cyclic_order`): a window across midnight runs from
  its evening steps on to the same day's morning steps;
* :math:`f_k = \frac{1}{w_k} \sum_{d: c(d) = k} o_d` is the share of the days it stands
  for on which an occurrence opens (:math:`o_d \in \{0, 1\}`; Chinese working days for
  ``weekdays``). With :math:`f_k > 0` the day holds every row of one occurrence
  (:mod:`vpp.assets.deferrable.runs`: :math:`N` steps on in runs of :math:`L` to
  :math:`H` steps, at most :math:`S` starts, binaries) with its power and start cost
  times :math:`f_k`:

  .. math::

      f_k \underline P u_t \le P_t \le f_k \bar P u_t, \qquad
      cost = f_k c^{start} \sum_t s_t

  with :math:`f_k = 0` it is off. Weighted by :math:`w_k` the year's energy
  (:math:`\sum_k w_k f_k N \bar P \Delta t`) and starts are exact for a load at one
  power.

**Approximations** (said in a note of the sizing): the days stood for that run run at
the same steps, and a typical day standing for days that run and days that do not
draws :math:`f_k \bar P`, their mean, not :math:`\bar P` on the days that run (a
demand peak the load sets is understated there); a window across midnight is closed on
the day; an occurrence cut by the horizon's end gets its whole window. With a typical
day per day and windows inside a day, the rows are those of the full model (exact).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets.deferrable.runs import add_runs
from vpp.assets.typical_days import Aggregation
from vpp.assets.typical_windows import clock_mask, cyclic_order, opening_days, typical_mean
from vpp.scenario.common import clock_minutes
from vpp.scenario.deferrable import window_minutes

#: A share of running days this close to 0 or 1 is whole [-].
WHOLE_TOL = 1e-9
#: The block's components a typical day keeps (the bus and the objective hold them).
KEPT = ("power_kw", "net_kw", "cost_cny")


def relink_runs(block: Any, asset: Any, horizon: Any, agg: Aggregation) -> str | None:
    """Replace the occurrences' rows by one window per typical day (module docstring).

    Returns
    -------
    str or None
        The note of the approximation made, None when the rows are exact.
    """
    flex = asset.spec
    s = agg.steps_per_day
    start_min = clock_minutes(flex.window_start)
    length_min = window_minutes(flex.window_start, flex.window_end)
    index = horizon.index[agg.steps]
    mask = clock_mask(horizon.index, start_min, length_min)[agg.steps]
    minutes = np.asarray(index.hour * 60 + index.minute, dtype=np.int64)
    runs_per_day = opening_days(asset.series["window_id"], s, len(agg.order))
    share = typical_mean(np.minimum(runs_per_day, 1.0), agg)
    runs: list[np.ndarray] = []
    scale: list[float] = []
    for k, f in enumerate(share.tolist()):
        if f <= WHOLE_TOL:
            continue
        day = slice(k * s, (k + 1) * s)
        opening = int(np.argmin((minutes[day] - start_min) % 1440))
        runs.append(cyclic_order(mask[day], opening) + k * s)
        scale.append(float(f))
    for component in list(block.component_objects(descend_into=False)):
        if component.local_name not in KEPT:
            block.del_component(component)
    add_runs(block, flex, runs, scale, horizon.step_h)
    crosses = start_min + length_min > 1440
    mixed = sum(1 for f in scale if f < 1.0 - WHOLE_TOL)
    if not crosses and not mixed:
        return None
    parts = []
    if crosses:
        parts.append(
            f"its window {flex.window_start}-{flex.window_end} crosses midnight and is closed "
            "on each typical day"
        )
    if mixed:
        parts.append(
            f"{mixed} typical day(s) stand for days that run and days that do not, and run "
            "at the share of their days that run times its power"
        )
    return f"deferrable load '{flex.name}' on typical days: " + "; ".join(parts)
