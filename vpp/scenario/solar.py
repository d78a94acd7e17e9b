"""Scenario schema for PV: arrays (profile, clear sky, rooftop, carport), weather, location."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from vpp.scenario.common import (
    Name,
    PowerKw,
    SeriesSpec,
    Strict,
    optional_timezone,
    resolve_path,
)
from vpp.scenario.planning import PVSizing

Tilt = Annotated[float, Field(ge=0.0, le=90.0)]
Azimuth = Annotated[float, Field(ge=0.0, lt=360.0)]
DcAcRatio = Annotated[float, Field(gt=0.0, le=10.0, description="[-], above 0, at most 10")]

#: pvlib SAPM cell-temperature parameter sets a user may name.
TemperatureModel = Literal[
    "open_rack_glass_glass",
    "close_mount_glass_glass",
    "open_rack_glass_polymer",
    "insulated_back_glass_polymer",
]


class SiteLocation(Strict):
    """Where the site is: for sun position and clear sky (default: Xushuguan, Suzhou)."""

    latitude_deg: Annotated[float, Field(ge=-90.0, le=90.0)] = 31.38
    longitude_deg: Annotated[float, Field(ge=-180.0, le=180.0)] = 120.48
    altitude_m: Annotated[float, Field(ge=-500.0, le=9000.0)] = 5.0


class WeatherSpec(Strict):
    """The weather that modelled arrays see.

    ``source: suzhou-typical-year`` (default) uses the built-in typical year, generated
    deterministically (see :mod:`vpp.solar.typical_year`); ``source: file`` reads
    ``file`` in ``format``. Typical-year files are re-mapped onto the horizon's year.
    """

    source: Literal["suzhou-typical-year", "file"] = "suzhou-typical-year"
    file: Path | None = None
    format: Literal["epw", "tmy3", "pvgis", "psm3", "csv"] | None = None
    timezone: str | None = Field(
        default=None, description="Time zone of naive timestamps in a csv weather file."
    )
    interval_label: Literal["start", "end", "instant"] | None = Field(
        default=None,
        description="What a csv file's timestamps label: the start or the end of the "
        "interval they average, or an instant. Other formats define their own.",
    )
    max_gap_steps: Annotated[int, Field(ge=0, le=24)] = Field(
        default=3,
        description="Gaps up to this many steps are filled by interpolation and "
        "reported; longer gaps are refused.",
    )

    @field_validator("file")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return resolve_path(value, info)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return optional_timezone(value)

    @model_validator(mode="after")
    def _file_needs_format(self) -> WeatherSpec:
        if self.source == "file" and (self.file is None or self.format is None):
            raise ValueError(
                "source 'file' needs 'file' and 'format' (epw, tmy3, pvgis, psm3, csv)"
            )
        if self.source != "file" and self.file is not None:
            raise ValueError("'file' is only read with source: file")
        if self.interval_label is not None and self.format != "csv":
            raise ValueError("'interval_label' applies to csv weather files only")
        return self


class ProfilePV(Strict):
    """A PV array given as an AC power profile [kW]."""

    #: The array's output does not depend on the weather.
    weather_driven: ClassVar[bool] = False

    kind: Literal["profile"] = Field(
        description="profile: an array given as a measured or forecast AC power series."
    )
    name: Name = Field(
        description="Name of the array, unique on the site; it prefixes its schedule columns."
    )
    series: SeriesSpec = Field(description="AC power of the array [kW], a series.")


class ClearSkyPV(Strict):
    """A PV array from pvlib's clear sky at the site, scaled by a clearness factor.

    A quick stand-in where no weather is at hand: clear-sky irradiance on the plane of
    array times ``clearness_fraction``, PVWatts DC and inverter models.
    """

    #: The array's output does not depend on the weather.
    weather_driven: ClassVar[bool] = False

    kind: Literal["clearsky"] = Field(
        description="clearsky: pvlib's clear sky at the array times a clearness factor, a "
        "stand-in where no weather is at hand."
    )
    name: Name = Field(
        description="Name of the array, unique on the site; it prefixes its schedule columns."
    )
    dc_capacity_kw: PowerKw = Field(
        description="DC nameplate at standard test conditions [kWp]; with sizing, the "
        "reference size the run is modelled at."
    )
    tilt_deg: Tilt = Field(default=5.0, description="Module tilt from horizontal [deg].")
    azimuth_deg: Azimuth = Field(
        default=180.0,
        description="Direction the modules face [deg], clockwise from north (180: south).",
    )
    dc_ac_ratio: DcAcRatio = Field(
        default=1.2, description="DC nameplate over the inverter's AC rating [-]."
    )
    losses_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.14,
        description="DC losses (soiling, wiring, mismatch, availability) [-].",
    )
    clearness_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.62, description="Factor on the clear-sky GHI, DNI and DHI [-]."
    )
    latitude_deg: Annotated[float, Field(ge=-90.0, le=90.0)] = Field(
        default=31.38,
        description="Latitude of the array [deg], north positive (its own, not the site "
        "location's); default Xushuguan, Suzhou.",
    )
    longitude_deg: Annotated[float, Field(ge=-180.0, le=180.0)] = Field(
        default=120.48,
        description="Longitude of the array [deg], east positive; default Xushuguan, Suzhou.",
    )
    sizing: PVSizing | None = Field(
        default=None,
        description="Makes the array a sizing candidate: vpp size chooses its kWp within "
        "these limits; without it the array is existing (no capital cost).",
    )


class Bifacial(Strict):
    """Bifacial modules under pvlib's infinite-sheds model."""

    bifaciality: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.7, description="Rear-side efficiency relative to the front side [-]."
    )
    height_m: Annotated[float, Field(gt=0.0, le=20.0)] = Field(
        default=3.0, description="Height of the middle of the module rows above the ground [m]."
    )
    gcr: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        default=0.6,
        description="Ground coverage ratio: module width up the slope over row pitch [-].",
    )
    module_width_m: Annotated[float, Field(gt=0.0, le=5.0)] = Field(
        default=2.0,
        description="Width of a module row up the slope [m]; the pitch is module_width_m / gcr.",
    )


class _ModelledArray(Strict):
    """Fields shared by weather-driven arrays (PVWatts v8 practice by default).

    Give the inverter as ``dc_ac_ratio`` or ``ac_capacity_kw`` (default ratio 1.2).
    ``losses_fraction`` is the PVWatts system loss (soiling, wiring, mismatch, ...).
    Degradation applies from ``commissioning_year`` on, compounded yearly.
    ``module`` and ``inverter`` name entries of pvlib's bundled CEC databases; without
    them the PVWatts DC and inverter models are used.
    """

    #: The array's output is modelled from the weather with pvlib.
    weather_driven: ClassVar[bool] = True

    name: Name = Field(
        description="Name of the array, unique on the site; it prefixes its schedule columns."
    )
    dc_capacity_kw: PowerKw = Field(
        description="DC nameplate at standard test conditions [kWp]; with sizing, the "
        "reference size the run is modelled at."
    )
    tilt_deg: Tilt = Field(description="Module tilt from horizontal [deg].")
    azimuth_deg: Azimuth = Field(
        default=180.0,
        description="Direction the modules face [deg], clockwise from north (180: south).",
    )
    dc_ac_ratio: DcAcRatio | None = Field(
        default=None,
        description="DC nameplate over the inverter's AC rating [-]; give this or "
        "ac_capacity_kw (default: a ratio of 1.2).",
    )
    ac_capacity_kw: PowerKw | None = Field(
        default=None,
        description="Inverter AC rating [kW]; give this or dc_ac_ratio (not with sizing).",
    )
    losses_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.14,
        description="PVWatts system loss on DC (soiling, wiring, mismatch, ...) [-].",
    )
    degradation_fraction_per_year: Annotated[float, Field(ge=0.0, le=0.1)] = Field(
        default=0.005,
        description="DC output lost per year after commissioning_year, compounded [1/year].",
    )
    commissioning_year: Annotated[int, Field(ge=1990, le=2100)] | None = Field(
        default=None,
        description="Calendar year the array was commissioned [year]; later years are "
        "degraded; default: no degradation.",
    )
    module: str | None = Field(
        default=None,
        description="A module of pvlib's bundled CEC database, by name (CEC single-diode "
        "model); default: the PVWatts DC model.",
    )
    inverter: str | None = Field(
        default=None,
        description="An inverter of pvlib's bundled CEC database, by name (Sandia model); "
        "default: the PVWatts inverter.",
    )
    temperature_model: TemperatureModel | None = Field(
        default=None,
        description="pvlib SAPM cell-temperature parameter set; default by mounting: "
        "close_mount_glass_glass on roofs, open_rack_glass_polymer on carports "
        "(open_rack_glass_glass when bifacial).",
    )
    albedo: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.2, description="Ground reflectance [-], for the ground-reflected irradiance."
    )
    sizing: PVSizing | None = Field(
        default=None,
        description="Makes the array a sizing candidate: vpp size chooses its kWp within "
        "these limits; without it the array is existing (no capital cost).",
    )

    @model_validator(mode="after")
    def _inverter_size(self) -> _ModelledArray:
        if self.dc_ac_ratio is not None and self.ac_capacity_kw is not None:
            raise ValueError("give 'dc_ac_ratio' or 'ac_capacity_kw', not both")
        if self.sizing is not None and self.ac_capacity_kw is not None:
            raise ValueError(
                "an array with 'sizing' gives its inverter as 'dc_ac_ratio', so that the "
                "inverter grows with the array; replace ac_capacity_kw"
            )
        return self

    @property
    def ac_kw(self) -> float:
        """Inverter AC rating [kW]."""
        if self.ac_capacity_kw is not None:
            return self.ac_capacity_kw
        return self.dc_capacity_kw / (self.dc_ac_ratio or 1.2)


class RooftopPV(_ModelledArray):
    """PV on a factory roof: close-roof mounting by default (colour-steel roofs, 3-10 deg)."""

    kind: Literal["rooftop"] = Field(
        description="rooftop: PV on a factory roof, modelled from the site's weather."
    )
    tilt_deg: Tilt = Field(
        default=5.0,
        description="Module tilt from horizontal [deg]; colour-steel roofs are 3-10 deg.",
    )


class CarportPV(_ModelledArray):
    """PV over a car park: open-rack mounting by default, optionally bifacial."""

    kind: Literal["carport"] = Field(
        description="carport: PV over a car park, modelled from the site's weather."
    )
    tilt_deg: Tilt = Field(default=8.0, description="Module tilt from horizontal [deg].")
    bifacial: Bifacial | None = Field(
        default=None,
        description="Bifacial modules, under pvlib's infinite-sheds model; default: monofacial.",
    )


PVArray = Annotated[ProfilePV | ClearSkyPV | RooftopPV | CarportPV, Field(discriminator="kind")]
