"""The deferrable asset unit (see :mod:`vpp.assets.base`): a process run in whole
blocks of steps inside a daily window (EMHASS-style deferrable load), a mixed-integer
block."""

from __future__ import annotations

from typing import Any

from vpp.assets.base import AssetUnit
from vpp.assets.deferrable.block import DeferrableBlock
from vpp.assets.deferrable.job import DeferrableJob
from vpp.assets.deferrable.money import DeferrableMoney
from vpp.assets.deferrable.operation import DeferrableOperation
from vpp.assets.deferrable.rules import DeferrableRules
from vpp.scenario.deferrable import DeferrableLoad


class DeferrableUnit(
    DeferrableBlock, DeferrableMoney, DeferrableRules, DeferrableOperation, DeferrableJob, AssetUnit
):
    """The deferrable load: scenario entries under ``site.flexible_loads``."""

    kind = "deferrable"
    site_key = "flexible_loads"
    spec_model = DeferrableLoad
    columns: dict[str, str] = {
        "default_kw": "kW: power drawn as soon as each window opens (its baseline)",
        "power_kw": "kW: power drawn",
        "on": "0/1: 1 while the load runs",
        "start": "0/1: 1 at the first step of each run",
    }
    roles = {"flexible_demand": "power_kw"}
    on_site = True

    def claims(self, entry: Any) -> bool:
        """Entries of ``flexible_loads`` with ``kind: deferrable``."""
        return getattr(entry, "kind", None) == "deferrable"
