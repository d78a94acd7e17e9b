"""The EV fleet unit: V2G wear and unmet energy, and charging as consumption.

Per fleet :math:`f` and step :math:`t`: :math:`\\kappa_f D_{f,t} \\Delta t` (V2G
discharge :math:`D` [kW] at ``degradation_cost_cny_per_kwh``, only with ``v2g``) plus,
for ``unmet: priced``, :math:`\\pi_f U_{f,t}` (energy not delivered :math:`U` [kWh] at
``unmet_cost_cny_per_kwh``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.schedule_values import sum_columns
from vpp.emissions import CarbonFlow


class EVFleetMoney:
    """EV fleets: wear, unmet energy, and their charging as consumption."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``ev_cost_cny``, only for a site with EV fleets."""
        return {"ev_cost_cny": "own"} if self.entries(site) else {}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """V2G wear and the price of unmet energy [CNY per step]; none without fleets."""
        fleets = self.entries(site)
        if not fleets:
            return {}
        cost = np.zeros(len(schedule))
        for f in fleets:
            col = f"{f.name}_discharge_kw"
            if f.v2g and col in schedule:
                cost += f.degradation_cost_cny_per_kwh * schedule[col].to_numpy() * step_h
            col = f"{f.name}_unmet_kwh"
            if f.unmet == "priced" and col in schedule:
                cost += f.unmet_cost_cny_per_kwh * schedule[col].to_numpy()
        return {"ev_cost_cny": cost}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: a fleet's cost accrues step by step."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the block's cost is the bill's ``ev_cost_cny``."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: its emissions are the grid import's."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """Charging, ``<fleet>_charge_kw``, is consumption [kW]; V2G discharge is a supply
        the KPIs do not attribute."""
        names = [f"{f.name}_charge_kw" for f in self.entries(site)]
        return {"consumption_kw": sum_columns(schedule, names)}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: the fleet's vehicles are not reported as a stationary store."""
        return {}
