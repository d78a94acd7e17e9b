"""The pv asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.pv.block import PVBlock
from vpp.assets.pv.money import PVMoney
from vpp.assets.pv.operation import PVOperation
from vpp.assets.pv.rules import PVRules
from vpp.scenario.solar import PVArray


class PVUnit(PVBlock, PVMoney, PVRules, PVOperation, AssetUnit):
    """The pv: scenario entries under ``site.pv``."""

    kind = "pv"
    site_key = "pv"
    spec_model = PVArray
    columns: dict[str, str] = {}
