"""The PV unit: its part in the site's energy KPIs (no money, no carbon of its own)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.schedule_values import sum_columns
from vpp.emissions import CarbonFlow


class PVMoney:
    """PV arrays: generation and availability for the KPIs; free and carbon-free."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """None: PV is paid for through the import it saves."""
        return {}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """None: PV output costs nothing."""
        return {}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: PV output costs nothing."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the PV block adds nothing to the objective."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: on-site PV has no emissions."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """PV generated after curtailment (``<array>_pv_kw``) and available
        (``<array>_available_kw``), all arrays [kW]."""
        arrays = self.entries(site)
        return {
            "pv_kw": sum_columns(schedule, [f"{a.name}_pv_kw" for a in arrays]),
            "pv_available_kw": sum_columns(schedule, [f"{a.name}_available_kw" for a in arrays]),
        }

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: PV is no store."""
        return {}
