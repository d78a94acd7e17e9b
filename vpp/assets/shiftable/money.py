"""The shiftable unit: its part in the site's consumption (no money, no carbon)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.schedule_values import sum_columns
from vpp.emissions import CarbonFlow


class ShiftableMoney:
    """Shiftable loads: their power is consumption; moving it costs nothing."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """None: a shiftable load is billed through the grid's import."""
        return {}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """None: shifting costs nothing."""
        return {}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: shifting costs nothing."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the block's cost is zero (its penalty exists only in the elastic model,
        whose objective is never checked against the bill)."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: its emissions are the grid import's."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """``<load>_power_kw`` of all shiftable loads is consumption [kW]."""
        names = [f"{f.name}_power_kw" for f in self.entries(site) if self.claims(f)]
        return {"consumption_kw": sum_columns(schedule, names)}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: a shiftable load is no store."""
        return {}
