"""The scenario schema: what a scenario YAML file may hold.

Every model is frozen and rejects unknown keys. Paths to series files are
resolved against the scenario file's folder when the scenario is loaded
(:func:`vpp.scenario.load_scenario` passes ``base_dir`` in the validation context).
Shared pieces live in :mod:`vpp.scenario.common`, PV arrays and weather in
:mod:`vpp.scenario.solar`, the grid connection and its tariff in :mod:`vpp.scenario.grid`.
Every field of an asset kind's model has a description with its unit in brackets;
``docs/assets.md`` tabulates them (``python docs/make_assets_doc.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from vpp.errors import short
from vpp.scenario.ageing import CycleAgeing
from vpp.scenario.common import (
    CostCnyPerKwh,
    Efficiency,
    EnergyKwh,
    Fraction,
    Name,
    PowerKw,
    PowerKwOrZero,
    Seed,
    SeriesSpec,
    Strict,
    check_currency,
    check_timezone,
    clock_minutes,
    step_minutes,
)
from vpp.scenario.deferrable import DeferrableLoad
from vpp.scenario.demand import DemandCharge
from vpp.scenario.ev import EVFleet
from vpp.scenario.genset import Genset
from vpp.scenario.green import CarbonPrice, EmissionsSpec, GreenContract, RenewableTarget
from vpp.scenario.grid import (
    BasicCharge,
    DerivedPrice,
    EnergyPrice,
    Grid,
    TouCalendar,
    TouDayRule,
    TouPeriod,
    TouPriceRule,
    TouSeason,
)
from vpp.scenario.operation import Operation
from vpp.scenario.planning import BatterySizing, Finance, Planning
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
    "DeferrableLoad",
    "DerivedPrice",
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
    "TouPeriod",
    "TouPriceRule",
    "TouSeason",
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

    profile: Literal["two_shift", "three_shift", "office"] = Field(
        default="two_shift",
        description="Shape of the load: two_shift (electronics, shifts 08:00-24:00), "
        "three_shift (continuous) or office (R&D offices, 08:00-18:00).",
    )
    peak_kw: PowerKw = Field(
        description="Largest value of the profile over the calendar year, at the run's step [kW]."
    )
    seed: Seed = Field(
        default=0,
        description="Seed of the profile's daily and slot noise [-]; the same seed gives "
        "the same load.",
    )


class LoadSpec(Strict):
    """The site's fixed load: a measured series or a synthetic profile."""

    series: SeriesSpec | None = Field(
        default=None,
        description="A measured load series [kW]; give this or synthetic.",
    )
    synthetic: SyntheticLoad | None = Field(
        default=None,
        description="A deterministic synthetic industrial load; give this or series.",
    )

    @model_validator(mode="after")
    def _one(self) -> LoadSpec:
        if (self.series is None) == (self.synthetic is None):
            raise ValueError("give exactly one of 'series' or 'synthetic'")
        return self


class FinalSocTarget(Strict):
    """A target for the battery's last state: ``{rule: equal | at_least, fraction: x}``
    or ``{rule: ..., kwh: x}`` (exactly one of ``fraction`` and ``kwh``)."""

    rule: Literal["equal", "at_least"] = Field(
        description="Rule on the last state [-]: equal: the target; at_least: at least the target."
    )
    fraction: Fraction | None = Field(
        default=None,
        description="Target as a share of energy_kwh [-]; within soc_min_fraction to "
        "soc_max_fraction.",
    )
    kwh: Annotated[float, Field(ge=0.0, le=1e8)] | None = Field(
        default=None,
        description="Target as stored energy [kWh]; within soc_min_fraction and "
        "soc_max_fraction x energy_kwh; not with sizing (give fraction).",
    )

    @model_validator(mode="after")
    def _one_target(self) -> FinalSocTarget:
        if (self.fraction is None) == (self.kwh is None):
            raise ValueError(
                "give exactly one of fraction and kwh, e.g. {rule: at_least, fraction: 0.8}"
            )
        return self


#: ``final_soc`` strings and the rule they stand for (the target: the initial state).
FINAL_SOC_RULES = {"at_least_initial": "at_least", "equal_initial": "equal", "free": "free"}


class Battery(Strict):
    r"""A battery energy storage system.

    ``final_soc`` is the rule on the last state :math:`S_N`: ``at_least_initial``
    (default), ``equal_initial``, ``free``, or a target ``{rule: equal | at_least,
    fraction: x}`` / ``{rule: ..., kwh: x}`` (:meth:`final_rule`,
    :meth:`final_target_kwh`).

    Self-discharge, at most one of two conventions, with :math:`\Delta t` the run's step
    [h]: ``self_discharge_fraction_per_h`` :math:`\sigma` (per hour, compounded:
    :math:`S_{t+1} = (1-\sigma)^{\Delta t} S_t + \dots`, as PyPSA's ``standing_loss``
    and oemof-solph's ``loss_rate``, both per hour and compounded over the step) or
    ``storage_efficiency_per_step`` :math:`\eta^s` (per step of the run:
    :math:`S_{t+1} = \eta^s S_t + \dots`, as FlexMeasures' ``storage-efficiency``, given
    per step of the schedule's resolution). They agree when
    :math:`\eta^s = (1-\sigma)^{\Delta t}`.
    """

    name: Name = Field(
        description="Name of the battery, unique on the site; it prefixes its schedule "
        "columns (bess_charge_kw)."
    )
    energy_kwh: EnergyKwh = Field(
        description="Energy capacity [kWh]; with sizing, the reference size the run is modelled at."
    )
    charge_power_kw: PowerKw = Field(description="Largest charging power, bus side [kW].")
    discharge_power_kw: PowerKw = Field(description="Largest discharging power, bus side [kW].")
    combined_power_kw: PowerKw | None = Field(
        default=None,
        description="Largest charge plus discharge power in one step, bus side [kW] (a "
        "shared converter: charge_kw + discharge_kw <= combined_power_kw); none: no such "
        "limit.",
    )
    charge_efficiency: Efficiency = Field(
        default=0.95, description="Energy stored per energy charged from the bus [-]."
    )
    discharge_efficiency: Efficiency = Field(
        default=0.95, description="Energy delivered to the bus per energy taken from storage [-]."
    )
    soc_min_fraction: Fraction = Field(
        default=0.0,
        description="Lowest state of charge, as a share of energy_kwh [-]; below soc_max_fraction.",
    )
    soc_max_fraction: Fraction = Field(
        default=1.0, description="Highest state of charge, as a share of energy_kwh [-]."
    )
    soc_initial_fraction: Fraction = Field(
        default=0.5,
        description="State of charge at the start of the horizon, as a share of energy_kwh "
        "[-]; between soc_min_fraction and soc_max_fraction.",
    )
    final_soc: Literal["at_least_initial", "equal_initial", "free"] | FinalSocTarget = Field(
        default="at_least_initial",
        description="Rule on the state at the end of the horizon [-]: at_least_initial, "
        "equal_initial, free, or a target {rule: equal | at_least, fraction: x} or "
        "{rule: ..., kwh: x} within the state-of-charge bounds. Rolling runs hold the "
        "target in the window that ends at the horizon's end; earlier windows end at the "
        "initial state under the same rule.",
    )
    throughput_cost_cny_per_kwh: CostCnyPerKwh = Field(
        default=0.0,
        description="Wear cost per kWh through the battery, bus side, on the side "
        "throughput_cost_on names [CNY/kWh]; in the objective and the bill "
        "(battery_cost_cny).",
    )
    throughput_cost_on: Literal["discharge", "charge", "both"] = Field(
        default="discharge",
        description="Which energy throughput_cost_cny_per_kwh is paid on [-]: discharged "
        "(default), charged, or both (each kWh charged and each kWh discharged).",
    )
    self_discharge_fraction_per_h: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0,
        description="Share of the stored energy lost per hour, compounded over the step "
        "[1/h]: S_next = (1 - sigma)^dt_h x S + ... (as PyPSA's standing_loss and "
        "oemof-solph's loss_rate); 0: none. Not with storage_efficiency_per_step.",
    )
    storage_efficiency_per_step: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        default=None,
        description="Share of the stored energy kept over one step of the run [-]: "
        "S_next = eta_s x S + ... (as FlexMeasures' storage-efficiency); it depends on the "
        "step length: eta_s = (1 - sigma)^step_h; a park running the site file at another "
        "step converts it to eta_s ** (park_step_h / site_step_h), with a note. Not with "
        "self_discharge_fraction_per_h.",
    )
    cycle_ageing: CycleAgeing | None = Field(
        default=None,
        description="A cycle-depth ageing cost (Xu et al. 2018): {segments: J, "
        "cost_cny_per_kwh: [c_1..c_J]} or {segments: J, replacement_cny_per_kwh: R, "
        "cycle_life_at_dod: {depth: cycles}} [CNY/kWh discharged at the bus, by depth "
        "segment]; in the objective and the bill (battery_cost_cny); not in rolling runs. "
        "None: no such cost (today's model).",
    )
    sizing: BatterySizing | None = Field(
        default=None,
        description="Makes the battery a sizing candidate: vpp size chooses its energy and "
        "power within these limits; without it the battery is existing (no capital cost).",
    )
    export_to_grid: bool = Field(
        default=True,
        description="false: the site exports at most its PV surplus, max(0, available PV - "
        "load) [kW], at each step (no battery energy to the grid); all batteries of a site "
        "give the same value.",
    )

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
        target = self.final_soc
        if not isinstance(target, str) and target.kwh is not None and self.sizing is not None:
            raise ValueError(
                f"final_soc.kwh {target.kwh} cannot be used with sizing (the energy is "
                "chosen): give final_soc.fraction instead, a share of the chosen energy"
            )
        return self

    @field_validator("final_soc")
    @classmethod
    def _final_within_bounds(cls, target: object, info: ValidationInfo) -> object:
        """A ``final_soc`` target within ``[soc_min_fraction, soc_max_fraction]`` (x
        ``energy_kwh`` for ``kwh``)."""
        if isinstance(target, str) or not isinstance(target, FinalSocTarget):
            return target
        lo, hi = info.data.get("soc_min_fraction"), info.data.get("soc_max_fraction")
        e = info.data.get("energy_kwh")
        if lo is None or hi is None or e is None:
            return target  # reported at its own key
        if target.fraction is not None and not lo <= target.fraction <= hi:
            raise ValueError(
                f"fraction {target.fraction} is outside the allowed range [{lo:g}, {hi:g}] "
                "(soc_min_fraction to soc_max_fraction): give a target within it or widen "
                "the bounds"
            )
        if target.kwh is not None and not lo * e - 1e-9 <= target.kwh <= hi * e + 1e-9:
            raise ValueError(
                f"kwh {target.kwh:g} is outside the allowed range [{lo * e:g}, {hi * e:g}] "
                "kWh (soc_min_fraction and soc_max_fraction x energy_kwh): give a target "
                "within it or widen the bounds"
            )
        return target

    @field_validator("storage_efficiency_per_step")
    @classmethod
    def _one_self_discharge(cls, eta_s: float | None, info: ValidationInfo) -> float | None:
        """At most one self-discharge convention."""
        sigma = info.data.get("self_discharge_fraction_per_h") or 0.0
        if eta_s is not None and sigma > 0.0:
            raise ValueError(
                f"give at most one of self_discharge_fraction_per_h ({sigma:g}, per hour) and "
                f"storage_efficiency_per_step ({eta_s:g}, per step): remove one; they agree "
                "when storage_efficiency_per_step = (1 - self_discharge_fraction_per_h) ** "
                "step_h"
            )
        return eta_s

    def final_rule(self) -> Literal["at_least", "equal", "free"]:
        """The rule on the last state: ``at_least``, ``equal`` or ``free``."""
        if isinstance(self.final_soc, str):
            return FINAL_SOC_RULES[self.final_soc]  # type: ignore[return-value]
        return self.final_soc.rule

    def final_target_kwh(self) -> float | None:
        """The scenario's target for the last state [kWh]; None for the string rules
        (their target is the state the run starts in)."""
        target = self.final_soc
        if isinstance(target, str):
            return None
        if target.kwh is not None:
            return float(target.kwh)
        return float(target.fraction) * self.energy_kwh


class ShiftableLoad(Strict):
    """An energy that must be served inside a daily window, at a limited power.

    The window runs from ``window_start`` to ``window_end`` (local clock); an end
    before the start crosses midnight. ``days`` is ``daily``, ``weekdays`` or a list
    of dates on which the window opens.
    """

    kind: Literal["shiftable"] = Field(
        description="shiftable: an energy served inside a daily window (flexible_loads "
        "entries are told apart by kind)."
    )
    name: Name = Field(
        description="Name of the load, unique on the site; it prefixes its schedule columns."
    )
    energy_kwh: EnergyKwh = Field(
        description="Energy to serve in each window [kWh]; a window cut by the horizon owes "
        "the share of it inside."
    )
    max_power_kw: PowerKw = Field(description="Largest power the load draws [kW].")
    window_start: str = Field(description="Local clock time the window opens [HH:MM].")
    window_end: str = Field(
        description="Local clock time the window closes [HH:MM]; an end before the start "
        "crosses midnight, and 00:00 to 24:00 is the whole day."
    )
    days: Literal["daily", "weekdays"] | list[dt.date] = Field(
        default="daily",
        description="Days the window opens: daily, weekdays (Monday to Friday) or a list of dates.",
    )

    @field_validator("window_start", "window_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_minutes(value)
        return value

    @field_validator("window_end")
    @classmethod
    def _window(cls, value: str, info: ValidationInfo) -> str:
        """A zero-length window (end at its start) is bad input; the key is window_end."""
        opens = info.data.get("window_start")  # absent when window_start itself is bad
        if opens is None:
            return value
        start, end = clock_minutes(opens), clock_minutes(value)
        if start % 1440 == end % 1440 and not (start == 0 and end == 1440):
            raise ValueError(
                f"the window is empty: window_end {short(value)} is window_start "
                f"{short(opens)}, so no step can serve the load's energy; widen the window "
                "(for a whole day write 00:00 to 24:00)"
            )
        return value


class CurtailableLoad(Strict):
    """A load [kW] of which up to ``max_shed_fraction`` may be shed at a cost."""

    kind: Literal["curtailable"] = Field(
        description="curtailable: a load that may be partly shed at a cost (flexible_loads "
        "entries are told apart by kind)."
    )
    name: Name = Field(
        description="Name of the load, unique on the site; it prefixes its schedule columns."
    )
    power_kw: PowerKwOrZero | SeriesSpec = Field(
        description="What the load draws unless shed [kW], on top of the site's load: a "
        "number or a series."
    )
    max_shed_fraction: Fraction = Field(
        default=1.0, description="Largest share of the load that may be shed in a step [-]."
    )
    shed_cost_cny_per_kwh: CostCnyPerKwh = Field(
        description="Cost of each kWh shed [CNY/kWh], in the objective and the bill."
    )


FlexibleLoad = Annotated[
    ShiftableLoad | CurtailableLoad | DeferrableLoad, Field(discriminator="kind")
]


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
    demand_charges: list[DemandCharge] = []
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
            + [g.name for g in self.gensets]
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
    currency: str = Field(
        default="CNY",
        description="Currency of every money amount of the scenario and its outputs: three "
        "upper-case letters (ISO 4217 code, such as CNY, USD, EUR). Keys and columns named "
        "`_cny` hold amounts in this currency; nothing is converted.",
    )
    horizon: HorizonSpec
    site: Site
    operation: Operation = Operation()
    finance: Finance | None = None
    planning: Planning | None = Field(
        default=None, description="options of the sizing (typical days) [-]; none: every step"
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        check_timezone(value)
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)
