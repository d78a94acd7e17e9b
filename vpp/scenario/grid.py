"""Scenario schema of the grid connection: limits, the energy tariff and the basic charge.

The energy price is a time-of-use calendar (built-in by name, or inline: seasons, day
rules, prices, price rules and derived prices; see :mod:`vpp.tariffs`) or a price
series. The basic charge (基本电费) of a two-part tariff bills demand or capacity
(:mod:`vpp.tariffs.basic`). The site key is ``grid`` (:class:`vpp.scenario.schema.Site`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from vpp.scenario.common import (
    Factor,
    Name,
    PowerKw,
    PowerKwOrZero,
    PriceCnyPerKwh,
    RateCnyPerKwMonth,
    SeriesSpec,
    Strict,
    clock_minutes,
)

__all__ = [
    "BasicCharge",
    "DerivedPrice",
    "EnergyPrice",
    "Grid",
    "TouCalendar",
    "TouDayRule",
    "TouPeriod",
    "TouPriceRule",
    "TouSeason",
]


class TouPeriod(Strict):
    """One time-of-use period of a season: a name and a clock interval."""

    period: Name = Field(
        description="Name of the period, a key of the prices (standard names: "
        "critical_peak, peak, flat, valley, deep_valley)."
    )
    start: str = Field(description="Local clock time the period starts [HH:MM], 00:00 to 24:00.")
    end: str = Field(
        description="Local clock time the period ends [HH:MM], excluded; 24:00 allowed, and "
        "an end before the start crosses midnight."
    )

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_minutes(value)
        return value


class TouSeason(Strict):
    """The months a set of TOU periods applies to."""

    name: Name = Field(description="Name of the season (a day rule's season may name it).")
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        description="Months the season applies to [-], 1 (January) to 12; the seasons cover "
        "every month a run touches, and no month twice."
    )
    periods: list[TouPeriod] = Field(
        description="The season's periods; together they cover the 24 hours exactly once."
    )


class TouDayRule(Strict):
    """Days with periods of their own: weekends, public holidays or every day of some months.

    On the days picked (``days``, limited to ``months`` and, for ``holidays``, to the
    ``holidays`` named), ``periods`` replace the season's periods in their clock
    intervals (the rest of the day keeps the season's), or ``season`` gives the whole day
    another season's periods. Rules apply in order; a later one wins. ``default`` says
    whether the rule applies when ``energy_price.day_rules`` does not name it. See
    :mod:`vpp.tariffs.rules`.
    """

    name: Name = Field(description="Name of the rule, as energy_price.day_rules switches it.")
    days: Literal["every_day", "weekends", "holidays"] = Field(
        description="Days the rule picks: every_day, weekends (Saturdays and Sundays) or "
        "holidays (the public holidays of vpp/profiles/data/cn-holidays.yaml)."
    )
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        default=None,
        description="Only days of these months [-], 1 (January) to 12; default: every month.",
    )
    holidays: list[Name] | None = Field(
        default=None,
        description="With days: holidays, only these holidays (names of cn-holidays.yaml, "
        "such as spring_festival); default: every public holiday.",
    )
    periods: list[TouPeriod] | None = Field(
        default=None,
        description="Periods that replace the season's in their clock intervals on the days "
        "picked (the rest of the day keeps the season's); give this or season.",
    )
    season: Name | None = Field(
        default=None,
        description="A season whose periods the whole day follows instead; give this or periods.",
    )
    default: bool = Field(
        default=True,
        description="Whether the rule applies when energy_price.day_rules does not name it.",
    )
    source: str | None = Field(
        default=None, description="Where the rule comes from (a tariff notice), for the record."
    )

    @model_validator(mode="after")
    def _one(self) -> TouDayRule:
        if (self.periods is None) == (self.season is None):
            raise ValueError("give exactly one of 'periods' or 'season'")
        if self.holidays is not None and self.days != "holidays":
            raise ValueError("'holidays' goes with 'days: holidays'")
        return self


class TouPriceRule(Strict):
    """Period price = purchase price x the period's coefficient + fixed adders [CNY/kWh]."""

    purchase_cny_per_kwh: PriceCnyPerKwh = Field(
        description="Purchase price that the coefficients multiply [CNY/kWh]."
    )
    coefficients: dict[Name, Annotated[float, Field(ge=0.0, le=100.0)]] = Field(
        description="Each period's multiple of the purchase price [-], keyed by period."
    )
    fixed_adders_cny_per_kwh: PriceCnyPerKwh = Field(
        default=0.0,
        description="Fixed adders on every period's price (such as transmission and "
        "distribution, government funds) [CNY/kWh].",
    )
    source: str | None = Field(
        default=None, description="Where the rule comes from (a tariff notice), for the record."
    )


class DerivedPrice(Strict):
    """A period priced from others: ``sum(factor x price of period)`` [CNY/kWh]."""

    terms: dict[Name, Factor] = Field(
        description="Factor of each period's price [-], keyed by period; the "
        "periods named are priced directly, not derived."
    )
    source: str | None = Field(
        default=None, description="Where the price comes from (a tariff notice), for the record."
    )


class TouCalendar(Strict):
    """An inline time-of-use calendar: seasons by month, periods by clock time.

    Optional: ``day_rules``; its own prices (``prices_cny_per_kwh`` or ``price_rule``,
    else the energy price's ``prices_cny_per_kwh`` prices it), ``derived_prices``;
    ``source`` and validity dates (a run outside them gets a note in the summary).
    """

    seasons: list[TouSeason] = Field(
        description="Seasons by month, each with its periods by clock time."
    )
    day_rules: list[TouDayRule] = Field(
        default=[],
        description="Days with periods of their own (weekends, holidays, some months), "
        "applied in order, a later rule winning; default none.",
    )
    prices_cny_per_kwh: dict[Name, PriceCnyPerKwh] | None = Field(
        default=None,
        description="The calendar's own price of each period [CNY/kWh], keyed by period; "
        "without it or price_rule, the energy price's prices_cny_per_kwh price the periods.",
    )
    price_rule: TouPriceRule | None = Field(
        default=None,
        description="Prices the periods from a purchase price instead; at most one of this "
        "and prices_cny_per_kwh.",
    )
    derived_prices: dict[Name, DerivedPrice] | None = Field(
        default=None,
        description="Periods priced from other periods' prices, keyed by period.",
    )
    source: str | None = Field(
        default=None,
        description="Where the calendar comes from (a tariff notice), shown in the summary.",
    )
    valid_from: dt.date | None = Field(
        default=None,
        description="First day the calendar is valid; a run starting before gets a note in "
        "the summary. Default: open.",
    )
    valid_to: dt.date | None = Field(
        default=None,
        description="Last day the calendar is valid; a run ending after gets a note in the "
        "summary. Default: open.",
    )

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

    calendar: str | TouCalendar | None = Field(
        default=None,
        description="A built-in calendar by name (vpp tariffs lists them) or an inline "
        "calendar; give this or series.",
    )
    prices_cny_per_kwh: dict[str, PriceCnyPerKwh] | None = Field(
        default=None,
        description="Price of each period [CNY/kWh], keyed by period; overrides the "
        "calendar's own prices, derived ones included.",
    )
    day_rules: dict[str, bool | list[dt.date]] | None = Field(
        default=None,
        description="Switches the calendar's day rules, keyed by rule name: true (on, on "
        "every day the rule picks), false (off) or a list of dates (on those dates only).",
    )
    series: SeriesSpec | None = Field(
        default=None,
        description="A price series [CNY/kWh] instead of a calendar; give this or calendar.",
    )

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

    method: Literal["demand", "capacity"] = Field(
        default="demand",
        description="How the basic charge is billed: demand (the month's maximum demand, or "
        "the contracted demand) or capacity (the transformer's, whatever the dispatch).",
    )
    demand_cny_per_kw_month: RateCnyPerKwMonth | None = Field(
        default=None,
        description="Demand rate on the month's maximum demand [CNY/kW-month]; "
        "needed with method: demand.",
    )
    contracted_demand_kw: PowerKw | None = Field(
        default=None,
        description="Contracted demand C [kW]: C is billed, and the demand above "
        "1.05 C at twice the rate; default: the actual maximum demand is billed.",
    )
    capacity_cny_per_kva_month: Annotated[float, Field(ge=0.0, le=1e4)] | None = Field(
        None,
        description="Capacity rate on transformer_kva [CNY/kVA-month]; needed with "
        "method: capacity, else only compared in the summary.",
    )
    transformer_kva: Annotated[float, Field(gt=0.0, le=1e7)] | None = Field(
        None,
        description="Transformer capacity the capacity method bills [kVA]; "
        "needed with method: capacity.",
    )
    month_to_date_peak_kw: PowerKwOrZero | None = Field(
        default=None,
        description="Maximum demand already metered in the run's first month [kW]: the "
        "first month's peak is billed at least at it (a run started mid-month pays only "
        "for a new peak); default: none.",
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

    import_limit_kw: PowerKw | SeriesSpec | None = Field(
        default=None,
        description="Largest import from the grid [kW]: a number or a series (one limit "
        "per step, e.g. a feeder schedule); default: unlimited.",
    )
    export_limit_kw: PowerKwOrZero | SeriesSpec = Field(
        default=0.0,
        description="Largest export to the grid [kW]: a number or a series (one limit per "
        "step); 0 (the default): no export.",
    )
    energy_price: EnergyPrice = Field(
        description="The grid energy price: a TOU calendar with prices, or a price series."
    )
    export_price_cny_per_kwh: PriceCnyPerKwh | SeriesSpec | Literal["calendar"] = Field(
        default=0.0,
        description="Price paid for exported energy [CNY/kWh]: a number, a "
        "series, or calendar (the built-in calendar's illustrative export price).",
    )
    demand_charge_cny_per_kw_month: RateCnyPerKwMonth = Field(
        default=0.0,
        description="Shorthand for basic_charge: {method: demand, demand_cny_per_kw_month: d} "
        "[CNY/kW-month]; 0: none. Give this or basic_charge.",
    )
    basic_charge: BasicCharge | None = Field(
        default=None,
        description="The basic charge of a two-part tariff, by demand or by capacity; "
        "give this or demand_charge_cny_per_kw_month.",
    )

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
