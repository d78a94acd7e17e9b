"""What each rolling window is given: forecasts, the state now and the month so far.

A rolling run (:mod:`vpp.sim.rolling`) re-optimizes at the decision steps of
:func:`decision_steps`. The window issued at step :math:`s` covers the steps
:math:`s .. \\min(s + L, N) - 1` (:math:`L` the look-ahead in steps) and gets:

- **load**: the forecast issued at :math:`s` (:mod:`vpp.sim.load_forecast`) from the
  measured load before :math:`s` (for the first days, the history before the run:
  the synthetic profile continued backwards, or a series file that reaches back);
- **PV**: the forecast issued at :math:`s` (:mod:`vpp.assets.pv.forecast`);
- **prices, calendars, curtailable loads**: as known in advance (tariffs are
  published; a curtailable load's power is a declared series);
- **battery**: the settled state of charge at :math:`s`, and as end target the
  scenario's initial state (its ``final_soc`` rule applied to each window);
- **grid**: the month-to-date largest settled import as the floor of each month's
  peak, so the demand charge is only paid again on what the window adds;
- **shiftable loads**: for each window occurrence the energy still owed (due minus
  served before :math:`s`), times the share of its remaining steps that lie inside
  the look-ahead.

Green contracts, the green account and the carbon block are not in the windows: the
carbon price is added to the grid import price (market-based factor) and the
contracts and certificates are settled over the whole horizon afterwards
(:func:`vpp.sim.rolling.settle`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vpp.assets.grid.block import BASIC_CHARGE_KEYS
from vpp.assets.inputs import read_spec
from vpp.errors import DataError, Problem
from vpp.model import AssetInput
from vpp.profiles.synthetic import synthetic_load_kw
from vpp.scenario.operation import RollingSpec
from vpp.scenario.schema import Scenario
from vpp.sim.load_forecast import profile_forecast, same_weekday_persistence
from vpp.timeseries import Horizon

#: Kinds the windows are built from; the rest is settled afterwards.
WINDOW_KINDS = ("grid", "load", "pv", "battery", "shiftable", "curtailable")
_KG_PER_T = 1000.0


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


@dataclass
class WindowState:
    """What is carried from one window to the next (settled values).

    Attributes
    ----------
    soc_kwh : dict of str to float
        State of charge of each battery now [kWh].
    month_peak_kw : numpy.ndarray
        Largest settled import of each month of the horizon so far [kW].
    served_kwh : dict of str to numpy.ndarray
        Energy served so far per window occurrence of each shiftable load [kWh].
    """

    soc_kwh: dict[str, float]
    month_peak_kw: np.ndarray
    served_kwh: dict[str, np.ndarray]


def window_assets(
    assets: list[AssetInput],
    scenario: Scenario,
    horizon: Horizon,
    start: int,
    stop: int,
    state: WindowState,
    forecasts: dict[str, np.ndarray],
) -> tuple[list[AssetInput], Horizon]:
    """The window's block inputs (see the module docstring) and its horizon.

    ``forecasts`` holds ``load_kw`` and ``<array>_available_kw`` on the window.
    """
    window = Horizon(horizon.index[start:stop], horizon.step_h)
    months = horizon.month_index[start:stop]
    first, last = int(months[0]), int(months[-1]) + 1
    out: list[AssetInput] = []
    for a in assets:
        if a.kind not in WINDOW_KINDS:
            continue
        series = a.series
        if a.kind == "grid":
            new = {
                k: v[first:last] if k in BASIC_CHARGE_KEYS else v[start:stop]
                for k, v in series.items()
            }
            new["price_cny_per_kwh"] = new["price_cny_per_kwh"] + carbon_adder(
                scenario, assets, start, stop
            )
            new["peak_floor_kw"] = state.month_peak_kw[first:last]
        elif a.kind == "load":
            new = {"load_kw": forecasts["load_kw"]}
        elif a.kind == "pv":
            new = {"available_kw": forecasts[f"{a.name}_available_kw"]}
        elif a.kind == "battery":
            b = a.spec
            new = {
                "soc_initial_kwh": np.array([state.soc_kwh[a.name]]),
                "soc_terminal_kwh": np.array([b.soc_initial_fraction * b.energy_kwh]),
            }
        elif a.kind == "shiftable":
            new = _owed(a, start, stop, state.served_kwh[a.name])
        else:  # curtailable: a declared series, known in advance
            new = {k: v[start:stop] for k, v in series.items()}
        out.append(dataclasses.replace(a, series=new))
    return out, window


def _owed(a: AssetInput, start: int, stop: int, served: np.ndarray) -> dict[str, np.ndarray]:
    """A shiftable load's window occurrences and the energy owed inside the window."""
    full_id = a.series["window_id"]
    due = a.series["window_energy_kwh"]
    ids = full_id[start:stop]
    present = np.unique(ids[ids >= 0])
    local = np.full(stop - start, -1, dtype=int)
    energy = np.empty(len(present))
    for j, k in enumerate(present.tolist()):
        members = np.flatnonzero(full_id == k)
        remaining = int((members >= start).sum())
        inside = int(((members >= start) & (members < stop)).sum())
        energy[j] = max(0.0, due[k] - served[k]) * inside / remaining
        local[ids == k] = j
    return {"window_id": local, "window_energy_kwh": energy}


def carbon_adder(
    scenario: Scenario, assets: list[AssetInput], start: int, stop: int
) -> np.ndarray | float:
    """The carbon price on grid import in the windows [CNY/kWh]: :math:`\\lambda f_t / 1000`.

    Zero unless the scenario prices electricity emissions in the objective.
    """
    price = scenario.site.carbon_price
    if price is None or not price.in_objective or "electricity" not in price.carriers:
        return 0.0
    carbon = next(a for a in assets if a.kind == "carbon")
    factor = np.asarray(carbon.series["market_factor_kg_per_kwh"], float)[start:stop]
    return float(price.cny_per_t) / _KG_PER_T * factor
