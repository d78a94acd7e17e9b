"""The grid asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.bus_flows import BUS_FLOW_COLUMNS
from vpp.assets.grid.block import GridBlock
from vpp.assets.grid.money import GridMoney
from vpp.assets.grid.operation import GridOperation
from vpp.assets.grid.rules import GridRules
from vpp.scenario.schema import Grid


class GridUnit(GridBlock, GridMoney, GridRules, GridOperation, AssetUnit):
    """The grid: scenario entries under ``site.grid``."""

    kind = "grid"
    site_key = "grid"
    spec_model = Grid
    columns: dict[str, str] = {
        "price_cny_per_kwh": "CNY/kWh: energy price of import",
        "tou_period": "-: time-of-use period's name",
        "export_price_cny_per_kwh": "CNY/kWh: price paid for export",
        "grid_factor_kg_per_kwh": "kg/kWh: location-based emission factor of grid power",
        "market_factor_kg_per_kwh": "kg/kWh: market-based emission factor of grid power",
        "grid_import_kw": "kW: import from the grid",
        "grid_export_kw": "kW: export to the grid",
        "grid_net_import_kw": "kW: import less export",
        "grid_import_plan_kw": "kW: import the applied plan expected (rolling runs)",
        "grid_import_violation_kw": "kW: settled import above the import limit (rolling runs)",
        "grid_export_violation_kw": "kW: settled export above the export limit (rolling runs)",
        **BUS_FLOW_COLUMNS,  # the bus's energy flows (vpp.runs.flows)
    }
    roles = {"grid_import": "grid_import_kw", "grid_export": "grid_export_kw"}
    on_site = False
