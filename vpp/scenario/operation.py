"""Scenario schema of how the site is operated: perfect foresight or a rolling horizon.

The key ``operation`` of a scenario (see :class:`vpp.scenario.schema.Scenario`). The
rolling horizon itself is :mod:`vpp.operation.rolling`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from vpp.scenario.common import Fraction, Seed, Strict, resolve_path

__all__ = ["Operation", "PVForecastError", "RollingSpec"]


class PVForecastError(Strict):
    r"""The documented synthetic error of PV forecasts on a weather year (``pv_forecast:
    synthetic``; :func:`vpp.assets.pv.forecast.synthetic_pv_forecast_kw`).

    The forecast issued at step :math:`s` for step :math:`t \ge s` is

    .. math::

        \hat P_t = \min\!\left(C_t,\; \max\!\left(0,\; P_t + \sigma(\ell_t)\, z_t\, C_t
        \right)\right), \qquad \sigma(\ell) = \sigma_0 + \sigma_1 \ell / 24\,\text{h}

    with :math:`P_t` the actual AC output, :math:`C_t` the array's clear-sky AC output,
    :math:`\ell_t` the lead time [h] and :math:`z` a standard-normal AR(1) series in time
    (coefficient ``correlation_per_h`` per hour), drawn afresh for every issue and shared
    by the site's arrays (one sky).
    """

    sigma_fraction: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.15, description="error std at lead 0, as a fraction of clear-sky output [-], 0 to 10"
    )
    sigma_growth_fraction_per_day: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.05, description="growth of the std per day of lead time [-/day], 0 to 10"
    )
    correlation_per_h: Fraction = Field(0.8, description="AR(1) coefficient per hour [-]")
    seed: Seed = 0


class RollingSpec(Strict):
    """A rolling horizon: re-optimize at a set hour on forecasts, settle on actuals."""

    reoptimize_hour: int = Field(
        0, description="local hour of the first re-optimization of each day, 0..23"
    )
    interval_h: Annotated[int, Field(gt=0, le=24)] = Field(
        24, description="hours between re-optimizations; divides 24"
    )
    lookahead_h: Annotated[float, Field(gt=0, le=24 * 31)] = Field(
        48.0,
        description="length of each optimization window [h], at least interval_h, at most 744 h",
    )
    load_forecast: Literal["persistence", "profile", "perfect"]
    profile_weeks: Annotated[int, Field(ge=1, le=8)] = 4
    pv_forecast: Literal["synthetic", "files", "perfect"] | None = None
    pv_forecast_folder: Path | None = Field(
        None,
        description="folder of weather-forecast files for pv_forecast: files "
        "(forecasts/README.md); relative to the scenario file",
    )
    pv_error: PVForecastError = PVForecastError()
    real_time_rule: Literal["follow_schedule", "peak_guard"] = Field(
        "peak_guard", description="how batteries settle forecast errors (vpp.operation.real_time)"
    )
    reuse_model: bool = Field(
        True, description="update one compiled model per window structure instead of rebuilding"
    )

    @field_validator("reoptimize_hour")
    @classmethod
    def _hour(cls, value: int) -> int:
        if not 0 <= value <= 23:
            raise ValueError(
                f"the re-optimization hour must be a local hour 0..23, got {value}; "
                "for midnight write 0"
            )
        return value

    @field_validator("interval_h")
    @classmethod
    def _interval(cls, value: int) -> int:
        if 24 % value:
            raise ValueError(
                f"the re-optimization interval must divide a day (1, 2, 3, 4, 6, 8, 12 or "
                f"24 h), got {value} h"
            )
        return value

    @field_validator("pv_forecast_folder")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return resolve_path(value, info)

    @model_validator(mode="after")
    def _folder(self) -> RollingSpec:
        if (self.pv_forecast == "files") != (self.pv_forecast_folder is not None):
            raise ValueError(
                "pv_forecast: files reads its forecasts from pv_forecast_folder: give both "
                "(for example pv_forecast_folder: ../forecasts), or neither"
            )
        return self

    @model_validator(mode="after")
    def _lookahead(self) -> RollingSpec:
        if self.lookahead_h < self.interval_h:
            raise ValueError(
                f"the look-ahead of {self.lookahead_h:g} h is shorter than the "
                f"re-optimization interval of {self.interval_h} h: the schedule would end "
                "before the next re-optimization; make lookahead_h at least interval_h "
                "(36 or 48 h is usual for a daily interval)"
            )
        return self


class Operation(Strict):
    """How the run is operated: ``perfect`` foresight (one optimization) or ``rolling``."""

    mode: Literal["perfect", "rolling"] = "perfect"
    rolling: RollingSpec | None = None
    mip_gap: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        1e-4,
        description="relative gap at which HiGHS's branch and cut stops [-], 0 to 1; used "
        "only when the model has integer variables (a deferrable load)",
    )
    mip_time_limit_s: Annotated[float, Field(gt=0.0, le=1e6)] = Field(
        60.0,
        description="time limit of a mixed-integer solve [s], at most 1e6; at the limit the "
        "best schedule found is the result, with its gap (summary solver.mip); the command's "
        "--time-limit, when shorter, wins",
    )

    @model_validator(mode="after")
    def _rolling_has_forecasts(self) -> Operation:
        if self.mode == "rolling" and self.rolling is None:
            raise ValueError(NO_FORECAST_SOURCE)
        return self


#: The message for a rolling run without forecasts (also raised by ``vpp run --mode rolling``).
NO_FORECAST_SOURCE = (
    "a rolling run needs a forecast source: add 'operation: rolling:' with load_forecast "
    "(persistence, profile or perfect) and, for a site with PV, pv_forecast (synthetic or "
    "perfect)"
)
