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

from vpp.scenario.common import (
    Efficiency,
    Fraction,
    Name,
    NonNegative,
    Positive,
    SeriesSpec,
    Strict,
    check_timezone,
    clock_minutes,
    step_minutes,
)
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
    "Battery",
    "CarportPV",
    "ClearSkyPV",
    "CurtailableLoad",
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
    "WeatherSpec",
    "clock_minutes",
    "step_minutes",
]


class HorizonSpec(Strict):
    """When the run starts, how long it lasts and its step."""

    start: dt.datetime
    end: dt.datetime | None = None
    days: Annotated[int, Field(gt=0, le=3660)] | None = None
    step: str = Field(default="1h", description="15min or 1h (any step that divides an hour)")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_is_midnight(cls, value: object) -> object:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime.combine(value, dt.time())
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
    peak_kw: Positive
    seed: int = 0


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
    energy_kwh: Positive
    charge_power_kw: Positive
    discharge_power_kw: Positive
    charge_efficiency: Efficiency = 0.95
    discharge_efficiency: Efficiency = 0.95
    soc_min_fraction: Fraction = 0.0
    soc_max_fraction: Fraction = 1.0
    soc_initial_fraction: Fraction = 0.5
    final_soc: Literal["at_least_initial", "equal_initial", "free"] = "at_least_initial"
    throughput_cost_cny_per_kwh: NonNegative = 0.0
    self_discharge_fraction_per_h: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0

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
    energy_kwh: Positive
    max_power_kw: Positive
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
    power_kw: NonNegative | SeriesSpec
    max_shed_fraction: Fraction = 1.0
    shed_cost_cny_per_kwh: NonNegative


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


class TouCalendar(Strict):
    """An inline time-of-use calendar: seasons by month, periods by clock time."""

    seasons: list[TouSeason]


class EnergyPrice(Strict):
    """The grid energy price: a TOU calendar with prices, or a price series [CNY/kWh].

    ``calendar`` is a built-in name (see ``vpp tariffs``) or an inline calendar;
    ``prices_cny_per_kwh`` maps each period to its price and overrides the
    calendar's own prices.
    """

    calendar: str | TouCalendar | None = None
    prices_cny_per_kwh: dict[str, float] | None = None
    series: SeriesSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> EnergyPrice:
        if (self.calendar is None) == (self.series is None):
            raise ValueError("give exactly one of 'calendar' or 'series'")
        if self.series is not None and self.prices_cny_per_kwh is not None:
            raise ValueError("'prices_cny_per_kwh' goes with 'calendar', not with 'series'")
        return self


class Grid(Strict):
    """The grid connection: limits, energy tariff, export price and demand charge."""

    import_limit_kw: Positive | None = None
    export_limit_kw: NonNegative = 0.0
    energy_price: EnergyPrice
    export_price_cny_per_kwh: float | SeriesSpec = 0.0
    demand_charge_cny_per_kw_month: NonNegative = 0.0


class Site(Strict):
    """One site: its load, PV arrays, batteries, flexible loads and grid connection."""

    name: Name = "site"
    location: SiteLocation = SiteLocation()
    weather: WeatherSpec = WeatherSpec()
    load: LoadSpec
    pv: list[PVArray] = []
    batteries: list[Battery] = []
    flexible_loads: list[FlexibleLoad] = []
    grid: Grid

    @model_validator(mode="after")
    def _unique_names(self) -> Site:
        names = (
            [a.name for a in self.pv]
            + [b.name for b in self.batteries]
            + [f.name for f in self.flexible_loads]
        )
        reserved = {"grid", "load"}
        clashes = sorted({n for n in names if names.count(n) > 1 or n in reserved})
        if clashes:
            raise ValueError(
                f"asset names must be unique and not 'grid' or 'load'; clashing: {clashes}"
            )
        return self


class Scenario(Strict):
    """A single-site dispatch scenario."""

    name: Name
    description: str = ""
    timezone: str = "Asia/Shanghai"
    horizon: HorizonSpec
    site: Site

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        check_timezone(value)
        return value
