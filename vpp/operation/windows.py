"""What each rolling window is given: forecasts, the state now and the month so far.

A rolling run (:mod:`vpp.operation.rolling`) re-optimizes at the decision steps of
:func:`decision_steps`. The window issued at step :math:`s` covers the steps
:math:`s .. \\min(s + L, N) - 1` (:math:`L` the look-ahead in steps) and gets:

- **load**: the forecast issued at :math:`s` (:mod:`vpp.operation.load_forecast`) from the
  measured load before :math:`s` (for the first days, the history before the run:
  the synthetic profile continued backwards, or a series file that reaches back);
- **PV**: the forecast issued at :math:`s` (:mod:`vpp.assets.pv.forecast`);
- **prices, calendars, curtailable loads**: as known in advance (tariffs are
  published; a curtailable load's power is a declared series);
- **battery**: the settled state of charge at :math:`s`, and as end target the
  scenario's initial state (its ``final_soc`` rule applied to each window), or, with a
  ``final_soc`` target, that target in a window that ends at the horizon's end
  (:func:`vpp.assets.battery.operation.window_terminal_kwh`);
- **grid**: the month-to-date largest settled import as the floor of each month's
  peak, so the demand charge is only paid again on what the window adds;
- **shiftable loads**: for each window occurrence the energy still owed (due minus
  served before :math:`s`), times the share of its remaining steps that lie inside
  the look-ahead.
- **deferrable loads**: for each window occurrence the steps it must still run and the
  starts it may still make; a run under way goes on; its steps after the look-ahead are
  kept as flags without power (:mod:`vpp.assets.deferrable.operation`).
- **EV fleets**: the sessions connected in the window, each with the energy it still
  needs (given before :math:`s` subtracted), all of it when it departs inside the
  window, else its share (:mod:`vpp.assets.ev_fleet.operation`).

Each asset's window input is its unit's :meth:`~vpp.assets.base.AssetUnit.window`
(the state now comes from :meth:`~vpp.assets.base.AssetUnit.carry`). Units that are not
planned in windows (:meth:`~vpp.assets.base.AssetUnit.in_windows`: green contracts, the
green account and the carbon block) are settled over the whole horizon afterwards
(:func:`vpp.operation.settlement.settle`); what they fold into the windows' import price (the
carbon price, market-based factor) is
:meth:`~vpp.assets.base.AssetUnit.window_import_price_cny_per_kwh`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.control import Window
from vpp.assets.inputs import read_spec
from vpp.errors import DataError, Problem
from vpp.model import AssetInput
from vpp.operation.load_forecast import profile_forecast, same_weekday_persistence
from vpp.profiles.synthetic import synthetic_load_kw
from vpp.scenario.operation import RollingSpec
from vpp.scenario.schema import Scenario
from vpp.timeseries import Horizon


def decision_steps(horizon: Horizon, spec: RollingSpec) -> np.ndarray:
    """Steps at which the schedule is re-optimized: the start, then every interval.

    A step is a decision step when its local wall-clock time is ``reoptimize_hour``
    plus a whole number of ``interval_h`` (modulo a day), on the hour.
    """
    index = horizon.index
    minutes = index.hour.to_numpy() * 60 + index.minute.to_numpy()
    offset = (minutes - spec.reoptimize_hour * 60) % (spec.interval_h * 60)
    steps = np.flatnonzero(offset == 0)
    return np.union1d([0], steps).astype(int)


def history_days(spec: RollingSpec) -> int:
    """Full days of measured load the load forecast reads before an issue [days]."""
    return {"persistence": 7, "profile": 7 * spec.profile_weeks}.get(spec.load_forecast, 0)


def load_history_kw(scenario: Scenario, horizon: Horizon, actual_kw: np.ndarray) -> pd.Series:
    """The measured load before and over the horizon, for the load forecasts [kW].

    Before the horizon: the synthetic profile continued backwards, or the load's series
    file read over the days the forecast needs.

    Raises
    ------
    DataError
        The series file does not reach back far enough.
    """
    spec = scenario.operation.rolling
    days = history_days(spec) + 1
    index = horizon.index
    if days <= 1:
        return pd.Series(actual_kw, index=index)
    step = pd.Timedelta(hours=horizon.step_h)
    before = pd.date_range(index[0] - pd.Timedelta(days=days), index[0] - step, freq=step)
    load = scenario.site.load
    if load.synthetic is not None:
        syn = load.synthetic
        past = synthetic_load_kw(before, syn.profile, syn.peak_kw, syn.seed)
    else:
        problems: list[Problem] = []
        past_horizon = Horizon(pd.DatetimeIndex(before, freq=step), horizon.step_h)
        past = read_spec(load.series, past_horizon, "site.load.series", problems)
        if problems or past is None:
            raise DataError(
                [
                    Problem(
                        f"load_forecast '{spec.load_forecast}' needs the measured load of the "
                        f"{days - 1} full days before the run's start {index[0].isoformat()}, "
                        "and the load series does not cover them",
                        key="operation.rolling.load_forecast",
                        timestamp=before[0].isoformat(),
                        value=spec.load_forecast,
                        fix="extend the load file backwards, start the run later, or use "
                        "load_forecast: perfect",
                    ),
                    *problems,
                ]
            )
    values = np.concatenate([np.asarray(past, float), np.asarray(actual_kw, float)])
    return pd.Series(values, index=before.append(index))


def load_forecast_kw(
    spec: RollingSpec,
    history: pd.Series,
    actual_kw: np.ndarray,
    index: pd.DatetimeIndex,
    start: int,
    stop: int,
) -> np.ndarray:
    """The load forecast issued at step ``start`` for steps ``start..stop-1`` [kW]."""
    window = index[start:stop]
    if spec.load_forecast == "perfect":
        return np.asarray(actual_kw[start:stop], float)
    if spec.load_forecast == "persistence":
        return same_weekday_persistence(history, index[start], window)
    return profile_forecast(history, index[start], window, weeks=spec.profile_weeks)


@dataclass
class Operated:
    """The settled operation of the horizon (arrays over its steps)."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    solves: int = 0
    builds: int = 0
    elastic_windows: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    load_evaluation: dict[str, dict[str, float]] | None = None
    #: What each asset planned in windows carried out of the last span, by name.
    final_states: dict[str, Any] = field(default_factory=dict)
    #: The steps the peak guard could not hold: (step of the horizon, import above the
    #: level [kW]) (:func:`vpp.operation.real_time.apply_span`).
    guard_misses: list[tuple[int, float]] = field(default_factory=list)


def initial_states(
    assets: list[AssetInput], horizon: Horizon, *, open_end: bool = False
) -> dict[str, Any]:
    """What each asset planned in windows carries, at the horizon's start, by name.

    ``open_end``: the horizon's end is not the end of operation (the park backtest's
    horizon extended by the look-ahead): a unit with a ``job_initial_state`` (a
    deferrable load, whose window occurrence the end cuts keeps its steps after it)
    starts there, as in the daily job.
    """
    out = {}
    for a in assets:
        u = unit(a.kind)
        if u.in_windows(a):
            start = getattr(u, "job_initial_state", u.initial_state) if open_end else None
            out[a.name] = (start or u.initial_state)(a, horizon)
    return out


def window_notes(
    assets: list[AssetInput], horizon: Horizon, windows: list[tuple[int, int]]
) -> list[str]:
    """What the windows ``(start, stop)`` [steps of ``horizon``] do with what they cut,
    from each unit that says it (``window_notes``: a deferrable load's occurrences
    continued at a decision or left to a later window)."""
    out: list[str] = []
    for a in assets:
        u = unit(a.kind)
        if u.in_windows(a) and hasattr(u, "window_notes"):
            out.extend(u.window_notes(a, horizon, windows))
    return out


def window_assets(
    assets: list[AssetInput],
    scenario: Scenario,
    horizon: Horizon,
    start: int,
    stop: int,
    state: dict[str, Any],
    forecasts: dict[str, np.ndarray],
) -> tuple[list[AssetInput], Horizon]:
    """The window's block inputs (see the module docstring) and its horizon.

    ``state`` holds each windowed asset's carried state by name; ``forecasts`` holds
    ``load_kw`` and ``<array>_available_kw`` on the window.
    """
    adder: np.ndarray | float = 0.0
    for a in assets:
        adder = adder + unit(a.kind).window_import_price_cny_per_kwh(a, scenario, start, stop)
    window = Window(scenario, horizon, start, stop, forecasts, adder)
    out: list[AssetInput] = []
    for a in assets:
        u = unit(a.kind)
        if u.in_windows(a):
            out.append(u.window(a, state[a.name], window))
    return out, window.steps
