"""A site's telemetry channels: names, units and what a value may be.

The names are those of the daily job's telemetry files (``docs/telemetry.md``) so a
reading means the same in both places, plus the fuels of the carbon account
(:data:`vpp.emissions.accounting.FUEL_CARRIERS`) in their accounting units:

=======================  ======  =================================================
channel                  unit    meaning (each label is its interval's start)
=======================  ======  =================================================
``import_kw``            kW      metered grid import, step average, >= 0
``export_kw``            kW      metered grid export, step average, >= 0
``load_kw``              kW      site load, step average, >= 0
``<array>_pv_kw``        kW      measured PV of one array, >= 0
``<battery>_soc_kwh``    kWh     a battery's state of charge at the timestamp
``natural_gas_nm3``      Nm3     natural gas burnt in the interval, >= 0
``heat_gj``              GJ      purchased heat in the interval, >= 0
``diesel_t``             t       diesel burnt in the interval, >= 0
=======================  ======  =================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "FIXED_CHANNELS",
    "VALUE_LIMIT",
    "Channel",
    "channels_text",
    "parse_channels",
    "site_channels",
]

#: Largest magnitude any reading may have, in its channel's unit: a sanity bound
#: (illustrative, far above any park meter), so every stored number is finite and bounded.
VALUE_LIMIT = 1e9


@dataclass(frozen=True)
class Channel:
    """A telemetry channel: its name, unit and whether it must be >= 0."""

    name: str
    unit: str
    nonnegative: bool = True

    def allowed(self) -> str:
        low = "0" if self.nonnegative else f"-{VALUE_LIMIT:g}"
        return f"a finite number in [{low}, {VALUE_LIMIT:g}] [{self.unit}]"


#: The channels of every site.
FIXED_CHANNELS = (
    Channel("import_kw", "kW"),
    Channel("export_kw", "kW"),
    Channel("load_kw", "kW"),
    Channel("natural_gas_nm3", "Nm3"),
    Channel("heat_gj", "GJ"),
    Channel("diesel_t", "t"),
)


def site_channels(site: Any) -> list[Channel]:
    """Every channel of a scenario's site: the fixed ones, then one PV channel per array
    (the ``pv_output`` column) and one state-of-charge channel per storage
    (the ``storage_soc`` column), read through the units' roles.

    Parameters
    ----------
    site : vpp.scenario.schema.Site
        The site.
    """
    from vpp.assets.columns import role_columns  # the asset units: only when registering

    pv = [Channel(column, "kW") for _, _, column in role_columns(site, "pv_output")]
    soc = [Channel(c, "kWh", False) for _, _, c in role_columns(site, "storage_soc")]
    return [*FIXED_CHANNELS, *pv, *soc]


def parse_channels(text: str) -> dict[str, Channel]:
    """The channels stored as ``name:unit:+`` words (``+``: must be >= 0) by name."""
    out = {}
    for word in text.split():
        name, unit, sign = word.split(":")
        out[name] = Channel(name, unit, sign == "+")
    return out


def channels_text(channels: list[Channel]) -> str:
    """The words :func:`parse_channels` reads."""
    return " ".join(f"{c.name}:{c.unit}:{'+' if c.nonnegative else '-'}" for c in channels)
