"""The scenario schema: what a scenario YAML file may hold.

Every model is frozen and rejects unknown keys. Paths to series files are
resolved against the scenario file's folder when the scenario is loaded
(:func:`vpp.scenario.load_scenario` passes ``base_dir`` in the validation context).
Shared pieces live in :mod:`vpp.scenario.common`, PV arrays and weather in
:mod:`vpp.scenario.solar`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from vpp.errors import short
from vpp.scenario.common import (
    CostCnyPerKwh,
    Efficiency,
    EnergyKwh,
    Factor,
    Fraction,
    Name,
    PowerKw,
    PowerKwOrZero,
    PriceCnyPerKwh,
    RateCnyPerKwMonth,
    Seed,
    SeriesSpec,
    Strict,
    check_timezone,
    clock_minutes,
    step_minutes,
)
from vpp.scenario.ev import EVFleet
from vpp.scenario.genset import Genset
from vpp.scenario.green import CarbonPrice, EmissionsSpec, GreenContract, RenewableTarget
from vpp.scenario.operation import Operation
from vpp.scenario.planning import BatterySizing, Finance
from vpp.scenario.solar import (
    CarportPV,
    ClearSkyPV,
    ProfilePV,
    PVArray,
    RooftopPV,
    SiteLocation,
    WeatherSpec,
)

__all__ = [
    "BasicCharge",
    "Battery",
    "CarportPV",
    "ClearSkyPV",
    "CurtailableLoad",
    "EVFleet",
    "EnergyPrice",
    "Grid",
    "HorizonSpec",
    "LoadSpec",
    "ProfilePV",
    "RooftopPV",
    "Scenario",
    "SeriesSpec",
    "ShiftableLoad",
    "Site",
    "SiteLocation",
    "SyntheticLoad",
    "TouCalendar",
    "TouDayRule",
    "WeatherSpec",
    "clock_minutes",
    "step_minutes",
]


#: Years a horizon may start and end in [-].
YEARS = (1970, 2200)


class HorizonSpec(Strict):
    """When the run starts (on the step grid, in :data:`YEARS`), how long it lasts, its step."""

    start: dt.datetime
    end: dt.datetime | None = None
    days: Annotated[int, Field(gt=0, le=3660)] | None = None
    step: str = Field(default="1h", description="15min or 1h (any step that divides an hour)")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_is_midnight(cls, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(
                f"{short(value)} is a number, not a time; write a date (2026-01-01) or a "
                "date and time (2026-01-01T08:00)"
            )
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime.combine(value, dt.time())
        return value

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
            raise ValueError(f"year {value.year} is outside {YEARS[0]}..{YEARS[1]}")
        return value

    @field_validator("step")
    @classmethod
    def _step(cls, value: str) -> str:
        step_minutes(value)
        return value

    @model_validator(mode="after")
    def _end_or_days(self) -> HorizonSpec:
        if (self.end is None) == (self.days is None):
            raise ValueError("give exactly one of 'end' or 'days'")
        minutes = step_minutes(self.step)
        if self.start.second or self.start.microsecond or self.start.minute % minutes:
            raise ValueError(
                f"start {self.start} is not on the grid of {self.step} steps; start on a "
                "whole step after the hour (08:00, 08:15, ...)"
            )
        if self.end is not None:
            if self.end <= self.start:
                raise ValueError(f"end {self.end} is not after start {self.start}")
            step = dt.timedelta(minutes=step_minutes(self.step))
            if (self.end - self.start) % step:
                raise ValueError(
                    f"the horizon from {self.start} to {self.end} is not a whole number of "
                    f"{self.step} steps; move 'end' onto the step grid"
                )
        return self


class SyntheticLoad(Strict):
    """A deterministic synthetic industrial load (see :mod:`vpp.profiles.synthetic`)."""

    profile: Literal["two_shift", "three_shift", "office"] = "two_shift"
    peak_kw: PowerKw
    seed: Seed = 0


class LoadSpec(Strict):
    """The site's fixed load: a measured series or a synthetic profile."""

    series: SeriesSpec | None = None
    synthetic: SyntheticLoad | None = None

    @model_validator(mode="after")
    def _one(self) -> LoadSpec:
        if (self.series is None) == (self.synthetic is None):
            raise ValueError("give exactly one of 'series' or 'synthetic'")
        return self


class Battery(Strict):
    """A battery energy storage system.

    ``final_soc`` is the rule on the last state: ``at_least_initial`` (default),
    ``equal_initial`` or ``free``.
    """

    name: Name
    energy_kwh: EnergyKwh
    charge_power_kw: PowerKw
    discharge_power_kw: PowerKw
    charge_efficiency: Efficiency = 0.95
    discharge_efficiency: Efficiency = 0.95
    soc_min_fraction: Fraction = 0.0
    soc_max_fraction: Fraction = 1.0
    soc_initial_fraction: Fraction = 0.5
    final_soc: Literal["at_least_initial", "equal_initial", "free"] = "at_least_initial"
    throughput_cost_cny_per_kwh: CostCnyPerKwh = 0.0
    self_discharge_fraction_per_h: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    sizing: BatterySizing | None = None

    @model_validator(mode="after")
    def _soc_order(self) -> Battery:
        if self.soc_min_fraction >= self.soc_max_fraction:
            raise ValueError(
                f"soc_min_fraction {self.soc_min_fraction} must be below "
                f"soc_max_fraction {self.soc_max_fraction}"
            )
        if not self.soc_min_fraction <= self.soc_initial_fraction <= self.soc_max_fraction:
            raise ValueError(
                f"soc_initial_fraction {self.soc_initial_fraction} must lie between "
                f"soc_min_fraction {self.soc_min_fraction} and "
                f"soc_max_fraction {self.soc_max_fraction}"
            )
        return self


class ShiftableLoad(Strict):
    """An energy that must be served inside a daily window, at a limited power.

    The window runs from ``window_start`` to ``window_end`` (local clock); an end
    before the start crosses midnight. ``days`` is ``daily``, ``weekdays`` or a list
    of dates on which the window opens.
    """

    kind: Literal["shiftable"]
    name: Name
    energy_kwh: EnergyKwh
    max_power_kw: PowerKw
    window_start: str
    window_end: str
    days: Literal["daily", "weekdays"] | list[dt.date] = "daily"

    @field_validator("window_start", "window_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_minutes(value)
        return value

    @model_validator(mode="after")
    def _window(self) -> ShiftableLoad:
        start, end = clock_minutes(self.window_start), clock_minutes(self.window_end)
        if start % 1440 == end % 1440 and not (start == 0 and end == 1440):
            raise ValueError(
                "window_start and window_end are the same time; for a whole day write "
                "00:00 to 24:00"
            )
        return self


class CurtailableLoad(Strict):
    """A load [kW] of which up to ``max_shed_fraction`` may be shed at a cost."""

    kind: Literal["curtailable"]
    name: Name
    power_kw: PowerKwOrZero | SeriesSpec
    max_shed_fraction: Fraction = 1.0
    shed_cost_cny_per_kwh: CostCnyPerKwh


FlexibleLoad = Annotated[ShiftableLoad | CurtailableLoad, Field(discriminator="kind")]


class TouPeriod(Strict):
    """One time-of-use period of a season: a name and a clock interval."""

    period: Name
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_minutes(value)
        return value


class TouSeason(Strict):
    """The months a set of TOU periods applies to."""

    name: Name
    months: list[Annotated[int, Field(ge=1, le=12)]]
    periods: list[TouPeriod]


class TouDayRule(Strict):
    """Days with periods of their own: weekends, public holidays or every day of some months.

    On the days picked (``days``, limited to ``months`` and, for ``holidays``, to the
    ``holidays`` named), ``periods`` replace the season's periods in their clock
    intervals (the rest of the day keeps the season's), or ``season`` gives the whole day
    another season's periods. Rules apply in order; a later one wins. ``default`` says
    whether the rule applies when ``energy_price.day_rules`` does not name it. See
    :mod:`vpp.tariffs.rules`.
    """

    name: Name
    days: Literal["every_day", "weekends", "holidays"]
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = None
    holidays: list[Name] | None = None
    periods: list[TouPeriod] | None = None
    season: Name | None = None
    default: bool = True
    source: str | None = None

    @model_validator(mode="after")
    def _one(self) -> TouDayRule:
        if (self.periods is None) == (self.season is None):
            raise ValueError("give exactly one of 'periods' or 'season'")
        if self.holidays is not None and self.days != "holidays":
            raise ValueError("'holidays' goes with 'days: holidays'")
        return self


class TouPriceRule(Strict):
    """Period price = purchase price x the period's coefficient + fixed adders [CNY/kWh]."""

    purchase_cny_per_kwh: PriceCnyPerKwh
    coefficients: dict[Name, Annotated[float, Field(ge=0.0, le=100.0)]] = Field(
        description="each period's multiple of the purchase price [-], 0 to 100"
    )
    fixed_adders_cny_per_kwh: PriceCnyPerKwh = 0.0
    source: str | None = None


class DerivedPrice(Strict):
    """A period priced from others: ``sum(factor x price of period)`` [CNY/kWh]."""

    terms: dict[Name, Factor] = Field(description="factor of each period's price [-]")
    source: str | None = None


class TouCalendar(Strict):
    """An inline time-of-use calendar: seasons by month, periods by clock time.

    Optional: ``day_rules``; its own prices (``prices_cny_per_kwh`` or ``price_rule``,
    else the energy price's ``prices_cny_per_kwh`` prices it), ``derived_prices``;
    ``source`` and validity dates (a run outside them gets a note in the summary).
    """

    seasons: list[TouSeason]
    day_rules: list[TouDayRule] = []
    prices_cny_per_kwh: dict[Name, PriceCnyPerKwh] | None = None
    price_rule: TouPriceRule | None = None
    derived_prices: dict[Name, DerivedPrice] | None = None
    source: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    @model_validator(mode="after")
    def _prices(self) -> TouCalendar:
        if self.prices_cny_per_kwh is not None and self.price_rule is not None:
            raise ValueError("give at most one of 'prices_cny_per_kwh' or 'price_rule'")
        return self


class EnergyPrice(Strict):
    """The grid energy price: a TOU calendar with prices, or a price series [CNY/kWh].

    ``calendar`` is a built-in name (see ``vpp tariffs``) or an inline calendar;
    ``prices_cny_per_kwh`` maps each period to its price and overrides the
    calendar's own prices; ``day_rules`` switches the calendar's day rules:
    ``{name: true | false | [dates]}`` (on every day the rule picks, off, or on those
    dates only).
    """

    calendar: str | TouCalendar | None = None
    prices_cny_per_kwh: dict[str, PriceCnyPerKwh] | None = None
    day_rules: dict[str, bool | list[dt.date]] | None = None
    series: SeriesSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> EnergyPrice:
        if (self.calendar is None) == (self.series is None):
            raise ValueError("give exactly one of 'calendar' or 'series'")
        if self.series is not None and self.prices_cny_per_kwh is not None:
            raise ValueError("'prices_cny_per_kwh' goes with 'calendar', not with 'series'")
        if self.series is not None and self.day_rules is not None:
            raise ValueError("'day_rules' goes with 'calendar', not with 'series'")
        return self


class BasicCharge(Strict):
    """The basic charge (基本电费) of a two-part tariff, and the data to compare its methods.

    ``method: demand`` bills the month's maximum demand at ``demand_cny_per_kw_month``
    or, with ``contracted_demand_kw`` C, bills C and doubles the rate on the demand
    above 1.05 C; ``method: capacity`` bills ``capacity_cny_per_kva_month`` x
    ``transformer_kva`` whatever the dispatch. The other method's figures, when given,
    only feed the summary's ``basic_charge_options``. See :mod:`vpp.tariffs.basic`.
    """

    method: Literal["demand", "capacity"] = "demand"
    demand_cny_per_kw_month: RateCnyPerKwMonth | None = None
    contracted_demand_kw: PowerKw | None = None
    capacity_cny_per_kva_month: Annotated[float, Field(ge=0.0, le=1e4)] | None = Field(
        None, description="[CNY/kVA-month], 0 to 1e4"
    )
    transformer_kva: Annotated[float, Field(gt=0.0, le=1e7)] | None = Field(
        None, description="[kVA], at most 1e7"
    )

    @model_validator(mode="after")
    def _complete(self) -> BasicCharge:
        if self.method == "demand" and self.demand_cny_per_kw_month is None:
            raise ValueError("method 'demand' needs 'demand_cny_per_kw_month' [CNY/kW-month]")
        if self.method == "capacity" and (
            self.capacity_cny_per_kva_month is None or self.transformer_kva is None
        ):
            raise ValueError(
                "method 'capacity' needs 'capacity_cny_per_kva_month' [CNY/kVA-month] and "
                "'transformer_kva' [kVA]"
            )
        return self


class Grid(Strict):
    """The grid connection: limits, energy tariff, export price and basic charge.

    ``export_limit_kw: 0`` (the default) means no export at all. The export price is a
    number, a series, or ``calendar`` (the built-in calendar's illustrative export
    price). ``demand_charge_cny_per_kw_month: d`` is shorthand for ``basic_charge:
    {method: demand, demand_cny_per_kw_month: d}``; give one or the other.
    """

    import_limit_kw: PowerKw | None = None
    export_limit_kw: PowerKwOrZero = 0.0
    energy_price: EnergyPrice
    export_price_cny_per_kwh: PriceCnyPerKwh | SeriesSpec | Literal["calendar"] = 0.0
    demand_charge_cny_per_kw_month: RateCnyPerKwMonth = 0.0
    basic_charge: BasicCharge | None = None

    @model_validator(mode="after")
    def _one_basic_charge(self) -> Grid:
        if self.basic_charge is not None and self.demand_charge_cny_per_kw_month > 0.0:
            raise ValueError(
                "give either 'demand_charge_cny_per_kw_month' or 'basic_charge', not both; "
                "write the rate as basic_charge.demand_cny_per_kw_month"
            )
        return self

    def basic_charge_spec(self) -> BasicCharge | None:
        """The basic charge in force: ``basic_charge``, or the shorthand rate, or None."""
        if self.basic_charge is not None:
            return self.basic_charge
        if self.demand_charge_cny_per_kw_month > 0.0:
            return BasicCharge(demand_cny_per_kw_month=self.demand_charge_cny_per_kw_month)
        return None


class Site(Strict):
    """One site: its load, PV arrays, batteries, flexible loads and grid connection.

    Green power, certificates and the carbon account (``green_contracts``,
    ``renewable_target``, ``emissions``, ``carbon_price``): see :mod:`vpp.scenario.green`.
    EV fleets (``ev_fleets``): see :mod:`vpp.scenario.ev`.
    """

    name: Name = "site"
    location: SiteLocation = SiteLocation()
    weather: WeatherSpec = WeatherSpec()
    load: LoadSpec
    pv: list[PVArray] = []
    batteries: list[Battery] = []
    flexible_loads: list[FlexibleLoad] = []
    ev_fleets: list[EVFleet] = []
    gensets: list[Genset] = []
    grid: Grid
    green_contracts: list[GreenContract] = []
    renewable_target: RenewableTarget | None = None
    emissions: EmissionsSpec = EmissionsSpec()
    carbon_price: CarbonPrice | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Site:
        names = (
            [a.name for a in self.pv]
            + [b.name for b in self.batteries]
            + [f.name for f in self.flexible_loads]
            + [e.name for e in self.ev_fleets]
            + [c.name for c in self.green_contracts]
        )
        reserved = {"grid", "load", "green", "carbon"}
        clashes = sorted({n for n in names if names.count(n) > 1 or n in reserved})
        if clashes:
            raise ValueError(
                "asset names must be unique and not 'grid', 'load', 'green' or 'carbon'; "
                f"clashing: {short(clashes, 300)}"
            )
        return self


class Scenario(Strict):
    """A single-site dispatch scenario."""

    name: Name
    description: str = ""
    timezone: str = "Asia/Shanghai"
    horizon: HorizonSpec
    site: Site
    operation: Operation = Operation()
    finance: Finance | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        check_timezone(value)
        return value
