"""Scenario schema of green power, certificates, emissions and the carbon price.

These are the site keys ``green_contracts``, ``renewable_target``, ``emissions`` and
``carbon_price`` (see :class:`vpp.scenario.schema.Site`). Activity data and economic
figures are per year; a run counts them times its horizon's share of a year
(:mod:`vpp.emissions.period`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from vpp.errors import short
from vpp.scenario.common import (
    CostCnyPerKwh,
    CostCnyPerMwh,
    Fraction,
    Name,
    SeriesSpec,
    Strict,
)

__all__ = [
    "Activity",
    "CarbonPrice",
    "Economics",
    "EmissionsSpec",
    "FactorChoice",
    "GreenContract",
    "PreAssessment",
    "RenewableTarget",
]

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
Carrier = Literal["electricity", "natural_gas", "diesel", "heat"]


def _upto(high: float, unit: str, *, positive: bool = False) -> object:
    """A float type from 0 (excluded when ``positive``) to ``high`` [``unit``]."""
    low = {"gt": 0.0} if positive else {"ge": 0.0}
    return Annotated[float, Field(**low, le=high, description=f"[{unit}], at most {high:g}")]


Mwh = _upto(1e7, "MWh")
FactorElectricity = _upto(10.0, "kgCO2/kWh")
FactorNaturalGas = _upto(100.0, "kgCO2/Nm3")
FactorDiesel = _upto(1e5, "kgCO2/t")
FactorHeat = _upto(1e4, "kgCO2/GJ")
Cny = _upto(1e15, "CNY", positive=True)
Nm3 = _upto(1e12, "Nm3")
Tonnes = _upto(1e9, "t")
Gj = _upto(1e12, "GJ")
IntensityThreshold = _upto(1e3, "tCO2/10^4 CNY", positive=True)
CnyPerT = _upto(1e5, "CNY/tCO2")


class GreenContract(Strict):
    """A green-power contract (绿电), delivered through the site's grid connection.

    Green energy is traded energy delivered over the grid: the energy taken is part of
    the metered grid import, paid at ``energy_price_cny_per_mwh`` +
    ``green_premium_cny_per_mwh`` instead of the TOU energy price, while the site still
    pays ``grid_fees_cny_per_kwh`` (transmission and distribution, government funds) on
    it. It counts as zero-emission in market-based accounting.

    The delivery is a ``profile`` (kW the contract can deliver in each step, such as a
    share of a wind or solar farm's output), ``monthly_mwh`` (contracted volume per
    calendar month, keyed ``YYYY-MM``), or both (then they must agree on every month
    inside the horizon). Without a profile, ``volume_shape`` says how a month's volume
    may be taken: ``flat`` (default: at most volume / hours of the month in each step, a
    baseload block) or ``free`` (the volume may be attributed to any steps of the month,
    such as the most expensive ones: an upper bound on the contract's value).
    ``settlement`` is ``hourly`` (take-or-pay per clock hour; needs a profile) or
    ``monthly`` (per calendar month). In each settlement period at least
    ``take_or_pay_fraction`` of the contracted volume is paid for: any shortfall is paid
    at ``shortfall_penalty_cny_per_mwh``.
    """

    name: Name = Field(
        description="Name of the contract, unique on the site; it prefixes its schedule columns."
    )
    profile: SeriesSpec | None = Field(
        default=None,
        description="Power the contract can deliver in each step [kW], a series (such as a "
        "share of a wind or solar farm's output).",
    )
    monthly_mwh: dict[str, Mwh] | None = Field(
        default=None,
        description="Contracted volume per calendar month [MWh], keyed 'YYYY-MM' (quoted).",
    )
    volume_shape: Literal["flat", "free"] = Field(
        default="flat",
        description="Without a profile, how a month's volume may be taken: flat (at most "
        "volume / hours of the month in each step, a baseload block) or free (in any steps "
        "of the month: an upper bound on the contract's value).",
    )
    settlement: Literal["hourly", "monthly"] = Field(
        default="monthly",
        description="Take-or-pay period: hourly (per clock hour; needs a profile) or "
        "monthly (per calendar month).",
    )
    energy_price_cny_per_mwh: CostCnyPerMwh = Field(
        description="Energy price of the contract [CNY/MWh], paid instead of the TOU energy "
        "price on the energy taken."
    )
    green_premium_cny_per_mwh: CostCnyPerMwh = Field(
        description="Green premium on the energy taken [CNY/MWh]."
    )
    grid_fees_cny_per_kwh: CostCnyPerKwh = Field(
        description="Fees the site still pays on the energy taken (transmission and "
        "distribution, government funds) [CNY/kWh]."
    )
    take_or_pay_fraction: Fraction = Field(
        default=0.0,
        description="Share of the contracted volume paid for in each settlement period, "
        "taken or not [-].",
    )
    shortfall_penalty_cny_per_mwh: CostCnyPerMwh = Field(
        default=0.0,
        description="Price of the shortfall below take_or_pay_fraction of the volume [CNY/MWh].",
    )

    @field_validator("monthly_mwh")
    @classmethod
    def _months(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        bad = [k for k in (value or {}) if not _MONTH.fullmatch(str(k))]
        if bad:
            raise ValueError(
                f"monthly volumes must be keyed by month as 'YYYY-MM' (quoted), got {short(bad)}"
            )
        return value

    @model_validator(mode="after")
    def _delivery(self) -> GreenContract:
        if self.profile is None and self.monthly_mwh is None:
            raise ValueError("give a delivery 'profile' (kW series), 'monthly_mwh', or both")
        if self.settlement == "hourly" and self.profile is None:
            raise ValueError(
                "hourly settlement needs a delivery 'profile' (kW series); "
                "with monthly volumes only, use settlement: monthly"
            )
        return self


class RenewableTarget(Strict):
    """A renewable-share target, met by green supply and green certificates (GEC, 绿证).

    ``basis: annual`` is volume matching over the horizon (the year, for a one-year
    run): green energy used on site plus certificates must reach ``fraction`` of the
    consumption. ``basis: hourly`` requires it in every step: on-site PV, green-contract
    energy and the discharge of stored green energy (batteries listed in
    ``green_storage``) must cover ``fraction`` of that step's consumption; certificates
    count only when ``certificates_count`` is true (default: true for annual, false
    for hourly). Certificates are bought at ``certificate_price_cny_per_mwh`` (one per
    MWh) and treated as continuous quantities (round up when buying).
    ``green_soc_initial_fraction`` is the green share of each listed battery's initial
    stored energy.
    """

    basis: Literal["annual", "hourly"] = Field(
        description="annual: volume matching over the horizon; hourly: the share in every step."
    )
    fraction: float = Field(
        description="Renewable share of the consumption to reach [-], 0 to 1 (0.3 for 30 %)."
    )
    certificate_price_cny_per_mwh: CostCnyPerMwh = Field(
        description="Price of a green certificate, one per MWh [CNY/MWh]."
    )
    certificates_count: bool | None = Field(
        default=None,
        description="Whether certificates count toward the target; default: true for "
        "annual, false for hourly.",
    )
    green_storage: list[Name] = Field(
        default=[],
        description="Batteries, by name, whose stored green energy counts as green supply "
        "when discharged (each gets a green state of charge).",
    )
    green_soc_initial_fraction: Fraction = Field(
        default=0.0,
        description="Green share of each listed battery's initial stored energy [-].",
    )

    @field_validator("fraction")
    @classmethod
    def _fraction(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"the target fraction {value:g} is outside 0..1; write a fraction "
                "(0.3 for 30 %), not a percent"
            )
        return value

    @property
    def certificates_allowed(self) -> bool:
        """Whether certificates count toward the target."""
        if self.certificates_count is None:
            return self.basis == "annual"
        return self.certificates_count


class FactorChoice(Strict):
    """Emission factor per carrier: a built-in name or a number in the carrier's unit.

    ``electricity`` [kgCO2/kWh] is the location-based grid factor (default
    ``grid-national-2023``); ``electricity_market_based`` is the factor of grey grid
    energy in market-based accounting (default: the same as ``electricity``, or the
    ``grid_factor_series`` when one is given); ``natural_gas`` [kgCO2/Nm3], ``diesel``
    [kgCO2/t], ``heat`` [kgCO2/GJ]. The built-in names and their sources are in
    ``vpp/emissions/data``.
    """

    electricity: str | FactorElectricity | None = Field(
        default=None,
        description="Location-based grid factor [kgCO2/kWh]: a built-in name or a number; "
        "default grid-national-2023. A grid_factor_series replaces it step by step.",
    )
    electricity_market_based: str | FactorElectricity | None = Field(
        default=None,
        description="Factor of grey grid energy in market-based accounting [kgCO2/kWh]: a "
        "built-in name or a number; default: the location-based factor (the "
        "grid_factor_series when given). When given, it is constant: the carbon price "
        "falls on it, not on the series.",
    )
    natural_gas: str | FactorNaturalGas | None = Field(
        default=None,
        description="Factor of natural gas [kgCO2/Nm3]: a built-in name or a number.",
    )
    diesel: str | FactorDiesel | None = Field(
        default=None, description="Factor of diesel [kgCO2/t]: a built-in name or a number."
    )
    heat: str | FactorHeat | None = Field(
        default=None,
        description="Factor of purchased heat [kgCO2/GJ]: a built-in name or a number.",
    )


class Activity(Strict):
    """Activity data per year: natural gas [Nm3/yr], diesel [t/yr], purchased heat [GJ/yr].

    A run counts them times its horizon's share of a year (:mod:`vpp.emissions.period`).
    """

    natural_gas_nm3: Nm3 = Field(default=0.0, description="Natural gas burnt per year [Nm3/yr].")
    diesel_t: Tonnes = Field(default=0.0, description="Diesel burnt per year [t/yr].")
    heat_gj: Gj = Field(default=0.0, description="Heat purchased per year [GJ/yr].")


class Economics(Strict):
    """Economic figures per year [CNY/yr]: gross output value and value added (counted
    over the horizon as the activity is)."""

    output_value_cny: Cny | None = Field(
        default=None, description="Gross output value per year [CNY/yr]."
    )
    value_added_cny: Cny | None = Field(default=None, description="Value added per year [CNY/yr].")


class PreAssessment(Strict):
    """The carbon pre-assessment check: intensity against a threshold [tCO2/10^4 CNY]."""

    threshold_t_per_10k_cny: IntensityThreshold = Field(
        description="Largest carbon intensity that passes [tCO2/10^4 CNY]."
    )
    basis: Literal["output_value", "value_added"] = Field(
        description="Economic figure the intensity divides by: output_value or value_added."
    )
    accounting: Literal["location_based", "market_based"] = Field(
        default="location_based",
        description="Emissions the intensity counts: location_based or market_based.",
    )


class EmissionsSpec(Strict):
    """The site's carbon account: factors, an optional hourly grid factor, activity data.

    ``grid_factor_series`` [kgCO2/kWh] replaces the constant location-based grid factor
    step by step: in the location-based account, in the cost-carbon frontier of a
    sizing, and (when ``electricity_market_based`` is not given) as the market-based
    factor, so also in the carbon price. When ``electricity_market_based`` is given,
    the market-based factor, and so the carbon price, stays that constant: the series
    then changes the location-based account and the frontier only (a note says so).
    ``grid_factor_kind`` says whether the series (or a number given for
    ``factors.electricity``) holds average or marginal factors;
    the optimization uses both the same way, and the summary and report label the
    reductions with it. ``market_based_certificates``: whether green certificates
    lower market-based emissions (true, as in the GHG Protocol's Scope 2 market-based
    method; false for an accounting that recognises only green-power contracts). It
    also decides whether certificates lower the emissions a carbon price falls on.
    """

    factors: FactorChoice = Field(
        default=FactorChoice(),
        description="Emission factor per carrier: built-in names or numbers (units per carrier).",
    )
    grid_factor_series: SeriesSpec | None = Field(
        default=None,
        description="Grid emission factor per step [kgCO2/kWh], a series (hourly average "
        "or marginal factors from a file): replaces the constant location-based factor "
        "(and the market-based one unless factors.electricity_market_based is given).",
    )
    grid_factor_kind: Literal["average", "marginal"] = Field(
        default="average",
        description="What the grid factor series holds: average (the grid mix of each "
        "hour) or marginal (the emissions of the last kWh); used the same way, reported "
        "with the reductions.",
    )
    activity: Activity = Field(
        default=Activity(),
        description="Annual natural gas [Nm3/yr], diesel [t/yr] and heat [GJ/yr].",
    )
    economics: Economics = Field(
        default=Economics(),
        description="Annual output value and value added [CNY/yr] for the intensity.",
    )
    pre_assessment: PreAssessment | None = Field(
        default=None,
        description="The carbon pre-assessment check (intensity against a threshold); "
        "none by default.",
    )
    market_based_certificates: bool = Field(
        default=True,
        description="Whether green certificates lower market-based emissions (and the "
        "emissions a carbon price falls on).",
    )

    @model_validator(mode="after")
    def _figure_for_check(self) -> EmissionsSpec:
        check = self.pre_assessment
        if check is not None and getattr(self.economics, f"{check.basis}_cny") is None:
            raise ValueError(
                f"the pre-assessment is on {check.basis} but economics.{check.basis}_cny "
                "is not given; add it or change pre_assessment.basis"
            )
        given_number = isinstance(self.factors.electricity, (int, float))
        series = self.grid_factor_series is not None
        if self.grid_factor_kind == "marginal" and not (series or given_number):
            raise ValueError(
                "grid_factor_kind: marginal needs a grid_factor_series or a number for "
                "factors.electricity (the built-in annual factors are averages); give "
                "one or remove grid_factor_kind"
            )
        return self


class CarbonPrice(Strict):
    """A carbon price [CNY/tCO2] on market-based electricity and the declared fuels.

    With ``in_objective`` the optimizer minimises bill + carbon cost; otherwise the
    carbon cost is only reported. ``carriers`` are the carriers priced.
    """

    cny_per_t: CnyPerT = Field(description="Carbon price [CNY/tCO2].")
    in_objective: bool = Field(
        default=True,
        description="Whether the optimizer minimises bill + carbon cost; false: the carbon "
        "cost is only reported.",
    )
    carriers: list[Carrier] = Field(
        default=["electricity", "natural_gas", "diesel", "heat"],
        description="Carriers the price falls on (electricity: its market-based emissions).",
    )
