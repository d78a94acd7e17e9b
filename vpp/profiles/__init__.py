"""Synthetic profiles: factory loads and air temperature for Suzhou (built-in data are files)."""

from vpp.profiles.synthetic import (
    PROFILES,
    is_working_day,
    suzhou_temperature_c,
    synthetic_load_kw,
    working_days,
)

__all__ = [
    "PROFILES",
    "is_working_day",
    "suzhou_temperature_c",
    "synthetic_load_kw",
    "working_days",
]
