"""The site's carbon flows: every unit's activities in the carbon account, step by step.

Shared by the carbon price (:mod:`vpp.assets.carbon.money`) and the account in the
run's summary (:mod:`vpp.runs.carbon`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from vpp.assets.registry import units
from vpp.emissions import CarbonFlow

__all__ = ["electricity_factors", "site_carbon_flows"]


def site_carbon_flows(site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, CarbonFlow]:
    """Every registered unit's :meth:`~vpp.assets.base.AssetUnit.carbon_flows`, in
    registration order, by activity name.

    Raises
    ------
    ValueError
        Two units name the same activity.
    """
    flows: dict[str, CarbonFlow] = {}
    for unit in units():
        for name, flow in unit.carbon_flows(site, schedule, step_h).items():
            if name in flows:
                raise ValueError(
                    f"carbon activity '{name}' is given twice (again by kind '{unit.kind}')"
                )
            flows[name] = flow
    return flows


def electricity_factors(schedule: pd.DataFrame) -> dict[str, Any]:
    """The factors of the electricity lines, per step, from the schedule's
    ``grid_factor_kg_per_kwh`` (location-based) and ``market_factor_kg_per_kwh``
    (market-based) [kgCO2/kWh]; a line whose column is missing is left out."""
    columns = {
        "electricity_location_based": "grid_factor_kg_per_kwh",
        "electricity_market_based": "market_factor_kg_per_kwh",
    }
    return {
        line: schedule[col].to_numpy(dtype=float)
        for line, col in columns.items()
        if col in schedule
    }
