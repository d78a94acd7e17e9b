"""The load unit: the fixed load's part in the site's consumption (no money, no carbon)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.emissions import CarbonFlow


class LoadMoney:
    """The fixed load: consumed, never billed on its own."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """None: the load is billed through the grid's import."""
        return {}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """None: the load costs nothing by itself."""
        return {}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: the load costs nothing by itself."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the load block adds nothing to the objective."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: its emissions are the grid import's."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """``load_kw``, the fixed load, is consumption [kW]."""
        return {"consumption_kw": schedule["load_kw"].to_numpy(dtype=float).copy()}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: the load is no store."""
        return {}
