"""The grid unit: the energy bill, the export credit and the basic charge; grid carbon.

Per step :math:`t` of length :math:`\\Delta t` [h], with import :math:`P^{imp}_t` and
export :math:`P^{exp}_t` [kW], energy price :math:`c_t` and export price :math:`c^x_t`
[CNY/kWh]:

.. math::

    \\text{energy}_t = c_t P^{imp}_t \\Delta t, \\qquad
    \\text{export}_t = c^x_t P^{exp}_t \\Delta t

and per calendar month :math:`m` the basic charge :math:`F_m(\\max_{t \\in m} P^{imp}_t)`
by the method in force (:mod:`vpp.assets.grid.tariff`). All import enters both
electricity lines of the carbon account.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.grid.tariff import basic_charge_terms, floored_peaks_kw
from vpp.assets.months import monthly_peaks_kw
from vpp.emissions import ELECTRICITY_LINES, CarbonFlow


class GridMoney:
    """The energy bill, export credit, basic charge and grid carbon of a schedule."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """Import, energy cost, export, export credit, monthly peak and basic charge."""
        return {
            "import_kwh": "metered",
            "energy_cost_cny": "charge",
            "export_kwh": "metered",
            "export_revenue_cny": "credit",
            "peak_import_kw": "metered",
            "demand_charge_cny": "charge",
        }

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """Energy imported and exported [kWh per step], its cost and credit [CNY per step]."""
        imp = schedule["grid_import_kw"].to_numpy()
        exp = schedule["grid_export_kw"].to_numpy()
        return {
            "import_kwh": imp * step_h,
            "energy_cost_cny": imp * schedule["price_cny_per_kwh"].to_numpy() * step_h,
            "export_kwh": exp * step_h,
            "export_revenue_cny": exp * schedule["export_price_cny_per_kwh"].to_numpy() * step_h,
        }

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """Each month's largest import [kW] and the basic charge on it [CNY]."""
        peaks = floored_peaks_kw(site.grid, monthly_peaks_kw(schedule["grid_import_kw"]))
        return {
            "peak_import_kw": peaks,
            "demand_charge_cny": basic_charge_terms(site.grid).months_cny(peaks),
        }

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the grid block's objective is the energy bill and the basic charge."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """The metered import [kWh per step], on both electricity lines."""
        imp = schedule["grid_import_kw"].to_numpy(dtype=float) * step_h
        return {"grid_import_kwh": CarbonFlow(imp, dict.fromkeys(ELECTRICITY_LINES, 1.0))}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """None: import and export are what the KPIs' flows leave over."""
        return {}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: the grid is no store."""
        return {}
