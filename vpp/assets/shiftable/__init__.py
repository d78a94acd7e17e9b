"""The shiftable asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from typing import Any

from vpp.assets.base import AssetUnit
from vpp.assets.shiftable.block import ShiftableBlock
from vpp.assets.shiftable.money import ShiftableMoney
from vpp.assets.shiftable.operation import ShiftableOperation
from vpp.assets.shiftable.rules import ShiftableRules
from vpp.scenario.schema import ShiftableLoad


class ShiftableUnit(ShiftableBlock, ShiftableMoney, ShiftableRules, ShiftableOperation, AssetUnit):
    """The shiftable: scenario entries under ``site.flexible_loads``."""

    kind = "shiftable"
    site_key = "flexible_loads"
    spec_model = ShiftableLoad
    columns: dict[str, str] = {
        "default_kw": "kW: power drawn as soon as each window opens (its baseline)",
        "power_kw": "kW: power drawn",
    }
    roles = {"flexible_demand": "power_kw"}
    on_site = True

    def claims(self, entry: Any) -> bool:
        """Entries of ``flexible_loads`` with ``kind: shiftable``."""
        return getattr(entry, "kind", None) == "shiftable"
