"""The curtailable unit: the cost of shedding and its part in the site's consumption.

Per step, with :math:`X_{f,t}` the power shed [kW] of load :math:`f`:
:math:`\\text{curtailment}_t = \\sum_f c^{shed}_f X_{f,t} \\Delta t` [CNY].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.schedule_values import column_or_zero
from vpp.emissions import CarbonFlow


class CurtailableMoney:
    """Curtailable loads: shedding at its price; what they draw is consumption."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``curtailment_cost_cny`` (shown also without curtailable loads)."""
        return {"curtailment_cost_cny": "own"}

    def _curtailable(self, site: Any) -> list[Any]:
        return [f for f in self.entries(site) if self.claims(f)]

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """The cost of the energy shed, ``shed_cost_cny_per_kwh`` per kWh [CNY per step]."""
        shed = np.zeros(len(schedule))
        for f in self._curtailable(site):
            col = f"{f.name}_shed_kw"
            if col in schedule:
                shed += f.shed_cost_cny_per_kwh * schedule[col].to_numpy() * step_h
        return {"curtailment_cost_cny": shed}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: shedding is paid step by step."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the block's cost is the shedding cost of the bill."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: its emissions are the grid import's."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """What the loads draw, ``<load>_power_kw - <load>_shed_kw``, is consumption [kW]."""
        demand = np.zeros(len(schedule))
        for f in self._curtailable(site):
            demand += column_or_zero(schedule, f"{f.name}_power_kw")
            demand -= column_or_zero(schedule, f"{f.name}_shed_kw")
        return {"consumption_kw": demand}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: a curtailable load is no store."""
        return {}
