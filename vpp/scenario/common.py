"""Building blocks shared by the scenario schema: strict models, units, series, clocks.

**Bounds.** As REopt gives every input a minimum and a maximum, every number of a
scenario has physical bounds, and NaN and infinity are refused everywhere (the base
model's ``allow_inf_nan=False``). The types below carry the bounds and the unit; a
field's own ``Field(description=...)`` adds its meaning. The upper bounds are far above
any park (10 GW, 100 GWh, 10 000 CNY/kWh) and far below what breaks the solver.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vpp.errors import short
from vpp.scenario.reach import check_inside

#: Largest number any scenario field takes, in its unit (REopt's "1e9" for no limit) [-].
LARGE = 1e9
#: Largest power [kW] (10 GW) and energy [kWh] (100 GWh) of an asset, a load or a limit.
MAX_POWER_KW = 1e7
MAX_ENERGY_KWH = 1e8
#: Largest energy price, cost or value per kWh, in absolute value [CNY/kWh].
MAX_PRICE_CNY_PER_KWH = 1e4
#: Largest price of a kW of demand per month [CNY/kW-month] or of capacity [CNY/kW].
MAX_RATE_CNY_PER_KW_MONTH = 1e4
MAX_CAPEX_CNY_PER_KW = 1e6

Fraction = Annotated[float, Field(ge=0.0, le=1.0, description="[-], 0 to 1")]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0, description="[-], above 0, at most 1")]
NonNegative = Annotated[float, Field(ge=0.0, le=LARGE)]
Positive = Annotated[float, Field(gt=0.0, le=LARGE)]
PowerKw = Annotated[float, Field(gt=0.0, le=MAX_POWER_KW, description="[kW], at most 1e7")]
PowerKwOrZero = Annotated[float, Field(ge=0.0, le=MAX_POWER_KW, description="[kW], 0 to 1e7")]
EnergyKwh = Annotated[float, Field(gt=0.0, le=MAX_ENERGY_KWH, description="[kWh], at most 1e8")]
EnergyKwhOrZero = Annotated[float, Field(ge=0.0, le=MAX_ENERGY_KWH, description="[kWh], 0 to 1e8")]
PriceCnyPerKwh = Annotated[
    float,
    Field(
        ge=-MAX_PRICE_CNY_PER_KWH, le=MAX_PRICE_CNY_PER_KWH, description="[CNY/kWh], -1e4 to 1e4"
    ),
]
CostCnyPerKwh = Annotated[
    float, Field(ge=0.0, le=MAX_PRICE_CNY_PER_KWH, description="[CNY/kWh], 0 to 1e4")
]
CostCnyPerMwh = Annotated[
    float, Field(ge=0.0, le=1000 * MAX_PRICE_CNY_PER_KWH, description="[CNY/MWh], 0 to 1e7")
]
RateCnyPerKwMonth = Annotated[
    float,
    Field(ge=0.0, le=MAX_RATE_CNY_PER_KW_MONTH, description="[CNY/kW-month], 0 to 1e4"),
]
CapexCnyPerKw = Annotated[
    float, Field(ge=0.0, le=MAX_CAPEX_CNY_PER_KW, description="[CNY/kW], 0 to 1e6")
]
Factor = Annotated[float, Field(ge=-100.0, le=100.0, description="[-], -100 to 100")]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="random seed, 0 to 2^32-1")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64)]

_CLOCK = re.compile(r"([01]\d|2[0-4]):([0-5]\d)")
_STEP = re.compile(r"^\s*(\d+)\s*(min|h)\s*$")


class Strict(BaseModel):
    """Base of every schema model: frozen, unknown keys rejected, NaN and infinity
    refused, text at most 4000 characters."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, str_max_length=4000)


def clock_minutes(text: str) -> int:
    """Minutes after midnight of an ``HH:MM`` clock time (``24:00`` allowed) [min]."""
    match = _CLOCK.fullmatch(text)
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"{short(text)} is not a clock time; write HH:MM from 00:00 to 24:00")
    return int(match.group(1)) * 60 + int(match.group(2))


class SeriesSpec(Strict):
    """A time series read from a CSV or Parquet file.

    The file holds a timestamp column (the first column unless ``timestamp_column``
    names it) labelling the start of each interval, and the value column ``column``.
    """

    file: Path = Field(
        description="CSV or Parquet file of the series; a relative path resolves against the "
        "scenario file's folder."
    )
    column: str = Field(
        description="Name of the value column, in the unit of the field the series stands "
        "for (kW for a power, CNY/kWh for a price)."
    )
    timestamp_column: str | None = Field(
        default=None,
        description="Name of the timestamp column, labelling the start of each interval; "
        "default: the first column.",
    )
    timezone: str | None = Field(
        default=None,
        description="Time zone of timezone-naive timestamps in the file; "
        "without it, naive timestamps are an error.",
    )
    resample: Literal["none", "mean", "hold"] = Field(
        default="none",
        description="How a series at another step is brought to the horizon's step: "
        "'mean' averages finer data, 'hold' repeats coarser data; 'none' refuses.",
    )
    scale: Annotated[float, Field(ge=-1e6, le=1e6)] = Field(
        default=1.0, description="Factor the values are multiplied by [-]."
    )

    @field_validator("file")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_path(value, info)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return optional_timezone(value)


def resolve_path(value: Path | None, info: ValidationInfo) -> Path | None:
    """A relative path made absolute against the scenario file's folder (``base_dir``).

    With ``root`` in the validation context, the path must lie inside that project
    folder (:mod:`vpp.scenario.reach`).
    """
    context = info.context or {}
    base = context.get("base_dir")
    if value is not None and base is not None and not value.is_absolute():
        value = Path(base) / value
    if value is not None:
        check_inside(value, context.get("root"))
    return value


def optional_timezone(value: str | None) -> str | None:
    """Check an optional IANA time-zone name."""
    if value is not None:
        check_timezone(value)
    return value


def check_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
        raise ValueError(
            f"unknown time zone {short(value)}; use an IANA name such as Asia/Shanghai"
        ) from None


def check_currency(value: str) -> str:
    """A currency code: three upper-case letters (ISO 4217, such as CNY, USD, EUR)."""
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(
            f"'{value}' is not a currency code: give three upper-case letters "
            "(ISO 4217, such as CNY, USD, EUR)"
        )
    return value


def step_minutes(text: str) -> int:
    """Length of a step written as ``15min`` or ``1h`` [min]; it must divide an hour."""
    match = _STEP.match(str(text))
    if not match:
        raise ValueError(f"step {short(text)} is not understood; write 15min or 1h")
    minutes = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
    if minutes <= 0 or (minutes < 60 and 60 % minutes) or (minutes > 60) or minutes == 0:
        raise ValueError(
            f"step {short(text)} does not divide an hour; use 15min or 1h "
            "(5, 10, 15, 20 and 30 min also work)"
        )
    return minutes
