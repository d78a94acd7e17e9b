"""The demand-charge asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.demand_charge.block import DemandChargeBlock
from vpp.assets.demand_charge.money import DemandChargeMoney
from vpp.assets.demand_charge.operation import DemandChargeOperation
from vpp.assets.demand_charge.rules import DemandChargeRules
from vpp.scenario.demand import DemandCharge


class DemandChargeUnit(
    DemandChargeBlock, DemandChargeMoney, DemandChargeRules, DemandChargeOperation, AssetUnit
):
    """Demand charges: scenario entries under ``site.demand_charges``."""

    kind = "demand_charge"
    site_key = "demand_charges"
    spec_model = DemandCharge
    columns: dict[str, str] = {}
    roles: dict[str, str] = {}
    on_site = False
