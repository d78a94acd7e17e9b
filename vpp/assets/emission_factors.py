"""The site's emission factors: resolved once, and the factor series of the schedule.

:func:`carbon_factors` resolves the site's factor choices (electricity location- and
market-based, natural gas, diesel, heat); :func:`emission_factor_columns` adds the
schedule's ``grid_factor_kg_per_kwh`` and ``market_factor_kg_per_kwh`` [kgCO2/kWh] (the
grid unit's ``site_inputs``) and keeps the resolved factors for the carbon price
(:func:`site_factors`). Site-level helpers shared by the grid, certificates and carbon
units and by the carbon account (:mod:`vpp.runs.carbon`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vpp.assets.inputs import InputContext, read_spec
from vpp.emissions import FUEL_CARRIERS, Factor, factor
from vpp.errors import DataError, Problem, ScenarioError
from vpp.scenario.schema import Site
from vpp.series_bounds import Bound

__all__ = [
    "FACTOR_MAX_KG_PER_KWH",
    "CarbonFactors",
    "carbon_factors",
    "certificates_lower_emissions",
    "emission_factor_columns",
    "fuel_activity",
    "fuel_emissions_kg",
    "grid_factor_info",
    "site_factors",
]

_ACTIVITY_FIELDS = {"natural_gas": "natural_gas_nm3", "diesel": "diesel_t", "heat": "heat_gj"}
#: Largest grid emission factor a series may give [kgCO2/kWh] (the bound of a constant
#: factor, :data:`vpp.scenario.green.FactorElectricity`).
FACTOR_MAX_KG_PER_KWH = 10.0
#: The grid factor series' upper bound, checked on each row of its file (before any
#: averaging): a value above it is most likely gCO2/kWh given as kgCO2/kWh.
TOO_HIGH = Bound(
    f"grid emission factors above {FACTOR_MAX_KG_PER_KWH:g} kgCO2/kWh; no grid emits that much",
    f"0 to {FACTOR_MAX_KG_PER_KWH:g} kgCO2/kWh",
    "give the factors in kgCO2/kWh (for gCO2/kWh in the file, set scale: 0.001)",
    upper=FACTOR_MAX_KG_PER_KWH,
    unit="kgCO2/kWh",
)
#: ``InputContext.shared`` key of the resolved factors (None when they cannot be).
_SHARED_KEY = "emission_factors"


@dataclass(frozen=True)
class CarbonFactors:
    """The site's resolved emission factors (see :mod:`vpp.emissions.factors`)."""

    electricity: Factor
    electricity_market_based: Factor
    fuels: dict[str, Factor]


def carbon_factors(site: Site) -> CarbonFactors:
    """Resolve the site's factor choices; every unknown name is reported at once.

    Raises
    ------
    ScenarioError
        A factor name that is not built in (the message lists the known names).
    """
    choices = site.emissions.factors
    problems: list[Problem] = []
    resolved: dict[str, Factor] = {}
    for field, carrier in (
        ("electricity", "electricity"),
        ("electricity_market_based", "electricity"),
        *((c, c) for c in FUEL_CARRIERS),
    ):
        choice = getattr(choices, field)
        if field == "electricity_market_based" and choice is None:
            continue
        try:
            resolved[field] = factor(carrier, choice, key=f"site.emissions.factors.{field}")
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return CarbonFactors(
        electricity=resolved["electricity"],
        electricity_market_based=resolved.get("electricity_market_based", resolved["electricity"]),
        fuels={c: resolved[c] for c in FUEL_CARRIERS},
    )


def fuel_activity(site: Site) -> dict[str, float]:
    """Natural gas [Nm3], diesel [t] and heat [GJ] per year, as declared, by carrier."""
    activity = site.emissions.activity
    return {c: float(getattr(activity, f)) for c, f in _ACTIVITY_FIELDS.items()}


def site_factors(ctx: InputContext) -> CarbonFactors | None:
    """The resolved factors of the site being read (None when a name is unknown; that
    problem is collected by :func:`emission_factor_columns`)."""
    return ctx.shared.get(_SHARED_KEY)


def emission_factor_columns(ctx: InputContext) -> None:
    """Add ``grid_factor_kg_per_kwh`` and ``market_factor_kg_per_kwh`` to ``ctx.columns``.

    The location-based factor is the site's ``grid_factor_series`` when given, else the
    resolved electricity factor; the market-based one is the resolved
    ``electricity_market_based`` factor when chosen, else the location-based series
    [kgCO2/kWh]. The resolved factors are kept for :func:`site_factors`.

    Raises
    ------
    DataError, ScenarioError
        The series' problems (data) first, then unknown factor names; the class of the
        first.
    """
    site, horizon = ctx.site, ctx.horizon
    data_problems: list[Problem] = []
    problems: list[Problem] = []
    try:
        factors = carbon_factors(site)
    except ScenarioError as exc:
        problems.extend(exc.problems)
        factors = None
    ctx.shared[_SHARED_KEY] = factors
    n = horizon.n
    location = np.full(n, factors.electricity.value if factors else 0.0)
    series_spec = site.emissions.grid_factor_series
    if series_spec is not None:
        read = read_spec(
            series_spec,
            horizon,
            "site.emissions.grid_factor_series",
            data_problems,
            nonnegative="give the values as positive numbers",
            unit="kgCO2/kWh",
            bounds=(TOO_HIGH,),
        )
        location = read if read is not None else location
    ctx.columns["grid_factor_kg_per_kwh"] = location
    given_market = site.emissions.factors.electricity_market_based is not None
    if series_spec is not None and given_market and factors is not None:
        ctx.notes.append(_constant_market_note(site, factors))
    ctx.columns["market_factor_kg_per_kwh"] = (
        np.full(n, factors.electricity_market_based.value) if factors and given_market else location
    )
    if data_problems:
        raise DataError(data_problems + problems)
    if problems:
        raise ScenarioError(problems)


def _constant_market_note(site: Site, factors: CarbonFactors) -> str:
    """The note of a grid factor series beside a given market-based factor: the
    market-based account and the carbon price keep the constant factor."""
    market = factors.electricity_market_based
    priced = site.carbon_price is not None and "electricity" in site.carbon_price.carriers
    return (
        "site.emissions: the grid_factor_series sets the location-based factor per step; "
        "the market-based factor is the given factors.electricity_market_based "
        f"({market.value:g} kgCO2/kWh, constant)"
        + (", so the carbon price on electricity does not follow the series" if priced else "")
    )


def grid_factor_info(site: Site) -> dict[str, Any]:
    """What the summary says about the grid factor: ``source`` (``series`` with its file
    and column, or ``annual``), ``kind`` (average or marginal) and whether the market-based
    factor follows the series."""
    spec = site.emissions.grid_factor_series
    given_market = site.emissions.factors.electricity_market_based is not None
    return {
        "source": "annual" if spec is None else "series",
        "file": None if spec is None else str(spec.file),
        "column": None if spec is None else spec.column,
        "kind": site.emissions.grid_factor_kind,
        "market_based_follows_series": spec is not None and not given_market,
    }


def certificates_lower_emissions(site: Site) -> bool:
    """Whether the site has certificates and they lower market-based emissions."""
    target = site.renewable_target
    allowed = target is not None and target.certificates_allowed
    return allowed and site.emissions.market_based_certificates


def fuel_emissions_kg(
    site: Site, factors: CarbonFactors | None = None, *, year_share: float
) -> dict[str, float]:
    """Emissions of the declared natural gas, diesel and heat over a horizon [kg], by
    carrier: the annual activity times the horizon's ``year_share``
    (:mod:`vpp.emissions.period`) times the factor."""
    factors = factors or carbon_factors(site)
    activity = fuel_activity(site)
    return {c: activity[c] * year_share * factors.fuels[c].value for c in FUEL_CARRIERS}
