"""Turn a validated scenario into time series on the horizon and block inputs.

Every series is read and checked here; problems from all inputs are collected and
raised together as one :class:`~vpp.errors.DataError` or
:class:`~vpp.errors.ScenarioError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import vpp.assets  # noqa: F401  (registers every unit's block builder)
from vpp.errors import DataError, Problem, ScenarioError, VppError
from vpp.model import AssetInput
from vpp.profiles.synthetic import synthetic_load_kw
from vpp.scenario.schema import (
    CurtailableLoad,
    Scenario,
    SeriesSpec,
    ShiftableLoad,
    clock_minutes,
    step_minutes,
)
from vpp.sim.ev_inputs import ev_inputs
from vpp.sim.green_inputs import green_inputs
from vpp.sim.pv_inputs import PVInputs, pv_inputs
from vpp.sim.series import read_spec
from vpp.sim.tariff_inputs import TariffInputs, tariff_inputs
from vpp.timeseries import Horizon


@dataclass(frozen=True)
class SiteInputs:
    """Everything the site model and the bill need, on the horizon.

    Attributes
    ----------
    horizon : Horizon
        The run's time steps.
    assets : list of AssetInput
        One entry per block: grid, fixed load, PV arrays, batteries, flexible loads,
        EV fleets.
    series : pandas.DataFrame
        The input series on ``horizon.index``: ``load_kw``, ``price_cny_per_kwh``,
        ``tou_period`` (the TOU period name of each step, ``series`` for a price series),
        ``export_price_cny_per_kwh``, ``<pv>_available_kw``, ``<curtailable>_power_kw``,
        ``<shiftable>_default_kw`` (the baseline's as-soon-as-possible schedule) and
        ``<ev_fleet>_default_kw`` (uncontrolled charging, :mod:`vpp.sim.ev_inputs`);
        ``grid_factor_kg_per_kwh``, ``market_factor_kg_per_kwh`` and
        ``<contract>_available_kw`` (see :mod:`vpp.sim.green_inputs`).
    weather_source, weather_notes : str, tuple of str
        Where modelled arrays' weather came from and what was filled or assumed.
    tariff_info : dict, optional
        The grid tariff for the summary (:attr:`vpp.sim.tariff_inputs.TariffInputs.info`).
    """

    horizon: Horizon
    assets: list[AssetInput]
    series: pd.DataFrame
    weather_source: str | None = None
    weather_notes: tuple[str, ...] = ()
    tariff_info: dict[str, Any] | None = None


def make_horizon(scenario: Scenario) -> Horizon:
    """The scenario's horizon.

    Raises
    ------
    ScenarioError
        When the horizon cannot be laid out (for example a start time that does not
        exist in the time zone because of a daylight-saving change).
    """
    h = scenario.horizon
    try:
        return Horizon.from_bounds(
            h.start,
            end=h.end,
            days=h.days,
            step_minutes=step_minutes(h.step),
            timezone=scenario.timezone,
        )
    except ValueError as exc:
        raise ScenarioError(
            Problem(
                str(exc),
                key="horizon",
                value=f"start {h.start}, end {h.end}, days {h.days}, step {h.step}",
                fix="put start and end on the step grid, at times that exist locally",
            )
        ) from None


def build_inputs(scenario: Scenario, horizon: Horizon | None = None) -> SiteInputs:
    """Read and derive every input series of the scenario's site.

    Raises
    ------
    DataError, ScenarioError
        With every problem found in every series.
    """
    horizon = horizon or make_horizon(scenario)
    site = scenario.site
    problems: list[Problem] = []
    first_error: type[VppError] = DataError

    def get(spec: float | SeriesSpec, where: str, nonnegative: str | None = None) -> np.ndarray:
        """Read a series; ``nonnegative`` is the fix to suggest for negative values."""
        nonlocal first_error
        if not isinstance(spec, SeriesSpec):
            return np.full(horizon.n, float(spec))
        if not problems:
            first_error = DataError
        values = read_spec(spec, horizon, where, problems, nonnegative=nonnegative)
        return np.zeros(horizon.n) if values is None else values

    cols: dict[str, np.ndarray] = {}
    if site.load.series is not None:
        cols["load_kw"] = get(
            site.load.series,
            "site.load.series",
            nonnegative="give the site's consumption as positive kW; PV goes under site.pv",
        )
    else:
        syn = site.load.synthetic
        cols["load_kw"] = synthetic_load_kw(horizon.index, syn.profile, syn.peak_kw, syn.seed)

    try:
        tariff = tariff_inputs(site.grid, horizon, get)
    except ScenarioError as exc:
        if not problems:
            first_error = ScenarioError
        problems.extend(exc.problems)
        tariff = TariffInputs.empty(horizon.n)
    cols["price_cny_per_kwh"] = tariff.price_cny_per_kwh
    cols["tou_period"] = tariff.tou_period
    cols["export_price_cny_per_kwh"] = tariff.export_price_cny_per_kwh

    assets = [
        AssetInput(
            "grid",
            "grid",
            site.grid,
            {
                "price_cny_per_kwh": cols["price_cny_per_kwh"],
                "export_price_cny_per_kwh": cols["export_price_cny_per_kwh"],
                **tariff.grid_series,
            },
        ),
        AssetInput("load", "load", site.load, {"load_kw": cols["load_kw"]}),
    ]
    try:
        pv = pv_inputs(site, horizon, get)
    except VppError as exc:
        if not problems:
            first_error = type(exc)
        problems.extend(exc.problems)
        pv = PVInputs({a.name: np.zeros(horizon.n) for a in site.pv}, None, ())
    for array in site.pv:
        available = pv.available_kw[array.name]
        cols[f"{array.name}_available_kw"] = available
        assets.append(AssetInput(array.name, "pv", array, {"available_kw": available}))
    for battery in site.batteries:
        assets.append(AssetInput(battery.name, "battery", battery, {}))
    for i, flex in enumerate(site.flexible_loads):
        where = f"site.flexible_loads[{i}]"
        if isinstance(flex, ShiftableLoad):
            window_id, energy = shiftable_windows(flex, horizon)
            cols[f"{flex.name}_default_kw"] = asap_profile(flex, window_id, energy, horizon)
            assets.append(
                AssetInput(
                    flex.name,
                    "shiftable",
                    flex,
                    {"window_id": window_id, "window_energy_kwh": energy},
                )
            )
        elif isinstance(flex, CurtailableLoad):
            power = get(
                flex.power_kw,
                f"{where}.power_kw",
                nonnegative="give the load's consumption as positive kW",
            )
            cols[f"{flex.name}_power_kw"] = power
            assets.append(AssetInput(flex.name, "curtailable", flex, {"power_kw": power}))
    for i, fleet in enumerate(site.ev_fleets):
        try:
            ev_asset, ev_default_kw = ev_inputs(fleet, horizon, f"site.ev_fleets[{i}]")
        except VppError as exc:
            if not problems:
                first_error = type(exc)
            problems.extend(exc.problems)
            continue
        cols[f"{fleet.name}_default_kw"] = ev_default_kw
        assets.append(ev_asset)
    try:  # green contracts, green account, carbon price (after every asset they couple)
        assets += green_inputs(site, horizon, cols)
    except VppError as exc:
        if not problems:
            first_error = type(exc)
        problems.extend(exc.problems)
    if problems:
        raise first_error(problems)
    return SiteInputs(
        horizon,
        assets,
        pd.DataFrame(cols, index=horizon.index),
        weather_source=pv.weather_source,
        weather_notes=pv.weather_notes,
        tariff_info=tariff.info,
    )


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


def describe(inputs: SiteInputs) -> dict[str, Any]:
    """A few totals of the inputs for the summary [kWh]."""
    dt_h = inputs.horizon.step_h
    s = inputs.series
    pv_cols = [f"{a.name}_available_kw" for a in inputs.assets if a.kind == "pv"]
    return {
        "load_kwh": float(s["load_kw"].sum() * dt_h),
        "pv_available_kwh": float(s[pv_cols].to_numpy().sum() * dt_h) if pv_cols else 0.0,
    }
