"""A site's emission factors and declared fuels, resolved from its scenario entries.

The site (a :class:`vpp.scenario.schema.Site`) is read by attribute:
``site.emissions.factors`` (factor names per carrier), ``site.emissions.activity``
(natural gas, diesel and heat per year), ``site.emissions.market_based_certificates``
and ``site.renewable_target``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vpp.emissions.accounting import FUEL_CARRIERS
from vpp.emissions.factors import Factor, factor
from vpp.errors import Problem, ScenarioError

__all__ = [
    "CarbonFactors",
    "carbon_factors",
    "certificates_lower_emissions",
    "fuel_activity",
    "fuel_emissions_kg",
]

_ACTIVITY_FIELDS = {"natural_gas": "natural_gas_nm3", "diesel": "diesel_t", "heat": "heat_gj"}


@dataclass(frozen=True)
class CarbonFactors:
    """The site's resolved emission factors (see :mod:`vpp.emissions.factors`)."""

    electricity: Factor
    electricity_market_based: Factor
    fuels: dict[str, Factor]


def carbon_factors(site: Any) -> CarbonFactors:
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


def fuel_activity(site: Any) -> dict[str, float]:
    """Natural gas [Nm3], diesel [t] and heat [GJ] per year, as declared, by carrier."""
    activity = site.emissions.activity
    return {c: float(getattr(activity, f)) for c, f in _ACTIVITY_FIELDS.items()}


def fuel_emissions_kg(
    site: Any, factors: CarbonFactors | None = None, *, year_share: float
) -> dict[str, float]:
    """Emissions of the declared natural gas, diesel and heat over a horizon [kg], by
    carrier: the annual activity times the horizon's ``year_share``
    (:mod:`vpp.emissions.period`) times the factor."""
    factors = factors or carbon_factors(site)
    activity = fuel_activity(site)
    return {c: activity[c] * year_share * factors.fuels[c].value for c in FUEL_CARRIERS}


def certificates_lower_emissions(site: Any) -> bool:
    """Whether the site has certificates and they lower market-based emissions."""
    target = site.renewable_target
    allowed = target is not None and target.certificates_allowed
    return allowed and site.emissions.market_based_certificates
