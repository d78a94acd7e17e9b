"""Building blocks shared by the scenario schema: strict models, units, series, clocks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64)]

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_STEP = re.compile(r"^\s*(\d+)\s*(min|h)\s*$")


class Strict(BaseModel):
    """Base of every schema model: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def clock_minutes(text: str) -> int:
    """Minutes after midnight of an ``HH:MM`` clock time (``24:00`` allowed) [min]."""
    match = _CLOCK.match(text)
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"'{text}' is not a clock time; write HH:MM from 00:00 to 24:00")
    return int(match.group(1)) * 60 + int(match.group(2))


class SeriesSpec(Strict):
    """A time series read from a CSV or Parquet file.

    The file holds a timestamp column (the first column unless ``timestamp_column``
    names it) labelling the start of each interval, and the value column ``column``.
    """

    file: Path
    column: str
    timestamp_column: str | None = None
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
    scale: float = Field(default=1.0, description="Factor applied to the values [-].")

    @field_validator("file")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_path(value, info)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return optional_timezone(value)


def resolve_path(value: Path | None, info: ValidationInfo) -> Path | None:
    """A relative path made absolute against the scenario file's folder (``base_dir``)."""
    base = (info.context or {}).get("base_dir")
    if value is not None and base is not None and not value.is_absolute():
        value = Path(base) / value
    return value


def optional_timezone(value: str | None) -> str | None:
    """Check an optional IANA time-zone name."""
    if value is not None:
        check_timezone(value)
    return value


def check_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{value}'; use an IANA name such as Asia/Shanghai"
        ) from None


def step_minutes(text: str) -> int:
    """Length of a step written as ``15min`` or ``1h`` [min]; it must divide an hour."""
    match = _STEP.match(str(text))
    if not match:
        raise ValueError(f"step '{text}' is not understood; write 15min or 1h")
    minutes = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
    if minutes <= 0 or (minutes < 60 and 60 % minutes) or (minutes > 60) or minutes == 0:
        raise ValueError(
            f"step '{text}' does not divide an hour; use 15min or 1h "
            "(5, 10, 15, 20 and 30 min also work)"
        )
    return minutes
