"""The deferrable-load unit in rolling operation: the run it carries between windows.

Carried between windows (:class:`DeferrableState`): the settled on and start flags
[0/1] of the horizon's steps so far. A window issued at step :math:`s` is given, for
each window occurrence :math:`k` with steps at or after :math:`s` inside the window
(:func:`carried_runs`):

* the steps it must still be on, :math:`N - n_k` (:math:`n_k` its settled steps on
  before :math:`s`), and the starts it may still make, :math:`S - m_k`;
* the run under way at :math:`s`, :math:`r_k` steps on up to :math:`s - 1`: it goes on
  (no start at :math:`s`, on for at least :math:`L - r_k` more steps, at most
  :math:`H - r_k`); an occurrence whose steps on are all settled does not run again;
* its steps after the window's last one (the look-ahead cuts it), as on and start
  flags without power: every row of the occurrence holds over them, so what the window
  commits leaves the rest of the run possible, and a later window plans that rest on
  its own forecasts (:meth:`vpp.assets.deferrable.block.DeferrableBlock.build`).

The rule of the perfect-foresight model is kept as it is: a run starts only where it
can finish inside its occurrence, and an occurrence the horizon's end cuts must finish
its run inside the horizon. A rolling run checks the latter before its first window
(:meth:`DeferrableOperation.initial_state`): an occurrence cut so short that the run
cannot fit is infeasible (exit code 3), named with its load, day and hours, as the
perfect-foresight diagnosis names it.

In real time the load runs as planned (:class:`DeferrableController`); the committed
steps of each window become fact. The settlement holds power, on and start at their
settled values.

The daily job carries the run under way at its ``now`` from the previous run's plan
(:mod:`vpp.assets.deferrable.job`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from vpp.assets.control import Applied, Controller, Window
from vpp.assets.deferrable.runs import run_steps
from vpp.assets.deferrable.wording import window_notes
from vpp.assets.hold import hold_at
from vpp.errors import InfeasibleError, Problem
from vpp.timeseries import Horizon

#: A plan's on and start flags within this of 0 or 1 are that whole number [-].
FLAG_TOL = 1e-6


@dataclass(frozen=True)
class Lead:
    """An occurrence under way at the horizon's start (the daily job: it opened before
    ``now``), which the horizon's own occurrences do not hold.

    Attributes
    ----------
    steps : int
        Its steps from the horizon's start to its close [steps].
    done_steps, starts_used, prior_run_steps : int
        Steps on and starts before the horizon's start, and the run under way at it
        (steps on up to the step before) [steps], [-], [steps].
    """

    steps: int
    done_steps: int
    starts_used: int
    prior_run_steps: int


@dataclass(frozen=True)
class DeferrableState:
    """What a deferrable load carries between windows.

    Attributes
    ----------
    on, start : numpy.ndarray
        Settled flags over the horizon [0/1] (0 where not settled yet).
    after_end : numpy.ndarray
        Per occurrence of the horizon, its steps after the horizon's end that a window
        may leave to later [steps] (zeros in a rolling run: its horizon's end is the
        end; the daily job: the occurrence cut by its window's end).
    lead : Lead or None
        The occurrence under way at the horizon's start (the daily job), or None.
    """

    on: np.ndarray
    start: np.ndarray
    after_end: np.ndarray
    lead: Lead | None = None


def trailing_on(on: np.ndarray) -> int:
    """Steps on at the end of ``on`` [steps]."""
    off = np.flatnonzero(on < 0.5)
    return int(on.size - (off[-1] + 1)) if off.size else int(on.size)


def carried_runs(
    asset: Any, state: DeferrableState, start: int, stop: int, step_h: float
) -> dict[str, Any]:
    """The window's series of a deferrable load (module docstring): ``window_id`` on the
    window's steps and, per occurrence of the window, ``need_steps``, ``starts_left``,
    ``prior_run_steps`` and ``after_steps``."""
    flex = asset.spec
    full = np.asarray(asset.series["window_id"], dtype=int)
    n_run, _, _ = run_steps(flex, step_h)
    ids = full[start:stop]
    local = np.full(stop - start, -1, dtype=int)
    need, starts, prior, after = [], [], [], []
    lead = state.lead
    if lead is not None and start < lead.steps:  # the occurrence under way at the start
        before = state.on[:start]
        local[: min(lead.steps, stop) - start] = 0
        need.append(max(0, n_run - lead.done_steps - int(round(before[: lead.steps].sum()))))
        starts.append(
            max(0, flex.starts - lead.starts_used - int(round(state.start[:start].sum()))),
        )
        run = trailing_on(before) if start else 0
        prior.append(run + lead.prior_run_steps if run == start else run)
        after.append(max(0, lead.steps - stop))
    for k in np.unique(ids[ids >= 0]).tolist():
        members = np.flatnonzero(full == k)
        past = members[members < start]
        local[ids == k] = len(need)
        need.append(max(0, n_run - int(round(state.on[past].sum()))))
        starts.append(max(0, flex.starts - int(round(state.start[past].sum()))))
        prior.append(trailing_on(state.on[past]) if past.size else 0)
        after.append(int((members >= stop).sum()) + int(state.after_end[k]))
    return {
        "window_id": local,
        "need_steps": np.asarray(need, dtype=int),
        "starts_left": np.asarray(starts, dtype=int),
        "prior_run_steps": np.asarray(prior, dtype=int),
        "after_steps": np.asarray(after, dtype=int),
    }


def steps_needed(flex: Any, step_h: float) -> int:
    """The fewest steps an occurrence must hold for its run: :math:`N` steps on in the
    fewest runs the longest run allows, one step off between two runs [steps]."""
    n_run, _, longest = run_steps(flex, step_h)
    return n_run + max(1, math.ceil(n_run / longest)) - 1


def cut_problems(asset: Any, horizon: Horizon) -> list[Problem]:
    """Occurrences the horizon's end cuts too short for the run (module docstring)."""
    flex = asset.spec
    window_id = np.asarray(asset.series["window_id"], dtype=int)
    if not window_id.size or window_id.max() < 0:
        return []
    k = int(window_id.max())
    steps = np.flatnonzero(window_id == k)
    dt_h = horizon.step_h
    needed = steps_needed(flex, dt_h)
    if steps.size >= needed or steps[-1] != horizon.n - 1:
        return []
    opens = horizon.index[steps[0]]
    end = horizon.index[-1] + pd.Timedelta(hours=dt_h)
    return [
        Problem(
            f"deferrable load '{flex.name}' cannot run its {flex.run_h:g} h (runs of "
            f"{flex.shortest_run_h:g} to {flex.longest_run_h:g} h, at most {flex.starts} "
            f"start(s)) in its window {flex.window_start}-{flex.window_end} of "
            f"{opens.date().isoformat()} from {opens.isoformat()}: the horizon ends at "
            f"{end.isoformat()}, leaving {steps.size * dt_h:g} h of this window, and the "
            f"run needs {needed * dt_h:g} h",
            key=f"site.flexible_loads '{flex.name}'",
            timestamp=opens.isoformat(),
            value=f"run_h {flex.run_h:g}",
            fix="end the horizon after the window closes, shorten run_h or min_run_h, or "
            "widen the window",
        )
    ]


class DeferrableController(Controller):
    """A deferrable load over one applied span: it runs as planned."""

    def __init__(self, asset: Any, state: DeferrableState, applied: Applied) -> None:
        name = asset.name
        self.name = name
        k = applied.k
        self.on = np.round(np.clip(applied.plan[f"{name}_on"][:k], 0.0, 1.0))
        self.start = np.round(np.clip(applied.plan[f"{name}_start"][:k], 0.0, 1.0))
        self.power_kw = np.maximum(applied.plan[f"{name}_power_kw"][:k], 0.0) * self.on
        on, start = state.on.copy(), state.start.copy()
        on[applied.span] = self.on
        start[applied.span] = self.start
        self.state = dataclasses.replace(state, on=on, start=start)

    def demand_kw(self) -> np.ndarray:
        """The planned power [kW]."""
        return self.power_kw

    def columns(self) -> dict[str, np.ndarray]:
        """The settled power [kW], on and start flags [0/1]."""
        return {
            f"{self.name}_power_kw": self.power_kw,
            f"{self.name}_on": self.on,
            f"{self.name}_start": self.start,
        }

    def end_state(self) -> DeferrableState:
        """The settled flags with the span's (:class:`DeferrableState`)."""
        return self.state


class DeferrableOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold (module
    docstring)."""

    def in_windows(self, asset: Any) -> bool:
        """A deferrable load is planned in every window."""
        return True

    def window_notes(
        self, asset: Any, horizon: Horizon, windows: list[tuple[int, int]]
    ) -> list[str]:
        """What the windows ``(start, stop)`` [steps] do with the occurrences they cut
        (:func:`vpp.assets.deferrable.wording.window_notes`)."""
        ids = np.asarray(asset.series["window_id"], dtype=int)
        return window_notes(asset.spec, ids, horizon.index, windows)

    def initial_state(self, asset: Any, horizon: Horizon) -> DeferrableState:
        """Nothing settled; the horizon's end is the end.

        Raises
        ------
        InfeasibleError
            The last occurrence is cut by the horizon's end too short for the run
            (:func:`cut_problems`).
        """
        problems = cut_problems(asset, horizon)
        if problems:
            raise InfeasibleError(problems)
        count = int(np.max(asset.series["window_id"], initial=-1)) + 1
        return DeferrableState(np.zeros(horizon.n), np.zeros(horizon.n), np.zeros(count, int))

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """A deferrable load adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: DeferrableState, window: Window) -> Any:
        """The occurrences in the window with what each carries (:func:`carried_runs`)."""
        series = carried_runs(asset, state, window.start, window.stop, window.horizon.step_h)
        return dataclasses.replace(asset, series=series)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """The planned power [kW], on and start flags [0/1] (on the model's steps)."""
        return {
            f"{asset.name}_power_kw": values(block.power_kw),
            f"{asset.name}_on": values(block.on),
            f"{asset.name}_start": values(block.start),
        }

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """The settled power [kW], on and start flags [0/1], zero before settling."""
        return {f"{asset.name}_{k}": np.zeros(n) for k in ("power_kw", "on", "start")}

    def controller(
        self, asset: Any, state: DeferrableState, applied: Applied
    ) -> DeferrableController:
        """It runs as planned (:class:`DeferrableController`)."""
        return DeferrableController(asset, state, applied)

    def carry(
        self, asset: Any, state: DeferrableState, controller: DeferrableController
    ) -> DeferrableState:
        """The settled flags after the span."""
        return controller.end_state()

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """Power, on and start held at their settled values; the run rows are off (the
        held flags are the operated runs: a park backtest plans past the horizon's end,
        and an elastic window may have left steps unrun)."""
        for key in ("power_kw", "on", "start"):
            hold_at(getattr(block, key), columns[f"{asset.name}_{key}"])
        for row in block.component_objects(pyo.Constraint, descend_into=False):
            row.deactivate()

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> None:
        """A deferrable load has no final-state rule."""
        return None

    def measured_state(self, entry: Any) -> None:
        """A deferrable load has no measured state."""
        return None

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """Its windows and runs are declared: the input as it is."""
        return asset
