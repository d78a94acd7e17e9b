"""The green contract asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.green_contract.block import GreenContractBlock
from vpp.assets.green_contract.money import GreenContractMoney
from vpp.assets.green_contract.operation import GreenContractOperation
from vpp.assets.green_contract.rules import GreenContractRules
from vpp.scenario.green import GreenContract


class GreenContractUnit(
    GreenContractBlock, GreenContractMoney, GreenContractRules, GreenContractOperation, AssetUnit
):
    """The green contract: scenario entries under ``site.green_contracts``."""

    kind = "green_contract"
    site_key = "green_contracts"
    spec_model = GreenContract
    columns: dict[str, str] = {
        "available_kw": "kW: delivery profile of the contract",
        "take_kw": "kW: green power taken",
    }
    roles: dict[str, str] = {}
    on_site = False
