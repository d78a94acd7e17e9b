"""Everything a rolling run checks, and every forecast it issues, before its first solve.

:func:`prepare_rolling` runs before the perfect-foresight reference and before any
window is solved, so that a rolling run that cannot finish says so at once:

1. the rolling settings (:func:`settings_problems`): a forecast source, a PV forecast
   source for a site with PV, arrays modelled from weather for ``pv_forecast: files``,
   a look-ahead on the step grid; all reported together as a
   :class:`~vpp.errors.ScenarioError`;
2. the inputs (:func:`vpp.inputs.site.build_inputs`);
3. the forecasts: the measured load before the run that the load forecast reads
   (:func:`vpp.operation.windows.load_history_kw`), the load and PV forecast issued at
   every decision (so a gap in the history or a decision without a PV forecast file is
   found now, not after hours of solving), and the evaluation of the load forecast
   methods; every problem reported together as a :class:`~vpp.errors.DataError`.

Forecasts depend only on the inputs, the decision step and the seed, never on the
operation, so issuing them all first gives the same run as issuing each when it is due.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from vpp.assets.pv.forecast import (
    actual_pv_kw,
    clear_sky_ac_kw,
    files_pv_forecast_kw,
    pv_forecast_problems,
    read_forecast_folder,
    synthetic_pv_forecast_kw,
    weather_arrays,
)
from vpp.errors import DataError, Problem, ScenarioError
from vpp.inputs.site import SiteInputs, build_inputs
from vpp.operation.load_forecast import evaluate_load_forecasts
from vpp.operation.windows import (
    decision_steps,
    initial_states,
    load_forecast_kw,
    load_history_kw,
    window_notes,
)
from vpp.scenario.common import step_minutes
from vpp.scenario.operation import NO_FORECAST_SOURCE, RollingSpec
from vpp.scenario.schema import Scenario

__all__ = ["Prepared", "prepare_rolling", "settings_problems"]

T = TypeVar("T")
#: Detail lines (``vpp -v`` shows them).
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A rolling run's inputs and the forecasts of every decision.

    Attributes
    ----------
    spec : RollingSpec
        The scenario's rolling settings.
    inputs : SiteInputs
        The actual inputs over the horizon; their notes say what the horizon and the
        windows cut, as a rolling run (or, ``open_end``, the park backtest) treats it.
    lookahead : int
        Steps of each window [-].
    decisions : list of int
        The decision steps (:func:`vpp.operation.windows.decision_steps`).
    forecasts : list of dict
        Per decision, ``load_kw`` and ``<array>_available_kw`` over its window [kW].
    load_evaluation : dict or None
        :func:`evaluate_load_methods` (None for perfect load
        forecasts).
    timings_s : dict
        ``inputs`` and ``forecasts`` [s].
    """

    spec: RollingSpec
    inputs: SiteInputs
    lookahead: int
    decisions: list[int]
    forecasts: list[dict[str, np.ndarray]]
    load_evaluation: dict[str, dict[str, float]] | None
    timings_s: dict[str, float] = field(default_factory=dict)


def settings_problems(scenario: Scenario) -> list[Problem]:
    """Every problem of the scenario's rolling settings (empty when it can run rolling)."""
    spec = scenario.operation.rolling
    if spec is None:
        return [
            Problem(
                NO_FORECAST_SOURCE,
                key="operation.rolling",
                value="missing",
                fix="add for example: operation: {rolling: {load_forecast: profile, "
                "pv_forecast: synthetic, lookahead_h: 48}}",
            )
        ]
    problems: list[Problem] = []
    site = scenario.site
    problems += pv_forecast_problems(site, spec)
    step_h = step_minutes(scenario.horizon.step) / 60.0
    lookahead = spec.lookahead_h / step_h
    if abs(lookahead - round(lookahead)) > 1e-9:
        problems.append(
            Problem(
                f"the look-ahead of {spec.lookahead_h:g} h is not a whole number of "
                f"{step_h * 60:g}-minute steps",
                key="operation.rolling.lookahead_h",
                value=f"{spec.lookahead_h:g}",
                fix="give a look-ahead on the step grid",
            )
        )
    return problems


def prepare_rolling(scenario: Scenario, *, open_end: bool = False) -> Prepared:
    """Check every precondition of a rolling run and issue its forecasts (module docstring).

    ``open_end``: the horizon's end is not the end of operation (the park backtest's
    horizon extended by the look-ahead; :func:`vpp.operation.windows.initial_states`).

    Raises
    ------
    ScenarioError
        The rolling settings cannot run (every problem listed).
    DataError
        The inputs, or the history or files the forecasts need (every problem listed).
    """
    problems = settings_problems(scenario)
    if problems:
        raise ScenarioError(problems)
    spec = scenario.operation.rolling
    assert spec is not None  # settings_problems reports a missing spec
    clock = time.perf_counter()
    inputs = build_inputs(scenario, planning="open-end" if open_end else "rolling")
    # a unit that cannot roll refuses here (a deferrable window the horizon cuts too short)
    initial_states(inputs.assets, inputs.horizon, open_end=open_end)
    t_inputs = time.perf_counter() - clock
    clock = time.perf_counter()
    site, horizon = scenario.site, inputs.horizon
    n, dt_h = horizon.n, horizon.step_h
    lookahead = int(round(spec.lookahead_h / dt_h))
    decisions = decision_steps(horizon, spec).tolist()
    windows = [(start, min(start + lookahead, n)) for start in decisions]
    # what the windows do with what they cut (a deferrable run continued, or left)
    inputs = dataclasses.replace(
        inputs, notes=[*inputs.notes, *window_notes(inputs.assets, horizon, windows)]
    )
    load = inputs.series["load_kw"].to_numpy(dtype=float)
    pv_actual = actual_pv_kw(site, inputs.series)
    found: list[Problem] = []
    forecasts: list[dict[str, np.ndarray]] = [{} for _ in decisions]

    history = None
    if spec.load_forecast != "perfect":
        history = _collect(found, lambda: load_history_kw(scenario, horizon, load))
    if spec.load_forecast == "perfect" or history is not None:
        for (start, stop), fc in zip(windows, forecasts):
            value = _collect(
                found,
                lambda s=start, e=stop: load_forecast_kw(spec, history, load, horizon.index, s, e),
            )
            if value is None:
                break  # the first decision that cannot be forecast says why
            fc["load_kw"] = value
    if pv_actual:
        pv = _pv_forecasts(scenario, inputs, spec, windows, pv_actual, found)
        for fc, arrays in zip(forecasts, pv):
            fc.update({f"{k}_available_kw": v for k, v in arrays.items()})
    evaluation = None
    if history is not None and not found:
        evaluation = _collect(
            found, lambda: evaluate_load_methods(spec, history, horizon, decisions)
        )
    if found:
        raise DataError(found)
    _log.debug(
        "    %d decisions, windows of %d steps; load forecast %s, PV forecast %s; "
        "forecasts issued in %.2f s",
        len(decisions),
        lookahead,
        spec.load_forecast,
        spec.pv_forecast if pv_actual else "none (no PV)",
        time.perf_counter() - clock,
    )
    return Prepared(
        spec=spec,
        inputs=inputs,
        lookahead=lookahead,
        decisions=decisions,
        forecasts=forecasts,
        load_evaluation=evaluation,
        timings_s={"inputs": t_inputs, "forecasts": time.perf_counter() - clock},
    )


def _collect(found: list[Problem], make: Callable[[], T]) -> T | None:
    """``make()``, or None with its problems added to ``found`` when it raises DataError."""
    try:
        return make()
    except DataError as exc:
        found.extend(exc.problems)
        return None


def _pv_forecasts(
    scenario: Scenario,
    inputs: SiteInputs,
    spec: RollingSpec,
    windows: list[tuple[int, int]],
    pv_actual: dict[str, np.ndarray],
    found: list[Problem],
) -> list[dict[str, np.ndarray]]:
    """The PV forecast of every window, per array [kW]; empty after the first problem."""
    horizon = inputs.horizon
    dt_h = horizon.step_h
    if spec.pv_forecast == "files":
        files = _collect(
            found, lambda: read_forecast_folder(spec.pv_forecast_folder, scenario.site)
        )
        if files is None:
            return []
        out = []
        for start, stop in windows:
            index = horizon.index[start:stop]
            arrays = _collect(found, lambda i=index: files_pv_forecast_kw(scenario, files, i, dt_h))
            if arrays is None:
                return []
            out.append(arrays)
        return out
    if spec.pv_forecast == "synthetic":
        clear = clear_sky_ac_kw(
            scenario.site, horizon, pv_actual, _temperature_c(scenario, horizon)
        )
        return [
            synthetic_pv_forecast_kw(pv_actual, clear, start, stop, dt_h, spec.pv_error)
            for start, stop in windows
        ]
    return [{k: v[start:stop] for k, v in pv_actual.items()} for start, stop in windows]


def _temperature_c(scenario: Scenario, horizon: Any) -> np.ndarray:
    """Air temperature for the clear-sky envelope [degC]: the site's weather, else Suzhou's.

    Only arrays modelled with pvlib read it; the weather was read once already when the
    inputs were built, so it is known to be readable.
    """
    from vpp.assets.pv.availability import site_weather
    from vpp.profiles.synthetic import suzhou_temperature_c

    if weather_arrays(scenario.site):
        frame, _, _ = site_weather(scenario.site, horizon)
        return frame["temp_air"].to_numpy(dtype=float)
    return np.asarray(suzhou_temperature_c(horizon.index), float)


def evaluate_load_methods(
    spec: RollingSpec, history: pd.Series, horizon: Any, decisions: list[int]
) -> dict[str, dict[str, float]]:
    """Both load forecast methods (and the scaled profile) over the run's decisions.

    Each decision's forecast over the next ``interval_h`` (the part of every plan
    that is applied) against the measured load; :func:`vpp.operation.load_forecast.
    evaluate_load_forecasts` gives MAE, RMSE, bias, nRMSE (over the mean load) and skill
    against persistence. Decisions whose interval runs past the horizon are left out, and
    so are decisions before which ``history`` does not hold the days every method reads
    (the run's own method may need fewer: persistence reads 7 days, the profile
    ``7 x profile_weeks``).
    """
    steps = int(round(spec.interval_h / horizon.step_h))
    days = max(7, 7 * spec.profile_weeks)
    first = history.index[0]
    issues = [
        horizon.index[s]
        for s in decisions
        if s + steps <= horizon.n
        and horizon.index[s].normalize() - pd.Timedelta(days=days) >= first
    ]
    if not issues:
        return {}
    step = pd.Timedelta(hours=horizon.step_h)
    table = evaluate_load_forecasts(
        history, issues, spec.interval_h, step, weeks=spec.profile_weeks
    )
    overall = table[table["lead_h"].isna()]
    keys = ("n", "mae_kw", "rmse_kw", "bias_kw", "nrmse_fraction", "skill_fraction")
    return {row["method"]: {k: float(row[k]) for k in keys} for row in overall.to_dict("records")}
