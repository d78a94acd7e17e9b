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

from typing import Annotated, Literal

from pydantic import Field, model_validator

from vpp.scenario.common import (
    CapexCnyPerKw,
    EnergyKwh,
    EnergyKwhOrZero,
    PowerKw,
    PowerKwOrZero,
    Strict,
)

__all__ = [
    "BatteryFade",
    "BatterySizing",
    "Debt",
    "Finance",
    "Ownership",
    "Planning",
    "PVSizing",
    "RepresentativePeriods",
    "Subsidy",
    "Tax",
]

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


#: The fade models of ``vpp/planning/data/battery-fade-models.yaml`` (a test keeps them equal).
FADE_MODELS = ("lfp-gr-250ah", "nmc111-gr-75ah")


class BatteryFade(Strict):
    """Capacity fade of a sized battery over the analysis period (:mod:`vpp.planning.fade`).

    The sized dispatch's state of charge and the cell temperature drive a published
    calendar and cycle fade model; the year is repeated over the analysis period. The
    cells are replaced when the capacity reaches ``end_of_life_fraction`` (or in the
    sizing's ``replacement_year`` when given, every that many years), at
    ``replacement_cny_per_kwh`` (or, when that is 0, ``capex_cny_per_kwh``); the
    battery's savings scale with its capacity left, and its residual value with its
    state of health. The sizing's objective does not see the fade: it chooses the sizes
    as without it (with ``replacement_year`` if given), and the fade values them.
    """

    model: Literal[FADE_MODELS] = Field(
        default="lfp-gr-250ah",
        description="fade model of the cell [-]: lfp-gr-250ah (LFP-graphite prismatic cell "
        "above 250 Ah, Gasper et al. 2023, J. Energy Storage 73, 109042) or nmc111-gr-75ah "
        "(NMC-graphite 75 Ah pouch cell, Smith et al. 2017, American Control Conference)",
    )
    temperature_c: Annotated[float, Field(ge=-30.0, le=60.0)] | Literal["ambient"] | None = Field(
        default=None,
        description="cell temperature [degC], -30 to 60, or 'ambient' (the site weather's "
        "air temperature, an unconditioned container); none: a conditioned container at "
        "the data file's cell temperature (25 degC, an assumption)",
    )
    end_of_life_fraction: Annotated[float, Field(ge=0.3, le=0.99)] | None = Field(
        default=None,
        description="capacity, as a share of nameplate, at which the cells are replaced [-], "
        "0.3 to 0.99; none: the data file's 0.8 (a convention, labelled illustrative)",
    )


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
    fade: BatteryFade | None = Field(
        default=None,
        description="Capacity fade over the analysis period from the sized dispatch's state of "
        "charge and temperature [-]: {model, temperature_c, end_of_life_fraction}; it sets "
        "the replacement year (unless replacement_year is given), scales the battery's "
        "savings and its residual value. None: no fade (the finance as before).",
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


Fraction = Annotated[float, Field(ge=0.0, le=1.0, description="[-], 0 to 1")]


class Ownership(Strict):
    """Who pays for the assets and who receives the savings (:mod:`vpp.planning.parties`).

    ``owner``: the host buys and runs the assets and keeps every saving. ``emc``: an
    energy-management contract (合同能源管理, shared savings): the investor pays the
    capital, replacements and O&M of years ``1..N_c`` and receives
    ``investor_share_of_savings`` of the savings of those years; the host keeps the rest,
    and every saving after year ``N_c``, when the assets pass to it for nothing (it pays
    the later O&M, re-purchases and replacements and receives the residual value).
    """

    model: Literal["owner", "emc"] = Field(
        default="owner", description="owner-financed or energy-management contract [-]"
    )
    investor_share_of_savings: Fraction | None = Field(
        default=None, description="share of the savings paid to the investor (emc) [-], 0 to 1"
    )
    years: Annotated[int, Field(ge=1, le=60)] | None = Field(
        default=None, description="contract length N_c (emc), at most analysis_years [years]"
    )

    @model_validator(mode="after")
    def _emc(self) -> Ownership:
        given = self.investor_share_of_savings is not None, self.years is not None
        if self.model == "emc" and not all(given):
            raise ValueError(
                "ownership.model emc needs investor_share_of_savings and years, for example "
                "{model: emc, investor_share_of_savings: 0.8, years: 10}"
            )
        if self.model == "owner" and any(given):
            raise ValueError(
                "ownership.investor_share_of_savings and ownership.years apply to model emc "
                "only; remove them or set model: emc"
            )
        return self


class Tax(Strict):
    """VAT and enterprise income tax (:mod:`vpp.planning.tax`); a rate left out is taken
    from ``vpp/planning/data/tax-china.yaml`` (with its source)."""

    vat_goods_fraction: Fraction | None = Field(
        default=None, description="VAT on equipment and electricity [-], 0 to 1 (China 0.13)"
    )
    vat_services_fraction: Fraction | None = Field(
        default=None, description="VAT on the energy-service fee [-], 0 to 1 (China 0.06)"
    )
    income_tax_fraction: Fraction | None = Field(
        default=None, description="enterprise income tax rate [-], 0 to 1 (China 0.25)"
    )
    depreciation_years: Annotated[int, Field(ge=1, le=60)] | None = Field(
        default=None, description="straight-line tax depreciation period [years], 1 to 60"
    )
    salvage_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] | None = Field(
        default=None, description="tax salvage value as a share of the cost [-], 0 to below 1"
    )
    losses: Literal["carry_forward", "offset"] = Field(
        default="carry_forward",
        description="a year's tax loss carried forward against the project's later profits "
        "(at most loss_carry_forward_years; the project as a stand-alone taxpayer), or offset "
        "at once against the party's other profits (a profitable host) [-]",
    )
    loss_carry_forward_years: Annotated[int, Field(ge=0, le=60)] | None = Field(
        default=None, description="years a loss may be carried forward [years] (China 5)"
    )


class Subsidy(Strict):
    """A subsidy received by the owner of the assets; taxable income, outside VAT.

    ``per_kwh_discharged``: ``cny_per_kwh`` x the batteries' year-1 discharged energy, in
    years ``1..years``. ``per_kw``: ``cny_per_kw`` x the sized ``applies_to`` power (battery
    kW or PV kWp) in years ``1..years``. ``one_off``: ``cny`` in year 1.
    """

    kind: Literal["per_kwh_discharged", "per_kw", "one_off"] = Field(
        description="how the subsidy is counted [-]"
    )
    cny_per_kwh: Annotated[float, Field(ge=0.0, le=10.0)] | None = Field(
        default=None, description="per kWh discharged [CNY/kWh], 0 to 10"
    )
    cny_per_kw: Annotated[float, Field(ge=0.0, le=1e5)] | None = Field(
        default=None, description="per kW (per year of payment) [CNY/kW], 0 to 1e5"
    )
    cny: Annotated[float, Field(ge=0.0, le=1e10)] | None = Field(
        default=None, description="one-off amount [CNY], 0 to 1e10"
    )
    years: Annotated[int, Field(ge=1, le=60)] = Field(
        default=1, description="years paid, from year 1 (one_off: 1) [years]"
    )
    applies_to: Literal["battery", "pv"] | None = Field(
        default=None,
        description="whose power a per_kw subsidy counts [-]; only with kind per_kw, "
        "default battery",
    )

    @model_validator(mode="after")
    def _amount(self) -> Subsidy:
        need = {"per_kwh_discharged": "cny_per_kwh", "per_kw": "cny_per_kw", "one_off": "cny"}
        key = need[self.kind]
        extra = [k for k in need.values() if k != key and getattr(self, k) is not None]
        if getattr(self, key) is None or extra:
            raise ValueError(
                f"a subsidy of kind {self.kind} takes {key} (and not {extra or 'others'})"
            )
        if self.kind == "one_off" and self.years != 1:
            raise ValueError(f"a one_off subsidy is paid once: years must be 1, got {self.years}")
        if self.kind != "per_kw" and self.applies_to is not None:
            raise ValueError(
                f"applies_to goes with kind per_kw only; a {self.kind} subsidy "
                + (
                    "counts the batteries' discharged energy"
                    if self.kind == "per_kwh_discharged"
                    else "is one amount"
                )
                + ": remove applies_to"
            )
        return self


class Debt(Strict):
    """A loan for part of the year-0 capital, repaid in equal yearly annuities.

    Amount :math:`D = \\delta K_0`, payment :math:`D\\,\\mathrm{CRF}(i, T)`; interest
    :math:`i B_{y-1}` on the balance is deductible from taxable income.
    """

    share: Fraction = Field(description="share delta of the year-0 capital borrowed [-], 0 to 1")
    rate: Annotated[float, Field(ge=0.0, le=0.3)] = Field(
        description="nominal interest rate i [-/year], 0 to 0.3; discount with a nominal "
        "finance.discount_rate"
    )
    tenor_years: Annotated[int, Field(ge=1, le=60)] = Field(
        description="repayment period T, at most analysis_years [years]"
    )


class Finance(Strict):
    """Discounting and escalation for sizing and for valuing the investment.

    Annualized capital cost of a candidate: ``capex x CRF(discount_rate, lifetime)``,
    the capital recovery factor :math:`r (1+r)^n / ((1+r)^n - 1)` (``1/n`` at r = 0).
    ``ownership``, ``tax``, ``subsidies`` and ``debt`` add the finance by party
    (:mod:`vpp.planning.parties`); left out, the finance is the owner's, before tax, as
    before they existed.
    """

    discount_rate: float = Field(
        description="discount rate [-/year]: real when every amount is in today's money "
        "(the default finance); with tax or debt, whose depreciation and loan payments are "
        "nominal amounts, give a nominal rate and nominal escalations"
    )
    analysis_years: Years = Field(
        default=20, description="analysis period N of the cash flows [years], 1 to 60"
    )
    tariff_escalation_fraction_per_year: Annotated[float, Field(ge=-0.1, le=0.2)] = Field(
        default=0.0, description="yearly growth of the savings g [-/year], -0.1 to 0.2"
    )
    om_escalation_fraction_per_year: Annotated[float, Field(ge=-0.1, le=0.2)] = Field(
        default=0.0, description="yearly growth of the fixed O&M e [-/year], -0.1 to 0.2"
    )
    ownership: Ownership = Field(
        default_factory=Ownership, description="owner-financed or energy-management contract"
    )
    tax: Tax | None = Field(default=None, description="VAT and income tax; none: before tax")
    subsidies: list[Subsidy] = Field(
        default_factory=list, max_length=20, description="subsidies to the owner of the assets"
    )
    debt: Debt | None = Field(default=None, description="a loan for part of the capital")

    @property
    def by_party(self) -> bool:
        """Whether the finance by party is asked for (any of ownership emc, tax,
        subsidies, debt); without it the finance is today's, before tax."""
        return bool(self.ownership.model == "emc" or self.tax or self.subsidies or self.debt)

    @model_validator(mode="after")
    def _rate(self) -> Finance:
        lo, hi = DISCOUNT_RATE_RANGE
        if not lo <= self.discount_rate <= hi:
            raise ValueError(
                f"discount_rate {self.discount_rate:g} is outside the sane range "
                f"{lo:g}..{hi:g} per year; give it as a fraction (0.06 for 6 %)"
            )
        n = self.analysis_years
        if self.ownership.years is not None and self.ownership.years > n:
            raise ValueError(
                f"ownership.years {self.ownership.years} is longer than analysis_years {n}"
            )
        if self.debt is not None and self.debt.tenor_years > n:
            raise ValueError(
                f"debt.tenor_years {self.debt.tenor_years} is longer than analysis_years {n}"
            )
        for k, sub in enumerate(self.subsidies):
            if sub.years > n:
                raise ValueError(
                    f"subsidies[{k}].years {sub.years} is longer than analysis_years {n}"
                )
        return self


class RepresentativePeriods(Strict):
    """Size on typical days (:mod:`vpp.planning.typical`): ``days`` or ``weeks`` (7 days
    each) of typical days clustered with tsam, plus each month's net-load peak day."""

    days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        default=None, description="typical days N [days], 1 to 366"
    )
    weeks: Annotated[int, Field(ge=1, le=52)] | None = Field(
        default=None, description="typical weeks, sized as 7 x weeks typical days [weeks]"
    )
    compare_full: bool = Field(
        default=False,
        description="also size on the full horizon and report the size error [-] (slower)",
    )

    @model_validator(mode="after")
    def _one(self) -> RepresentativePeriods:
        if (self.days is None) == (self.weeks is None):
            raise ValueError("give exactly one of days and weeks")
        return self


class Planning(Strict):
    """Options of ``vpp size`` itself (not of the site)."""

    representative_periods: RepresentativePeriods | None = Field(
        default=None, description="size on typical days [-]; none: on every step of the horizon"
    )
