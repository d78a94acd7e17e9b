"""The battery asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.battery.block import BatteryBlock
from vpp.assets.battery.money import BatteryMoney
from vpp.assets.battery.operation import BatteryOperation
from vpp.assets.battery.rules import BatteryRules
from vpp.scenario.schema import Battery


class BatteryUnit(BatteryBlock, BatteryMoney, BatteryRules, BatteryOperation, AssetUnit):
    """The battery: scenario entries under ``site.batteries``."""

    kind = "battery"
    site_key = "batteries"
    spec_model = Battery
    columns: dict[str, str] = {
        "charge_kw": "kW: charging power, bus side",
        "discharge_kw": "kW: discharging power, bus side",
        "soc_kwh": "kWh: state of charge at the start of the step",
    }
    roles = {
        "storage_charge": "charge_kw",
        "storage_discharge": "discharge_kw",
        "storage_soc": "soc_kwh",
    }
    on_site = True
