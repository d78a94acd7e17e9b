"""A deferrable load in the daily job: the run it carries from one run of the job to the
next.

A run of the job (:mod:`vpp.jobs`) plans its window from ``now``; its horizon starts at
``now``, so the window occurrence under way at ``now`` (opened before it) is not one of
the horizon's own occurrences (:mod:`vpp.assets.deferrable.windows` drops it). The job
carries it instead:

* each run writes the planned on and start flags of its window into ``state.json``
  (:meth:`DeferrableJob.plan_state`, under the site's ``runs``);
* the next run reads them (:meth:`DeferrableJob.with_previous_plan`): the steps on and
  starts of the occurrence under way before its ``now`` are taken as done, and the run
  under way at ``now`` goes on (:class:`vpp.assets.deferrable.operation.Lead`); an
  occurrence whose run is done is not run again. Without a previous plan covering the
  occurrence's steps before ``now`` it is not planned. A flag says which;
* the occurrence the window's end cuts keeps its steps after it as flags
  (:meth:`DeferrableJob.job_initial_state`): the job's window ends, the world does not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.deferrable.operation import DeferrableState, Lead, trailing_on
from vpp.assets.deferrable.windows import deferrable_windows
from vpp.assets.deferrable.wording import job_carried, job_end_cut, job_not_planned
from vpp.timeseries import Horizon

#: The days the job looks before and after its horizon for occurrences it cuts (a
#: window is at most one day long) [days].
EDGE_DAYS = 1


def _around(horizon: Horizon, before: bool) -> Horizon:
    """The horizon extended by :data:`EDGE_DAYS` before its start or after its end."""
    step = pd.Timedelta(hours=horizon.step_h)
    extra = int(round(24 * EDGE_DAYS / horizon.step_h))
    first = horizon.index[0] - extra * step if before else horizon.index[0]
    return Horizon(pd.date_range(first, periods=horizon.n + extra, freq=step), horizon.step_h)


class DeferrableJob:
    """The daily job's capabilities of a deferrable load (module docstring)."""

    def job_initial_state(self, asset: Any, horizon: Horizon) -> DeferrableState:
        """Nothing settled; the occurrence the horizon's end cuts keeps its steps after
        the end [steps] (module docstring)."""
        count = int(np.max(asset.series["window_id"], initial=-1)) + 1
        after = np.zeros(count, dtype=int)
        if count:
            ids = deferrable_windows(asset.spec, _around(horizon, before=False)).window_id
            after[count - 1] = int((ids[horizon.n :] == count - 1).sum())
        return DeferrableState(np.zeros(horizon.n), np.zeros(horizon.n), after)

    def plan_state(
        self, asset: Any, columns: Mapping[str, np.ndarray], index: pd.DatetimeIndex
    ) -> dict[str, dict[str, float]] | None:
        """Its entry of ``state.json``: the planned ``on`` and ``start`` flags [0/1] by
        step start, from a plan's or a schedule's columns (None without them)."""
        on, start = columns.get(f"{asset.name}_on"), columns.get(f"{asset.name}_start")
        if on is None or start is None:
            return None
        on, start = np.asarray(on, dtype=float), np.asarray(start, dtype=float)
        n = min(len(index), len(on), len(start))
        return {
            key: {t.isoformat(): float(round(float(v))) for t, v in zip(index[:n], flags[:n])}
            for key, flags in (("on", on), ("start", start))
        }

    def with_previous_plan(
        self, asset: Any, state: DeferrableState, horizon: Horizon, entry: Any
    ) -> tuple[DeferrableState, str | None]:
        """The state with the occurrence under way at the horizon's start, from a
        previous run's ``state.json`` entry (:meth:`plan_state`; None: no such run).

        Returns
        -------
        tuple
            The state, and what the job does with the occurrences its window cuts (the
            run under way at the start, where it came from; the occurrence the end
            cuts), or None when it cuts none. The job's inputs have no notes on
            them (:mod:`vpp.assets.deferrable.wording`, planning ``job``): this flag
            says it.
        """
        state, said = _under_way(asset, state, horizon, entry)
        if state.after_end.size and state.after_end[-1] > 0:
            k = state.after_end.size - 1
            opens = horizon.index[int(np.flatnonzero(asset.series["window_id"] == k)[0])]
            cut = job_end_cut(opens.isoformat(), state.after_end[-1] * horizon.step_h)
            said = cut if said is None else f"{said}; {cut}"
        return state, said


def _under_way(
    asset: Any, state: DeferrableState, horizon: Horizon, entry: Any
) -> tuple[DeferrableState, str | None]:
    """The state with the occurrence under way at the horizon's start
    (:meth:`DeferrableJob.with_previous_plan`), and where it came from."""
    back = _around(horizon, before=True)
    ids = deferrable_windows(asset.spec, back).window_id
    m = back.n - horizon.n  # the horizon's first step on ``back``
    k = int(ids[m])
    if k < 0 or ids[m - 1] != k:
        return state, None
    members = np.flatnonzero(ids == k)
    opened = back.index[members[0]].isoformat()
    before = back.index[members[members < m]]
    flags = {}
    for key in ("on", "start"):
        points = (entry or {}).get(key) or {}
        stamps = pd.to_datetime(list(points), format="ISO8601", utc=True)
        series = pd.Series(
            [float(v) for v in points.values()], index=stamps.tz_convert(back.index.tz)
        )
        flags[key] = series.reindex(before).to_numpy(float)
    known = all(np.isfinite(v).all() and np.isin(v, (0.0, 1.0)).all() for v in flags.values())
    if not known:
        return state, job_not_planned(opened)
    on = flags["on"]
    lead = Lead(
        steps=int((members >= m).sum()),
        done_steps=int(on.sum()),
        starts_used=int(flags["start"].sum()),
        prior_run_steps=trailing_on(on),
    )
    return dataclasses.replace(state, lead=lead), job_carried(
        opened,
        lead.done_steps * horizon.step_h,
        asset.spec.run_h,
        lead.prior_run_steps * horizon.step_h,
    )
