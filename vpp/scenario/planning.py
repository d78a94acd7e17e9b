"""Scenario schema of planning: which assets may be sized, their costs, and the finance.

A PV array (``rooftop``, ``carport`` or ``clearsky``) or a battery with a ``sizing`` entry
is a *candidate*: ``vpp size`` chooses its capacity between the entry's limits, paying its
annualized capital cost and fixed O&M in the objective (:mod:`vpp.planning`). Its
``dc_capacity_kw`` (PV) or ``energy_kwh`` and powers (battery) are then only the reference
the run is modelled at; ``vpp size`` writes a scenario with the chosen sizes, which
``vpp run`` dispatches as any other. Assets without ``sizing`` are existing: sunk, no
capital cost. The scenario's ``finance`` entry gives the discount rate, the analysis
period and the escalation used to annualize costs and to value the investment.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from vpp.scenario.common import (
    CapexCnyPerKw,
    EnergyKwh,
    EnergyKwhOrZero,
    PowerKw,
    PowerKwOrZero,
    Strict,
)

__all__ = ["BatterySizing", "Finance", "PVSizing"]

Years = Annotated[int, Field(ge=1, le=60, description="[years], 1 to 60")]
#: A yearly cost per kW [CNY/kW-year] and a cost per kWh of capacity [CNY/kWh].
OmCnyPerKwYear = Annotated[float, Field(ge=0.0, le=1e5, description="[CNY/kW-year], 0 to 1e5")]
CapexCnyPerKwh = Annotated[float, Field(ge=0.0, le=1e5, description="[CNY/kWh], 0 to 1e5")]

#: Discount rates outside this range are refused as not sane [-/year].
DISCOUNT_RATE_RANGE = (0.0, 0.30)


class PVSizing(Strict):
    """A PV array whose size [kWp] is a decision.

    The limit is ``max_kw``, or ``area_m2`` x ``kw_per_m2`` (the usable roof or car-park
    area and the module density: about 0.18-0.22 kWp/m2 for modern modules on a flat
    roof, less with walkways and shading setbacks).
    """

    max_kw: PowerKw | None = Field(
        default=None, description="Largest size [kWp]; give this or area_m2."
    )
    area_m2: Annotated[float, Field(gt=0.0, le=1e8)] | None = Field(
        None,
        description="Usable roof or car-park area [m2]; the limit is area_m2 x kw_per_m2. "
        "Give this or max_kw.",
    )
    kw_per_m2: Annotated[float, Field(gt=0.0, le=0.3)] = Field(
        default=0.18,
        description="Module density on area_m2 [kWp/m2]: about 0.18-0.22 for modern modules "
        "on a flat roof, less with walkways and shading setbacks.",
    )
    min_kw: PowerKwOrZero = Field(default=0.0, description="Smallest size [kWp].")
    capex_cny_per_kw: CapexCnyPerKw = Field(description="Installed cost [CNY/kWp].")
    om_cny_per_kw_year: OmCnyPerKwYear = Field(0.0, description="Fixed O&M [CNY/kWp-year].")
    lifetime_years: Years = Field(
        default=25, description="Lifetime, over which the capital cost is annualized [years]."
    )

    @model_validator(mode="after")
    def _limit(self) -> PVSizing:
        if (self.max_kw is None) == (self.area_m2 is None):
            raise ValueError("give the array's limit as exactly one of 'max_kw' or 'area_m2'")
        if self.min_kw > self.limit_kw:
            raise ValueError(f"min_kw {self.min_kw:g} is above the limit {self.limit_kw:g} kWp")
        return self

    @property
    def limit_kw(self) -> float:
        """The largest size allowed [kWp]."""
        if self.max_kw is not None:
            return float(self.max_kw)
        return float(self.area_m2) * self.kw_per_m2


class BatterySizing(Strict):
    """A battery whose energy [kWh] and power [kW] are decisions.

    One power rating bounds both charge and discharge. ``duration_h`` fixes energy /
    power; without it both are free (within their limits). ``unit_energy_kwh`` makes
    the energy a whole number of units (containers): the only case that makes the
    problem a MILP. The battery is replaced in ``replacement_year`` (if given) at
    ``replacement_cny_per_kwh`` of energy.
    """

    min_energy_kwh: EnergyKwhOrZero = Field(
        default=0.0, description="Smallest energy capacity [kWh]."
    )
    max_energy_kwh: EnergyKwh = Field(description="Largest energy capacity [kWh].")
    max_power_kw: PowerKw | None = Field(
        default=None,
        description="Largest power rating, charge and discharge alike [kW]; default: unlimited.",
    )
    duration_h: Annotated[float, Field(gt=0.0, le=1000.0)] | None = Field(
        None,
        description="Fixed ratio of energy to power [h]; default: both chosen freely.",
    )
    unit_energy_kwh: EnergyKwh | None = Field(
        default=None,
        description="Energy of one unit (container) [kWh]: the energy becomes a whole number "
        "of units, which makes the problem a MILP; default: continuous.",
    )
    capex_cny_per_kwh: CapexCnyPerKwh = Field(
        description="Capital cost per kWh of energy capacity [CNY/kWh]."
    )
    capex_cny_per_kw: CapexCnyPerKw = Field(
        default=0.0, description="Capital cost per kW of power rating [CNY/kW]."
    )
    om_cny_per_kw_year: OmCnyPerKwYear = Field(
        default=0.0, description="Fixed O&M per kW of power rating [CNY/kW-year]."
    )
    lifetime_years: Years = Field(
        default=15, description="Lifetime, over which the capital cost is annualized [years]."
    )
    replacement_year: Annotated[int, Field(ge=1, le=60)] | None = Field(
        default=None,
        description="Years after the investment at which the battery is replaced [years], before "
        "lifetime_years; default: never.",
    )
    replacement_cny_per_kwh: CapexCnyPerKwh = Field(
        default=0.0, description="Cost of the replacement per kWh of energy capacity [CNY/kWh]."
    )

    @model_validator(mode="after")
    def _consistent(self) -> BatterySizing:
        if self.min_energy_kwh > self.max_energy_kwh:
            raise ValueError(
                f"min_energy_kwh {self.min_energy_kwh:g} is above max_energy_kwh "
                f"{self.max_energy_kwh:g}"
            )
        if self.replacement_year is not None and self.replacement_year >= self.lifetime_years:
            raise ValueError(
                f"the replacement year {self.replacement_year} is not inside the lifetime of "
                f"{self.lifetime_years} years: the battery would be retired before it is "
                "replaced; raise lifetime_years or move replacement_year earlier"
            )
        if self.unit_energy_kwh is not None and self.unit_energy_kwh > self.max_energy_kwh:
            raise ValueError(
                f"one unit of {self.unit_energy_kwh:g} kWh is more than max_energy_kwh "
                f"{self.max_energy_kwh:g}"
            )
        return self


class Finance(Strict):
    """Discounting and escalation for sizing and for valuing the investment.

    Annualized capital cost of a candidate: ``capex x CRF(discount_rate, lifetime)``,
    the capital recovery factor :math:`r (1+r)^n / ((1+r)^n - 1)` (``1/n`` at r = 0).
    """

    discount_rate: float = Field(description="real discount rate [-/year]")
    analysis_years: Years = 20
    tariff_escalation_fraction_per_year: Annotated[float, Field(ge=-0.1, le=0.2)] = 0.0
    om_escalation_fraction_per_year: Annotated[float, Field(ge=-0.1, le=0.2)] = 0.0

    @model_validator(mode="after")
    def _rate(self) -> Finance:
        lo, hi = DISCOUNT_RATE_RANGE
        if not lo <= self.discount_rate <= hi:
            raise ValueError(
                f"discount_rate {self.discount_rate:g} is outside the sane range "
                f"{lo:g}..{hi:g} per year; give it as a fraction (0.06 for 6 %)"
            )
        return self
