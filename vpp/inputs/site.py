"""Turn a validated scenario into time series on the horizon and block inputs.

Every asset unit reads and checks its own series (its ``inputs`` and ``site_inputs``,
:mod:`vpp.assets.base`); problems from all inputs are collected and raised together as
one :class:`~vpp.errors.DataError` or :class:`~vpp.errors.ScenarioError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import vpp.assets  # noqa: F401  (registers every unit's block builder)
from vpp.assets import site_entries, unit, units
from vpp.assets.inputs import InputContext
from vpp.errors import Problem, ScenarioError, VppError
from vpp.model import AssetInput
from vpp.scenario.schema import Scenario, step_minutes
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
        ``<ev_fleet>_default_kw`` (uncontrolled charging,
        :mod:`vpp.assets.ev_fleet.sessions`); ``grid_factor_kg_per_kwh``,
        ``market_factor_kg_per_kwh`` (:mod:`vpp.assets.emission_factors`) and
        ``<contract>_available_kw`` (:mod:`vpp.assets.green_contract.rules`).
    weather_source, weather_notes : str, tuple of str
        Where modelled arrays' weather came from and what was filled or assumed.
    tariff_info : dict, optional
        The grid tariff for the summary (:attr:`vpp.assets.grid.tariff.TariffInputs.info`).
    notes : list of str
        What the units dropped, clipped or defaulted without an error
        (``InputContext.notes``: EV sessions outside the horizon); run summaries show
        them under ``notes`` and the daily job adds them to its flags.
    """

    horizon: Horizon
    assets: list[AssetInput]
    series: pd.DataFrame
    weather_source: str | None = None
    weather_notes: tuple[str, ...] = ()
    tariff_info: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


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


def build_inputs(
    scenario: Scenario, horizon: Horizon | None = None, *, planning: str = "perfect"
) -> SiteInputs:
    """Read and derive every input series of the scenario's site, unit by unit.

    The site's entries (:func:`vpp.assets.site_entries`) are read in the order of their
    unit's ``input_stage`` (ties in model order), then every unit's ``site_inputs`` in
    registration order (see the ``rules.py`` section of :mod:`vpp.assets.base`). The
    block inputs keep model order: each entry's where it stands, then the site-level ones.
    ``planning``: the way of planning the inputs serve (:data:`vpp.assets.inputs.PLANNING`),
    which words the units' notes on what the horizon cuts.

    Raises
    ------
    DataError, ScenarioError
        With every problem found in every series, as the class of the first.
    """
    horizon = horizon or make_horizon(scenario)
    ctx = InputContext(scenario, horizon, planning=planning)
    plan = site_entries(scenario.site)
    built: list[list[AssetInput]] = [[] for _ in plan]
    for k in sorted(range(len(plan)), key=lambda k: plan[k][0].input_stage):
        unit, entry = plan[k]
        try:
            built[k] = unit.inputs(entry, ctx)
        except VppError as exc:
            ctx.collect(exc)
        ctx.assets.extend(built[k])
    assets = [a for entry_assets in built for a in entry_assets]
    for unit in units():
        try:
            site_level = unit.site_inputs(ctx)
        except VppError as exc:
            ctx.collect(exc)
            continue
        ctx.assets.extend(site_level)
        assets.extend(site_level)
    if ctx.problems:
        raise ctx.first_error(ctx.problems)
    return SiteInputs(
        horizon,
        assets,
        pd.DataFrame(ctx.columns, index=horizon.index),
        weather_source=ctx.info.get("weather_source"),
        weather_notes=ctx.info.get("weather_notes", ()),
        tariff_info=ctx.info.get("tariff_info"),
        notes=list(ctx.notes),
    )


def describe(inputs: SiteInputs) -> dict[str, Any]:
    """A few totals of the inputs for the summary [kWh]."""
    dt_h = inputs.horizon.step_h
    s = inputs.series
    pv_cols = [
        column
        for a in inputs.assets
        for column in unit(a.kind).idle(a, inputs.series).supply_columns
    ]
    return {
        "load_kwh": float(s["load_kw"].sum() * dt_h),
        "pv_available_kwh": float(s[pv_cols].to_numpy().sum() * dt_h) if pv_cols else 0.0,
    }
