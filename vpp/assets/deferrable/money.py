"""The deferrable unit: the cost of its starts and its part in the site's consumption.

Its energy is paid through the grid's import like any load. Per step, with
:math:`s_{f,t}` the start flag [0/1] of load :math:`f`:
:math:`\\text{start cost}_t = \\sum_f c^{start}_f s_{f,t}` [CNY] (zero unless
``start_cost_cny`` is given).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.schedule_values import column_or_zero, sum_columns
from vpp.emissions import CarbonFlow

#: The bill column of start costs.
START_COST_COLUMN = "deferrable_start_cost_cny"


class DeferrableMoney:
    """Deferrable loads: their starts at their cost; what they draw is consumption."""

    def _deferrable(self, site: Any) -> list[Any]:
        return [f for f in self.entries(site) if self.claims(f)]

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``deferrable_start_cost_cny`` when a deferrable load has a start cost, else none."""
        if any(f.start_cost_cny > 0.0 for f in self._deferrable(site)):
            return {START_COST_COLUMN: "own"}
        return {}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """The start costs, ``start_cost_cny`` per start [CNY per step]."""
        paid = [f for f in self._deferrable(site) if f.start_cost_cny > 0.0]
        if not paid:
            return {}
        cost = np.zeros(len(schedule))
        for f in paid:
            cost += f.start_cost_cny * column_or_zero(schedule, f"{f.name}_start")
        return {START_COST_COLUMN: cost}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: starts are paid step by step."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the block's cost is the start cost of the bill (its elastic penalty
        exists only in the diagnosis, whose objective is never checked)."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: its emissions are the grid import's."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """``<load>_power_kw`` of all deferrable loads is consumption [kW]."""
        names = [f"{f.name}_power_kw" for f in self._deferrable(site)]
        return {"consumption_kw": sum_columns(schedule, names)}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: a deferrable load is no store."""
        return {}
