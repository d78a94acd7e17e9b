"""Synthetic profiles: factory loads and air temperature for Suzhou (built-in data are files)."""

from vpp.profiles.synthetic import PROFILES, suzhou_temperature_c, synthetic_load_kw

__all__ = ["PROFILES", "suzhou_temperature_c", "synthetic_load_kw"]
