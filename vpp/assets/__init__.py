"""Asset units: one home per asset kind (see :mod:`vpp.assets.base`).

Each built-in kind is registered below, one line each, in the order its blocks enter
a site model (the order of a schedule's columns).
"""

from vpp.assets.battery import BatteryUnit
from vpp.assets.carbon import CarbonUnit
from vpp.assets.certificates import CertificatesUnit
from vpp.assets.curtailable import CurtailableUnit
from vpp.assets.deferrable import DeferrableUnit
from vpp.assets.demand_charge import DemandChargeUnit
from vpp.assets.ev_fleet import EVFleetUnit
from vpp.assets.genset import GensetUnit
from vpp.assets.green_contract import GreenContractUnit
from vpp.assets.grid import GridUnit
from vpp.assets.load import LoadUnit
from vpp.assets.pv import PVUnit
from vpp.assets.registry import register, site_entries, unit, units
from vpp.assets.shiftable import ShiftableUnit

register(GridUnit())
register(DemandChargeUnit())
register(LoadUnit())
register(PVUnit())
register(BatteryUnit())
register(ShiftableUnit())
register(CurtailableUnit())
register(DeferrableUnit())
register(EVFleetUnit())
register(GensetUnit())
register(GreenContractUnit())
register(CertificatesUnit())
register(CarbonUnit())

__all__ = ["register", "site_entries", "unit", "units"]
