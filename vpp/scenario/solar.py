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

    kind: Literal["profile"]
    name: Name
    series: SeriesSpec


class ClearSkyPV(Strict):
    """A PV array from pvlib's clear sky at the site, scaled by a clearness factor.

    A quick stand-in where no weather is at hand: clear-sky irradiance on the plane of
    array times ``clearness_fraction``, PVWatts DC and inverter models.
    """

    #: The array's output does not depend on the weather.
    weather_driven: ClassVar[bool] = False

    kind: Literal["clearsky"]
    name: Name
    dc_capacity_kw: PowerKw
    tilt_deg: Tilt = 5.0
    azimuth_deg: Azimuth = 180.0
    dc_ac_ratio: DcAcRatio = 1.2
    losses_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.14
    clearness_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.62
    latitude_deg: Annotated[float, Field(ge=-90.0, le=90.0)] = 31.38
    longitude_deg: Annotated[float, Field(ge=-180.0, le=180.0)] = 120.48
    sizing: PVSizing | None = None


class Bifacial(Strict):
    """Bifacial modules under pvlib's infinite-sheds model."""

    bifaciality: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    height_m: Annotated[float, Field(gt=0.0, le=20.0)] = 3.0
    gcr: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.6
    module_width_m: Annotated[float, Field(gt=0.0, le=5.0)] = 2.0


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

    name: Name
    dc_capacity_kw: PowerKw
    tilt_deg: Tilt
    azimuth_deg: Azimuth = 180.0
    dc_ac_ratio: DcAcRatio | None = None
    ac_capacity_kw: PowerKw | None = None
    losses_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.14
    degradation_fraction_per_year: Annotated[float, Field(ge=0.0, le=0.1)] = 0.005
    commissioning_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    module: str | None = None
    inverter: str | None = None
    temperature_model: TemperatureModel | None = None
    albedo: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    sizing: PVSizing | None = None

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

    kind: Literal["rooftop"]
    tilt_deg: Tilt = 5.0


class CarportPV(_ModelledArray):
    """PV over a car park: open-rack mounting by default, optionally bifacial."""

    kind: Literal["carport"]
    tilt_deg: Tilt = 8.0
    bifacial: Bifacial | None = None


PVArray = Annotated[ProfilePV | ClearSkyPV | RooftopPV | CarportPV, Field(discriminator="kind")]
