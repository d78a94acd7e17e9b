"""The grid asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
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
    columns: dict[str, str] = {}
