"""The schedule columns of the site bus's energy flows (computed by :mod:`vpp.runs.flows`).

The grid unit declares them (``GridUnit.columns``), as it declares the bus's net import:
one table of every column a run writes (``docs/assets.md``).
"""

from __future__ import annotations

__all__ = ["BUS_FLOW_COLUMNS"]

#: Column -> "unit: meaning", in the order :mod:`vpp.runs.flows` writes them.
BUS_FLOW_COLUMNS: dict[str, str] = {
    "flow_grid_to_load_kw": "kW: grid import serving the load (docs/outputs.md: the rule)",
    "flow_grid_to_battery_kw": "kW: grid import charging batteries",
    "flow_pv_to_load_kw": "kW: PV serving the load",
    "flow_pv_to_battery_kw": "kW: PV charging batteries",
    "flow_pv_to_grid_kw": "kW: PV exported",
    "flow_battery_to_load_kw": "kW: battery discharge serving the load",
    "flow_battery_to_grid_kw": "kW: battery discharge exported",
    "flow_generation_to_load_kw": "kW: on-site generation serving the load",
    "flow_generation_to_battery_kw": "kW: on-site generation charging batteries",
    "flow_generation_to_grid_kw": "kW: on-site generation exported",
    "flow_battery_to_battery_kw": "kW: battery discharge charging batteries in the same step",
    "flow_grid_to_grid_kw": "kW: grid import exported again in the same step",
}
