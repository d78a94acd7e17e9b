"""The ev fleet asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.ev_fleet.block import EVFleetBlock
from vpp.assets.ev_fleet.money import EVFleetMoney
from vpp.assets.ev_fleet.operation import EVFleetOperation
from vpp.assets.ev_fleet.rules import EVFleetRules
from vpp.assets.ev_fleet.typical import EVFleetTypical
from vpp.scenario.ev import EVFleet


class EVFleetUnit(
    EVFleetBlock, EVFleetTypical, EVFleetMoney, EVFleetRules, EVFleetOperation, AssetUnit
):
    """The ev fleet: scenario entries under ``site.ev_fleets``."""

    kind = "ev_fleet"
    site_key = "ev_fleets"
    spec_model = EVFleet
    columns: dict[str, str] = {
        "default_kw": "kW: uncontrolled charging, full power from arrival (its baseline)",
        "charge_kw": "kW: charging power of the fleet, bus side",
        "discharge_kw": "kW: discharging power of the fleet, bus side (v2g)",
        "energy_kwh": "kWh: energy in the fleet at the start of the step (aggregate model)",
        "unmet_kwh": "kWh: energy not delivered by departure, at the departing step",
    }
    roles: dict[str, str] = {}
    on_site = True
