"""The curtailable asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from typing import Any

from vpp.assets.base import AssetUnit
from vpp.assets.curtailable.block import CurtailableBlock
from vpp.assets.curtailable.money import CurtailableMoney
from vpp.assets.curtailable.operation import CurtailableOperation
from vpp.assets.curtailable.rules import CurtailableRules
from vpp.scenario.schema import CurtailableLoad


class CurtailableUnit(
    CurtailableBlock, CurtailableMoney, CurtailableRules, CurtailableOperation, AssetUnit
):
    """The curtailable: scenario entries under ``site.flexible_loads``."""

    kind = "curtailable"
    site_key = "flexible_loads"
    spec_model = CurtailableLoad
    columns: dict[str, str] = {
        "power_kw": "kW: consumption before shedding",
        "shed_kw": "kW: consumption shed",
    }
    roles = {"flexible_demand": "power_kw", "shed": "shed_kw"}
    on_site = True

    def claims(self, entry: Any) -> bool:
        """Entries of ``flexible_loads`` with ``kind: curtailable``."""
        return getattr(entry, "kind", None) == "curtailable"
