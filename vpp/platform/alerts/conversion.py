"""Metered energy in standard coal equivalent (tce), with the factors of GB/T 2589-2020.

.. math::

    E\\,[\\mathrm{tce}] = \\frac{1}{1000}\\left(0.1229\\,W_{el} + 1.2143\\,V_{gas}
        + 34.12\\,Q_{heat} + 1457.1\\,m_{diesel}\\right)

with the electricity import :math:`W_{el}` [kWh], natural gas :math:`V_{gas}` [Nm3],
purchased heat :math:`Q_{heat}` [GJ] and diesel :math:`m_{diesel}` [t]; the factors and
their sources are in ``vpp/platform/data/energy-conversion.yaml``. The heat-equivalent
MWh shown beside a tce figure is :math:`8.141\\,\\mathrm{MWh/tce}` (29,307.6 MJ/tce).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CONVERSION_FILE", "conversion", "energy_tce", "mwh_equivalent"]

#: The factors' data file.
CONVERSION_FILE = Path(__file__).resolve().parents[1] / "data" / "energy-conversion.yaml"
#: Carbon-account activity names (vpp.emissions) -> the data file's carrier keys.
ACTIVITY_CARRIERS = {
    "electricity_import_kwh": "electricity_kwh",
    "natural_gas": "natural_gas_nm3",
    "heat": "heat_gj",
    "diesel": "diesel_t",
}
_KG_PER_T = 1000.0


@functools.cache
def conversion() -> dict[str, Any]:
    """The data file, read once."""
    return yaml.safe_load(CONVERSION_FILE.read_text(encoding="utf-8"))


def energy_tce(activity: Mapping[str, float]) -> dict[str, float]:
    """Each carrier's energy and the total [tce] of an activity
    (``electricity_import_kwh`` [kWh], ``natural_gas`` [Nm3], ``heat`` [GJ], ``diesel`` [t]).
    """
    carriers = conversion()["carriers"]
    out = {
        name: float(activity.get(name, 0.0)) * carriers[key]["kgce_per_unit"] / _KG_PER_T
        for name, key in ACTIVITY_CARRIERS.items()
    }
    out["total"] = float(sum(out.values()))
    return out


def mwh_equivalent(tce: float) -> float:
    """The heat-equivalent of ``tce`` [MWh]."""
    return float(tce) * conversion()["mwh_per_tce"]["value"]
