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
    columns: dict[str, str] = {
        "available_kw": "kW: AC power the array could give",
        "pv_kw": "kW: AC power taken (used on site or exported)",
        "curtailed_kw": "kW: available power not taken",
        "forecast_kw": "kW: available power as forecast for the applied plan (rolling runs)",
    }
    roles = {
        "pv_available": "available_kw",
        "pv_forecast": "forecast_kw",
        "pv_output": "pv_kw",
        "pv_curtailed": "curtailed_kw",
    }
    on_site = True
