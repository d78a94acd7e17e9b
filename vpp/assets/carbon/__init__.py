"""The carbon asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.carbon.block import CarbonBlock
from vpp.assets.carbon.money import CarbonMoney
from vpp.assets.carbon.operation import CarbonOperation
from vpp.assets.carbon.rules import CarbonRules
from vpp.scenario.green import CarbonPrice


class CarbonUnit(CarbonBlock, CarbonMoney, CarbonRules, CarbonOperation, AssetUnit):
    """The carbon: scenario entries under ``site.carbon_price``."""

    kind = "carbon"
    site_key = "carbon_price"
    spec_model = CarbonPrice
    columns: dict[str, str] = {}
    roles: dict[str, str] = {}
    on_site = False
